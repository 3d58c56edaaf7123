//! `/api/v1/apps/{appId}/groups[/{groupId}]`: list (with `expand=group` embedding each group),
//! read, replace (PUT) and remove a group's assignment to an app, validating `role` and
//! `samlRoles` against the app's imported roles.

use serde_json::{Map, Value, json};

use super::groups::group_json;
use super::listing::page;
use super::{Outcome, Reply, Request};
use crate::error::OktaError;
use crate::org::{App, Assignment, Org};
use crate::stamp;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;

fn app<'a>(org: &'a Org, app_id: &str) -> Result<&'a App, OktaError> {
    org.apps
        .get(app_id)
        .ok_or_else(|| OktaError::not_found(app_id, "App"))
}

pub(super) fn list(org: &Org, request: &Request<'_>, app_id: &str) -> Outcome {
    app(org, app_id)?;
    let limit = request.query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let prefix = request.query.get("q").map(str::to_lowercase);
    let assigned: Vec<(&str, &Assignment)> = org
        .assignments
        .iter()
        .filter(|((app, _), _)| app == app_id)
        .filter(|((_, group_id), _)| {
            prefix.as_deref().is_none_or(|p| {
                org.groups
                    .get(group_id)
                    .is_some_and(|g| g.name.to_lowercase().starts_with(p))
            })
        })
        .map(|((_, group_id), a)| (group_id.as_str(), a))
        .collect();
    let (assigned, links) = page(assigned, |(group_id, _)| group_id, request, limit);
    let embed_group = request.query.get("expand") == Some("group");
    let body = assigned
        .into_iter()
        .map(|(group_id, a)| {
            let mut json = assignment_json(&request.base, app_id, group_id, a);
            if embed_group && let Some(group) = org.groups.get(group_id) {
                json["_embedded"] = json!({ "group": group_json(group, &request.base) });
            }
            json
        })
        .collect();
    Ok(Reply {
        links,
        ..Reply::ok(Value::Array(body))
    })
}

pub(super) fn get(org: &Org, request: &Request<'_>, app_id: &str, group_id: &str) -> Outcome {
    app(org, app_id)?;
    let assignment = org
        .assignments
        .get(&(app_id.to_string(), group_id.to_string()))
        .ok_or_else(|| OktaError::not_found(group_id, "AppGroup"))?;
    Ok(Reply::ok(assignment_json(
        &request.base,
        app_id,
        group_id,
        assignment,
    )))
}

pub(super) fn delete(org: &mut Org, app_id: &str, group_id: &str) -> Outcome {
    app(org, app_id)?;
    org.assignments
        .remove(&(app_id.to_string(), group_id.to_string()))
        .ok_or_else(|| OktaError::not_found(group_id, "AppGroup"))?;
    Ok(Reply::no_content())
}

/// Replaces the whole assignment (creating it if missing) with the body's profile and
/// priority; without a priority it takes the app's next free one.
pub(super) fn put(org: &mut Org, request: &Request<'_>, app_id: &str, group_id: &str) -> Outcome {
    let app = app(org, app_id)?;
    if !org.groups.contains_key(group_id) {
        return Err(OktaError::not_found(group_id, "UserGroup"));
    }
    let body = parse_body(request.body)?;
    let (priority, profile) = validate(app, &body)?;
    let priority = priority.unwrap_or_else(|| org.next_priority(app_id, Some(group_id)));
    let assignment = Assignment {
        priority,
        profile,
        last_updated: stamp::iso8601(request.now),
    };
    let reply = assignment_json(&request.base, app_id, group_id, &assignment);
    org.assignments
        .insert((app_id.to_string(), group_id.to_string()), assignment);
    Ok(Reply::ok(reply))
}

/// The body as a JSON object; an empty body counts as `{}`.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, OktaError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(OktaError::malformed_body()),
    }
}

fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The body's priority and profile, or E0000001 naming every field that failed.
fn validate(
    app: &App,
    body: &Map<String, Value>,
) -> Result<(Option<i64>, Map<String, Value>), OktaError> {
    let mut fields: Vec<&str> = Vec::new();
    let mut causes: Vec<String> = Vec::new();
    let mut fail = |field: &'static str, cause: String| {
        if !fields.contains(&field) {
            fields.push(field);
        }
        causes.push(format!("{field}: {cause}"));
    };

    let priority = match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64() {
            Some(p) if p >= 0 => Some(p),
            _ => {
                fail(
                    "priority",
                    format!("Must be a non-negative integer: {}", render(value)),
                );
                None
            }
        },
    };
    let profile = match body.get("profile") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            fail("profile", format!("Must be an object: {}", render(other)));
            Map::new()
        }
    };
    let allowed = |value: &Value| {
        value
            .as_str()
            .is_some_and(|s| app.roles.iter().any(|r| r == s))
    };
    match profile.get("role") {
        None | Some(Value::Null) => {}
        Some(value) if allowed(value) => {}
        Some(value) => fail(
            "role",
            format!("Does not match allowed values: {}", render(value)),
        ),
    }
    match profile.get("samlRoles") {
        None | Some(Value::Null) => {}
        Some(Value::Array(values)) => {
            for value in values.iter().filter(|v| !allowed(v)) {
                fail(
                    "samlRoles",
                    format!("Does not match allowed values: {}", render(value)),
                );
            }
        }
        Some(other) => fail(
            "samlRoles",
            format!("Must be an array of strings: {}", render(other)),
        ),
    }

    if fields.is_empty() {
        Ok((priority, profile))
    } else {
        Err(OktaError::validation(&fields, causes))
    }
}

fn assignment_json(base: &str, app_id: &str, group_id: &str, assignment: &Assignment) -> Value {
    let app = format!("{base}/api/v1/apps/{app_id}");
    json!({
        "id": group_id,
        "lastUpdated": assignment.last_updated,
        "priority": assignment.priority,
        "profile": assignment.profile,
        "_links": {
            "app": { "href": app },
            "self": { "href": format!("{app}/groups/{group_id}") },
            "group": { "href": format!("{base}/api/v1/groups/{group_id}") },
        },
    })
}
