//! The Okta Management API client: the few endpoints the function calls, with each response's
//! status checked before its body is read and Okta's error body turned into a typed error.
//!
//! The base URL is injected, every request carries a timeout, and pagination follows the
//! `Link: rel="next"` URL Okta gives (never one built here), only on the org's own origin so
//! that the token is never sent elsewhere.
//!
//! Every call goes through one loop that keeps to Okta's rate limits (holding back when a
//! bucket is spent, waiting out a 429 until its reset), retries reads after server faults and
//! lost connections with backoff and jitter, sends Okta's retry headers on each repeat, and
//! never waits past the caller's deadline. Writes are not repeated here after a fault: the
//! first may have applied, so the caller reads again before writing again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::oauth::TokenEndpoint;
use crate::ratelimit::{self, Bucket, Limiter, OktaClock};
use crate::secret::Credential;

/// A group as the groups API lists it; only the fields used here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Group {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub profile: GroupProfile,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GroupProfile {
    pub name: String,
}

/// A group's assignment to an app. The profile is kept whole, since a write replaces it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Assignment {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub profile: Map<String, Value>,
}

/// An assignment as the app's assignment list gives it, with the group embedded
/// (`expand=group`) when Okta included it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ListedAssignment {
    #[serde(flatten)]
    pub assignment: Assignment,
    #[serde(rename = "_embedded", default)]
    pub embedded: Option<Embedded>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Embedded {
    #[serde(default)]
    pub group: Option<Group>,
}

/// The body of a write: only what Okta lets a client set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    pub profile: Map<String, Value>,
}

/// Okta's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_summary: String,
    #[serde(default)]
    pub error_id: String,
    #[serde(default)]
    pub error_causes: Vec<ErrorCause>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    #[serde(default)]
    pub error_summary: String,
}

/// A failed call to Okta.
#[derive(Debug, thiserror::Error)]
pub enum OktaError {
    /// Okta answered with an error status.
    #[error("okta answered {status} to {operation}{}", describe(.body))]
    Status {
        operation: &'static str,
        status: StatusCode,
        /// Okta's error body, when the answer had one (a gateway's HTML page does not).
        body: Option<Box<ErrorBody>>,
        request_id: Option<String>,
    },
    /// No answer: connection refused or reset, or the request timed out.
    #[error("failed to {operation}: no answer from okta")]
    Transport {
        operation: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// A success status with a body that is not what the endpoint documents.
    #[error("failed to {operation}: okta's answer could not be read")]
    Decode {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// Okta's rate limit would need a wait that does not fit before the deadline.
    #[error(
        "failed to {operation}: okta's rate limit for {bucket} calls resets in {wait:?}, past this invocation's deadline"
    )]
    RateLimited {
        operation: &'static str,
        bucket: &'static str,
        wait: Duration,
    },
    /// A pagination link that leaves the org.
    #[error("failed to {operation}: okta's next-page link {link:?} leaves the org's origin")]
    ForeignLink {
        operation: &'static str,
        link: String,
    },
}

fn describe(body: &Option<Box<ErrorBody>>) -> String {
    match body {
        None => String::new(),
        Some(body) => {
            let causes: Vec<&str> = body
                .error_causes
                .iter()
                .map(|c| c.error_summary.as_str())
                .filter(|s| !s.is_empty())
                .collect();
            let mut text = format!(": {} {}", body.error_code, body.error_summary);
            if !causes.is_empty() {
                text.push_str(&format!(" ({})", causes.join("; ")));
            }
            if !body.error_id.is_empty() {
                text.push_str(&format!(" [errorId {}]", body.error_id));
            }
            text
        }
    }
}

impl OktaError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Status {
                body: Some(body), ..
            } => Some(body.error_code.as_str()),
            _ => None,
        }
    }

    /// Whether asking again later can succeed: rate limits, server faults and lost answers.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || status.is_server_error()
            }
            Self::Transport { .. } | Self::RateLimited { .. } => true,
            Self::Decode { .. } | Self::ForeignLink { .. } => false,
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// A server fault or a lost answer: the request may or may not have been applied.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT
            }
            Self::Transport { .. } => true,
            _ => false,
        }
    }
}

