//! `GET /api/v1/groups` with `q` (starts-with, no paging), `search` (SCIM expression over
//! searchable groups, paged) and `filter` (group type), and the group JSON Okta returns.

use serde_json::{Value, json};

use super::listing::{page, self_link};
use super::{Outcome, Reply, Request};
use crate::error::OktaError;
use crate::org::{Group, Org};
use crate::search::{self, Condition, Op};
use crate::seed::GroupType;

/// Groups returned for `q` at most, whatever the limit.
const Q_MAX: usize = 300;
const Q_DEFAULT_LIMIT: usize = 10_000;
const PAGE_DEFAULT_LIMIT: usize = 200;
const PAGE_MAX_LIMIT: usize = 200;

fn search_matches(group: &Group, condition: &Condition) -> bool {
    let actual = match condition.attr.as_str() {
        "profile.name" => group.name.as_str(),
        "type" => group.kind.as_str(),
        "id" => group.id.as_str(),
        _ => return false,
    };
    condition.matches_ignoring_case(actual)
}

pub(super) fn list(org: &Org, request: &Request<'_>) -> Outcome {
    let search = request
        .query
        .get("search")
        .map(|expr| search::parse(expr, &["profile.name", "type", "id"]))
        .transpose()
        .map_err(|_| OktaError::invalid_search())?;
    let filter = request
        .query
        .get("filter")
        .map(|expr| search::parse(expr, &["type"]))
        .transpose()
        .map_err(|_| OktaError::invalid_search())?;
    if filter.iter().flatten().any(|c| c.op != Op::Eq) {
        return Err(OktaError::invalid_search());
    }
    let prefix = request.query.get("q").map(str::to_lowercase);

    let groups: Vec<&Group> = org
        .groups
        .values()
        .filter(|g| match &search {
            Some(conditions) => g.searchable && conditions.iter().all(|c| search_matches(g, c)),
            None => true,
        })
        .filter(|g| filter.iter().flatten().all(|c| g.kind.as_str() == c.value))
        .filter(|g| {
            prefix
                .as_deref()
                .is_none_or(|p| g.name.to_lowercase().starts_with(p))
        })
        .collect();

    let (groups, links) = if search.is_none() && prefix.is_some() {
        let limit = request
            .query
            .limit(Q_DEFAULT_LIMIT, Q_DEFAULT_LIMIT)?
            .min(Q_MAX);
        let mut groups = groups;
        groups.truncate(limit);
        (groups, vec![self_link(request)])
    } else {
        let limit = request.query.limit(PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT)?;
        page(groups, |g| g.id.as_str(), request, limit)
    };
    let body = groups
        .iter()
        .map(|g| group_json(g, &request.base))
        .collect();
    Ok(Reply {
        links,
        ..Reply::ok(Value::Array(body))
    })
}

pub(crate) fn group_json(group: &Group, base: &str) -> Value {
    let object_class = match group.kind {
        GroupType::AppGroup => "okta:windows_security_principal",
        GroupType::OktaGroup | GroupType::BuiltIn => "okta:user_group",
    };
    let href = format!("{base}/api/v1/groups/{}", group.id);
    json!({
        "id": group.id,
        "created": group.created,
        "lastUpdated": group.last_updated,
        "lastMembershipUpdated": group.last_membership_updated,
        "objectClass": [object_class],
        "type": group.kind.as_str(),
        "profile": {
            "name": group.name,
            "description": group.description,
        },
        "_links": {
            "users": { "href": format!("{href}/users") },
            "apps": { "href": format!("{href}/apps") },
        },
    })
}
