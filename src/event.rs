//! Event intake: turns an EventBridge "AWS API Call via CloudTrail" event into the few facts
//! the rest of the function needs, or an [`EventError`] that names what is missing or wrong.
//!
//! Real CloudTrail records vary more than any typed model of them allows (null
//! `responseElements`, trust policies as strings, percent-encoded strings or objects, empty
//! caller identities, booleans as strings), so the payload is read as JSON and only the fields
//! used here are looked at; everything else may take any shape.

use serde_json::{Map, Value};

use crate::role::{AccountId, RoleName, RolePath};

const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
const IAM_EVENT_SOURCE: &str = "iam.amazonaws.com";

/// What an incoming event asks of the function.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// A successful `CreateRole` call: the role should reach its Okta group.
    RoleCreated(RoleCreated),
    /// A successful `DeleteRole` call: the role's label should leave its Okta group.
    RoleDeleted(RoleDeleted),
    /// A call that failed in IAM (`errorCode` set): nothing was created.
    CallFailed {
        event_name: String,
        error_code: String,
        event_id: Option<String>,
        account: Option<AccountId>,
        role: Option<String>,
    },
    /// A CloudTrail event this function does not act on.
    NotRelevant {
        event_source: String,
        event_name: String,
        event_id: Option<String>,
        account: Option<AccountId>,
    },
}

/// The facts of one successful `CreateRole` call.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleCreated {
    pub event_id: Option<String>,
    /// The account the role was created in (the event's, never the function's own).
    pub account: AccountId,
    pub role: RoleName,
    pub path: RolePath,
    pub arn: Option<String>,
    pub trust: TrustSummary,
    /// The SAML providers (ARNs) an `Allow` statement lets assume the role with
    /// `sts:AssumeRoleWithSAML`.
    pub saml_providers: Vec<String>,
    pub tags: Vec<Tag>,
}

/// The facts of one successful `DeleteRole` call. IAM's record holds only the name: no path,
/// trust policy or tags.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDeleted {
    pub event_id: Option<String>,
    pub account: AccountId,
    pub role: RoleName,
}

/// A role tag as the event carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// What the role's trust policy says about SAML federation, as far as it could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustSummary {
    /// An `Allow` statement lets a SAML provider assume the role.
    Saml,
    /// The policy was read and allows no SAML federation.
    NotSaml,
    /// The event carried no policy, or one that could not be read.
    Unknown,
}

