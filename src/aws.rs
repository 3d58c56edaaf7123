//! What an AWS SDK error is called, for messages and for deciding whether a retry can help:
//! the service's error code, or the kind of failure when no answer came.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// The error's code: the service's own (`ResourceNotFoundException`, `Throttling`), or
/// `Timeout`, `DispatchFailure` or `Unknown` when the service gave none.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::ServiceError(service) => {
            service.err().code().unwrap_or("ServiceError").to_owned()
        }
        SdkError::TimeoutError(_) => "Timeout".to_owned(),
        SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
        _ => err.code().unwrap_or("Unknown").to_owned(),
    }
}
