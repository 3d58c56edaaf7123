//! Okta as an OAuth 2.0 service app: the signing key from the secret, the client assertion
//! (`private_key_jwt`), and the org authorization server's token endpoint with the errors it
//! answers. Caching the access token is [`crate::secret::TokenCache`]'s job, not this module's.
//!
//! The assertion is only ever sent to `OKTA_ORG_URL`'s own token endpoint: a secret naming
//! another org is refused before anything is signed. Neither the key nor the access token
//! reaches a log line, a `Debug` output or an error.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use reqwest::header;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::ratelimit::OktaClock;

/// The scopes asked for when the secret names none: read groups, read and manage apps.
pub const DEFAULT_SCOPES: &str =
    "okta.groups.read okta.apps.read okta.apps.manage okta.schemas.read";

/// The org authorization server's token endpoint, below the org URL.
pub const TOKEN_PATH: &str = "/oauth2/v1/token";

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid. Okta refuses more than an hour; one request needs
/// far less.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// What Okta's org authorization server issues when a token response has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// An access token is given up this long before Okta says it expires (at most a quarter of
/// its lifetime), so that a call never starts with a token about to lapse.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A service app's private key, ready to sign. Its `Debug` output is redacted.
pub struct SigningKey {
    algorithm: Algorithm,
    key: SecretBox<EncodingKey>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?}, [REDACTED])", self.algorithm)
    }
}

impl SigningKey {
    /// The key from the secret's `privateKey`: PEM (PKCS#8 RSA or EC, PKCS#1 RSA), the
    /// base64 body of a PKCS#8 key without its markers, or a private JWK (as JSON text).
    /// `Err` says what is wrong, without any of the key.
    pub fn from_text(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.starts_with('{') {
            let jwk: Value =
                serde_json::from_str(text).map_err(|_| "starts with '{' but is not a JSON JWK")?;
            return Self::from_jwk(&jwk);
        }
        // A PEM pasted into JSON by hand often keeps its line breaks as the two characters `\n`.
        let text = text.replace("\\n", "\n");
        let pem = if text.contains("-----BEGIN") {
            text
        } else {
            wrap_pkcs8(&text)?
        };
        if pem.contains("ENCRYPTED PRIVATE KEY") {
            return Err("is an encrypted key: store it unencrypted, as PKCS#8 PEM");
        }
        if pem.contains("BEGIN EC PRIVATE KEY") {
            return Err("is a SEC1 EC key: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)");
        }
        if pem.contains("PUBLIC KEY") || pem.contains("CERTIFICATE") {
            return Err("holds a public key or certificate, not the private key");
        }
        if let Ok(key) = EncodingKey::from_rsa_pem(pem.as_bytes()) {
            return Self::checked(key, &[Algorithm::RS256]);
        }
        if let Ok(key) = EncodingKey::from_ec_pem(pem.as_bytes()) {
            return Self::checked(key, &[Algorithm::ES256, Algorithm::ES384]);
        }
        Err("is not a PEM RSA or EC private key")
    }

    /// A private JWK: RSA with its CRT values, or EC on P-256 or P-384.
    pub fn from_jwk(jwk: &Value) -> Result<Self, &'static str> {
        let field = |name: &str| -> Result<Vec<u8>, &'static str> {
            let text = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or("is a JWK without one of its private fields")?;
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| "is a JWK with a field that is not base64url")
        };
        match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let mut parts = Vec::new();
                for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
                    parts.push(field(name)?);
                }
                let der = der::rsa_private_key(&parts);
                Self::checked(EncodingKey::from_rsa_der(&der), &[Algorithm::RS256])
            }
            Some("EC") => {
                use aws_lc_rs::signature::{
                    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
                };
                let (signing, algorithm) = match jwk.get("crv").and_then(Value::as_str) {
                    Some("P-256") => (&ECDSA_P256_SHA256_FIXED_SIGNING, Algorithm::ES256),
                    Some("P-384") => (&ECDSA_P384_SHA384_FIXED_SIGNING, Algorithm::ES384),
                    _ => return Err("is an EC JWK on a curve other than P-256 or P-384"),
                };
                let mut point = vec![0x04];
                point.extend(field("x")?);
                point.extend(field("y")?);
                let pair =
                    EcdsaKeyPair::from_private_key_and_public_key(signing, &field("d")?, &point)
                        .map_err(|_| "is an EC JWK whose values do not form a key")?;
                let pkcs8 = pair
                    .to_pkcs8v1()
                    .map_err(|_| "is an EC JWK that cannot be encoded")?;
                Self::checked(EncodingKey::from_ec_der(pkcs8.as_ref()), &[algorithm])
            }
            _ => Err("is a JWK whose `kty` is neither RSA nor EC"),
        }
    }

    /// The key with the first algorithm it can sign with; a key that signs nothing is refused
    /// now rather than at the first token request.
    fn checked(key: EncodingKey, algorithms: &[Algorithm]) -> Result<Self, &'static str> {
        for &algorithm in algorithms {
            if jsonwebtoken::crypto::sign(b"probe", &key, algorithm).is_ok() {
                return Ok(Self {
                    algorithm,
                    key: SecretBox::new(Box::new(key)),
                });
            }
        }
        Err("could not be loaded as an RSA or EC signing key")
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// A PKCS#8 body without its markers (allowed by the managed-rotation format) as PEM.
fn wrap_pkcs8(body: &str) -> Result<String, &'static str> {
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(&body)
        .map_err(|_| "is neither PEM nor the base64 body of a PKCS#8 key")?;
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}