/// What one call needs besides its arguments: the credential and the time it must end by.
#[derive(Debug, Clone)]
pub struct Call {
    pub token: Credential,
    pub deadline: Option<Instant>,
}

impl Call {
    /// Whether a wait of `wait` still leaves time for a request before the deadline.
    fn fits(&self, wait: Duration, request: Duration) -> bool {
        self.deadline
            .is_none_or(|deadline| Instant::now() + wait + request < deadline)
    }
}

/// Server faults and lost connections on a read are retried this many times.
const TRANSIENT_RETRIES: usize = 3;
/// 429s waited out for one request before giving up.
const THROTTLE_RETRIES: u32 = 3;

/// A lookup of groups by name.
#[derive(Debug, Clone, Copy)]
pub enum GroupQuery<'a> {
    /// `search=profile.name eq "NAME"`: exact, complete, but eventually consistent.
    NameEquals(&'a str),
    /// `q=NAME`: a starts-with match that sees new groups at once, at most 300 results.
    NamePrefix(&'a str),
}

/// The largest page Okta serves for group searches.
const SEARCH_PAGE: u32 = 200;
/// The largest page of group assignments Okta serves.
const ASSIGNMENTS_PAGE: u32 = 200;
/// The largest page of apps Okta serves.
const APPS_PAGE: u32 = 200;
/// The most groups a `q` lookup returns; it has no further pages.
const PREFIX_LIMIT: u32 = 300;

#[derive(Debug, Clone)]
pub struct OktaClient {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    limiter: Arc<Limiter>,
}

impl OktaClient {
    pub fn new(base: Url, timeout: Duration, clock: OktaClock) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("okta-role-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base,
            timeout,
            limiter: Arc::new(Limiter::new(clock)),
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// How Okta's clock relates to ours.
    pub fn clock(&self) -> OktaClock {
        self.limiter.clock()
    }

    /// The org's OAuth token endpoint, on the same HTTP client, timeout and clock.
    pub fn token_endpoint(&self) -> TokenEndpoint {
        TokenEndpoint::new(
            self.http.clone(),
            self.base.clone(),
            self.timeout,
            self.limiter.clock(),
        )
    }

    /// Groups matching `query`, every page of them.
    pub async fn list_groups(
        &self,
        call: &Call,
        query: GroupQuery<'_>,
    ) -> Result<Vec<Group>, OktaError> {
        const OP: &str = "list groups";
        let mut url = self.url("/api/v1/groups");
        match query {
            GroupQuery::NameEquals(name) => {
                let expression = format!("profile.name eq \"{}\"", escape_search_value(name));
                url.query_pairs_mut()
                    .append_pair("search", &expression)
                    .append_pair("limit", &SEARCH_PAGE.to_string());
            }
            GroupQuery::NamePrefix(name) => {
                url.query_pairs_mut()
                    .append_pair("q", name)
                    .append_pair("limit", &PREFIX_LIMIT.to_string());
            }
        }
        let mut groups = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let (headers, body) = self.send(OP, Method::GET, url, call, None).await?;
            let page: Vec<Group> =
                serde_json::from_slice(&body).map_err(|source| OktaError::Decode {
                    operation: OP,
                    source,
                })?;
            groups.extend(page);
            next = self.next_link(OP, &headers)?;
        }
        Ok(groups)
    }

    /// The group's assignment to the app, or `None` when the group is not assigned (404).
    pub async fn get_assignment(
        &self,
        call: &Call,
        app_id: &str,
        group_id: &str,
    ) -> Result<Option<Assignment>, OktaError> {
        const OP: &str = "read group assignment";
        let url = self.assignment_url(app_id, group_id);
        match self.send(OP, Method::GET, url, call, None).await {
            Ok((_, body)) => {
                serde_json::from_slice(&body)
                    .map(Some)
                    .map_err(|source| OktaError::Decode {
                        operation: OP,
                        source,
                    })
            }
            Err(err)
                if err.status() == Some(StatusCode::NOT_FOUND)
                    && err.error_code() == Some("E0000007") =>
            {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    /// Writes the whole assignment (creating it if missing) and returns what Okta stored.
    pub async fn put_assignment(
        &self,
        call: &Call,
        app_id: &str,
        group_id: &str,
        write: &AssignmentWrite,
    ) -> Result<Assignment, OktaError> {
        const OP: &str = "write group assignment";
        let url = self.assignment_url(app_id, group_id);
        let body = serde_json::to_vec(write).map_err(|source| OktaError::Decode {
            operation: OP,
            source,
        })?;
        let (_, body) = self.send(OP, Method::PUT, url, call, Some(body)).await?;
        serde_json::from_slice(&body).map_err(|source| OktaError::Decode {
            operation: OP,
            source,
        })
    }

    /// Every group assignment of the app, every page, each with its group embedded.
    pub async fn list_assignments(
        &self,
        call: &Call,
        app_id: &str,
    ) -> Result<Vec<ListedAssignment>, OktaError> {
        const OP: &str = "list group assignments";
        let mut url = self.segments_url(&["api", "v1", "apps", app_id, "groups"]);
        url.query_pairs_mut()
            .append_pair("limit", &ASSIGNMENTS_PAGE.to_string())
            .append_pair("expand", "group");
        self.list_all(OP, url, call).await
    }

    /// Every group of the org, every page.
    pub async fn list_all_groups(&self, call: &Call) -> Result<Vec<Group>, OktaError> {
        const OP: &str = "list groups";
        let mut url = self.url("/api/v1/groups");
        url.query_pairs_mut()
            .append_pair("limit", &SEARCH_PAGE.to_string());
        self.list_all(OP, url, call).await
    }

    async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        call: &Call,
    ) -> Result<Vec<T>, OktaError> {
        let mut items = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let (headers, body) = self.send(operation, Method::GET, url, call, None).await?;
            let page: Vec<T> = serde_json::from_slice(&body)
                .map_err(|source| OktaError::Decode { operation, source })?;
            items.extend(page);
            next = self.next_link(operation, &headers)?;
        }
        Ok(items)
    }

    /// Every AWS Account Federation app of the org (`name eq "amazon_aws"`), every page.
    pub async fn list_aws_apps(&self, call: &Call) -> Result<Vec<Value>, OktaError> {
        const OP: &str = "list aws apps";
        let mut url = self.url("/api/v1/apps");
        url.query_pairs_mut()
            .append_pair("filter", "name eq \"amazon_aws\"")
            .append_pair("limit", &APPS_PAGE.to_string());
        let mut apps = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let (headers, body) = self.send(OP, Method::GET, url, call, None).await?;
            let page: Vec<Value> =
                serde_json::from_slice(&body).map_err(|source| OktaError::Decode {
                    operation: OP,
                    source,
                })?;
            apps.extend(page);
            next = self.next_link(OP, &headers)?;
        }
        Ok(apps)
    }

    /// One app, or `None` when Okta has no app of that id (404).
    pub async fn get_app(&self, call: &Call, app_id: &str) -> Result<Option<Value>, OktaError> {
        const OP: &str = "read app";
        let url = self.segments_url(&["api", "v1", "apps", app_id]);
        self.get_json_or_none(OP, url, call).await
    }

    /// The app's user profile schema, or `None` when Okta has none for the app (404).
    pub async fn get_app_schema(
        &self,
        call: &Call,
        app_id: &str,
    ) -> Result<Option<Value>, OktaError> {
        const OP: &str = "read app schema";
        let url = self.segments_url(&["api", "v1", "meta", "schemas", "apps", app_id, "default"]);
        self.get_json_or_none(OP, url, call).await
    }

    async fn get_json_or_none(
        &self,
        operation: &'static str,
        url: Url,
        call: &Call,
    ) -> Result<Option<Value>, OktaError> {
        match self.send(operation, Method::GET, url, call, None).await {
            Ok((_, body)) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|source| OktaError::Decode { operation, source }),
            Err(err) if err.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn segments_url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) base URL has path segments")
            .clear()
            .extend(segments);
        url
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    fn assignment_url(&self, app_id: &str, group_id: &str) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) base URL has path segments")
            .clear()
            .extend(["api", "v1", "apps", app_id, "groups", group_id]);
        url
    }

    /// Sends a request, keeping to the rate limits and retrying as the module says.
    async fn send(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        call: &Call,
        body: Option<Vec<u8>>,
    ) -> Result<(HeaderMap, bytes::Bytes), OktaError> {
        let bucket = Bucket::of_path(url.path());
        let mut backoff = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(4))
            .with_max_times(TRANSIENT_RETRIES)
            .with_jitter()
            .build();
        let mut throttles = 0;
        let mut retry: Option<(Option<String>, u32)> = None;
        loop {
            while let Err(wait) = self.limiter.claim(bucket) {
                if !call.fits(wait, self.timeout) {
                    return Err(OktaError::RateLimited {
                        operation,
                        bucket: bucket.as_str(),
                        wait,
                    });
                }
                tracing::debug!(
                    bucket = bucket.as_str(),
                    wait_ms = wait.as_millis() as u64,
                    "okta bucket spent, waiting for its reset"
                );
                tokio::time::sleep(wait).await;
            }
            let sent = self
                .send_once(operation, &method, &url, call, body.clone(), retry.as_ref())
                .await;
            let (headers, request_id) = match &sent {
                Ok((headers, _)) => (Some(headers), None),
                Err((err, headers)) => (headers.as_ref(), request_id(err)),
            };
            let reading = headers.and_then(ratelimit::read_headers);
            let err = match sent {
                Ok(answer) => {
                    self.limiter.observe(bucket, reading);
                    return Ok(answer);
                }
                Err((err, _)) => err,
            };
            let count = retry.as_ref().map_or(1, |(_, n)| n + 1);
            if err.status() == Some(StatusCode::TOO_MANY_REQUESTS) {
                let wait = self.limiter.throttled(bucket, reading);
                throttles += 1;
                if throttles > THROTTLE_RETRIES || !call.fits(wait, self.timeout) {
                    return Err(OktaError::RateLimited {
                        operation,
                        bucket: bucket.as_str(),
                        wait,
                    });
                }
                tracing::info!(
                    bucket = bucket.as_str(),
                    wait_ms = wait.as_millis() as u64,
                    "okta rate limit reached, waiting for its reset"
                );
                tokio::time::sleep(wait).await;
                retry = Some((request_id, count));
                continue;
            }
            self.limiter.observe(bucket, reading);
            let repeatable = method == Method::GET && err.is_transient();
            match backoff.next() {
                Some(delay) if repeatable && call.fits(delay, self.timeout) => {
                    tracing::info!(error = %err, delay_ms = delay.as_millis() as u64, "okta call failed, retrying");
                    tokio::time::sleep(delay).await;
                    retry = Some((request_id, count));
                }
                _ => return Err(err),
            }
        }
    }

    /// One request; on failure, the error and the answer's headers when there was an answer.
    async fn send_once(
        &self,
        operation: &'static str,
        method: &Method,
        url: &Url,
        call: &Call,
        body: Option<Vec<u8>>,
        retry: Option<&(Option<String>, u32)>,
    ) -> Result<(HeaderMap, bytes::Bytes), (OktaError, Option<HeaderMap>)> {
        let timeout = match call.deadline {
            Some(deadline) => self
                .timeout
                .min(deadline.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1)),
            None => self.timeout,
        };
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(timeout)
            .header(header::AUTHORIZATION, call.token.authorization())
            .header(header::ACCEPT, "application/json");
        if let Some((retry_for, count)) = retry {
            if let Some(id) = retry_for
                .as_deref()
                .and_then(|id| HeaderValue::from_str(id).ok())
            {
                request = request.header("X-Okta-Retry-For", id);
            }
            request = request.header("X-Okta-Retry-Count", count.to_string());
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let transport = |source| (OktaError::Transport { operation, source }, None);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-okta-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            method = %method,
            path = url.path(),
            status = status.as_u16(),
            okta_request_id = request_id.as_deref().unwrap_or(""),
            rate_limit_remaining = header_text(&headers, "x-rate-limit-remaining"),
            "okta call"
        );
        if status.is_success() {
            Ok((headers, body))
        } else {
            let err = OktaError::Status {
                operation,
                status,
                body: serde_json::from_slice::<ErrorBody>(&body)
                    .ok()
                    .filter(|b| !b.error_code.is_empty())
                    .map(Box::new),
                request_id,
            };
            Err((err, Some(headers)))
        }
    }

    fn next_link(
        &self,
        operation: &'static str,
        headers: &HeaderMap,
    ) -> Result<Option<Url>, OktaError> {
        let Some(link) = headers
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(next_target)
        else {
            return Ok(None);
        };
        match Url::parse(&link) {
            Ok(url) if url.origin() == self.base.origin() => Ok(Some(url)),
            _ => Err(OktaError::ForeignLink { operation, link }),
        }
    }
}

