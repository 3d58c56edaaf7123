//! The Okta Management API surface under `/api/v1`: authentication, rate limiting, latency,
//! request recording, routing and the headers every Okta response carries.

mod apps;
mod assignments;
mod groups;
mod listing;

use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::Simulator;
use crate::error::OktaError;
use crate::org::{BucketName, Org, RecordedRequest};
use crate::ratelimit::Quota;
use crate::seed::RateLimits;
use crate::stamp;

pub(crate) use listing::Query;

/// The rate-limit figure reported on responses that count against no bucket (paths outside
/// apps and groups, or a request no org accepted). It is never enforced.
const UNCOUNTED_LIMIT: u32 = 1200;

/// What a handler needs to know about the request.
pub(crate) struct Request<'a> {
    /// `http://HOST`, from the request's `Host` header.
    pub base: String,
    pub path: &'a str,
    pub query: Query,
    pub body: &'a [u8],
    pub now: SystemTime,
}

/// A successful answer before the common headers are added.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    /// Values of `Link` headers, each sent as its own header.
    pub links: Vec<String>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            links: Vec::new(),
        }
    }

    pub fn no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            links: Vec::new(),
        }
    }
}

pub(crate) type Outcome = Result<Reply, OktaError>;

/// The token of an `Authorization: SSWS <token>` header.
pub(crate) fn ssws_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("SSWS") && !token.is_empty()).then_some(token)
}

/// `http://HOST` from the `Host` header, or `http://localhost` when it is missing or odd.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Every request under `/api/v1`.
pub(crate) async fn entry(
    State(sim): State<Simulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or_default().to_string();
    let bucket = BucketName::of_path(&path);

    let admitted = {
        let mut orgs = sim.orgs();
        match ssws_token(&headers).and_then(|t| orgs.find_mut(t)) {
            None => None,
            Some((index, org)) => {
                let quota = match bucket {
                    Some(name) => org.bucket(name).take(sim.now()),
                    None => Ok(Quota::fresh(UNCOUNTED_LIMIT, sim.now())),
                };
                Some((index, quota, org.latency, org.base_url.clone()))
            }
        }
    };
    let Some((index, quota, latency, base)) = admitted else {
        let defaults = RateLimits::default();
        let limit = match bucket {
            Some(BucketName::Apps) => defaults.apps,
            Some(BucketName::Groups) => defaults.groups,
            None => UNCOUNTED_LIMIT,
        };
        let quota = Quota::fresh(limit, sim.now());
        return respond(Err(OktaError::invalid_token()), quota, sim.now(), "GET");
    };

    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let now = sim.now();
    let (outcome, quota) = match quota {
        Err(quota) => (Err(OktaError::rate_limited()), quota),
        Ok(quota) => {
            let request = Request {
                base: base.unwrap_or_else(|| base_url(&headers)),
                path: &path,
                query: Query::parse(&raw_query),
                body: &body,
                now,
            };
            let mut orgs = sim.orgs();
            let outcome = match orgs.get_mut(index) {
                Some(org) => route(org, &method, &request),
                None => Err(OktaError::invalid_token()),
            };
            (outcome, quota)
        }
    };
    let status = match &outcome {
        Ok(reply) => reply.status,
        Err(error) => error.status,
    };
    if let Some(org) = sim.orgs().get_mut(index) {
        org.requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query,
            status: status.as_u16(),
            bucket,
        });
    }
    respond(outcome, quota, now, allowed_methods(&path))
}

fn segments(path: &str) -> Vec<String> {
    path.strip_prefix("/api/v1/")
        .unwrap_or_default()
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// The `Allow` header of a 405 on `path`.
fn allowed_methods(path: &str) -> &'static str {
    if segments(path).len() == 4 {
        "GET, PUT, DELETE"
    } else {
        "GET"
    }
}

fn route(org: &mut Org, method: &Method, request: &Request<'_>) -> Outcome {
    let segments = segments(request.path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let get = *method == Method::GET;
    match segments.as_slice() {
        ["groups"] if get => groups::list(org, request),
        ["apps"] if get => apps::list(org, request),
        ["apps", app_id] if get => apps::get(org, request, app_id),
        ["apps", app_id, "groups"] if get => assignments::list(org, request, app_id),
        ["apps", app_id, "groups", group_id] => match *method {
            Method::GET => assignments::get(org, request, app_id, group_id),
            Method::PUT => assignments::put(org, request, app_id, group_id),
            Method::DELETE => assignments::delete(org, app_id, group_id),
            _ => Err(OktaError::method_not_allowed()),
        },
        ["groups"] | ["apps"] | ["apps", _] | ["apps", _, "groups"] => {
            Err(OktaError::method_not_allowed())
        }
        _ => Err(OktaError::not_found(request.path, "Path")),
    }
}

fn header_value(value: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).unwrap_or(HeaderValue::from_static("invalid"))
}

/// Builds the response with the headers every Okta API response carries.
fn respond(outcome: Outcome, quota: Quota, now: SystemTime, allow: &'static str) -> Response {
    let (status, body, links) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.links),
        Err(error) => (error.status, Some(error.body()), Vec::new()),
    };
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::DATE, header_value(httpdate::fmt_http_date(now)));
    headers.insert(
        HeaderName::from_static("x-okta-request-id"),
        header_value(stamp::request_id()),
    );
    headers.insert(
        HeaderName::from_static("x-rate-limit-limit"),
        header_value(quota.limit),
    );
    headers.insert(
        HeaderName::from_static("x-rate-limit-remaining"),
        header_value(quota.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-rate-limit-reset"),
        header_value(quota.reset),
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    for link in links {
        headers.append(header::LINK, header_value(link));
    }
    response
}
