//! The simulator's own control surface under `/__sim/` (not part of Okta's API): create orgs,
//! read an org's state, clock, request log and rate-limit statistics, schedule faults, import
//! roles, create groups and index them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Simulator;
use crate::api::ssws_token;
use crate::clock::epoch_secs_f64;
use crate::error::OktaError;
use crate::fault::Fault;
use crate::org::{BucketName, Org};
use crate::seed::{GroupSeed, OrgSeed, SeedError};
use crate::stamp;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn error(error: OktaError) -> Response {
    reply(error.status, error.body())
}

fn invalid(summary: impl Into<String>) -> Response {
    error(OktaError::new(StatusCode::BAD_REQUEST, "E0000001", summary))
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, OktaError> {
    serde_json::from_slice(body).map_err(|e| {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000001",
            format!("Invalid body: {e}"),
        )
    })
}

fn seed_error(e: SeedError) -> Response {
    match e {
        SeedError::TokenInUse(_) | SeedError::DuplicateGroupId(_) => error(OktaError::new(
            StatusCode::CONFLICT,
            "E0000001",
            e.to_string(),
        )),
        other => invalid(other.to_string()),
    }
}

/// Runs `f` on the org the request's SSWS token selects.
fn with_org(
    sim: &Simulator,
    headers: &HeaderMap,
    f: impl FnOnce(&mut Org) -> Response,
) -> Response {
    let mut orgs = sim.orgs();
    match ssws_token(headers).and_then(|t| orgs.find_mut(t)) {
        Some((_, org)) => f(org),
        None => error(OktaError::invalid_token()),
    }
}

/// `POST /__sim/orgs`: body = an org seed.
pub(crate) async fn create_org(State(sim): State<Simulator>, body: Bytes) -> Response {
    let seed: OrgSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(e) => return error(e),
    };
    match sim.add_org(seed) {
        Ok(()) => reply(StatusCode::CREATED, json!({})),
        Err(e) => seed_error(e),
    }
}

/// `GET /__sim/state`: the org in the seed format.
pub(crate) async fn state(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        match serde_json::to_value(org.to_seed()) {
            Ok(value) => reply(StatusCode::OK, value),
            Err(e) => invalid(e.to_string()),
        }
    })
}

#[derive(Serialize)]
struct ClockReading {
    now: f64,
    #[serde(serialize_with = "crate::seed::number")]
    scale: f64,
}

/// `GET /__sim/clock`: `{"now": <the org's time, epoch seconds>, "scale": <clockScale>}`.
pub(crate) async fn clock(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let sim_now = sim.now();
    with_org(&sim, &headers, |org| {
        let reading = ClockReading {
            now: epoch_secs_f64(org.now(sim_now)),
            scale: org.clock.scale(),
        };
        match serde_json::to_value(reading) {
            Ok(value) => reply(StatusCode::OK, value),
            Err(e) => invalid(e.to_string()),
        }
    })
}

/// `GET /__sim/stats`: per bucket, the requests counted since the org was created (refused
/// ones included) and those the rate limiter refused with 429.
pub(crate) async fn stats(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        let apps = org.bucket(BucketName::Apps);
        let (apps_requests, apps_throttled) = (apps.requests(), apps.throttled());
        let groups = org.bucket(BucketName::Groups);
        reply(
            StatusCode::OK,
            json!({
                "requests": {"apps": apps_requests, "groups": groups.requests()},
                "throttled": {"apps": apps_throttled, "groups": groups.throttled()},
            }),
        )
    })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Faults {
    faults: Vec<Fault>,
}

fn pending_faults(org: &Org) -> Response {
    match serde_json::to_value(Faults {
        faults: org.faults.pending(),
    }) {
        Ok(value) => reply(StatusCode::OK, value),
        Err(e) => invalid(e.to_string()),
    }
}

/// `GET /__sim/faults`: `{"faults": [...]}`, the faults not yet used up, `times` counting the
/// uses left.
pub(crate) async fn faults(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| pending_faults(org))
}

/// `POST /__sim/faults` `{"faults": [...]}`: appends to the org's fault schedule (all of them
/// or, when one is invalid, none). Answers like `GET /__sim/faults`.
pub(crate) async fn add_faults(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let added: Faults = match parse(&body) {
        Ok(added) => added,
        Err(e) => return error(e),
    };
    with_org(&sim, &headers, |org| match org.faults.add(added.faults) {
        Ok(()) => pending_faults(org),
        Err(e) => invalid(e),
    })
}

