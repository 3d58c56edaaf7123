//! One org's state: its clock, apps, groups, assignments, rate-limit buckets, fault schedule
//! and request log.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::OrgClock;
use crate::fault::Schedule;
use crate::oauth::{DEFAULT_TOKEN_LIFETIME, OAuthState, ServiceApp};
use crate::ratelimit::Bucket;
use crate::seed::{
    AppSeed, AppStatus, AssignmentSeed, GroupSeed, GroupType, OrgSeed, RateLimits, SeedError,
};
use crate::stamp;

/// The rate-limit bucket an Okta API path counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BucketName {
    Apps,
    Groups,
}

impl BucketName {
    /// The bucket of a request path, if it has one.
    pub fn of_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/api/v1/")?;
        let first = rest.split('/').next().unwrap_or_default();
        match first {
            "apps" => Some(BucketName::Apps),
            "groups" => Some(BucketName::Groups),
            _ => None,
        }
    }
}

/// One Okta API request an org received, as `GET /__sim/requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// The status sent; 0 when a fault closed the connection without an answer.
    pub status: u16,
    pub bucket: Option<BucketName>,
    /// A scheduled fault applied to the request (listed only when true).
    #[serde(default, skip_serializing_if = "is_false")]
    pub fault: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub id: String,
    pub name: String,
    pub label: String,
    pub status: AppStatus,
    pub roles: Vec<String>,
    pub settings: Value,
    pub schema_lists_roles: bool,
    pub created: String,
    pub last_updated: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub kind: GroupType,
    pub description: String,
    pub searchable: bool,
    pub created: String,
    pub last_updated: String,
    pub last_membership_updated: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub priority: i64,
    pub profile: Map<String, Value>,
    pub last_updated: String,
}

#[derive(Debug)]
pub(crate) struct Org {
    pub tokens: Vec<String>,
    pub clock: OrgClock,
    /// In the org's time.
    pub latency: Duration,
    pub limits: RateLimits,
    pub base_url: Option<String>,
    pub apps_bucket: Bucket,
    pub groups_bucket: Bucket,
    pub apps: BTreeMap<String, App>,
    pub groups: BTreeMap<String, Group>,
    /// Keyed by (app id, group id).
    pub assignments: BTreeMap<(String, String), Assignment>,
    pub faults: Schedule,
    pub requests: Vec<RecordedRequest>,
    pub oauth: OAuthState,
}

fn non_empty(id: Option<String>, generate: fn() -> String) -> Result<String, SeedError> {
    match id {
        Some(id) if id.is_empty() => Err(SeedError::EmptyId),
        Some(id) => Ok(id),
        None => Ok(generate()),
    }
}

/// `url` without a trailing slash, if it is an http(s) URL with a host and no query or
/// fragment.
fn base_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none();
    usable.then(|| url.trim_end_matches('/').to_string())
}

impl Org {
    /// The org `seed` describes, created at simulator time `now`.
    pub fn from_seed(seed: OrgSeed, now: SystemTime) -> Result<Org, SeedError> {
        if seed.tokens.is_empty() {
            return Err(SeedError::NoTokens);
        }
        let mut seen = HashSet::new();
        for token in &seed.tokens {
            if token.is_empty() {
                return Err(SeedError::EmptyToken);
            }
            if !seen.insert(token) {
                return Err(SeedError::TokenInUse(token.clone()));
            }
        }
        if !(seed.clock_scale.is_finite() && seed.clock_scale > 0.0) {
            return Err(SeedError::InvalidClockScale(seed.clock_scale.to_string()));
        }
        let limits = seed.rate_limits;
        if !(1..=100).contains(&limits.token_share_percent) {
            return Err(SeedError::InvalidTokenShare(limits.token_share_percent));
        }
        let base_url = match seed.base_url {
            None => None,
            Some(url) => Some(base_url(&url).ok_or(SeedError::InvalidBaseUrl(url))?),
        };
        let lifetime = match seed.access_token_lifetime_seconds {
            Some(0) => return Err(SeedError::InvalidTokenLifetime),
            Some(seconds) => Duration::from_secs(seconds),
            None => DEFAULT_TOKEN_LIFETIME,
        };
        let mut oauth = OAuthState {
            lifetime,
            ..OAuthState::default()
        };
        for app in seed.service_apps {
            let id = app.client_id.clone();
            if oauth.apps.contains_key(&id) {
                return Err(SeedError::ClientIdInUse(id));
            }
            oauth.apps.insert(id, ServiceApp::from_seed(app)?);
        }
        let clock = OrgClock::new(now, seed.clock_scale);
        let stamp = stamp::iso8601(clock.at(now));
        let mut org = Org {
            tokens: seed.tokens.clone(),
            clock,
            latency: Duration::from_millis(seed.latency_ms),
            limits,
            base_url,
            apps_bucket: Bucket::new(limits.apps, limits.token_share_percent),
            groups_bucket: Bucket::new(limits.groups, limits.token_share_percent),
            apps: BTreeMap::new(),
            groups: BTreeMap::new(),
            assignments: BTreeMap::new(),
            faults: Schedule::default(),
            requests: Vec::new(),
            oauth,
        };
        for app in seed.apps {
            org.add_app(app, &stamp)?;
        }
        for group in seed.groups {
            org.add_group(group, &stamp)?;
        }
        for assignment in seed.assignments {
            org.add_assignment(assignment, &stamp)?;
        }
        Ok(org)
    }

