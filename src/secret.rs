//! The Okta credential: read from Secrets Manager, held in a redacting wrapper, cached per
//! container for a while, and read again on demand when Okta says it is no longer valid.
//!
//! The secret holds either an API token (the plain token, or JSON `{"apiToken": "..."}`) or an
//! OAuth 2.0 service app in Secrets Manager's managed-rotation format for Okta
//! ("Okta Administrator JWT Key": `domain`, `clientId`, `privateKey`, `keyId`, `scopes`). Which
//! one is told from the content. For a service app the access token Okta issues is cached
//! until shortly before it expires and shared by every invocation of the container.
//! Nothing here puts a token or key into a log line, a `Debug` output or an error.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::oauth::{
    AccessToken, DEFAULT_SCOPES, ServiceApp, SigningKey, TokenEndpoint, TokenError,
};

/// An Okta API token. Its `Debug` output is redacted.
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    /// The `Authorization` header value; the only place the token is exposed.
    pub fn authorization(&self) -> String {
        format!("SSWS {}", self.0.expose_secret())
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken([REDACTED])")
    }
}

/// What an Okta API call is authenticated with. Its `Debug` output is redacted.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: SSWS <api token>`.
    ApiToken(ApiToken),
    /// `Authorization: Bearer <access token>` of a service app.
    Bearer(AccessToken),
}

impl Credential {
    /// The `Authorization` header value; the only place the token is exposed.
    pub fn authorization(&self) -> String {
        match self {
            Self::ApiToken(token) => token.authorization(),
            Self::Bearer(token) => format!("Bearer {}", token.expose()),
        }
    }

    fn same(&self, other: &Credential) -> bool {
        match (self, other) {
            (Self::ApiToken(a), Self::ApiToken(b)) => a.0.expose_secret() == b.0.expose_secret(),
            (Self::Bearer(a), Self::Bearer(b)) => a.expose() == b.expose(),
            _ => false,
        }
    }
}

/// Why the credential could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager could not be reached or asked us to slow down: a retry can help.
    #[error("failed to read secret {secret_id:?} from secrets manager ({code})")]
    Unavailable {
        secret_id: String,
        code: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret is missing, forbidden or unreadable: a retry will not help until an
    /// operator acts.
    #[error("failed to read secret {secret_id:?} from secrets manager: {code}")]
    Refused {
        secret_id: String,
        code: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret was read but holds neither a usable API token nor a usable service app.
    #[error("secret {secret_id:?} does not hold a usable okta credential: {reason}")]
    Malformed { secret_id: String, reason: String },
}

impl SecretError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Where the raw secret text comes from.
pub trait SecretSource: Send + Sync {
    fn read(&self) -> impl Future<Output = Result<SecretString, SecretError>> + Send;
    fn secret_id(&self) -> &str;
}

/// The Secrets Manager adapter.
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManager {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }
}

/// Error codes after which asking again cannot succeed without an operator.
const PERMANENT_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "AccessDeniedException",
    "DecryptionFailure",
    "InvalidRequestException",
    "InvalidParameterException",
    "UnrecognizedClientException",
];

impl SecretSource for SecretsManager {
    async fn read(&self) -> Result<SecretString, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|err| {
                let code = crate::aws::error_code(&err);
                let secret_id = self.secret_id.clone();
                let source = Box::new(err);
                if PERMANENT_CODES.contains(&code.as_str()) {
                    SecretError::Refused {
                        secret_id,
                        code,
                        source,
                    }
                } else {
                    SecretError::Unavailable {
                        secret_id,
                        code,
                        source,
                    }
                }
            })?;
        match output.secret_string {
            Some(text) => Ok(SecretString::from(text)),
            None => Err(SecretError::Malformed {
                secret_id: self.secret_id.clone(),
                reason: "it has no SecretString (binary secrets are not supported)".to_owned(),
            }),
        }
    }

    fn secret_id(&self) -> &str {
        &self.secret_id
    }
}