/// `DELETE /__sim/faults`: empties the org's fault schedule.
pub(crate) async fn clear_faults(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        org.faults.clear();
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `GET /__sim/requests`: the org's Okta API requests, in order.
pub(crate) async fn requests(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        match serde_json::to_value(&org.requests) {
            Ok(value) => reply(StatusCode::OK, value),
            Err(e) => invalid(e.to_string()),
        }
    })
}

/// `DELETE /__sim/requests`: forgets the org's requests.
pub(crate) async fn clear_requests(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        org.requests.clear();
        StatusCode::NO_CONTENT.into_response()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleImport {
    role: String,
}

/// `POST /__sim/apps/{appId}/roles` `{"role": "X"}`: Okta imports a role from AWS (what an
/// admin's "Refresh Application Data" does). Answers with the app's roles.
pub(crate) async fn import_role(
    State(sim): State<Simulator>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let import: RoleImport = match parse(&body) {
        Ok(import) => import,
        Err(e) => return error(e),
    };
    if import.role.is_empty() {
        return invalid("role must not be empty");
    }
    with_org(&sim, &headers, |org| {
        let Some(app) = org.apps.get_mut(&app_id) else {
            return error(OktaError::not_found(&app_id, "App"));
        };
        if !app.roles.contains(&import.role) {
            app.roles.push(import.role);
        }
        reply(StatusCode::OK, json!({ "roles": app.roles }))
    })
}

/// `POST /__sim/groups`: body = one group seed. Answers with the group as stored.
pub(crate) async fn create_group(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seed: GroupSeed = match parse(&body) {
        Ok(seed) => seed,
        Err(e) => return error(e),
    };
    let sim_now = sim.now();
    with_org(&sim, &headers, |org| {
        match org.add_group(seed, &stamp::iso8601(org.now(sim_now))) {
            Ok(id) => match org
                .groups
                .get(&id)
                .map(|g| serde_json::to_value(g.to_seed()))
            {
                Some(Ok(value)) => reply(StatusCode::CREATED, value),
                _ => invalid("group could not be stored"),
            },
            Err(e) => seed_error(e),
        }
    })
}

/// `POST /__sim/groups/{groupId}/index`: the group becomes visible to `search=`.
pub(crate) async fn index_group(
    State(sim): State<Simulator>,
    Path(group_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_org(&sim, &headers, |org| match org.groups.get_mut(&group_id) {
        Some(group) => {
            group.searchable = true;
            match serde_json::to_value(group.to_seed()) {
                Ok(value) => reply(StatusCode::OK, value),
                Err(e) => invalid(e.to_string()),
            }
        }
        None => error(OktaError::not_found(&group_id, "UserGroup")),
    })
}

/// `GET /__sim/oauth/token-requests`: the org's token endpoint requests, in order:
/// `[{clientId, status, error}]`.
pub(crate) async fn token_requests(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    with_org(&sim, &headers, |org| {
        match serde_json::to_value(&org.oauth.requests) {
            Ok(value) => reply(StatusCode::OK, value),
            Err(e) => invalid(e.to_string()),
        }
    })
}

/// `DELETE /__sim/oauth/token-requests`: forgets the org's token endpoint requests.
pub(crate) async fn clear_token_requests(
    State(sim): State<Simulator>,
    headers: HeaderMap,
) -> Response {
    with_org(&sim, &headers, |org| {
        org.oauth.requests.clear();
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `POST /__sim/oauth/expire-tokens`: every access token the org issued expires now (as when
/// Okta revokes them or their hour runs out). Answers `{"expired": N}`.
pub(crate) async fn expire_tokens(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let sim_now = sim.now();
    with_org(&sim, &headers, |org| {
        let expired = crate::oauth::expire_all(org, sim_now);
        reply(StatusCode::OK, json!({ "expired": expired }))
    })
}

/// Any path outside `/api/v1` and the control routes.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    error(OktaError::not_found(uri.path(), "Path"))
}

/// A control route called with the wrong method.
pub(crate) async fn method_not_allowed() -> Response {
    error(OktaError::method_not_allowed())
}