    fn add_app(&mut self, seed: AppSeed, stamp: &str) -> Result<(), SeedError> {
        let id = non_empty(seed.id, stamp::app_id)?;
        if self.apps.contains_key(&id) {
            return Err(SeedError::DuplicateAppId(id));
        }
        let mut settings = seed.settings;
        let Some(object) = settings.as_object_mut() else {
            return Err(SeedError::SettingsNotObject(id));
        };
        let app_settings = object
            .entry("app")
            .or_insert_with(|| Value::Object(Map::new()));
        if !app_settings.is_object() {
            return Err(SeedError::SettingsNotObject(id));
        }
        let mut roles: Vec<String> = Vec::new();
        for role in seed.roles {
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        self.apps.insert(
            id.clone(),
            App {
                id,
                name: seed.name,
                label: seed.label,
                status: seed.status,
                roles,
                settings,
                schema_lists_roles: seed.schema_lists_roles,
                created: stamp.to_string(),
                last_updated: stamp.to_string(),
            },
        );
        Ok(())
    }

    /// Adds a group and returns its id.
    pub fn add_group(&mut self, seed: GroupSeed, stamp: &str) -> Result<String, SeedError> {
        let id = non_empty(seed.id, stamp::group_id)?;
        if self.groups.contains_key(&id) {
            return Err(SeedError::DuplicateGroupId(id));
        }
        self.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                name: seed.name,
                kind: seed.kind,
                description: seed.description,
                searchable: seed.searchable,
                created: stamp.to_string(),
                last_updated: stamp.to_string(),
                last_membership_updated: stamp.to_string(),
            },
        );
        Ok(id)
    }

    fn add_assignment(&mut self, seed: AssignmentSeed, stamp: &str) -> Result<(), SeedError> {
        if !self.apps.contains_key(&seed.app_id) {
            return Err(SeedError::UnknownApp(seed.app_id));
        }
        if !self.groups.contains_key(&seed.group_id) {
            return Err(SeedError::UnknownGroup(seed.group_id));
        }
        let key = (seed.app_id, seed.group_id);
        if self.assignments.contains_key(&key) {
            return Err(SeedError::DuplicateAssignment {
                app_id: key.0,
                group_id: key.1,
            });
        }
        let priority = match seed.priority {
            Some(p) if p < 0 => {
                return Err(SeedError::NegativePriority {
                    app_id: key.0,
                    group_id: key.1,
                });
            }
            Some(p) => p,
            None => self.next_priority(&key.0, None),
        };
        self.assignments.insert(
            key,
            Assignment {
                priority,
                profile: seed.profile,
                last_updated: stamp.to_string(),
            },
        );
        Ok(())
    }

    /// One more than the highest priority among the app's assignments (0 when there are
    /// none), leaving out the assignment of `excluding`, which is about to be replaced.
    pub fn next_priority(&self, app_id: &str, excluding: Option<&str>) -> i64 {
        self.assignments
            .iter()
            .filter(|((app, group), _)| app == app_id && Some(group.as_str()) != excluding)
            .map(|(_, a)| a.priority + 1)
            .max()
            .unwrap_or(0)
    }

    pub fn bucket(&mut self, name: BucketName) -> &mut Bucket {
        match name {
            BucketName::Apps => &mut self.apps_bucket,
            BucketName::Groups => &mut self.groups_bucket,
        }
    }

    /// The org's time when the simulator clock reads `sim_now`.
    pub fn now(&self, sim_now: SystemTime) -> SystemTime {
        self.clock.at(sim_now)
    }

    /// The org as a seed: apps, groups and assignments sorted by id.
    pub fn to_seed(&self) -> OrgSeed {
        OrgSeed {
            tokens: self.tokens.clone(),
            clock_scale: self.clock.scale(),
            latency_ms: u64::try_from(self.latency.as_millis()).unwrap_or(u64::MAX),
            rate_limits: self.limits,
            base_url: self.base_url.clone(),
            apps: self
                .apps
                .values()
                .map(|a| AppSeed {
                    id: Some(a.id.clone()),
                    name: a.name.clone(),
                    label: a.label.clone(),
                    status: a.status,
                    roles: a.roles.clone(),
                    settings: a.settings.clone(),
                    schema_lists_roles: a.schema_lists_roles,
                })
                .collect(),
            groups: self.groups.values().map(Group::to_seed).collect(),
            assignments: self
                .assignments
                .iter()
                .map(|((app_id, group_id), a)| AssignmentSeed {
                    app_id: app_id.clone(),
                    group_id: group_id.clone(),
                    priority: Some(a.priority),
                    profile: a.profile.clone(),
                })
                .collect(),
            service_apps: self.oauth.apps.values().map(|a| a.seed.clone()).collect(),
            access_token_lifetime_seconds: (self.oauth.lifetime != DEFAULT_TOKEN_LIFETIME)
                .then_some(self.oauth.lifetime.as_secs()),
        }
    }
}