/// What the secret holds.
#[derive(Debug)]
pub enum SecretContent {
    ApiToken(ApiToken),
    ServiceApp(ServiceApp),
}

/// Fields whose presence marks the secret as a service app rather than an API token.
const SERVICE_APP_FIELDS: &[&str] = &["clientId", "privateKey", "keyId", "domain"];

/// Reads a token from the secret's text: a bare token, or JSON with a string `apiToken`.
pub fn parse_token(secret_id: &str, text: &SecretString) -> Result<ApiToken, SecretError> {
    match parse_secret(secret_id, text)? {
        SecretContent::ApiToken(token) => Ok(token),
        SecretContent::ServiceApp(_) => Err(SecretError::Malformed {
            secret_id: secret_id.to_owned(),
            reason: "it holds an oauth service app, not an api token".to_owned(),
        }),
    }
}

/// Reads the secret's text: a bare token, JSON with a string `apiToken`, or JSON with the
/// service app fields of Secrets Manager's managed-rotation format for Okta.
pub fn parse_secret(secret_id: &str, text: &SecretString) -> Result<SecretContent, SecretError> {
    let malformed = |reason: &str| SecretError::Malformed {
        secret_id: secret_id.to_owned(),
        reason: reason.to_owned(),
    };
    let raw = text.expose_secret().trim();
    let token = if raw.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|_| malformed("it starts with '{' but is not valid JSON"))?;
        let Value::Object(fields) = value else {
            return Err(malformed("it starts with '{' but is not a JSON object"));
        };
        match fields.get("apiToken") {
            Some(serde_json::Value::String(token)) => token.trim().to_owned(),
            Some(_) => return Err(malformed("its `apiToken` field is not a string")),
            None if SERVICE_APP_FIELDS.iter().any(|f| fields.contains_key(*f)) => {
                return parse_service_app(&fields)
                    .map(SecretContent::ServiceApp)
                    .map_err(|reason| malformed(&reason));
            }
            None => {
                return Err(malformed(
                    "it is JSON without an `apiToken` field and without the fields of an okta \
                     service app (`domain`, `clientId`, `privateKey`, `keyId`)",
                ));
            }
        }
    } else {
        raw.to_owned()
    };
    if token.is_empty() {
        return Err(malformed("the token is empty"));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed(
            "the token contains whitespace or control characters",
        ));
    }
    Ok(SecretContent::ApiToken(ApiToken(SecretString::from(token))))
}

/// The service app of a managed-rotation secret. Field names are those of the Secrets Manager
/// user guide's "Okta Administrator JWT Key" (`mes-partner-OktaAdminJwtKey`): `domain` (host
/// without scheme), `clientId`, `privateKey` (unencrypted PEM, markers optional for PKCS#8),
/// `keyId` and `scopes` (one space-separated string). Assumed beyond the guide, and accepted:
/// `domain` with `https://` or a trailing slash, `scopes` as a JSON list, `privateKey` as a
/// private JWK (object or JSON text). Errors name the field, never its value.
fn parse_service_app(fields: &Map<String, Value>) -> Result<ServiceApp, String> {
    let text = |name: &str| -> Result<String, String> {
        match fields.get(name) {
            None | Some(Value::Null) => Err(format!(
                "it looks like an okta service app secret but has no `{name}` field"
            )),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(format!("its `{name}` field is empty"))
            }
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(_) => Err(format!("its `{name}` field is not a string")),
        }
    };
    let domain = text("domain")?;
    let client_id = text("clientId")?;
    let key = match fields.get("privateKey") {
        Some(jwk @ Value::Object(_)) => SigningKey::from_jwk(jwk),
        _ => SigningKey::from_text(&text("privateKey")?),
    }
    .map_err(|reason| format!("its `privateKey` {reason}"))?;
    let key_id = text("keyId")?;
    let scopes = match fields.get("scopes") {
        None | Some(Value::Null) => DEFAULT_SCOPES.to_owned(),
        Some(Value::String(s)) if s.trim().is_empty() => DEFAULT_SCOPES.to_owned(),
        Some(Value::String(s)) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Some(Value::Array(items)) => {
            let scopes: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            scopes
                .ok_or("its `scopes` list holds something other than strings")?
                .join(" ")
        }
        Some(_) => return Err("its `scopes` field is neither a string nor a list".to_owned()),
    };
    Ok(ServiceApp {
        domain: org_domain(&domain)?,
        client_id,
        key_id,
        scopes,
        key,
    })
}