/// The target of one `<url>; rel="next"` link value.
fn next_target(link: &str) -> Option<String> {
    let (target, params) = link.trim().split_once(';')?;
    let is_next = params.split(';').any(|p| {
        let p = p.trim().replace(' ', "");
        p == "rel=\"next\"" || p == "rel=next"
    });
    let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
    is_next.then(|| target.to_owned())
}

fn request_id(err: &OktaError) -> Option<String> {
    match err {
        OktaError::Status { request_id, .. } => request_id.clone(),
        _ => None,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Escapes a value for a double-quoted string in a search expression.
fn escape_search_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_several_link_values() {
        let header = r#"<https://example.okta.com/api/v1/groups?limit=200>; rel="self""#;
        assert_eq!(next_target(header), None);
        let next = r#" <https://example.okta.com/api/v1/groups?after=00g2&limit=200>; rel="next""#;
        assert_eq!(
            next_target(next).as_deref(),
            Some("https://example.okta.com/api/v1/groups?after=00g2&limit=200")
        );
    }

    #[test]
    fn search_values_escape_quotes_and_backslashes() {
        assert_eq!(escape_search_value(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn status_error_text_carries_okta_code_summary_and_causes() {
        let err = OktaError::Status {
            operation: "write group assignment",
            status: StatusCode::BAD_REQUEST,
            body: Some(Box::new(ErrorBody {
                error_code: "E0000001".into(),
                error_summary: "Api validation failed: samlRoles".into(),
                error_id: "oae1".into(),
                error_causes: vec![ErrorCause {
                    error_summary: "samlRoles: Does not match allowed values: X".into(),
                }],
            })),
            request_id: None,
        };
        assert_eq!(
            err.to_string(),
            "okta answered 400 Bad Request to write group assignment: E0000001 Api validation \
             failed: samlRoles (samlRoles: Does not match allowed values: X) [errorId oae1]"
        );
    }

    #[test]
    fn server_faults_and_rate_limits_are_retryable_client_faults_are_not() {
        let status = |code: u16| OktaError::Status {
            operation: "x",
            status: StatusCode::from_u16(code).unwrap(),
            body: None,
            request_id: None,
        };
        assert!(status(429).retryable());
        assert!(status(500).retryable());
        assert!(status(502).retryable());
        assert!(!status(400).retryable());
        assert!(!status(403).retryable());
    }
}
