//! The handler's one error type. Each variant knows whether a retry can help; that is decided
//! here and nowhere else, and it is what Lambda sees as the error's type.

use reqwest::StatusCode;

use crate::assign::UnexpectedProfile;
use crate::event::EventError;
use crate::oauth::TokenError;
use crate::okta::OktaError;
use crate::queues::QueueError;
use crate::secret::{CredentialError, SecretError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid event")]
    InvalidEvent(#[from] EventError),

    #[error("failed to get the okta credential")]
    Secret(#[from] SecretError),

    #[error("failed to get an okta access token for the service app")]
    Token(#[source] TokenError),

    #[error("no okta group is named {name:?}{}", case_hint(.differing_in_case))]
    GroupNotFound {
        name: String,
        differing_in_case: Vec<String>,
    },

    #[error("okta has {} groups named {name:?} ({}): rename or remove all but one", ids.len(), ids.join(", "))]
    AmbiguousGroup { name: String, ids: Vec<String> },

    #[error(
        "group {group:?} ({group_id}) is not assigned to app {app_id} and \
         ASSIGN_UNASSIGNED_GROUPS is false: assign the group to the app in okta"
    )]
    GroupNotAssigned {
        group: String,
        group_id: String,
        app_id: String,
    },

    #[error(
        "okta does not list role {role:?} for app {app_id} yet: in okta, open the app's \
         provisioning tab and refresh application data, then retry"
    )]
    RoleNotImported {
        role: String,
        app_id: String,
        /// Okta's refusal of the write; none when the app's schema already showed the label
        /// missing and nothing was written.
        #[source]
        source: Option<OktaError>,
    },

    #[error(
        "okta lists several labels that could be role {role:?} of account {account} in app \
         {app_id} ({}): set ACCOUNT_ALIASES so that the account's label is known",
        labels.join(", ")
    )]
    AmbiguousLabel {
        role: String,
        account: String,
        app_id: String,
        labels: Vec<String>,
    },

    #[error(
        "app {app_id} uses group mapping (settings.app.useGroupMapping), which ignores \
         samlRoles: turn \"Use Group Mapping\" off in the app's sign-on settings, or serve this \
         account with another app"
    )]
    AppUsesGroupMapping { app_id: String },

    #[error("okta has no app {app_id}: check {variable}")]
    AppNotFound {
        app_id: String,
        variable: &'static str,
    },

    #[error(
        "okta has {} active aws apps naming account {account} in their identity provider arn \
         ({}): map the account to one of them in ACCOUNT_APP_MAP",
        ids.len(),
        ids.join(", ")
    )]
    AmbiguousApp { account: String, ids: Vec<String> },

    #[error("refusing to write the assignment of group {group_id}")]
    UnexpectedProfile {
        group_id: String,
        #[source]
        source: UnexpectedProfile,
    },

    #[error("okta's answer to the write of group {group_id} lacks {}", missing.join(", "))]
    WriteNotConfirmed {
        group_id: String,
        missing: Vec<String>,
    },

    #[error("okta refused to {operation}: the token's admin needs {needs}")]
    Forbidden {
        operation: &'static str,
        needs: &'static str,
        #[source]
        source: OktaError,
    },

    #[error("okta call failed")]
    Okta(#[source] OktaError),

    #[error("failed to read the roles to sweep")]
    Iam(#[source] crate::iam::IamError),

    #[error("a sweep was asked for but the function has no iam client")]
    NoSweepSource,

    #[error("failed to queue the event")]
    Queue(#[from] QueueError),

    #[error(
        "a queued retry arrived but WORK_QUEUE_URL, DELAY_QUEUE_URL and PARKED_QUEUE_URL are not set"
    )]
    NoQueues,
}

fn case_hint(differing: &[String]) -> String {
    if differing.is_empty() {
        ": create the group, or check GROUP_NAME_TEMPLATE".to_owned()
    } else {
        format!(
            " (names differ only in case: {}; okta group names are matched exactly)",
            differing.join(", ")
        )
    }
}

impl From<CredentialError> for Error {
    fn from(err: CredentialError) -> Self {
        match err {
            CredentialError::Secret(err) => Self::Secret(err),
            CredentialError::Token(err) => Self::Token(err),
        }
    }
}

