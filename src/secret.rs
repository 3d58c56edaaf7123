//! The Okta credential: read from Secrets Manager, held in a redacting wrapper, cached per
//! container for a while, and read again on demand when Okta says it is no longer valid.
//!
//! The secret holds either the API token as a plain string or JSON `{"apiToken": "..."}`.
//! Nothing here puts the token's value into a log line, a `Debug` output or an error.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

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
    /// The secret was read but does not hold a usable token.
    #[error("secret {secret_id:?} does not hold an okta api token: {reason}")]
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
                let code = match &err {
                    SdkError::ServiceError(service) => {
                        service.err().code().unwrap_or("ServiceError").to_owned()
                    }
                    SdkError::TimeoutError(_) => "Timeout".to_owned(),
                    SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
                    _ => err.code().unwrap_or("Unknown").to_owned(),
                };
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

/// Reads a token from the secret's text: a bare token, or JSON with a string `apiToken`.
pub fn parse_token(secret_id: &str, text: &SecretString) -> Result<ApiToken, SecretError> {
    let malformed = |reason: &str| SecretError::Malformed {
        secret_id: secret_id.to_owned(),
        reason: reason.to_owned(),
    };
    let raw = text.expose_secret().trim();
    let token = if raw.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|_| malformed("it starts with '{' but is not valid JSON"))?;
        match value.get("apiToken") {
            Some(serde_json::Value::String(token)) => token.trim().to_owned(),
            Some(_) => return Err(malformed("its `apiToken` field is not a string")),
            None => return Err(malformed("it is JSON without an `apiToken` field")),
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
    Ok(ApiToken(SecretString::from(token)))
}

struct Cached {
    token: ApiToken,
    read_at: Instant,
}

/// A token cached per container, read again after `ttl` or when asked to.
pub struct TokenCache<S> {
    source: S,
    ttl: Duration,
    cached: Mutex<Option<Cached>>,
}

impl<S: SecretSource> TokenCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The cached token, reading the secret if there is none or it is older than the TTL.
    pub async fn token(&self) -> Result<ApiToken, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.read_at.elapsed() < self.ttl
        {
            return Ok(c.token.clone());
        }
        self.read_into(&mut cached).await
    }

    /// Reads the secret again, unless `stale` is no longer the cached token (another task
    /// already refreshed it).
    pub async fn refresh(&self, stale: &ApiToken) -> Result<ApiToken, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.token.0.expose_secret() != stale.0.expose_secret()
        {
            return Ok(c.token.clone());
        }
        self.read_into(&mut cached).await
    }

    async fn read_into(&self, cached: &mut Option<Cached>) -> Result<ApiToken, SecretError> {
        let text = self.source.read().await?;
        let token = parse_token(self.source.secret_id(), &text)?;
        tracing::debug!(secret_id = self.source.secret_id(), "okta credential read");
        *cached = Some(Cached {
            token: token.clone(),
            read_at: Instant::now(),
        });
        Ok(token)
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
}
