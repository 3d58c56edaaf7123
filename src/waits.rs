//! Durable waits: the envelope an event travels in while it waits on the delay queue, the
//! growing delays between attempts, and the message an operator reads when a wait expires.
//!
//! Two conditions are waits, not failures: the group does not exist yet, and Okta has not
//! imported the role yet. A rate limit that would outlast the invocation, and an Okta or
//! Secrets Manager that keeps failing after the client's own retries, are waits too. The event
//! is put on the delay queue, comes back through the work queue, and is tried again until it
//! succeeds or its maximum age passes.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Error;
use crate::okta::OktaError;

/// SQS's longest message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// The key that marks a message body as an envelope rather than a bare EventBridge event.
pub const ENVELOPE_KEY: &str = "oktaRoleSyncRetry";

/// Where a waiting event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On the delay queue: to be forwarded to the work queue, not handled.
    Waiting,
    /// Back on the work queue: to be handled again.
    Due,
    /// On the parked queue for an operator; if sent back to the work queue, it starts over.
    Parked,
}

/// What travels with a waiting event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryState {
    pub stage: Stage,
    /// Attempts made so far.
    pub attempt: u32,
    /// When the first attempt was made, in seconds since the epoch.
    pub first_attempt_at: u64,
    /// Why it waits (the last error).
    pub reason: String,
}

/// A message body: the event, and its retry state when it has waited before.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub event: Value,
    pub retry: Option<RetryState>,
}

impl Envelope {
    /// Reads a message body: an envelope, or a bare event as EventBridge delivers it.
    pub fn from_body(body: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(body).map_err(|e| format!("message body is not JSON: {e}"))?;
        match value.get(ENVELOPE_KEY) {
            None => Ok(Self {
                event: value,
                retry: None,
            }),
            Some(state) => {
                let retry: RetryState = serde_json::from_value(state.clone())
                    .map_err(|e| format!("message has an unreadable {ENVELOPE_KEY}: {e}"))?;
                let event = value
                    .get("event")
                    .cloned()
                    .ok_or_else(|| format!("message has {ENVELOPE_KEY} but no event"))?;
                Ok(Self {
                    event,
                    retry: Some(retry),
                })
            }
        }
    }

    pub fn to_body(&self) -> String {
        let mut body = json!({ "event": self.event });
        if let Some(retry) = &self.retry {
            body[ENVELOPE_KEY] = json!(retry);
        }
        body.to_string()
    }
}

/// Why an error is a wait, and what an operator does when the wait runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub reason: &'static str,
    pub action: String,
    /// The least time worth waiting before the next attempt.
    pub at_least: Duration,
}

/// The wait an error stands for, if it is one.
pub fn wait_for(err: &Error) -> Option<Wait> {
    match err {
        Error::GroupNotFound { name, .. } => Some(Wait {
            reason: "group_not_found",
            action: format!(
                "create the okta group {name:?} (or correct GROUP_NAME_TEMPLATE), then send \
                 this event back to the work queue"
            ),
            at_least: Duration::ZERO,
        }),
        Error::RoleNotImported { role, app_id, .. } => Some(Wait {
            reason: "role_not_imported",
            action: format!(
                "in okta, refresh application data of app {app_id} (provisioning tab) so that it \
                 imports role {role:?}, then send this event back to the work queue"
            ),
            at_least: Duration::ZERO,
        }),
        Error::Iam(err) if err.retryable() => Some(Wait {
            reason: "iam_unavailable",
            action: "iam kept failing (see the error): once it answers again, send this event \
                     back to the work queue"
                .to_owned(),
            at_least: Duration::ZERO,
        }),
        Error::Okta(OktaError::RateLimited { wait, .. }) => Some(Wait {
            reason: "rate_limited",
            action: "okta's rate limit for the app stayed spent: look for other clients using \
                     the same api token or app bucket, then send this event back"
                .to_owned(),
            at_least: *wait,
        }),
        Error::Okta(err) if err.is_transient() => Some(Wait {
            reason: "okta_unavailable",
            action: "okta kept failing (see the error): once it answers again, send this event \
                     back to the work queue"
                .to_owned(),
            at_least: Duration::ZERO,
        }),
        Error::WriteNotConfirmed { .. } => Some(Wait {
            reason: "write_not_confirmed",
            action: "okta's answers did not show the role after writing it: check the group's \
                     assignment in okta, then send this event back to the work queue"
                .to_owned(),
            at_least: Duration::ZERO,
        }),
        Error::Token(err) if err.retryable() => Some(Wait {
            reason: "okta_token_unavailable",
            action: "okta's token endpoint kept failing (see the error): once it answers again, \
                     send this event back to the work queue"
                .to_owned(),
            at_least: Duration::ZERO,
        }),
        Error::Secret(err) if err.retryable() => Some(Wait {
            reason: "secret_unavailable",
            action: "secrets manager kept failing (see the error): once it answers again, send \
                     this event back to the work queue"
                .to_owned(),
            at_least: Duration::ZERO,
        }),
        _ => None,
    }
}

/// The delay before attempt `attempt + 1`: `base` doubled per attempt, capped at SQS's limit.
pub fn next_delay(base: Duration, attempt: u32, at_least: Duration) -> Duration {
    let grown = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    grown.max(at_least).min(MAX_DELAY)
}

pub fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_and_stop_at_fifteen_minutes() {
        let base = Duration::from_secs(60);
        let delays: Vec<u64> = (1..=6)
            .map(|attempt| next_delay(base, attempt, Duration::ZERO).as_secs())
            .collect();
        assert_eq!(delays, [60, 120, 240, 480, 900, 900]);
        assert_eq!(next_delay(base, 400, Duration::ZERO), MAX_DELAY);
    }

    #[test]
    fn a_rate_limit_wait_is_never_shortened() {
        let delay = next_delay(Duration::from_secs(1), 1, Duration::from_secs(45));
        assert_eq!(delay, Duration::from_secs(45));
    }

    #[test]
    fn a_bare_eventbridge_event_is_an_envelope_without_retry_state() {
        let envelope = Envelope::from_body(r#"{"detail-type": "x", "detail": {}}"#).unwrap();
        assert_eq!(envelope.retry, None);
        assert_eq!(envelope.event["detail-type"], "x");
    }

    #[test]
    fn an_envelope_survives_a_round_trip() {
        let envelope = Envelope {
            event: json!({"detail": {"eventName": "CreateRole"}}),
            retry: Some(RetryState {
                stage: Stage::Waiting,
                attempt: 2,
                first_attempt_at: 1_764_000_000,
                reason: "group_not_found".into(),
            }),
        };
        assert_eq!(Envelope::from_body(&envelope.to_body()).unwrap(), envelope);
    }

    #[test]
    fn unreadable_bodies_say_what_is_wrong() {
        assert!(
            Envelope::from_body("not json")
                .unwrap_err()
                .contains("not JSON")
        );
        let err = Envelope::from_body(r#"{"oktaRoleSyncRetry": {"stage": "x"}}"#).unwrap_err();
        assert!(err.contains("oktaRoleSyncRetry"), "{err}");
    }
}
