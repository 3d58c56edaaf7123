//! Which Okta AWS app serves an account, and what Okta says about that app: whether it uses
//! group mapping, which accounts it serves, which role labels its schema lists. Read from Okta
//! and kept per container, since every read of an app spends the scarce app rate limit.
//!
//! An app is chosen by `ACCOUNT_APP_MAP`, then `OKTA_APP_ID`; with neither, the org's
//! `amazon_aws` apps are listed and the one whose identity provider ARN names the account is
//! used (the common layout: one app per AWS account).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::config::AppSelection;
use crate::labels;
use crate::okta::{Call, OktaClient, OktaError};
use crate::role::AccountId;

/// How long what Okta said about an app is used before it is read again.
const APP_TTL: Duration = Duration::from_secs(15 * 60);
/// A discovery older than this is repeated when it knows no app for an account: an app
/// added since is found within a minute, and an account with none costs one listing a minute.
const REDISCOVER_AFTER: Duration = Duration::from_secs(60);
/// How long the labels of an app's schema are used; a role missing from them is always
/// looked up again before it is declared not imported.
const LABELS_TTL: Duration = Duration::from_secs(5 * 60);

/// An AWS Account Federation app, as far as this function needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub label: String,
    pub active: bool,
    /// The accounts named by `settings.app.identityProviderArn` (one ARN, or several
    /// separated by commas).
    pub accounts: Vec<AccountId>,
    /// `settings.app.useGroupMapping`: roles come from group names, `samlRoles` is ignored.
    pub use_group_mapping: bool,
}