/// `example.okta.com` from `example.okta.com`, `https://example.okta.com/` and the like.
fn org_domain(domain: &str) -> Result<String, String> {
    let bare = domain
        .strip_prefix("https://")
        .or_else(|| domain.strip_prefix("http://"))
        .unwrap_or(domain)
        .trim_end_matches('/');
    let usable = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if usable {
        Ok(bare.to_ascii_lowercase())
    } else {
        Err("its `domain` field is not an okta org's host name (like example.okta.com)".to_owned())
    }
}

/// Why no credential could be had: the secret, or (for a service app) the token endpoint.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// A parsed secret and when it was read.
struct Read {
    content: Arc<SecretContent>,
    read_at: Instant,
}

/// A service app's access token and until when it is used.
struct Access {
    token: AccessToken,
    client_id: String,
    usable_until: Instant,
}

#[derive(Default)]
struct State {
    secret: Option<Read>,
    access: Option<Access>,
}

/// The credential cached per container: the secret is read again after `ttl` or when asked
/// to; a service app's access token is kept until shortly before Okta's expiry.
pub struct TokenCache<S> {
    source: S,
    ttl: Duration,
    endpoint: TokenEndpoint,
    state: Mutex<State>,
}

impl<S: SecretSource> TokenCache<S> {
    pub fn new(source: S, ttl: Duration, endpoint: TokenEndpoint) -> Self {
        Self {
            source,
            ttl,
            endpoint,
            state: Mutex::new(State::default()),
        }
    }

    /// The credential for the next calls: the cached one, reading the secret if there is none
    /// or it is older than the TTL, and asking Okta for an access token when a service app has
    /// none that is still good.
    pub async fn token(&self) -> Result<Credential, CredentialError> {
        let mut state = self.state.lock().await;
        let fresh = state
            .secret
            .as_ref()
            .is_some_and(|read| read.read_at.elapsed() < self.ttl);
        if !fresh {
            self.read_into(&mut state).await?;
        }
        self.credential(&mut state, !fresh).await
    }

    /// A credential in place of `stale`, which Okta refused, unless another task already
    /// replaced it. An API token is replaced by reading the secret again (it may have been
    /// rotated); an access token by asking Okta for a new one, and the secret is read again
    /// only if Okta then refuses the client assertion.
    pub async fn refresh(&self, stale: &Credential) -> Result<Credential, CredentialError> {
        let mut state = self.state.lock().await;
        match stale {
            Credential::ApiToken(_) => {
                if let Some(read) = state.secret.as_ref()
                    && let SecretContent::ApiToken(token) = read.content.as_ref()
                    && !Credential::ApiToken(token.clone()).same(stale)
                {
                    return Ok(Credential::ApiToken(token.clone()));
                }
                self.read_into(&mut state).await?;
                self.credential(&mut state, true).await
            }
            Credential::Bearer(_) => {
                if let Some(access) = state.access.as_ref()
                    && Instant::now() < access.usable_until
                    && !Credential::Bearer(access.token.clone()).same(stale)
                {
                    return Ok(Credential::Bearer(access.token.clone()));
                }
                state.access = None;
                let just_read = state.secret.is_none();
                if just_read {
                    self.read_into(&mut state).await?;
                }
                self.credential(&mut state, just_read).await
            }
        }
    }

