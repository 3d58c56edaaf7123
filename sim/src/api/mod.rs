//! The Okta Management API surface under `/api/v1`: authentication (SSWS tokens and service
//! apps' Bearer access tokens, with their scopes), rate limiting, latency,
//! scheduled faults, request recording, routing and the headers every Okta response carries.

mod apps;
mod assignments;
mod groups;
mod listing;

use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::clock::OrgClock;
use crate::error::OktaError;
use crate::fault::{Action, Answer, Applied};
use crate::org::{BucketName, Org, RecordedRequest};
use crate::ratelimit::{Quota, share};
use crate::seed::RateLimits;
use crate::{Orgs, Simulator, oauth};
use crate::{server, stamp};

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

/// Who an API request is from.
enum Caller<'a> {
    /// `Authorization: SSWS <api token>`.
    Ssws(&'a str),
    /// `Authorization: Bearer <access token>`.
    Bearer(&'a str),
}

fn caller(headers: &HeaderMap) -> Option<Caller<'_>> {
    if let Some(token) = ssws_token(headers) {
        return Some(Caller::Ssws(token));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(Caller::Bearer(token))
}

/// Why a request was not admitted.
enum Denied {
    /// 401: no org knows the credential, or the access token expired (then with the org that
    /// issued it, which logs the request, and Okta's challenge).
    Unauthorized(Option<(usize, String)>),
    /// 403: the access token lacks the scope the endpoint needs.
    Forbidden { index: usize, challenge: String },
}

/// Finds the request's org and runs the rate limiter and fault schedule for it.
fn admit(
    orgs: &mut Orgs,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    bucket: Option<BucketName>,
    sim_now: SystemTime,
) -> Result<Admitted, Denied> {
    let (index, org, rate_key) = match caller(headers) {
        Some(Caller::Ssws(token)) => {
            let (index, org) = orgs.find_mut(token).ok_or(Denied::Unauthorized(None))?;
            (index, org, token.to_string())
        }
        Some(Caller::Bearer(token)) => {
            let (index, org) = orgs
                .find_bearer_mut(token)
                .ok_or(Denied::Unauthorized(None))?;
            let base = org.base_url.clone().unwrap_or_else(|| base_url(headers));
            let issued = org
                .oauth
                .tokens
                .get(token)
                .ok_or(Denied::Unauthorized(None))?;
            if issued.expires_at <= org.now(sim_now) {
                return Err(Denied::Unauthorized(Some((
                    index,
                    oauth::challenge(&base, "invalid_token", "The token has expired.", None),
                ))));
            }
            if let Some(needed) = oauth::required_scope(method, path)
                && !needed.iter().any(|s| issued.scopes.iter().any(|g| g == s))
            {
                return Err(Denied::Forbidden {
                    index,
                    challenge: oauth::challenge(
                        &base,
                        "insufficient_scope",
                        "The access token provided does not contain the required scopes.",
                        Some(needed[0]),
                    ),
                });
            }
            // Okta shares a bucket among a service app's tokens, as among one API token's calls.
            let client_id = issued.client_id.clone();
            (index, org, client_id)
        }
        None => return Err(Denied::Unauthorized(None)),
    };
    let now = org.now(sim_now);
    let quota = match bucket {
        Some(name) => org.bucket(name).take(&rate_key, now),
        None => Ok(Quota::fresh(UNCOUNTED_LIMIT, now)),
    };
    // Faults sit behind the rate limiter: a refused request uses none.
    let fault = match quota {
        Ok(_) => org.faults.take(method, path),
        Err(_) => None,
    };
    Ok(Admitted {
        index,
        quota,
        clock: org.clock,
        latency: org.clock.real(org.latency),
        base: org.base_url.clone(),
        fault,
    })
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

/// An authenticated request's org and what its admission decided.
struct Admitted {
    index: usize,
    /// `Err`: the rate limiter refused the request.
    quota: Result<Quota, Quota>,
    clock: OrgClock,
    /// The org's latency, in simulator time.
    latency: Duration,
    base: Option<String>,
    fault: Option<Applied>,
}

/// What the request log records about one request.
struct Logged {
    method: String,
    path: String,
    query: String,
    bucket: Option<BucketName>,
}

impl Logged {
    fn record(self, sim: &Simulator, index: usize, status: u16, fault: bool) {
        if let Some(org) = sim.orgs().get_mut(index) {
            org.requests.push(RecordedRequest {
                method: self.method,
                path: self.path,
                query: self.query,
                status,
                bucket: self.bucket,
                fault,
            });
        }
    }
}

async fn pause(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// The token's limit of `bucket` in an org with the default rate limits.
fn default_limit(bucket: Option<BucketName>) -> u32 {
    let defaults = RateLimits::default();
    match bucket {
        Some(BucketName::Apps) => share(defaults.apps, defaults.token_share_percent),
        Some(BucketName::Groups) => share(defaults.groups, defaults.token_share_percent),
        None => UNCOUNTED_LIMIT,
    }
}

/// Every request under `/api/v1`: authentication, the rate limiter, the org's latency, the
/// fault schedule, the handler and the request log, in that order.
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
        let sim_now = sim.now();
        let mut orgs = sim.orgs();
        admit(&mut orgs, &headers, &method, &path, bucket, sim_now)
    };
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(denied) => {
            let now = sim.now();
            let quota = Quota::fresh(default_limit(bucket), now);
            let log = Logged {
                method: method.to_string(),
                path: path.clone(),
                query: raw_query.clone(),
                bucket,
            };
            let (error, challenge) = match denied {
                Denied::Unauthorized(None) => (OktaError::invalid_token(), None),
                Denied::Unauthorized(Some((index, challenge))) => {
                    log.record(&sim, index, StatusCode::UNAUTHORIZED.as_u16(), false);
                    (OktaError::invalid_token(), Some(challenge))
                }
                Denied::Forbidden { index, challenge } => {
                    log.record(&sim, index, StatusCode::FORBIDDEN.as_u16(), false);
                    (OktaError::forbidden(), Some(challenge))
                }
            };
            let mut response = respond(Err(error), quota, now, "GET");
            if let Some(challenge) = challenge {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, header_value(challenge));
            }
            return response;
        }
    };
    let Admitted {
        index,
        quota,
        clock,
        latency,
        base,
        fault,
    } = admitted;
    let log = Logged {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        bucket,
    };

    pause(latency).await;

    let quota = match quota {
        Ok(quota) => quota,
        Err(quota) => {
            log.record(&sim, index, StatusCode::TOO_MANY_REQUESTS.as_u16(), false);
            let now = clock.at(sim.now());
            return respond(Err(OktaError::rate_limited()), quota, now, "GET");
        }
    };

    if let Some(fault) = fault.as_ref().filter(|f| !f.after) {
        pause(clock.real(fault.latency)).await;
        if !matches!(fault.action, Action::Real) {
            return answer_fault(&sim, log, index, &fault.action, quota, clock);
        }
    }

    let (outcome, now) = {
        let mut orgs = sim.orgs();
        match orgs.get_mut(index) {
            Some(org) => {
                let now = org.now(sim.now());
                let request = Request {
                    base: base.unwrap_or_else(|| base_url(&headers)),
                    path: &path,
                    query: Query::parse(&raw_query),
                    body: &body,
                    now,
                };
                (route(org, &method, &request), now)
            }
            None => (Err(OktaError::invalid_token()), clock.at(sim.now())),
        }
    };

    if let Some(fault) = fault.as_ref().filter(|f| f.after) {
        pause(clock.real(fault.latency)).await;
        if !matches!(fault.action, Action::Real) {
            return answer_fault(&sim, log, index, &fault.action, quota, clock);
        }
    }

    let status = match &outcome {
        Ok(reply) => reply.status,
        Err(error) => error.status,
    };
    log.record(&sim, index, status.as_u16(), fault.is_some());
    let now = if fault.is_some() {
        clock.at(sim.now())
    } else {
        now
    };
    respond(outcome, quota, now, allowed_methods(&path))
}