/// The few DER shapes a private JWK needs.
mod der {
    fn length(len: usize, out: &mut Vec<u8>) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }

    fn integer(value: &[u8], out: &mut Vec<u8>) {
        let trimmed: Vec<u8> = value.iter().copied().skip_while(|&b| b == 0).collect();
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend(trimmed);
        out.push(0x02);
        length(content.len(), out);
        out.extend(content);
    }

    /// PKCS#1 `RSAPrivateKey`: version 0, then n, e, d, p, q, dp, dq, qi.
    pub fn rsa_private_key(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        integer(&[0], &mut body);
        for part in parts {
            integer(part, &mut body);
        }
        let mut out = vec![0x30];
        length(body.len(), &mut out);
        out.extend(body);
        out
    }
}

/// The service app the secret describes, its key loaded. `Debug` shows no key.
pub struct ServiceApp {
    /// The org's host (and port, if any), lowercase, without scheme or path.
    pub domain: String,
    pub client_id: String,
    pub key_id: String,
    /// Space-separated.
    pub scopes: String,
    pub key: SigningKey,
}

impl fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApp")
            .field("domain", &self.domain)
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("scopes", &self.scopes)
            .field("key", &self.key)
            .finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

impl ServiceApp {
    /// A client assertion for `audience` (the token endpoint's URL), valid from `now` for five
    /// minutes, with a fresh `jti`.
    pub fn assertion(
        &self,
        audience: &str,
        now: SystemTime,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.key.algorithm);
        header.kid = Some(self.key_id.clone());
        let iat = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let claims = Claims {
            iss: &self.client_id,
            sub: &self.client_id,
            aud: audience,
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
            jti: assertion_id(),
        };
        jsonwebtoken::encode(&header, &claims, self.key.key.expose_secret())
    }
}

/// 128 random bits as hex: the assertion's `jti`, which Okta accepts only once.
fn assertion_id() -> String {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system's random source failing is not worth a failed invocation: the id must
        // only be unique, and the time in nanoseconds with a counter is.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        bytes = nanos.to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An access token Okta issued. Its `Debug` output is redacted.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([REDACTED])")
    }
}

/// An access token and how long this process may use it.
#[derive(Debug)]
pub struct Issued {
    pub token: AccessToken,
    /// Local time, with the margin before Okta's expiry already taken off.
    pub usable_for: Duration,
    pub scope: String,
}

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the secret's okta domain {secret:?} is not the org of OKTA_ORG_URL ({org}): the client \
         assertion is not sent elsewhere; correct the secret's `domain` or OKTA_ORG_URL"
    )]
    DomainMismatch { secret: String, org: String },

    #[error(
        "okta refused the client assertion of service app {client_id} (invalid_client{}): check \
         that key id {key_id:?} and its public key are registered on the service app, that it \
         uses public key / private key client authentication, and that the secret's private \
         key belongs to that public key",
        detail(.description)
    )]
    InvalidClient {
        client_id: String,
        key_id: String,
        description: String,
    },

    #[error(
        "okta refused the scopes of service app {client_id} (invalid_scope{}): grant it {} on its \
         okta api scopes tab, or set the secret's `scopes` to what it is granted",
        detail(.description), scopes_to_grant(.requested, .description)
    )]
    InvalidScope {
        client_id: String,
        requested: String,
        description: String,
    },

    #[error("okta's token endpoint answered {status}: {error}{}", detail(.description))]
    Refused {
        status: StatusCode,
        error: String,
        description: String,
    },

    #[error("failed to get an okta access token: the token endpoint answered {status}")]
    Unavailable { status: StatusCode },

    #[error("failed to get an okta access token: no answer from the token endpoint")]
    Transport {
        #[source]
        source: reqwest::Error,
    },

    #[error("failed to get an okta access token: the token endpoint's answer could not be read")]
    Decode {
        #[source]
        source: serde_json::Error,
    },

    #[error("okta's token endpoint issued a {token_type:?} token, not a Bearer token")]
    NotBearer { token_type: String },

    #[error("failed to sign the client assertion")]
    Sign {
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

fn detail(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(": {description}")
    }
}

