//! OAuth 2.0 for Okta, as the org authorization server does it for service apps:
//! `POST /oauth2/v1/token` with the client credentials grant and `private_key_jwt` client
//! authentication, access tokens with a lifetime and scopes, and the checks an API call with
//! `Authorization: Bearer` meets (401 for an unknown or expired token, 403 for a missing
//! scope, each with Okta's `WWW-Authenticate` header).
//!
//! An assertion's `exp` is checked against the simulator's own clock, not the org's scaled
//! one: it is the client's statement in wall-clock time. An access token's lifetime runs on
//! the org's clock, like everything else the org does with time.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Serialize;
use serde_json::{Value, json};

use crate::Simulator;
use crate::clock::epoch_secs;
use crate::fault::Action;
use crate::org::Org;
use crate::seed::{SeedError, ServiceAppSeed};
use crate::{server, stamp};

pub(crate) const TOKEN_PATH: &str = "/oauth2/v1/token";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Okta refuses assertions that expire more than an hour after they are presented.
const LONGEST_ASSERTION: u64 = 3600;
/// Okta's access token lifetime for the org authorization server.
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A registered public key of a service app.
#[derive(Clone)]
pub(crate) struct PublicKey {
    pub kid: String,
    pub family: AlgorithmFamily,
    pub key: DecodingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, {:?})", self.kid, self.family)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceApp {
    pub seed: ServiceAppSeed,
    pub keys: Vec<PublicKey>,
}

impl ServiceApp {
    pub fn from_seed(seed: ServiceAppSeed) -> Result<Self, SeedError> {
        if seed.client_id.is_empty() {
            return Err(SeedError::ClientIdInUse(String::new()));
        }
        let invalid = |reason: &str| SeedError::InvalidServiceAppKey {
            client_id: seed.client_id.clone(),
            reason: reason.to_string(),
        };
        let mut keys = Vec::new();
        for value in &seed.keys {
            let kid = value
                .get("kid")
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| invalid("it has no kid"))?;
            let (key, family) = match value.get("pem").and_then(Value::as_str) {
                Some(pem) => {
                    if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                        (key, AlgorithmFamily::Rsa)
                    } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                        (key, AlgorithmFamily::Ec)
                    } else {
                        return Err(invalid("its pem is not an RSA or EC public key"));
                    }
                }
                None => {
                    let jwk: Jwk = serde_json::from_value(value.clone())
                        .map_err(|_| invalid("it is not a JWK"))?;
                    let key = DecodingKey::from_jwk(&jwk)
                        .map_err(|_| invalid("its JWK is not an RSA or EC public key"))?;
                    let family = key.family();
                    (key, family)
                }
            };
            if !matches!(family, AlgorithmFamily::Rsa | AlgorithmFamily::Ec) {
                return Err(invalid("only RSA and EC keys sign client assertions"));
            }
            keys.push(PublicKey {
                kid: kid.to_string(),
                family,
                key,
            });
        }
        Ok(ServiceApp { seed, keys })
    }
}

/// An access token the org issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// In the org's time.
    pub expires_at: SystemTime,
}

/// One request to the token endpoint, as `GET /__sim/oauth/token-requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub client_id: String,
    pub status: u16,
    /// The OAuth error answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What an org keeps for OAuth: its service apps, issued tokens, seen assertion ids and the
/// token request log.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    pub apps: BTreeMap<String, ServiceApp>,
    pub tokens: HashMap<String, Issued>,
    /// Assertion ids already accepted, with their `exp` (epoch seconds), forgotten after it.
    pub seen_jti: HashMap<String, u64>,
    pub requests: Vec<TokenRequest>,
    /// In the org's time.
    pub lifetime: Duration,
}

/// The scope an API call needs, by method and path. A `manage` scope also allows reads.
/// (Okta's spec lists only the `read` scope on reads; that `manage` includes it is assumed.)
pub(crate) fn required_scope(method: &Method, path: &str) -> Option<&'static [&'static str]> {
    let rest = path.strip_prefix("/api/v1/")?;
    let read = *method == Method::GET || *method == Method::HEAD;
    match rest.split('/').next() {
        Some("groups") if read => Some(&["okta.groups.read", "okta.groups.manage"]),
        Some("groups") => Some(&["okta.groups.manage"]),
        Some("apps") if read => Some(&["okta.apps.read", "okta.apps.manage"]),
        Some("apps") => Some(&["okta.apps.manage"]),
        Some("meta") if read => Some(&["okta.schemas.read", "okta.schemas.manage"]),
        Some("meta") => Some(&["okta.schemas.manage"]),
        _ => None,
    }
}