impl Group {
    pub fn to_seed(&self) -> GroupSeed {
        GroupSeed {
            id: Some(self.id.clone()),
            name: self.name.clone(),
            kind: self.kind,
            description: self.description.clone(),
            searchable: self.searchable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed(value: Value) -> OrgSeed {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn paths_fall_into_the_apps_or_groups_bucket() {
        assert_eq!(BucketName::of_path("/api/v1/apps"), Some(BucketName::Apps));
        assert_eq!(
            BucketName::of_path("/api/v1/apps/0oa1/groups/00g1"),
            Some(BucketName::Apps)
        );
        assert_eq!(
            BucketName::of_path("/api/v1/groups"),
            Some(BucketName::Groups)
        );
        assert_eq!(BucketName::of_path("/api/v1/users"), None);
        assert_eq!(BucketName::of_path("/api/v1/appsx"), None);
    }

    #[test]
    fn seeded_assignments_without_priority_take_the_next_free_one() {
        let org = Org::from_seed(
            seed(json!({
                "tokens": ["t"],
                "apps": [{"id": "0oaA", "roles": []}],
                "groups": [{"id": "00g1", "name": "a"}, {"id": "00g2", "name": "b"}],
                "assignments": [
                    {"appId": "0oaA", "groupId": "00g1", "priority": 4},
                    {"appId": "0oaA", "groupId": "00g2"}
                ]
            })),
            SystemTime::now(),
        )
        .unwrap();
        let state = org.to_seed();
        assert_eq!(state.assignments[1].priority, Some(5));
        assert_eq!(org.next_priority("0oaA", Some("00g2")), 5);
        assert_eq!(org.next_priority("0oaB", None), 0);
    }

    #[test]
    fn a_base_url_must_be_an_http_url() {
        let with = |url: &str| {
            Org::from_seed(
                seed(json!({"tokens": ["t"], "baseUrl": url})),
                SystemTime::now(),
            )
            .map(|org| org.base_url)
        };
        assert_eq!(
            with("https://example.okta.com/"),
            Ok(Some("https://example.okta.com".into()))
        );
        assert!(with("example.okta.com").is_err());
        assert!(with("ftp://example.okta.com").is_err());
        assert!(with("http://x/?a=b").is_err());
    }

    #[test]
    fn a_clock_scale_must_be_above_zero_and_a_token_share_a_percentage() {
        let with = |extra: Value| {
            let mut value = json!({"tokens": ["t"]});
            value
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            Org::from_seed(seed(value), SystemTime::now()).map(|org| org.clock.scale())
        };
        assert_eq!(with(json!({"clockScale": 60})), Ok(60.0));
        assert_eq!(with(json!({"clockScale": 0.25})), Ok(0.25));
        assert_eq!(
            with(json!({"clockScale": 0})),
            Err(SeedError::InvalidClockScale("0".into()))
        );
        assert!(with(json!({"clockScale": -2})).is_err());
        let share = |percent: u32| with(json!({"rateLimits": {"tokenSharePercent": percent}}));
        assert_eq!(share(0), Err(SeedError::InvalidTokenShare(0)));
        assert_eq!(share(101), Err(SeedError::InvalidTokenShare(101)));
        assert!(share(1).is_ok() && share(100).is_ok());
        let rust = OrgSeed {
            tokens: vec!["t".into()],
            clock_scale: f64::NAN,
            ..OrgSeed::default()
        };
        assert!(Org::from_seed(rust, SystemTime::now()).is_err());
    }

    #[test]
    fn a_seed_naming_an_unknown_group_is_refused() {
        let err = Org::from_seed(
            seed(json!({
                "tokens": ["t"],
                "apps": [{"id": "0oaA"}],
                "assignments": [{"appId": "0oaA", "groupId": "00gX"}]
            })),
            SystemTime::now(),
        )
        .unwrap_err();
        assert_eq!(err, SeedError::UnknownGroup("00gX".into()));
    }

    #[test]
    fn missing_ids_are_generated_and_settings_get_an_app_object() {
        let org = Org::from_seed(
            seed(json!({
                "tokens": ["t"],
                "apps": [{"settings": {}}],
                "groups": [{"name": "g"}]
            })),
            SystemTime::now(),
        )
        .unwrap();
        let state = org.to_seed();
        assert!(state.apps[0].id.as_deref().unwrap().starts_with("0oa"));
        assert!(state.groups[0].id.as_deref().unwrap().starts_with("00g"));
        assert_eq!(state.apps[0].settings, json!({"app": {}}));
    }
}