impl App {
    /// Reads an app from the apps API's JSON, leniently: settings may be missing or odd.
    pub fn from_json(value: &Value) -> Option<Self> {
        let id = value["id"].as_str()?.to_owned();
        let settings = &value["settings"]["app"];
        // One ARN, several separated by commas, or (leniently) a list of them.
        let arns: Vec<&str> = match &settings["identityProviderArn"] {
            Value::String(text) => text.split([',', ' ', '\n']).collect(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut accounts: Vec<AccountId> = arns
            .iter()
            .filter(|arn| arn.contains(":saml-provider/"))
            .filter_map(|arn| arn.trim().split(':').nth(4))
            .filter_map(|account| AccountId::parse(account).ok())
            .collect();
        accounts.sort();
        accounts.dedup();
        let use_group_mapping = match &settings["useGroupMapping"] {
            Value::Bool(on) => *on,
            Value::String(text) => text.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Some(Self {
            id,
            label: value["label"].as_str().unwrap_or_default().to_owned(),
            active: value["status"].as_str().is_none_or(|s| s == "ACTIVE"),
            accounts,
            use_group_mapping,
        })
    }
}

/// The app for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppFor {
    App(Arc<App>),
    /// No app serves the account; the rule and reason say how that was decided.
    None {
        rule: &'static str,
        reason: String,
    },
    /// Several active apps name the account in their identity provider ARN.
    Several {
        ids: Vec<String>,
    },
    /// The configured app does not exist in Okta.
    Missing {
        app_id: String,
        variable: &'static str,
    },
}

#[derive(Default)]
struct Cache {
    apps: HashMap<String, (Arc<App>, Instant)>,
    discovered: Option<(Vec<Arc<App>>, Instant)>,
    labels: HashMap<String, (Option<Vec<String>>, Instant)>,
}

/// What the container knows about Okta's AWS apps.
pub struct AppDirectory {
    selection: AppSelection,
    cache: Mutex<Cache>,
}

impl AppDirectory {
    pub fn new(selection: AppSelection) -> Self {
        Self {
            selection,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The app that serves `account`.
    pub async fn app_for(
        &self,
        okta: &OktaClient,
        call: &Call,
        account: &AccountId,
    ) -> Result<AppFor, OktaError> {
        let configured = match self.selection.by_account.get(account) {
            Some(id) => Some((id.as_str(), "ACCOUNT_APP_MAP")),
            None => self
                .selection
                .default_app
                .as_deref()
                .map(|id| (id, "OKTA_APP_ID")),
        };
        if let Some((app_id, variable)) = configured {
            let Some(app) = self.app(okta, call, app_id).await? else {
                return Ok(AppFor::Missing {
                    app_id: app_id.to_owned(),
                    variable,
                });
            };
            if !app.active {
                return Ok(AppFor::None {
                    rule: "app-inactive",
                    reason: format!("app {app_id} ({variable}) is not active in okta"),
                });
            }
            // The default app is for accounts nobody mapped; when its identity provider ARN
            // names other accounts, this account's roles are not its to hand out (a mapped
            // account is the operator's explicit choice).
            if variable == "OKTA_APP_ID"
                && !app.accounts.is_empty()
                && !app.accounts.contains(account)
            {
                let named: Vec<&str> = app.accounts.iter().map(AccountId::as_str).collect();
                return Ok(AppFor::None {
                    rule: "app-serves-other-accounts",
                    reason: format!(
                        "app {app_id} (OKTA_APP_ID) serves accounts {} by its identity provider \
                         arn, not {account}: map the account in ACCOUNT_APP_MAP",
                        named.join(", ")
                    ),
                });
            }
            return Ok(AppFor::App(app));
        }
        if !self.selection.discovers() {
            return Ok(AppFor::None {
                rule: "no-app-for-account",
                reason: format!(
                    "ACCOUNT_APP_MAP lists no app for account {account} and OKTA_APP_ID is not set"
                ),
            });
        }
        let mut cache = self.cache.lock().await;
        let fresh = |at: Instant, ttl: Duration| at.elapsed() < ttl;
        let mut serving = match &cache.discovered {
            Some((apps, at)) if fresh(*at, APP_TTL) => Some(serving_apps(apps, account)),
            _ => None,
        };
        let stale_for_a_miss = cache
            .discovered
            .as_ref()
            .is_none_or(|(_, at)| !fresh(*at, REDISCOVER_AFTER));
        if serving.as_ref().is_none_or(Vec::is_empty) && stale_for_a_miss {
            let apps: Vec<Arc<App>> = okta
                .list_aws_apps(call)
                .await?
                .iter()
                .filter_map(App::from_json)
                .map(Arc::new)
                .collect();
            tracing::debug!(apps = apps.len(), "okta aws apps discovered");
            serving = Some(serving_apps(&apps, account));
            cache.discovered = Some((apps, Instant::now()));
        }
        let serving = serving.unwrap_or_default();
        Ok(match serving.as_slice() {
            [] => AppFor::None {
                rule: "no-app-for-account",
                reason: format!(
                    "no active okta aws app names account {account} in its identity provider arn"
                ),
            },
            [app] => AppFor::App(app.clone()),
            several => AppFor::Several {
                ids: several.iter().map(|a| a.id.clone()).collect(),
            },
        })
    }

    async fn app(
        &self,
        okta: &OktaClient,
        call: &Call,
        app_id: &str,
    ) -> Result<Option<Arc<App>>, OktaError> {
        let mut cache = self.cache.lock().await;
        if let Some((app, at)) = cache.apps.get(app_id)
            && at.elapsed() < APP_TTL
        {
            return Ok(Some(app.clone()));
        }
        let Some(app) = okta
            .get_app(call, app_id)
            .await?
            .as_ref()
            .and_then(App::from_json)
        else {
            return Ok(None);
        };
        let app = Arc::new(app);
        cache
            .apps
            .insert(app_id.to_owned(), (app.clone(), Instant::now()));
        Ok(Some(app))
    }

    /// The role labels the app's schema lists, `None` when it lists none or may not be read.
    /// `fresh` reads the schema again whatever the cache holds.
    pub async fn labels(
        &self,
        okta: &OktaClient,
        call: &Call,
        app_id: &str,
        fresh: bool,
    ) -> Result<Option<Vec<String>>, OktaError> {
        let mut cache = self.cache.lock().await;
        if !fresh
            && let Some((labels, at)) = cache.labels.get(app_id)
            && at.elapsed() < LABELS_TTL
        {
            return Ok(labels.clone());
        }
        let labels = match okta.get_app_schema(call, app_id).await {
            Ok(schema) => schema.as_ref().and_then(labels::listed_labels),
            Err(err) if err.status() == Some(reqwest::StatusCode::FORBIDDEN) => {
                tracing::warn!(
                    app_id,
                    error = %err,
                    "app schema may not be read, role labels follow ROLE_LABEL_FORMAT"
                );
                None
            }
            Err(err) => return Err(err),
        };
        cache
            .labels
            .insert(app_id.to_owned(), (labels.clone(), Instant::now()));
        Ok(labels)
    }
}

/// The active apps whose identity provider ARN names the account.
fn serving_apps(apps: &[Arc<App>], account: &AccountId) -> Vec<Arc<App>> {
    apps.iter()
        .filter(|a| a.active && a.accounts.contains(account))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_app_names_its_accounts_and_mode_from_its_settings() {
        let app = App::from_json(&json!({
            "id": "0oa1", "label": "AWS prod", "status": "ACTIVE",
            "settings": {"app": {
                "identityProviderArn": "arn:aws:iam::444455556666:saml-provider/Okta, arn:aws:iam::111122223333:saml-provider/Okta",
                "useGroupMapping": "true"
            }}
        }))
        .unwrap();
        assert_eq!(
            app.accounts,
            [
                AccountId::parse("111122223333").unwrap(),
                AccountId::parse("444455556666").unwrap()
            ]
        );
        assert!(app.use_group_mapping && app.active);
    }

    #[test]
    fn an_app_with_odd_or_missing_settings_serves_no_known_account() {
        let app =
            App::from_json(&json!({"id": "0oa2", "status": "INACTIVE", "settings": null})).unwrap();
        assert!(app.accounts.is_empty() && !app.use_group_mapping && !app.active);
        assert_eq!(App::from_json(&json!({"label": "no id"})), None);
    }
}
