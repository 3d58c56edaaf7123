//! Okta's error body (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`) and
//! the errors the simulator answers with.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::stamp;

/// An error answer: its status and the content of Okta's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
}

impl OktaError {
    pub fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        OktaError {
            status,
            code,
            summary: summary.into(),
            causes: Vec::new(),
        }
    }

    /// 401 E0000011: missing, unknown or expired token, or a scheme other than `SSWS` and
    /// `Bearer`.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    }

    /// 403 E0000006: the credential may not do this (for an access token: a scope is missing).
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    /// 429 E0000047.
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    }

    /// 404 E0000007 for `id` of the given kind (`App`, `AppGroup`, `UserGroup`, …).
    pub fn not_found(id: &str, kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "E0000007",
            format!("Not found: Resource not found: {id} ({kind})"),
        )
    }

    /// 400 E0000031: a `search` or `filter` expression that does not parse.
    pub fn invalid_search() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000031",
            "Invalid search criteria.",
        )
    }

    /// 400 E0000003: a body that is not a JSON object.
    pub fn malformed_body() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        )
    }

    /// 400 E0000001 naming the fields that failed, with one cause per problem.
    pub fn validation(fields: &[&str], causes: Vec<String>) -> Self {
        OktaError {
            status: StatusCode::BAD_REQUEST,
            code: "E0000001",
            summary: format!("Api validation failed: {}", fields.join(", ")),
            causes,
        }
    }

    /// 405 E0000022.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        )
    }

    /// The JSON body, with a fresh `errorId`.
    pub fn body(&self) -> Value {
        json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": stamp::error_id(),
            "errorCauses": self
                .causes
                .iter()
                .map(|c| json!({ "errorSummary": c }))
                .collect::<Vec<_>>(),
        })
    }
}