/// The `WWW-Authenticate` value Okta sends with a refused Bearer token.
pub(crate) fn challenge(base: &str, error: &str, description: &str, scope: Option<&str>) -> String {
    let mut value =
        format!("Bearer authorization_uri=\"{base}/oauth2/v1/authorize\", realm=\"{base}\"");
    if let Some(scope) = scope {
        value.push_str(&format!(", scope=\"{scope}\""));
    }
    value.push_str(&format!(
        ", error=\"{error}\", error_description=\"{description}\", resource=\"/api/v1\""
    ));
    value
}

struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn refuse(status: StatusCode, error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_client(description: impl Into<String>) -> Refusal {
    refuse(StatusCode::UNAUTHORIZED, "invalid_client", description)
}

fn json_response(status: StatusCode, body: Value, now: SystemTime) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
        headers.insert(header::DATE, date);
    }
    if let Ok(id) = HeaderValue::from_str(&stamp::request_id()) {
        headers.insert("x-okta-request-id", id);
    }
    response
}

fn refusal_response(refusal: &Refusal, now: SystemTime) -> Response {
    json_response(
        refusal.status,
        json!({"error": refusal.error, "error_description": refusal.description}),
        now,
    )
}

/// `POST /oauth2/v1/token`: the client credentials grant for a service app.
pub(crate) async fn token(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sim_now = sim.now();
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());

    if field("grant_type") != Some("client_credentials") {
        let refusal = refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server. \
             Configured grant types: [client_credentials].",
        );
        return refusal_response(&refusal, sim_now);
    }
    let (Some(ASSERTION_TYPE), Some(assertion)) =
        (field("client_assertion_type"), field("client_assertion"))
    else {
        return refusal_response(&invalid_client("No client credentials found."), sim_now);
    };
    let claims: Value = match jsonwebtoken::dangerous::insecure_decode_claims(assertion) {
        Ok(claims) => claims,
        Err(_) => {
            let refusal = invalid_client("The client_assertion token is malformed.");
            return refusal_response(&refusal, sim_now);
        }
    };
    let client_id = claims["iss"].as_str().unwrap_or_default().to_string();
    if field("client_id").is_some_and(|id| id != client_id) {
        let refusal = invalid_client("The client_id does not match the client_assertion issuer.");
        return refusal_response(&refusal, sim_now);
    }

    let fault = {
        let mut orgs = sim.orgs();
        match orgs.find_client_mut(&client_id) {
            Some((_, org)) => org
                .faults
                .take(&Method::POST, TOKEN_PATH)
                .map(|f| (f, org.clock)),
            None => {
                let refusal = invalid_client(format!(
                    "The client_assertion issuer {client_id:?} is not a client of this org."
                ));
                return refusal_response(&refusal, sim_now);
            }
        }
    };
    if let Some((fault, clock)) = fault {
        if !fault.latency.is_zero() {
            tokio::time::sleep(clock.real(fault.latency)).await;
        }
        let status = match &fault.action {
            Action::Answer(answer) => answer.status.as_u16(),
            Action::Drop => 0,
            Action::Real => 200,
        };
        if !matches!(fault.action, Action::Real) {
            sim.record_token_request(&client_id, status, None);
            return match fault.action {
                Action::Answer(answer) => {
                    let mut response = Response::new(Body::from(answer.body));
                    *response.status_mut() = answer.status;
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, answer.content_type);
                    for (name, value) in answer.headers {
                        response.headers_mut().insert(name, value);
                    }
                    response
                }
                _ => server::dropped(),
            };
        }
    }

    let mut orgs = sim.orgs();
    let Some((index, org)) = orgs.find_client_mut(&client_id) else {
        return refusal_response(&invalid_client("The client is gone."), sim_now);
    };
    let base = org
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", host(&headers)));
    let outcome = issue(org, &client_id, assertion, field("scope"), &base, sim_now);
    let org_now = org.now(sim_now);
    match outcome {
        Ok((access_token, scope, lifetime)) => {
            org.oauth.requests.push(TokenRequest {
                client_id: client_id.clone(),
                status: 200,
                error: None,
            });
            orgs.index_access_token(&access_token, index);
            json_response(
                StatusCode::OK,
                json!({
                    "token_type": "Bearer",
                    "expires_in": lifetime.as_secs(),
                    "access_token": access_token,
                    "scope": scope,
                }),
                org_now,
            )
        }
        Err(refusal) => {
            org.oauth.requests.push(TokenRequest {
                client_id,
                status: refusal.status.as_u16(),
                error: Some(refusal.error.to_string()),
            });
            refusal_response(&refusal, org_now)
        }
    }
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        })
        .unwrap_or("localhost")
        .to_string()
}

