//! `GET /api/v1/apps` (`filter` on name and status, `q` on label or name, paged),
//! `GET /api/v1/apps/{appId}`, with the app JSON Okta returns for a SAML 2.0 app, and the app's
//! user profile schema `GET /api/v1/meta/schemas/apps/{appId}/default`, whose `samlRoles`
//! lists the roles the app has imported.

use serde_json::{Value, json};

use super::listing::page;
use super::{Outcome, Reply, Request};
use crate::error::OktaError;
use crate::org::{App, Org};
use crate::search::{self, Op};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;

pub(super) fn list(org: &Org, request: &Request<'_>) -> Outcome {
    let filter = request
        .query
        .get("filter")
        .map(|expr| search::parse(expr, &["name", "status"]))
        .transpose()
        .map_err(|_| OktaError::invalid_search())?
        .unwrap_or_default();
    if filter.iter().any(|c| c.op != Op::Eq) {
        return Err(OktaError::invalid_search());
    }
    let prefix = request.query.get("q").map(str::to_lowercase);
    let limit = request.query.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let apps: Vec<&App> = org
        .apps
        .values()
        .filter(|app| {
            filter.iter().all(|c| match c.attr.as_str() {
                "name" => c.matches_ignoring_case(&app.name),
                "status" => app.status.as_str() == c.value,
                _ => false,
            })
        })
        .filter(|app| {
            prefix.as_deref().is_none_or(|p| {
                app.label.to_lowercase().starts_with(p) || app.name.to_lowercase().starts_with(p)
            })
        })
        .collect();
    let (apps, links) = page(apps, |a| a.id.as_str(), request, limit);
    let body = apps.iter().map(|a| app_json(a, &request.base)).collect();
    Ok(Reply {
        links,
        ..Reply::ok(Value::Array(body))
    })
}

pub(super) fn get(org: &Org, request: &Request<'_>, app_id: &str) -> Outcome {
    let app = org
        .apps
        .get(app_id)
        .ok_or_else(|| OktaError::not_found(app_id, "App"))?;
    Ok(Reply::ok(app_json(app, &request.base)))
}

fn app_json(app: &App, base: &str) -> Value {
    let href = format!("{base}/api/v1/apps/{}", app.id);
    json!({
        "id": app.id,
        "name": app.name,
        "label": app.label,
        "status": app.status.as_str(),
        "created": app.created,
        "lastUpdated": app.last_updated,
        "signOnMode": "SAML_2_0",
        "settings": app.settings,
        "_links": {
            "self": { "href": href },
            "groups": { "href": format!("{href}/groups") },
        },
    })
}

pub(super) fn schema(org: &Org, request: &Request<'_>, app_id: &str) -> Outcome {
    let app = org
        .apps
        .get(app_id)
        .ok_or_else(|| OktaError::not_found(app_id, "App"))?;
    let choices: Vec<Value> = app
        .roles
        .iter()
        .map(|r| json!({"const": r, "title": r}))
        .collect();
    let items = if app.schema_lists_roles {
        json!({"type": "string", "enum": app.roles, "oneOf": choices})
    } else {
        json!({"type": "string"})
    };
    let role = if app.schema_lists_roles {
        json!({"title": "Role", "type": "string", "enum": app.roles, "oneOf": choices, "scope": "NONE"})
    } else {
        json!({"title": "Role", "type": "string", "scope": "NONE"})
    };
    Ok(Reply::ok(json!({
        "id": format!("{}/meta/schemas/apps/{}/default", request.base, app.id),
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": app.name,
        "title": format!("{} User", app.label),
        "created": app.created,
        "lastUpdated": app.last_updated,
        "definitions": {
            "custom": {"id": "#custom", "type": "object", "properties": {}, "required": []},
            "base": {
                "id": "#base",
                "type": "object",
                "properties": {
                    "role": role,
                    "samlRoles": {
                        "title": "SAML User Roles",
                        "type": "array",
                        "items": items,
                        "scope": "NONE",
                        "union": "DISABLE",
                    },
                },
                "required": [],
            },
        },
        "type": "object",
        "properties": {
            "profile": {"allOf": [{"$ref": "#/definitions/base"}, {"$ref": "#/definitions/custom"}]}
        },
        "_links": {"self": {"href": format!("{}/api/v1/meta/schemas/apps/{}/default", request.base, app.id)}},
    })))
}