/// Why an event could not be read. Each variant names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is {found}, expected an EventBridge event object")]
    NotAnObject { found: &'static str },
    #[error("event has no `{field}`: expected an EventBridge event for a CloudTrail API call")]
    Missing { field: &'static str },
    #[error("event field `{field}` is {found}, expected {expected}")]
    WrongType {
        field: &'static str,
        found: &'static str,
        expected: &'static str,
    },
    #[error("event `detail-type` is {found:?}, expected {CLOUDTRAIL_DETAIL_TYPE:?}")]
    UnsupportedDetailType { found: String },
    #[error("event field `{field}` is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Reads an incoming event.
pub fn parse(event: &Value) -> Result<Intake, EventError> {
    let envelope = event.as_object().ok_or(EventError::NotAnObject {
        found: json_kind(event),
    })?;
    if let Some(detail_type) = opt_str(envelope, "detail-type", "detail-type")?
        && detail_type != CLOUDTRAIL_DETAIL_TYPE
    {
        return Err(EventError::UnsupportedDetailType {
            found: detail_type.to_owned(),
        });
    }
    let detail = req_object(envelope, "detail", "detail")?;
    let event_source = req_str(detail, "eventSource", "detail.eventSource")?;
    let event_name = req_str(detail, "eventName", "detail.eventName")?;
    let event_id = opt_str(detail, "eventID", "detail.eventID")?
        .or(opt_str(envelope, "id", "id")?)
        .map(str::to_owned);

    let handled = ["CreateRole", "DeleteRole"];
    if event_source != IAM_EVENT_SOURCE || !handled.contains(&event_name) {
        return Ok(Intake::NotRelevant {
            event_source: event_source.to_owned(),
            event_name: event_name.to_owned(),
            event_id,
            account: account(envelope, detail).ok(),
        });
    }

    let request = opt_object(detail, "requestParameters", "detail.requestParameters")?;
    let response_role = match opt_object(detail, "responseElements", "detail.responseElements")? {
        Some(response) => opt_object(response, "role", "detail.responseElements.role")?,
        None => None,
    };

    if let Some(error_code) = error_code(detail)? {
        let role = request
            .and_then(|r| r.get("roleName"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(Intake::CallFailed {
            event_name: event_name.to_owned(),
            error_code,
            event_id,
            account: account(envelope, detail).ok(),
            role,
        });
    }

    let role = role_name(request, response_role)?;
    if event_name == "DeleteRole" {
        return Ok(Intake::RoleDeleted(RoleDeleted {
            event_id,
            account: account(envelope, detail)?,
            role,
        }));
    }
    let path = role_path(request, response_role)?;
    let account = account(envelope, detail)?;
    let arn = match response_role {
        Some(r) => opt_str(r, "arn", "detail.responseElements.role.arn")?.map(str::to_owned),
        None => None,
    };
    let document = request
        .and_then(|r| r.get("assumeRolePolicyDocument"))
        .or_else(|| response_role.and_then(|r| r.get("assumeRolePolicyDocument")));
    let (trust, saml_providers) = read_trust(document);
    let tags = match request.and_then(|r| r.get("tags")) {
        Some(tags) => parse_tags(tags)?,
        None => match response_role.and_then(|r| r.get("tags")) {
            Some(tags) => parse_tags(tags)?,
            None => Vec::new(),
        },
    };

    Ok(Intake::RoleCreated(RoleCreated {
        event_id,
        account,
        role,
        path,
        arn,
        trust,
        saml_providers,
        tags,
    }))
}

/// `errorCode` marks a failed call; null or an empty string do not.
fn error_code(detail: &Map<String, Value>) -> Result<Option<String>, EventError> {
    match detail.get("errorCode") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(code)) if code.trim().is_empty() => Ok(None),
        Some(Value::String(code)) => Ok(Some(code.clone())),
        Some(other) => Err(EventError::WrongType {
            field: "detail.errorCode",
            found: json_kind(other),
            expected: "a string",
        }),
    }
}

fn role_name(
    request: Option<&Map<String, Value>>,
    response_role: Option<&Map<String, Value>>,
) -> Result<RoleName, EventError> {
    let (raw, field) = match request {
        Some(r) if r.contains_key("roleName") => (
            req_str(r, "roleName", "detail.requestParameters.roleName")?,
            "detail.requestParameters.roleName",
        ),
        _ => match response_role {
            Some(r) => (
                req_str(r, "roleName", "detail.responseElements.role.roleName")?,
                "detail.responseElements.role.roleName",
            ),
            None => {
                return Err(EventError::Missing {
                    field: "detail.requestParameters.roleName",
                });
            }
        },
    };
    RoleName::parse(raw).map_err(|reason| EventError::Invalid { field, reason })
}

fn role_path(
    request: Option<&Map<String, Value>>,
    response_role: Option<&Map<String, Value>>,
) -> Result<RolePath, EventError> {
    let from_request = match request {
        Some(r) => opt_str(r, "path", "detail.requestParameters.path")?
            .map(|p| (p, "detail.requestParameters.path")),
        None => None,
    };
    let from_response = match response_role {
        Some(r) => opt_str(r, "path", "detail.responseElements.role.path")?
            .map(|p| (p, "detail.responseElements.role.path")),
        None => None,
    };
    match from_request.or(from_response) {
        Some((raw, field)) => {
            RolePath::parse(raw).map_err(|reason| EventError::Invalid { field, reason })
        }
        None => Ok(RolePath::root()),
    }
}

/// The account the role lives in: CloudTrail's `recipientAccountId`, else the envelope's
/// `account` (which a cross-account bus keeps as the source account's).
fn account(
    envelope: &Map<String, Value>,
    detail: &Map<String, Value>,
) -> Result<AccountId, EventError> {
    let (raw, field) = match opt_str(detail, "recipientAccountId", "detail.recipientAccountId")? {
        Some(id) => (id, "detail.recipientAccountId"),
        None => match opt_str(envelope, "account", "account")? {
            Some(id) => (id, "account"),
            None => {
                return Err(EventError::Missing {
                    field: "detail.recipientAccountId",
                });
            }
        },
    };
    AccountId::parse(raw).map_err(|reason| EventError::Invalid { field, reason })
}

/// Tags arrive as `[{"key","value"}]` (CloudTrail's usual shape), `[{"Key","Value"}]`, or an
/// object of key to value.
fn parse_tags(tags: &Value) -> Result<Vec<Tag>, EventError> {
    const FIELD: &str = "detail.requestParameters.tags";
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => Some(String::new()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => None,
    };
    match tags {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let obj = item.as_object().ok_or(EventError::WrongType {
                    field: FIELD,
                    found: json_kind(item),
                    expected: "a list of {key, value} objects",
                })?;
                let key = obj.get("key").or_else(|| obj.get("Key"));
                let value = obj.get("value").or_else(|| obj.get("Value"));
                match (key.and_then(Value::as_str), text(value)) {
                    (Some(key), Some(value)) => Ok(Tag {
                        key: key.to_owned(),
                        value,
                    }),
                    _ => Err(EventError::Invalid {
                        field: FIELD,
                        reason: "a tag has no string `key` or a non-text `value`".to_owned(),
                    }),
                }
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| match text(Some(value)) {
                Some(value) => Ok(Tag {
                    key: key.clone(),
                    value,
                }),
                None => Err(EventError::Invalid {
                    field: FIELD,
                    reason: format!("tag {key:?} has a non-text value"),
                }),
            })
            .collect(),
        other => Err(EventError::WrongType {
            field: FIELD,
            found: json_kind(other),
            expected: "a list of {key, value} objects",
        }),
    }
}

/// Reads a trust policy given as an object, a JSON string or a percent-encoded JSON string.
/// An unreadable policy is `Unknown`, not an error: the safety rules decide what that means.
pub fn trust_summary(document: Option<&Value>) -> TrustSummary {
    read_trust(document).0
}

/// The policy's summary and the SAML providers it trusts.
pub fn read_trust(document: Option<&Value>) -> (TrustSummary, Vec<String>) {
    let policy = match document {
        Some(Value::Object(_)) => document.cloned(),
        Some(Value::String(text)) => decode_policy_text(text),
        _ => None,
    };
    match policy {
        Some(policy) => {
            let providers = saml_providers(&policy);
            if !providers.is_empty() {
                (TrustSummary::Saml, providers)
            } else if policy.get("Statement").is_some() {
                (TrustSummary::NotSaml, providers)
            } else {
                (TrustSummary::Unknown, providers)
            }
        }
        None => (TrustSummary::Unknown, Vec::new()),
    }
}

fn decode_policy_text(text: &str) -> Option<Value> {
    let parse = |text: &str| -> Option<Value> {
        match serde_json::from_str::<Value>(text).ok()? {
            // A policy encoded twice: JSON text holding JSON text.
            Value::String(inner) => serde_json::from_str::<Value>(&inner).ok(),
            value => Some(value),
        }
        .filter(Value::is_object)
    };
    if let Some(value) = parse(text) {
        return Some(value);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    if let Some(value) = parse(&decoded) {
        return Some(value);
    }
    // Form encoding writes a space as `+`; a policy's own `+` is then `%2B`.
    let spaced = text.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()?;
    parse(&decoded)
}

/// The SAML provider ARNs the policy lets assume the role with `sts:AssumeRoleWithSAML`:
/// those an `Allow` statement names, less those a `Deny` statement names (a `Deny` of every
/// principal leaves none). Actions match as IAM matches them, ignoring case and with `*` and
/// `?` wildcards, and `NotAction` is honoured; a statement's conditions are not evaluated.
fn saml_providers(policy: &Value) -> Vec<String> {
    const ACTION: &str = "sts:AssumeRoleWithSAML";
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return Vec::new(),
    };
    let mut allowed: Vec<String> = Vec::new();
    let mut denied: Vec<String> = Vec::new();
    let mut denied_to_all = false;
    for statement in statements {
        let effect = statement
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let covers_action = match (statement.get("Action"), statement.get("NotAction")) {
            (Some(actions), _) => one_or_many(Some(actions)).any(|a| action_matches(a, ACTION)),
            (None, Some(excluded)) => {
                !one_or_many(Some(excluded)).any(|a| action_matches(a, ACTION))
            }
            (None, None) => false,
        };
        if !covers_action {
            continue;
        }
        let principal = statement.get("Principal");
        let everyone = match principal {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(map)) => {
                map.values().any(|v| one_or_many(Some(v)).any(|p| p == "*"))
            }
            _ => false,
        };
        let federated: Vec<&str> = principal
            .and_then(|p| p.get("Federated"))
            .map(|f| {
                one_or_many(Some(f))
                    .filter(|p| p.contains(":saml-provider/"))
                    .collect()
            })
            .unwrap_or_default();
        if effect.eq_ignore_ascii_case("allow") && statement.get("NotPrincipal").is_none() {
            for provider in federated {
                if !allowed.iter().any(|known| known == provider) {
                    allowed.push(provider.to_owned());
                }
            }
        } else if effect.eq_ignore_ascii_case("deny") {
            // A deny of everyone but some (`NotPrincipal`) is taken as a deny of all.
            if everyone || statement.get("NotPrincipal").is_some() {
                denied_to_all = true;
            }
            denied.extend(federated.into_iter().map(str::to_owned));
        }
    }
    if denied_to_all {
        return Vec::new();
    }
    allowed.retain(|provider| !denied.contains(provider));
    allowed
}