/// Checks the assertion and the scopes and issues a token: `(token, scope, lifetime)`.
fn issue(
    org: &mut Org,
    client_id: &str,
    assertion: &str,
    scope: Option<&str>,
    base: &str,
    sim_now: SystemTime,
) -> Result<(String, String, Duration), Refusal> {
    let app = org
        .oauth
        .apps
        .get(client_id)
        .ok_or_else(|| invalid_client("The client is not a service app of this org."))?;
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid_client("The client_assertion token is malformed."))?;
    let family = header.alg.family();
    let candidates: Vec<&PublicKey> = match header.kid.as_deref() {
        Some(kid) => app.keys.iter().filter(|k| k.kid == kid).collect(),
        None => app.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(invalid_client(
            "The client_assertion token has a kid which does not identify a public key \
             registered on the client.",
        ));
    }
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) && !matches!(header.alg, Algorithm::ES256 | Algorithm::ES384)
    {
        return Err(invalid_client(
            "The client_assertion token is signed with an unsupported algorithm.",
        ));
    }
    let audience = format!("{base}{TOKEN_PATH}");
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.set_audience(&[audience.as_str()]);
    validation.set_issuer(&[client_id]);
    validation.sub = Some(client_id.to_string());
    let mut last = None;
    let mut claims = None;
    for key in candidates.iter().filter(|k| k.family == family) {
        match jsonwebtoken::decode::<Value>(assertion, &key.key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(err) => last = Some(err),
        }
    }
    let Some(claims) = claims else {
        let description = match last.as_ref().map(|e| e.kind()) {
            Some(ErrorKind::InvalidAudience) => format!(
                "The audience claim for client_assertion must be the endpoint invoked for the \
                 request: {audience}."
            ),
            Some(ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject) => {
                "The issuer and subject claims of the client_assertion must be the client_id."
                    .to_string()
            }
            Some(ErrorKind::MissingRequiredClaim(claim)) => {
                format!("The client_assertion token is missing the '{claim}' claim.")
            }
            _ => "The client_assertion signature is invalid.".to_string(),
        };
        return Err(invalid_client(description));
    };

    let now = epoch_secs(sim_now);
    let exp = claims["exp"].as_u64().unwrap_or(0);
    if exp <= now {
        return Err(invalid_client("The client_assertion token is expired."));
    }
    if exp > now + LONGEST_ASSERTION {
        return Err(invalid_client(
            "The client_assertion token has an expiration too far in the future.",
        ));
    }
    org.oauth.seen_jti.retain(|_, until| *until > now);
    if let Some(jti) = claims["jti"].as_str() {
        if org.oauth.seen_jti.contains_key(jti) {
            return Err(invalid_client(
                "The client_assertion token has already been used.",
            ));
        }
        org.oauth.seen_jti.insert(jti.to_string(), exp);
    }

    let Some(scope) = scope else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, \
             'scope' must be provided.",
        ));
    };
    let requested: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
    let app = &org.oauth.apps[client_id];
    let refused: Vec<&str> = requested
        .iter()
        .filter(|s| !app.seed.scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!(
                "The following scopes are not allowed: {}",
                refused.join(", ")
            ),
        ));
    }

    let lifetime = org.oauth.lifetime;
    let token = format!("eyJsim.{}", stamp::unique_id("at", 40));
    org.oauth.tokens.insert(
        token.clone(),
        Issued {
            client_id: client_id.to_string(),
            scopes: requested.clone(),
            expires_at: org.now(sim_now) + lifetime,
        },
    );
    Ok((token, requested.join(" "), lifetime))
}

/// Marks every access token of the org as expired; answers how many there were.
pub(crate) fn expire_all(org: &mut Org, sim_now: SystemTime) -> usize {
    let now = org.now(sim_now);
    for issued in org.oauth.tokens.values_mut() {
        issued.expires_at = issued.expires_at.min(now);
    }
    org.oauth.tokens.len()
}
