//! The seed format: one org's tokens, OAuth service apps, limits, apps, groups and
//! assignments, as JSON or Rust.
//!
//! The same shape describes an org when it is created and when its state is read back
//! (`GET /__sim/state`), so a test can compare the two directly.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One Okta org (tenant) of the simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgSeed {
    /// SSWS API tokens that authenticate as this org; unique across orgs.
    pub tokens: Vec<String>,
    /// How many times as fast as the simulator clock the org's time runs (> 0): with 60, one
    /// Okta minute (a rate-limit window, 60 000 ms of latency) passes in one real second.
    #[serde(default = "default_clock_scale", serialize_with = "number")]
    pub clock_scale: f64,
    /// Added delay before every Okta API response, in the org's time.
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Where absolute links (`_links`, `Link` headers) point, such as
    /// `https://example.okta.com` or a proxy in front of the simulator; by default
    /// `http://` and the request's `Host` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default)]
    pub apps: Vec<AppSeed>,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    #[serde(default)]
    pub assignments: Vec<AssignmentSeed>,
    /// OAuth 2.0 service apps that get access tokens from `POST /oauth2/v1/token`; client ids
    /// are unique across orgs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_apps: Vec<ServiceAppSeed>,
    /// The lifetime of issued access tokens, in the org's time; Okta's hour when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime_seconds: Option<u64>,
}

/// An API service app with public key / private key client authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAppSeed {
    pub client_id: String,
    /// Its registered public keys: each a public JWK with `kid`, or `{"kid", "pem"}` with a
    /// PEM public key.
    pub keys: Vec<Value>,
    /// The Okta API scopes granted to it.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Default for OrgSeed {
    fn default() -> Self {
        OrgSeed {
            tokens: Vec::new(),
            clock_scale: default_clock_scale(),
            latency_ms: 0,
            rate_limits: RateLimits::default(),
            base_url: None,
            apps: Vec::new(),
            groups: Vec::new(),
            assignments: Vec::new(),
            service_apps: Vec::new(),
            access_token_lifetime_seconds: None,
        }
    }
}

fn default_clock_scale() -> f64 {
    1.0
}

/// A whole number as a JSON integer (`60`, not `60.0`), anything else as a float.
pub(crate) fn number<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() <= EXACT {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Requests per minute (in the org's time) for each bucket: the org's total, and the share of
/// it any one token may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimits {
    /// Every `/api/v1/apps…` path.
    #[serde(default = "default_apps_limit")]
    pub apps: u32,
    /// Every `/api/v1/groups…` path.
    #[serde(default = "default_groups_limit")]
    pub groups: u32,
    /// The percentage of each bucket one token may use (1 to 100), rounded down.
    #[serde(default = "default_token_share")]
    pub token_share_percent: u32,
}

fn default_token_share() -> u32 {
    50
}

fn default_apps_limit() -> u32 {
    100
}

fn default_groups_limit() -> u32 {
    500
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            apps: default_apps_limit(),
            groups: default_groups_limit(),
            token_share_percent: default_token_share(),
        }
    }
}

/// An app instance; the simulator serves them all as SAML 2.0 apps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSeed {
    /// Generated (`0oa…`) when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default = "default_app_name")]
    pub name: String,
    #[serde(default = "default_app_label")]
    pub label: String,
    #[serde(default)]
    pub status: AppStatus,
    /// The roles Okta has imported: the values `samlRoles` (and `role`) accept.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The app's `settings` object; an `app` object is added when missing.
    #[serde(default = "default_settings")]
    pub settings: Value,
    /// Whether the app's profile schema lists the imported roles as the allowed values of
    /// `samlRoles` (true by default); false stands for an org whose schema lists none.
    #[serde(default = "default_true")]
    pub schema_lists_roles: bool,
}

fn default_true() -> bool {
    true
}

fn default_app_name() -> String {
    "amazon_aws".to_string()
}

fn default_app_label() -> String {
    "AWS Account Federation".to_string()
}

fn default_settings() -> Value {
    Value::Object(Map::from_iter([(
        "app".to_string(),
        Value::Object(Map::new()),
    )]))
}

impl Default for AppSeed {
    fn default() -> Self {
        AppSeed {
            id: None,
            name: default_app_name(),
            label: default_app_label(),
            status: AppStatus::default(),
            roles: Vec::new(),
            settings: default_settings(),
            schema_lists_roles: true,
        }
    }
}