impl From<OktaError> for Error {
    fn from(err: OktaError) -> Self {
        match &err {
            OktaError::Status {
                status, operation, ..
            } if *status == StatusCode::FORBIDDEN => {
                let needs = if operation.contains("group assignment") {
                    "the right to manage the AWS app's assignments (admin permission \
                     okta.apps.assignment.manage; oauth scope okta.apps.manage)"
                } else if operation.contains("app") {
                    "the right to read the AWS apps (admin permission okta.apps.read; oauth \
                     scope okta.apps.read)"
                } else {
                    "the right to read groups (admin permission okta.groups.read; oauth scope \
                     okta.groups.read)"
                };
                Self::Forbidden {
                    operation,
                    needs,
                    source: err,
                }
            }
            _ => Self::Okta(err),
        }
    }
}

impl Error {
    /// Whether invoking again with the same event can succeed without anyone acting.
    pub fn retryable(&self) -> bool {
        match self {
            Self::InvalidEvent(_)
            | Self::AmbiguousGroup { .. }
            | Self::GroupNotAssigned { .. }
            | Self::UnexpectedProfile { .. }
            | Self::Forbidden { .. }
            | Self::AmbiguousLabel { .. }
            | Self::AppUsesGroupMapping { .. }
            | Self::AppNotFound { .. }
            | Self::AmbiguousApp { .. }
            | Self::NoSweepSource
            | Self::NoQueues => false,
            Self::GroupNotFound { .. }
            | Self::RoleNotImported { .. }
            | Self::WriteNotConfirmed { .. }
            | Self::Queue(_) => true,
            Self::Secret(err) => err.retryable(),
            Self::Iam(err) => err.retryable(),
            Self::Token(err) => err.retryable(),
            Self::Okta(err) => err.retryable(),
        }
    }

    /// A short name of the condition, for logs and Lambda's error type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) => "InvalidEvent",
            Self::Secret(_) => "SecretUnavailable",
            Self::Token(TokenError::DomainMismatch { .. }) => "SecretDomainMismatch",
            Self::Token(TokenError::InvalidClient { .. }) => "OAuthClientRefused",
            Self::Token(TokenError::InvalidScope { .. }) => "OAuthScopeRefused",
            Self::Token(err) if err.retryable() => "OAuthTokenUnavailable",
            Self::Token(_) => "OAuthTokenRefused",
            Self::GroupNotFound { .. } => "GroupNotFound",
            Self::AmbiguousGroup { .. } => "AmbiguousGroup",
            Self::GroupNotAssigned { .. } => "GroupNotAssigned",
            Self::RoleNotImported { .. } => "RoleNotImported",
            Self::AmbiguousLabel { .. } => "AmbiguousLabel",
            Self::AppUsesGroupMapping { .. } => "AppUsesGroupMapping",
            Self::AppNotFound { .. } => "AppNotFound",
            Self::AmbiguousApp { .. } => "AmbiguousApp",
            Self::UnexpectedProfile { .. } => "UnexpectedProfile",
            Self::WriteNotConfirmed { .. } => "WriteNotConfirmed",
            Self::Forbidden { .. } => "OktaForbidden",
            Self::Okta(OktaError::RateLimited { .. }) => "RateLimited",
            Self::Okta(_) => "OktaError",
            Self::Queue(_) => "QueueUnavailable",
            Self::Iam(_) => "IamUnavailable",
            Self::NoQueues => "NoQueues",
            Self::NoSweepSource => "NoSweepSource",
        }
    }

    /// Lambda's error type: `Retryable.<Kind>` or `Permanent.<Kind>`.
    pub fn error_type(&self) -> String {
        let class = if self.retryable() {
            "Retryable"
        } else {
            "Permanent"
        };
        format!("{class}.{}", self.kind())
    }

    /// The message with every cause, outermost first.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(err: Error) -> Self {
        Self {
            error_type: err.error_type(),
            error_message: err.chain(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_error_type_says_whether_a_retry_can_help() {
        let missing = Error::GroupNotFound {
            name: "Ops".into(),
            differing_in_case: vec![],
        };
        assert_eq!(missing.error_type(), "Retryable.GroupNotFound");
        let ambiguous = Error::AmbiguousGroup {
            name: "Ops".into(),
            ids: vec!["00g1".into(), "00g2".into()],
        };
        assert_eq!(ambiguous.error_type(), "Permanent.AmbiguousGroup");
        assert_eq!(
            ambiguous.to_string(),
            "okta has 2 groups named \"Ops\" (00g1, 00g2): rename or remove all but one"
        );
    }

    #[test]
    fn chain_includes_the_cause() {
        let err = Error::from(EventError::Missing { field: "detail" });
        assert_eq!(
            err.chain(),
            "invalid event: event has no `detail`: expected an EventBridge event for a \
             CloudTrail API call"
        );
    }
}