/// An IAM action pattern (`sts:AssumeRole*`, `STS:*`, `*`) against an action, as IAM compares
/// them: ignoring case, `*` for any run of characters and `?` for one.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn glob(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.split_first(), text.split_first()) {
            (None, None) => true,
            (Some((b'*', rest)), _) => {
                glob(rest, text) || (!text.is_empty() && glob(pattern, &text[1..]))
            }
            (Some((b'?', rest)), Some((_, text_rest))) => glob(rest, text_rest),
            (Some((p, rest)), Some((t, text_rest))) => {
                p.eq_ignore_ascii_case(t) && glob(rest, text_rest)
            }
            _ => false,
        }
    }
    pattern.len() <= 256 && glob(pattern.as_bytes(), action.as_bytes())
}

fn one_or_many(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn req_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a Map<String, Value>, EventError> {
    opt_object(map, key, field)?.ok_or(EventError::Missing { field })
}

fn opt_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'a Map<String, Value>>, EventError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(obj)) => Ok(Some(obj)),
        Some(other) => Err(EventError::WrongType {
            field,
            found: json_kind(other),
            expected: "an object",
        }),
    }
}

fn req_str<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a str, EventError> {
    opt_str(map, key, field)?.ok_or(EventError::Missing { field })
}

fn opt_str<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'a str>, EventError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(EventError::WrongType {
            field,
            found: json_kind(other),
            expected: "a string",
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).expect("fixture is JSON")
    }

    fn created(text: &str) -> RoleCreated {
        match parse(&fixture(text)) {
            Ok(Intake::RoleCreated(created)) => created,
            other => panic!("expected a created role, got {other:?}"),
        }
    }

    #[test]
    fn console_event_gives_role_path_account_and_saml_trust() {
        let role = created(include_str!("../events/create-role.json"));
        assert_eq!(role.role.as_str(), "PlatformAdmin");
        assert_eq!(role.path.as_str(), "/");
        assert_eq!(role.account.as_str(), "111122223333");
        assert_eq!(role.trust, TrustSummary::Saml);
        assert_eq!(
            role.event_id.as_deref(),
            Some("e1c7d2a4-3b5f-4d6e-9a8b-000000001001")
        );
        assert_eq!(
            role.arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/PlatformAdmin")
        );
    }

    #[test]
    fn cloudformation_event_with_null_response_and_object_trust_is_read() {
        let role = created(include_str!("../events/create-role-cloudformation.json"));
        assert_eq!(
            role.role.as_str(),
            "analytics-stack-QueryRunnerRole-7XK2P9QW1MZ3"
        );
        assert_eq!(role.account.as_str(), "444455556666");
        assert_eq!(role.trust, TrustSummary::Saml);
        assert_eq!(role.arn, None);
        assert_eq!(role.tags.len(), 2);
        assert_eq!(role.tags[1].key, "team");
    }

    #[test]
    fn terraform_event_with_empty_session_issuer_and_tags_is_read() {
        let role = created(include_str!("../events/create-role-terraform-saml.json"));
        assert_eq!(role.role.as_str(), "DataEngineer");
        assert_eq!(role.trust, TrustSummary::Saml);
        assert_eq!(
            role.tags,
            vec![
                Tag {
                    key: "ManagedBy".into(),
                    value: "terraform".into()
                },
                Tag {
                    key: "okta-group".into(),
                    value: "DataEngineer".into()
                },
            ]
        );
    }

    #[test]
    fn path_is_kept_apart_from_a_name_with_every_allowed_punctuation_character() {
        let role = created(include_str!("../events/create-role-path-punctuation.json"));
        assert_eq!(role.role.as_str(), "Data.Eng+Ops=Team,Read@Only_v-2");
        assert_eq!(role.path.as_str(), "/okta/federated/");
    }

    #[test]
    fn legacy_console_event_without_optional_envelope_fields_is_read() {
        let role = created(include_str!("../events/create-role-legacy-console.json"));
        assert_eq!(role.role.as_str(), "BuildAgent");
        assert_eq!(role.path.as_str(), "/");
        assert_eq!(role.trust, TrustSummary::NotSaml);
        assert!(role.tags.is_empty());
    }

    #[test]
    fn failed_call_is_reported_as_failed_with_its_error_code() {
        let intake = parse(&fixture(include_str!("../events/create-role-failed.json"))).unwrap();
        assert_eq!(
            intake,
            Intake::CallFailed {
                event_name: "CreateRole".into(),
                error_code: "EntityAlreadyExists".into(),
                event_id: Some("e1c7d2a4-3b5f-4d6e-9a8b-000000001004".into()),
                account: AccountId::parse("111122223333").ok(),
                role: Some("PlatformAdmin".into()),
            }
        );
    }

    #[test]
    fn delete_role_gives_the_role_and_its_account() {
        let intake = parse(&fixture(include_str!("../events/delete-role.json"))).unwrap();
        let Intake::RoleDeleted(deleted) = intake else {
            panic!("expected RoleDeleted, got {intake:?}");
        };
        assert_eq!(deleted.role.as_str(), "PlatformAdmin");
        assert_eq!(deleted.account.as_str(), "111122223333");
    }

    #[test]
    fn other_iam_calls_are_not_relevant() {
        let mut event = fixture(include_str!("../events/delete-role.json"));
        event["detail"]["eventName"] = json!("TagRole");
        assert!(matches!(
            parse(&event).unwrap(),
            Intake::NotRelevant { event_name, .. } if event_name == "TagRole"
        ));
    }

    #[test]
    fn account_comes_from_the_event_not_the_envelope_of_a_forwarding_bus() {
        let mut event = fixture(include_str!("../events/create-role.json"));
        event["account"] = json!("999988887777");
        event["detail"]["recipientAccountId"] = json!("444455556666");
        let Intake::RoleCreated(role) = parse(&event).unwrap() else {
            panic!("expected a created role")
        };
        assert_eq!(role.account.as_str(), "444455556666");
    }

    #[test]
    fn envelope_account_is_used_when_the_record_has_no_recipient() {
        let mut event = fixture(include_str!("../events/create-role.json"));
        event["detail"]
            .as_object_mut()
            .unwrap()
            .remove("recipientAccountId");
        let Intake::RoleCreated(role) = parse(&event).unwrap() else {
            panic!("expected a created role")
        };
        assert_eq!(role.account.as_str(), "111122223333");
    }

    #[test]
    fn role_name_from_the_response_is_used_when_the_request_lacks_it() {
        let mut event = fixture(include_str!("../events/create-role.json"));
        event["detail"]["requestParameters"] = Value::Null;
        let Intake::RoleCreated(role) = parse(&event).unwrap() else {
            panic!("expected a created role")
        };
        assert_eq!(role.role.as_str(), "PlatformAdmin");
    }

    #[test]
    fn empty_or_null_error_code_is_not_a_failure() {
        for code in [json!(null), json!("")] {
            let mut event = fixture(include_str!("../events/create-role.json"));
            event["detail"]["errorCode"] = code;
            assert!(matches!(parse(&event), Ok(Intake::RoleCreated(_))));
        }
    }

    #[test]
    fn each_invalid_fixture_gets_an_error_naming_what_is_wrong() {
        let cases: [(&str, &str); 7] = [
            (
                include_str!("../tests/fixtures/invalid/constant-string.json"),
                "event is a string, expected an EventBridge event object",
            ),
            (
                include_str!("../tests/fixtures/invalid/bare-cloudtrail-record.json"),
                "event has no `detail`",
            ),
            (
                include_str!("../tests/fixtures/invalid/detail-is-a-string.json"),
                "event field `detail` is a string, expected an object",
            ),
            (
                include_str!("../tests/fixtures/invalid/invalid-account-id.json"),
                "event field `detail.recipientAccountId` is invalid: \"11112222333X\" is not a \
                 12-digit AWS account id",
            ),
            (
                include_str!("../tests/fixtures/invalid/invalid-role-name.json"),
                "event field `detail.requestParameters.roleName` is invalid",
            ),
            (
                include_str!("../tests/fixtures/invalid/missing-role-name.json"),
                "event has no `detail.requestParameters.roleName`",
            ),
            (
                include_str!("../tests/fixtures/invalid/other-detail-type.json"),
                "event `detail-type` is \"Scheduled Event\"",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&fixture(text)).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "{err:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn constants_of_every_json_kind_are_errors() {
        for value in [
            json!(null),
            json!(true),
            json!(7),
            json!("x"),
            json!([1, 2]),
        ] {
            assert!(matches!(parse(&value), Err(EventError::NotAnObject { .. })));
        }
    }

    /// Replaces every value in `value`, one at a time, with each JSON kind.
    fn each_mutation(value: &Value, mut visit: impl FnMut(Value)) {
        fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            out.push(prefix.clone());
            match value {
                Value::Object(map) => {
                    for (k, v) in map {
                        prefix.push(k.clone());
                        paths(v, prefix, out);
                        prefix.pop();
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        prefix.push(i.to_string());
                        paths(v, prefix, out);
                        prefix.pop();
                    }
                }
                _ => {}
            }
        }
        let mut all = Vec::new();
        paths(value, &mut Vec::new(), &mut all);
        let kinds = [
            json!(null),
            json!(false),
            json!("true"),
            json!(-1.5),
            json!(""),
            json!([]),
            json!({}),
            json!("%7B%22x%22"),
        ];
        for path in all.iter().filter(|p| !p.is_empty()) {
            for kind in &kinds {
                let mut copy = value.clone();
                let pointer = format!("/{}", path.join("/"));
                if let Some(slot) = copy.pointer_mut(&pointer) {
                    *slot = kind.clone();
                }
                visit(copy);
            }
        }
    }

    #[test]
    fn no_field_of_any_shape_makes_parsing_panic() {
        let fixtures = [
            include_str!("../events/create-role.json"),
            include_str!("../events/create-role-cloudformation.json"),
            include_str!("../events/create-role-terraform-saml.json"),
            include_str!("../events/create-role-legacy-console.json"),
        ];
        let mut parsed = 0;
        for text in fixtures {
            each_mutation(&fixture(text), |event| {
                let _ = parse(&event);
                parsed += 1;
            });
        }
        assert!(parsed > 1000, "only {parsed} variants tried");
    }

    #[test]
    fn trust_policy_is_read_as_object_json_text_or_percent_encoded_text() {
        let policy = json!({"Statement": {"Effect": "Allow", "Action": ["sts:AssumeRoleWithSAML"],
            "Principal": {"Federated": ["arn:aws:iam::111122223333:saml-provider/Okta"]}}});
        let text = policy.to_string();
        let encoded =
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for document in [policy.clone(), json!(text), json!(encoded)] {
            assert_eq!(
                trust_summary(Some(&document)),
                TrustSummary::Saml,
                "{document}"
            );
        }
        assert_eq!(
            trust_summary(Some(&json!("not a policy"))),
            TrustSummary::Unknown
        );
        assert_eq!(trust_summary(None), TrustSummary::Unknown);
    }

    #[test]
    fn a_deny_statement_for_saml_is_not_saml_trust() {
        let policy = json!({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRoleWithSAML",
            "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/Okta"}}]});
        assert_eq!(trust_summary(Some(&policy)), TrustSummary::NotSaml);
    }

    fn providers_of(policy: Value) -> Vec<String> {
        read_trust(Some(&policy)).1
    }

    const OKTA: &str = "arn:aws:iam::111122223333:saml-provider/Okta";

    #[test]
    fn a_deny_of_everyone_or_of_the_provider_takes_the_saml_trust_away() {
        let allow = json!({"Effect": "Allow", "Principal": {"Federated": OKTA}, "Action": "sts:AssumeRoleWithSAML"});
        let deny_all = json!({"Effect": "Deny", "Principal": "*", "Action": "*"});
        let deny_okta = json!({"Effect": "Deny", "Principal": {"Federated": OKTA}, "Action": "sts:AssumeRole*"});
        assert_eq!(providers_of(json!({"Statement": [allow.clone()]})), [OKTA]);
        assert!(providers_of(json!({"Statement": [allow.clone(), deny_all]})).is_empty());
        assert!(providers_of(json!({"Statement": [allow, deny_okta]})).is_empty());
    }

    #[test]
    fn actions_match_with_wildcards_and_any_case_and_not_action_is_honoured() {
        for action in [
            "sts:AssumeRole*",
            "sts:AssumeRoleWith*",
            "STS:*",
            "*",
            "sts:assumerolewithsaml",
        ] {
            let policy = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": OKTA}, "Action": action}});
            assert_eq!(providers_of(policy), [OKTA], "{action}");
        }
        let not_web = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": OKTA}, "NotAction": "sts:AssumeRoleWithWebIdentity"}});
        assert_eq!(providers_of(not_web), [OKTA]);
        let web_only = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": OKTA}, "Action": "sts:AssumeRoleWithWebIdentity"}});
        assert!(providers_of(web_only).is_empty());
        let oidc = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:*"}});
        assert!(providers_of(oidc).is_empty());
    }

    #[test]
    fn form_encoded_and_twice_encoded_policies_are_read() {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": OKTA}, "Action": "sts:AssumeRoleWithSAML"}]});
        let text = serde_json::to_string_pretty(&policy).unwrap();
        let form: String =
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%20", "+");
        assert!(form.contains('+'), "{form}");
        assert_eq!(trust_summary(Some(&json!(form))), TrustSummary::Saml);
        let twice = json!(serde_json::to_string(&text).unwrap());
        assert_eq!(trust_summary(Some(&twice)), TrustSummary::Saml);
    }
}