impl AppSeed {
    /// An AWS Account Federation app with the given id and imported roles.
    pub fn aws(id: &str, roles: &[&str]) -> Self {
        AppSeed {
            id: Some(id.to_string()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..AppSeed::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppStatus {
    #[default]
    Active,
    Inactive,
}

impl AppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Active => "ACTIVE",
            AppStatus::Inactive => "INACTIVE",
        }
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSeed {
    /// Generated (`00g…`) when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: GroupType,
    #[serde(default)]
    pub description: String,
    /// `false`: not yet visible to `search=` (Okta's search index is eventually consistent).
    #[serde(default = "default_searchable")]
    pub searchable: bool,
}

fn default_searchable() -> bool {
    true
}

impl GroupSeed {
    /// A searchable `OKTA_GROUP` with a generated id.
    pub fn named(name: &str) -> Self {
        GroupSeed {
            id: None,
            name: name.to_string(),
            kind: GroupType::OktaGroup,
            description: String::new(),
            searchable: true,
        }
    }

    /// The same group with a fixed id.
    pub fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupType {
    #[default]
    OktaGroup,
    AppGroup,
    BuiltIn,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::OktaGroup => "OKTA_GROUP",
            GroupType::AppGroup => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }
}

/// A group's assignment to an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentSeed {
    pub app_id: String,
    pub group_id: String,
    /// The next free priority of the app when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default)]
    pub profile: Map<String, Value>,
}

impl AssignmentSeed {
    pub fn new(app_id: &str, group_id: &str, profile: Value) -> Self {
        AssignmentSeed {
            app_id: app_id.to_string(),
            group_id: group_id.to_string(),
            priority: None,
            profile: match profile {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }
}

/// Why a seed was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    NoTokens,
    EmptyToken,
    /// `baseUrl` is not an `http://` or `https://` URL without query or fragment.
    InvalidBaseUrl(String),
    /// `clockScale` (as written here) is not a finite number above 0.
    InvalidClockScale(String),
    /// `rateLimits.tokenSharePercent` is not between 1 and 100.
    InvalidTokenShare(u32),
    /// The token already authenticates another org (or appears twice in the seed).
    TokenInUse(String),
    DuplicateAppId(String),
    DuplicateGroupId(String),
    EmptyId,
    /// `settings` is not a JSON object, or its `app` is not one.
    SettingsNotObject(String),
    UnknownApp(String),
    UnknownGroup(String),
    DuplicateAssignment {
        app_id: String,
        group_id: String,
    },
    NegativePriority {
        app_id: String,
        group_id: String,
    },
    /// A service app's client id is empty, or already used (here or by another org).
    ClientIdInUse(String),
    /// A service app key that cannot verify signatures.
    InvalidServiceAppKey {
        client_id: String,
        reason: String,
    },
    /// `accessTokenLifetimeSeconds` is 0.
    InvalidTokenLifetime,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedError::NoTokens => write!(f, "an org needs at least one token"),
            SeedError::EmptyToken => write!(f, "a token is empty"),
            SeedError::InvalidBaseUrl(url) => {
                write!(f, "baseUrl {url:?} is not an http:// or https:// URL")
            }
            SeedError::InvalidClockScale(scale) => {
                write!(f, "clockScale {scale} is not a finite number above 0")
            }
            SeedError::InvalidTokenShare(percent) => {
                write!(
                    f,
                    "rateLimits.tokenSharePercent {percent} is not between 1 and 100"
                )
            }
            SeedError::TokenInUse(t) => write!(f, "token {t:?} is already in use"),
            SeedError::DuplicateAppId(id) => write!(f, "app id {id} appears twice"),
            SeedError::DuplicateGroupId(id) => write!(f, "group id {id} appears twice"),
            SeedError::EmptyId => write!(f, "an id is empty"),
            SeedError::SettingsNotObject(id) => {
                write!(
                    f,
                    "settings of app {id} must be an object with an object `app`"
                )
            }
            SeedError::UnknownApp(id) => write!(f, "assignment names unknown app {id}"),
            SeedError::UnknownGroup(id) => write!(f, "assignment names unknown group {id}"),
            SeedError::DuplicateAssignment { app_id, group_id } => {
                write!(f, "group {group_id} is assigned to app {app_id} twice")
            }
            SeedError::ClientIdInUse(id) => {
                write!(f, "service app client id {id:?} is empty or already in use")
            }
            SeedError::InvalidServiceAppKey { client_id, reason } => {
                write!(f, "a key of service app {client_id} is unusable: {reason}")
            }
            SeedError::InvalidTokenLifetime => {
                write!(f, "accessTokenLifetimeSeconds must be at least 1")
            }
            SeedError::NegativePriority { app_id, group_id } => {
                write!(
                    f,
                    "assignment of {group_id} to {app_id} has a negative priority"
                )
            }
        }
    }
}

impl std::error::Error for SeedError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimal_seed_gets_the_documented_defaults() {
        let seed: OrgSeed = serde_json::from_value(json!({
            "tokens": ["t"],
            "apps": [{"roles": ["ReadOnly"]}],
            "groups": [{"name": "G"}]
        }))
        .unwrap();
        assert_eq!(
            seed.rate_limits,
            RateLimits {
                apps: 100,
                groups: 500,
                token_share_percent: 50
            }
        );
        assert_eq!(seed.clock_scale, 1.0);
        assert_eq!(seed.latency_ms, 0);
        assert_eq!(seed.apps[0].name, "amazon_aws");
        assert_eq!(seed.apps[0].settings, json!({"app": {}}));
        assert_eq!(seed.groups[0].kind, GroupType::OktaGroup);
        assert!(seed.groups[0].searchable);
    }

    #[test]
    fn a_whole_clock_scale_reads_back_as_an_integer() {
        let seed: OrgSeed =
            serde_json::from_value(json!({"tokens": ["t"], "clockScale": 60})).unwrap();
        let back = serde_json::to_value(&seed).unwrap();
        assert_eq!(back["clockScale"], json!(60));
        let half = OrgSeed {
            clock_scale: 0.5,
            ..seed
        };
        assert_eq!(
            serde_json::to_value(&half).unwrap()["clockScale"],
            json!(0.5)
        );
        assert_eq!(OrgSeed::default().clock_scale, 1.0);
    }

    #[test]
    fn a_misspelt_seed_field_is_refused() {
        let err = serde_json::from_value::<OrgSeed>(json!({"tokens": ["t"], "group": []}));
        assert!(err.is_err());
    }
}