    async fn credential(
        &self,
        state: &mut State,
        just_read: bool,
    ) -> Result<Credential, CredentialError> {
        let content = match state.secret.as_ref() {
            Some(read) => read.content.clone(),
            None => {
                self.read_into(state).await?;
                return Box::pin(self.credential(state, true)).await;
            }
        };
        let app = match content.as_ref() {
            SecretContent::ApiToken(token) => return Ok(Credential::ApiToken(token.clone())),
            SecretContent::ServiceApp(app) => app,
        };
        if let Some(access) = state.access.as_ref()
            && access.client_id == app.client_id
            && Instant::now() < access.usable_until
        {
            return Ok(Credential::Bearer(access.token.clone()));
        }
        match self.endpoint.request(app).await {
            Ok(issued) => Ok(self.keep(state, app, issued)),
            Err(err) if err.refuses_assertion() && !just_read => {
                tracing::info!(
                    client_id = app.client_id,
                    "okta refused the client assertion, reading the secret again"
                );
                self.read_into(state).await?;
                Box::pin(self.credential(state, true)).await
            }
            Err(err) => Err(err.into()),
        }
    }

    fn keep(
        &self,
        state: &mut State,
        app: &ServiceApp,
        issued: crate::oauth::Issued,
    ) -> Credential {
        tracing::debug!(
            client_id = app.client_id,
            scope = issued.scope,
            usable_for_s = issued.usable_for.as_secs(),
            "okta access token issued"
        );
        state.access = Some(Access {
            token: issued.token.clone(),
            client_id: app.client_id.clone(),
            usable_until: Instant::now() + issued.usable_for,
        });
        Credential::Bearer(issued.token)
    }