/// Records a request a fault answered or dropped, and gives the fault's answer.
fn answer_fault(
    sim: &Simulator,
    log: Logged,
    index: usize,
    action: &Action,
    quota: Quota,
    clock: OrgClock,
) -> Response {
    match action {
        Action::Answer(answer) => {
            log.record(sim, index, answer.status.as_u16(), true);
            respond_fault(answer, quota, clock.at(sim.now()))
        }
        Action::Drop | Action::Real => {
            log.record(sim, index, 0, true);
            server::dropped()
        }
    }
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
        ["meta", "schemas", "apps", app_id, "default"] if get => apps::schema(org, request, app_id),
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

const RATE_LIMIT_RESET: HeaderName = HeaderName::from_static("x-rate-limit-reset");

/// A response with `status`, `body` and the headers every Okta API response carries. A 429
/// sends `X-Rate-Limit-Reset` twice, as Okta's sometimes does.
fn base_response(status: StatusCode, body: Body, quota: Quota, now: SystemTime) -> Response {
    let mut response = Response::new(body);
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
    headers.insert(RATE_LIMIT_RESET, header_value(quota.reset));
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.append(RATE_LIMIT_RESET, header_value(quota.reset));
    }
    response
}

/// Builds the response to an outcome of the real handlers.
fn respond(outcome: Outcome, quota: Quota, now: SystemTime, allow: &'static str) -> Response {
    let (status, body, links) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.links),
        Err(error) => (error.status, Some(error.body()), Vec::new()),
    };
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut response = base_response(status, Body::from(bytes), quota, now);
    let headers = response.headers_mut();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    for link in links {
        headers.append(header::LINK, header_value(link));
    }
    response
}

/// Builds a fault's answer: the common headers, then its content type and its own headers,
/// each replacing any of the same name.
fn respond_fault(answer: &Answer, quota: Quota, now: SystemTime) -> Response {
    let body = Body::from(answer.body.clone());
    let mut response = base_response(answer.status, body, quota, now);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, answer.content_type.clone());
    for (name, value) in &answer.headers {
        headers.insert(name.clone(), value.clone());
    }
    response
}