/// The scopes Okta's answer names among those asked for, or all of them when it names none.
fn scopes_to_grant(requested: &str, description: &str) -> String {
    let named: Vec<&str> = requested
        .split_whitespace()
        .filter(|scope| description.contains(scope))
        .collect();
    if named.is_empty() {
        requested.to_owned()
    } else {
        named.join(" ")
    }
}

impl TokenError {
    /// Whether asking again later can succeed without anyone acting: Okta unavailable or
    /// throttling, or no answer.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Transport { .. })
    }

    /// Okta refused the assertion itself: the key may have been rotated in the secret.
    pub fn refuses_assertion(&self) -> bool {
        matches!(self, Self::InvalidClient { .. })
    }
}

/// Okta's OAuth error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: String,
}

/// The org's token endpoint, reached with the Okta client's HTTP client and timeout.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    http: reqwest::Client,
    org: Url,
    timeout: Duration,
    clock: OktaClock,
}

impl TokenEndpoint {
    pub fn new(http: reqwest::Client, org: Url, timeout: Duration, clock: OktaClock) -> Self {
        Self {
            http,
            org,
            timeout,
            clock,
        }
    }

    /// `{OKTA_ORG_URL}/oauth2/v1/token`: where assertions go and what their `aud` names.
    pub fn url(&self) -> Url {
        let mut url = self.org.clone();
        url.set_path(TOKEN_PATH);
        url.set_query(None);
        url
    }

    /// Whether the secret's domain names the configured org (host and port).
    pub fn check_domain(&self, app: &ServiceApp) -> Result<(), TokenError> {
        let mismatch = || TokenError::DomainMismatch {
            secret: app.domain.clone(),
            org: self.org.origin().ascii_serialization(),
        };
        let named = Url::parse(&format!("{}://{}", self.org.scheme(), app.domain))
            .map_err(|_| mismatch())?;
        let same = named.host_str().map(str::to_ascii_lowercase)
            == self.org.host_str().map(str::to_ascii_lowercase)
            && named.port_or_known_default() == self.org.port_or_known_default();
        if same { Ok(()) } else { Err(mismatch()) }
    }