    async fn read_into(&self, state: &mut State) -> Result<(), SecretError> {
        let text = self.source.read().await?;
        let content = parse_secret(self.source.secret_id(), &text)?;
        let kind = match &content {
            SecretContent::ApiToken(_) => "api_token",
            SecretContent::ServiceApp(_) => "service_app",
        };
        tracing::debug!(
            secret_id = self.source.secret_id(),
            kind,
            "okta credential read"
        );
        state.secret = Some(Read {
            content: Arc::new(content),
            read_at: Instant::now(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ApiToken, SecretError> {
        parse_token("okta/token", &SecretString::from(text.to_owned()))
    }

    #[test]
    fn bare_token_is_used_as_is() {
        let token = parse("  00abcDEF-123_xyz\n").unwrap();
        assert_eq!(token.authorization(), "SSWS 00abcDEF-123_xyz");
    }

    #[test]
    fn json_secret_gives_its_api_token_field() {
        let token = parse(r#"{"apiToken": "00abcDEF", "note": "rotated monthly"}"#).unwrap();
        assert_eq!(token.authorization(), "SSWS 00abcDEF");
    }

    #[test]
    fn json_secret_without_api_token_is_malformed_and_does_not_echo_the_secret() {
        let err = parse(r#"{"token": "00supersecretvalue"}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apiToken"), "{text}");
        assert!(!text.contains("00supersecretvalue"), "{text}");
        assert!(!err.retryable());
    }

    #[test]
    fn token_with_inner_whitespace_is_refused_without_echoing_it() {
        let err = parse("00secret part2").unwrap_err();
        assert!(!err.to_string().contains("00secret"), "{err}");
    }

    #[test]
    fn debug_output_of_a_token_is_redacted() {
        let token = parse("00verysecret").unwrap();
        assert_eq!(format!("{token:?}"), "ApiToken([REDACTED])");
    }

    fn test_only_ec_key_pem() -> String {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let der = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        )
    }

    fn service_app_secret(key: &str) -> serde_json::Value {
        serde_json::json!({
            "domain": "example.okta.com",
            "clientId": "0oa1serviceapp000001",
            "privateKey": key,
            "keyId": "test-key-1",
            "scopes": "okta.groups.read okta.apps.read",
        })
    }

    fn parse_json(value: &serde_json::Value) -> Result<SecretContent, SecretError> {
        parse_secret("okta/oauth", &SecretString::from(value.to_string()))
    }

    #[test]
    fn managed_rotation_secret_is_read_as_a_service_app() {
        let content = parse_json(&service_app_secret(&test_only_ec_key_pem())).unwrap();
        let SecretContent::ServiceApp(app) = content else {
            panic!("not a service app: {content:?}");
        };
        assert_eq!(app.domain, "example.okta.com");
        assert_eq!(app.client_id, "0oa1serviceapp000001");
        assert_eq!(app.key_id, "test-key-1");
        assert_eq!(app.scopes, "okta.groups.read okta.apps.read");
    }

    #[test]
    fn service_app_without_scopes_asks_for_the_default_scopes() {
        let mut secret = service_app_secret(&test_only_ec_key_pem());
        secret.as_object_mut().unwrap().remove("scopes");
        let Ok(SecretContent::ServiceApp(app)) = parse_json(&secret) else {
            panic!("not a service app");
        };
        assert_eq!(
            app.scopes,
            "okta.groups.read okta.apps.read okta.apps.manage okta.schemas.read"
        );
    }

    #[test]
    fn service_app_scopes_may_be_a_list_and_the_domain_a_url() {
        let mut secret = service_app_secret(&test_only_ec_key_pem());
        secret["scopes"] = serde_json::json!(["okta.groups.read", "okta.apps.manage"]);
        secret["domain"] = serde_json::json!("https://Example.okta.com/");
        let Ok(SecretContent::ServiceApp(app)) = parse_json(&secret) else {
            panic!("not a service app");
        };
        assert_eq!(app.scopes, "okta.groups.read okta.apps.manage");
        assert_eq!(app.domain, "example.okta.com");
    }

    #[test]
    fn service_app_secret_missing_a_field_is_malformed_and_names_the_field() {
        let key = test_only_ec_key_pem();
        for field in ["domain", "clientId", "privateKey", "keyId"] {
            let mut secret = service_app_secret(&key);
            secret.as_object_mut().unwrap().remove(field);
            let err = parse_json(&secret).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, SecretError::Malformed { .. }),
                "{field}: {err:?}"
            );
            assert!(text.contains(&format!("`{field}`")), "{field}: {text}");
            assert!(
                !text.contains("PRIVATE KEY") && !text.contains(&key[30..60]),
                "{text}"
            );
            assert!(!err.retryable());
        }
    }

    #[test]
    fn service_app_field_of_the_wrong_type_or_empty_is_named() {
        let key = test_only_ec_key_pem();
        let mut secret = service_app_secret(&key);
        secret["clientId"] = serde_json::json!(42);
        assert!(
            parse_json(&secret)
                .unwrap_err()
                .to_string()
                .contains("`clientId`")
        );
        let mut secret = service_app_secret(&key);
        secret["keyId"] = serde_json::json!("  ");
        assert!(
            parse_json(&secret)
                .unwrap_err()
                .to_string()
                .contains("`keyId`")
        );
    }

    #[test]
    fn a_private_key_that_is_not_a_key_is_named_without_echoing_it() {
        let err = parse_json(&service_app_secret("MIIsupersecretbutbroken")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`privateKey`"), "{text}");
        assert!(!text.contains("MIIsupersecretbutbroken"), "{text}");
    }

    #[test]
    fn api_token_field_keeps_meaning_an_api_token() {
        let content = parse_json(&serde_json::json!({"apiToken": "00abc"})).unwrap();
        assert!(matches!(content, SecretContent::ApiToken(_)));
    }

    #[test]
    fn debug_of_a_credential_shows_no_token() {
        let bearer = Credential::Bearer(AccessToken::new("eyJ.secret.token"));
        let text = format!("{bearer:?}");
        assert!(!text.contains("eyJ.secret.token"), "{text}");
        let ssws = Credential::ApiToken(parse("00verysecret").unwrap());
        assert!(!format!("{ssws:?}").contains("00verysecret"));
        assert_eq!(bearer.authorization(), "Bearer eyJ.secret.token");
    }
}