    /// Asks Okta for an access token with a fresh client assertion.
    pub async fn request(&self, app: &ServiceApp) -> Result<Issued, TokenError> {
        self.check_domain(app)?;
        let url = self.url();
        let assertion = app
            .assertion(url.as_str(), SystemTime::now())
            .map_err(|source| TokenError::Sign { source })?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &app.scopes)
            .append_pair("client_assertion_type", ASSERTION_TYPE)
            .append_pair("client_assertion", &assertion)
            .finish();
        let transport = |source| TokenError::Transport { source };
        let response = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            client_id = app.client_id,
            status = status.as_u16(),
            "okta token request"
        );
        if status.is_success() {
            let answer: TokenResponse =
                serde_json::from_slice(&body).map_err(|source| TokenError::Decode { source })?;
            if !answer.token_type.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::NotBearer {
                    token_type: answer.token_type,
                });
            }
            let lifetime = answer
                .expires_in
                .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
            let lifetime = self.clock.to_local(lifetime);
            return Ok(Issued {
                token: AccessToken::new(answer.access_token),
                usable_for: lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 4)),
                scope: answer.scope,
            });
        }
        if status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
        {
            return Err(TokenError::Unavailable { status });
        }
        let error: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        Err(match error.error.as_str() {
            "invalid_client" => TokenError::InvalidClient {
                client_id: app.client_id.clone(),
                key_id: app.key_id.clone(),
                description: error.error_description,
            },
            "invalid_scope" => TokenError::InvalidScope {
                client_id: app.client_id.clone(),
                requested: app.scopes.clone(),
                description: error.error_description,
            },
            _ => TokenError::Refused {
                status,
                error: error.error,
                description: error.error_description,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    fn ec_pkcs8() -> Vec<u8> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    fn app(key: SigningKey, domain: &str) -> ServiceApp {
        ServiceApp {
            domain: domain.to_owned(),
            client_id: "0oaservice".to_owned(),
            key_id: "kid-1".to_owned(),
            scopes: DEFAULT_SCOPES.to_owned(),
            key,
        }
    }

    fn endpoint(org: &str) -> TokenEndpoint {
        TokenEndpoint::new(
            reqwest::Client::new(),
            Url::parse(org).unwrap(),
            Duration::from_secs(1),
            OktaClock::REAL,
        )
    }

    #[test]
    fn an_ec_pkcs8_pem_signs_es256_assertions_with_the_key_id() {
        let key = SigningKey::from_text(&pem("PRIVATE KEY", &ec_pkcs8())).unwrap();
        assert_eq!(key.algorithm(), Algorithm::ES256);
        let app = app(key, "example.okta.com");
        let token = app
            .assertion(
                "https://example.okta.com/oauth2/v1/token",
                SystemTime::now(),
            )
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("kid-1"));
        assert_eq!(header.alg, Algorithm::ES256);
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        assert_eq!(claims["iss"], "0oaservice");
        assert_eq!(claims["sub"], "0oaservice");
        assert_eq!(claims["aud"], "https://example.okta.com/oauth2/v1/token");
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert!(lifetime <= 3600);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn each_assertion_has_its_own_jti() {
        let app = app(
            SigningKey::from_text(&pem("PRIVATE KEY", &ec_pkcs8())).unwrap(),
            "example.okta.com",
        );
        let jti = |token: String| -> String {
            let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
            claims["jti"].as_str().unwrap().to_owned()
        };
        let first = jti(app.assertion("aud", SystemTime::now()).unwrap());
        let second = jti(app.assertion("aud", SystemTime::now()).unwrap());
        assert_ne!(first, second);
    }

    #[test]
    fn a_pkcs8_body_without_markers_and_escaped_line_breaks_are_accepted() {
        let der = ec_pkcs8();
        assert!(SigningKey::from_text(&STANDARD.encode(&der)).is_ok());
        let escaped = pem("PRIVATE KEY", &der).replace('\n', "\\n");
        assert!(SigningKey::from_text(&escaped).is_ok());
    }

    #[test]
    fn an_rsa_pkcs8_pem_signs_rs256() {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let key = SigningKey::from_text(&pem("PRIVATE KEY", der.as_ref())).unwrap();
        assert_eq!(key.algorithm(), Algorithm::RS256);
    }

    #[test]
    fn a_private_ec_jwk_is_accepted() {
        let der = ec_pkcs8();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).unwrap();
        let public = pair.public_key().as_ref();
        let private: aws_lc_rs::encoding::EcPrivateKeyBin =
            aws_lc_rs::encoding::AsBigEndian::as_be_bytes(&pair.private_key()).unwrap();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..]),
            "d": URL_SAFE_NO_PAD.encode(private.as_ref()),
        });
        let key = SigningKey::from_text(&jwk.to_string()).unwrap();
        assert_eq!(key.algorithm(), Algorithm::ES256);
    }

    #[test]
    fn keys_that_cannot_sign_are_refused_without_echoing_them() {
        for text in [
            "not a key at all!",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
            r#"{"kty": "oct", "k": "c2VjcmV0"}"#,
        ] {
            let reason = SigningKey::from_text(text).unwrap_err();
            assert!(
                !reason.contains("AAAA") && !reason.contains("c2VjcmV0"),
                "{reason}"
            );
        }
    }

    #[test]
    fn debug_of_a_service_app_shows_no_key() {
        let der = ec_pkcs8();
        let app = app(
            SigningKey::from_text(&pem("PRIVATE KEY", &der)).unwrap(),
            "example.okta.com",
        );
        let text = format!("{app:?}");
        assert!(text.contains("[REDACTED]"), "{text}");
        assert!(!text.contains(&STANDARD.encode(&der)[..16]), "{text}");
        assert_eq!(
            format!("{:?}", AccessToken::new("eyJsecret")),
            "AccessToken([REDACTED])"
        );
    }

    #[test]
    fn the_secret_domain_must_name_the_configured_org() {
        let key = || SigningKey::from_text(&pem("PRIVATE KEY", &ec_pkcs8())).unwrap();
        let okta = endpoint("https://example.okta.com");
        assert!(okta.check_domain(&app(key(), "example.okta.com")).is_ok());
        assert!(
            okta.check_domain(&app(key(), "EXAMPLE.okta.com:443"))
                .is_ok()
        );
        let err = okta
            .check_domain(&app(key(), "example-admin.okta.com"))
            .unwrap_err();
        assert!(err.to_string().contains("example-admin.okta.com"), "{err}");
        assert!(!err.retryable());
        let local = endpoint("http://127.0.0.1:4010");
        assert!(local.check_domain(&app(key(), "127.0.0.1:4010")).is_ok());
        assert!(local.check_domain(&app(key(), "127.0.0.1:4011")).is_err());
    }

    #[test]
    fn invalid_scope_names_the_scopes_okta_names_or_all_requested() {
        assert_eq!(
            scopes_to_grant(
                DEFAULT_SCOPES,
                "The following scopes are not allowed: okta.apps.manage"
            ),
            "okta.apps.manage"
        );
        assert_eq!(
            scopes_to_grant(DEFAULT_SCOPES, "The requested scope is invalid"),
            DEFAULT_SCOPES
        );
    }
}
