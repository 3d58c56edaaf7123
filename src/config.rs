//! Configuration: read from the environment once at cold start, validated, and handed to the
//! handler as a typed value. Every error names the variable at fault.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use regex::Regex;
use url::Url;

use crate::labels::LabelFormat;
use crate::naming::{GroupNameTemplate, GroupNaming};
use crate::queues::QueueUrls;
use crate::role::AccountId;
use crate::rules::SafetyRules;

/// Which Okta AWS app serves an account's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSelection {
    /// `ACCOUNT_APP_MAP`: an app per account, consulted first.
    pub by_account: BTreeMap<AccountId, String>,
    /// `OKTA_APP_ID`: the app of every account the map does not list.
    pub default_app: Option<String>,
}

impl AppSelection {
    /// Neither a map nor a default app: the `amazon_aws` apps are listed and matched by the
    /// account id in their identity provider ARN.
    pub fn discovers(&self) -> bool {
        self.by_account.is_empty() && self.default_app.is_none()
    }
}

/// Everything the function is told by its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Okta org, e.g. `https://example.okta.com` (no trailing path).
    pub okta_org_url: Url,
    /// Which AWS Account Federation app (`amazon_aws`) serves which account.
    pub apps: AppSelection,
    /// The Secrets Manager secret holding the Okta API token.
    pub okta_secret_id: String,
    /// The rules that name a role's group.
    pub naming: GroupNaming,
    /// Which roles and groups are handled at all.
    pub rules: SafetyRules,
    /// How a role is written in `samlRoles` when Okta's app schema does not list the labels.
    pub label_format: LabelFormat,
    /// `ACCOUNT_ALIASES`: the account alias Okta shows in a multi-account app's role labels.
    pub account_aliases: BTreeMap<AccountId, String>,
    /// Whether a group that is not yet assigned to the app gets an assignment created.
    pub assign_unassigned_groups: bool,
    /// Whether a `DeleteRole` event removes the role's label from the group it maps to.
    pub remove_deleted_roles: bool,
    /// `SWEEP_ACCOUNTS`: the accounts a sweep lists roles of; empty for the credentials' own.
    pub sweep_accounts: Vec<AccountId>,
    /// `SWEEP_ROLE_NAME`: the role a sweep assumes in each account but its own.
    pub sweep_role_name: Option<String>,
    /// `SWEEP_REMOVE_STALE`: whether a sweep removes labels whose role is gone.
    pub sweep_remove_stale: bool,
    /// Do every read and report the write without making it.
    pub dry_run: bool,
    /// How long a token read from Secrets Manager is used before it is read again.
    pub secret_cache_ttl: Duration,
    /// The timeout of one Okta request.
    pub okta_timeout: Duration,
    /// The queues of the deployed design; without them a wait is returned as an error.
    pub queues: Option<QueueUrls>,
    /// How long an event may wait (for its group, for Okta to import the role) before it is
    /// parked for an operator.
    pub max_wait: Duration,
    /// The first delay between attempts of a waiting event; it doubles up to 15 minutes.
    pub retry_base_delay: Duration,
}

/// A variable that is missing or holds a value the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable} is not set: {hint}")]
    Missing {
        variable: &'static str,
        hint: &'static str,
    },
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        variable: &'static str,
        reason: String,
    },
}

impl Config {
    pub const DEFAULT_SECRET_CACHE_TTL: Duration = Duration::from_secs(300);
    pub const DEFAULT_OKTA_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
    pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_secs(60);

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so that tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let okta_org_url = org_url(get("OKTA_ORG_URL").ok_or(ConfigError::Missing {
            variable: "OKTA_ORG_URL",
            hint: "set it to your Okta org, e.g. https://example.okta.com",
        })?)?;
        let default_app = get("OKTA_APP_ID")
            .map(|id| app_id("OKTA_APP_ID", id.trim()))
            .transpose()?;
        let apps = AppSelection {
            by_account: account_map(&get, "ACCOUNT_APP_MAP", |value| {
                app_id("ACCOUNT_APP_MAP", value)
            })?,
            default_app,
        };
        let okta_secret_id = get("OKTA_SECRET_ID").ok_or(ConfigError::Missing {
            variable: "OKTA_SECRET_ID",
            hint: "set it to the name or ARN of the secret holding the Okta API token",
        })?;
        let account_aliases = account_map(&get, "ACCOUNT_ALIASES", |value| {
            let odd = value.is_empty()
                || value.contains(['[', ']'])
                || value.contains(" -- ")
                || value.chars().any(char::is_control)
                || AccountId::parse(value).is_ok();
            if odd {
                Err(ConfigError::Invalid {
                    variable: "ACCOUNT_ALIASES",
                    reason: format!("{value:?} is not an account alias"),
                })
            } else {
                Ok(value.to_owned())
            }
        })?;
        let mut seen: Vec<&str> = Vec::new();
        for alias in account_aliases.values() {
            if seen.contains(&alias.as_str()) {
                return Err(ConfigError::Invalid {
                    variable: "ACCOUNT_ALIASES",
                    reason: format!(
                        "alias {alias:?} is given to two accounts: their labels could not be told apart"
                    ),
                });
            }
            seen.push(alias);
        }
        let label_format = match get("ROLE_LABEL_FORMAT") {
            Some(source) => {
                LabelFormat::parse(source.trim()).map_err(|reason| ConfigError::Invalid {
                    variable: "ROLE_LABEL_FORMAT",
                    reason,
                })?
            }
            None => LabelFormat::Auto,
        };

        Ok(Self {
            okta_org_url,
            apps,
            okta_secret_id,
            naming: naming(&get)?,
            rules: safety_rules(&get)?,
            label_format,
            account_aliases,
            assign_unassigned_groups: flag(&get, "ASSIGN_UNASSIGNED_GROUPS", true)?,
            remove_deleted_roles: flag(&get, "REMOVE_DELETED_ROLES", true)?,
            sweep_accounts: list(&get, "SWEEP_ACCOUNTS")
                .iter()
                .map(|a| {
                    AccountId::parse(a).map_err(|reason| ConfigError::Invalid {
                        variable: "SWEEP_ACCOUNTS",
                        reason,
                    })
                })
                .collect::<Result<_, _>>()?,
            sweep_role_name: get("SWEEP_ROLE_NAME").map(|n| n.trim().to_owned()),
            sweep_remove_stale: flag(&get, "SWEEP_REMOVE_STALE", false)?,
            dry_run: flag(&get, "DRY_RUN", false)?,
            secret_cache_ttl: seconds(
                &get,
                "SECRET_CACHE_TTL_SECONDS",
                Self::DEFAULT_SECRET_CACHE_TTL,
                0..=86_400,
            )?,
            okta_timeout: seconds(
                &get,
                "OKTA_TIMEOUT_SECONDS",
                Self::DEFAULT_OKTA_TIMEOUT,
                1..=300,
            )?,
            queues: queues(&get)?,
            max_wait: seconds(
                &get,
                "MAX_WAIT_SECONDS",
                Self::DEFAULT_MAX_WAIT,
                0..=1_209_600,
            )?,
            retry_base_delay: seconds(
                &get,
                "RETRY_BASE_DELAY_SECONDS",
                Self::DEFAULT_RETRY_BASE_DELAY,
                0..=900,
            )?,
        })
    }
}

fn app_id(variable: &'static str, id: &str) -> Result<String, ConfigError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id.to_owned())
    } else {
        Err(ConfigError::Invalid {
            variable,
            reason: format!("{id:?} is not an Okta app id (letters and digits)"),
        })
    }
}

/// `ACCOUNT=VALUE` pairs separated by commas or white space.
fn account_map<T>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    value: impl Fn(&str) -> Result<T, ConfigError>,
) -> Result<BTreeMap<AccountId, T>, ConfigError> {
    let mut map = BTreeMap::new();
    let Some(raw) = get(variable) else {
        return Ok(map);
    };
    for pair in raw.split([',', ' ', '\n', '\t']).filter(|p| !p.is_empty()) {
        let invalid = |reason: String| ConfigError::Invalid { variable, reason };
        let (account, rest) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("{pair:?} is not ACCOUNT=VALUE")))?;
        let account = AccountId::parse(account.trim()).map_err(invalid)?;
        if map.contains_key(&account) {
            return Err(invalid(format!("account {account} is listed twice")));
        }
        map.insert(account, value(rest.trim())?);
    }
    Ok(map)
}

fn list(get: &impl Fn(&str) -> Option<String>, variable: &str) -> Vec<String> {
    get(variable)
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A pattern matched against a whole role name.
fn whole_name_pattern(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Regex>, ConfigError> {
    get(variable)
        .map(|source| {
            let source = source.trim();
            Regex::new(&format!("^(?:{source})$")).map_err(|e| ConfigError::Invalid {
                variable,
                reason: format!("not a regular expression: {e}"),
            })
        })
        .transpose()
}

fn naming(get: &impl Fn(&str) -> Option<String>) -> Result<GroupNaming, ConfigError> {
    let role_pattern = whole_name_pattern(get, "ROLE_NAME_PATTERN")?;
    let captures: Vec<&str> = role_pattern
        .iter()
        .flat_map(|p| p.capture_names().flatten())
        .collect();
    if let Some(reserved) = captures.iter().find(|c| ["role", "account"].contains(c)) {
        return Err(ConfigError::Invalid {
            variable: "ROLE_NAME_PATTERN",
            reason: format!(
                "the capture name {reserved:?} is taken by the template's own {{{reserved}}}"
            ),
        });
    }
    let template = match get("GROUP_NAME_TEMPLATE") {
        Some(source) => GroupNameTemplate::parse_with(&source, &captures).map_err(|reason| {
            ConfigError::Invalid {
                variable: "GROUP_NAME_TEMPLATE",
                reason,
            }
        })?,
        None => GroupNameTemplate::default(),
    };
    Ok(GroupNaming {
        tag_key: get("GROUP_TAG_KEY").map(|k| k.trim().to_owned()),
        role_pattern: role_pattern.clone(),
        template,
    })
}

fn safety_rules(get: &impl Fn(&str) -> Option<String>) -> Result<SafetyRules, ConfigError> {
    let defaults = SafetyRules::default();
    // Paths hold no spaces, so white space separates prefixes as commas do.
    let allowed_path_prefixes: Vec<String> = get("ALLOWED_PATH_PREFIXES")
        .map(|raw| {
            raw.split([',', ' ', '\n', '\t'])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) = allowed_path_prefixes
        .iter()
        .find(|p| !p.starts_with('/') || !p.ends_with('/'))
    {
        return Err(ConfigError::Invalid {
            variable: "ALLOWED_PATH_PREFIXES",
            reason: format!(
                "{bad:?} is not an IAM path prefix: it starts and ends with '/', so that /okta/ \
                 does not also admit /oktapus/"
            ),
        });
    }
    let saml_provider = get("SAML_PROVIDER").map(|p| p.trim().to_owned());
    if let Some(provider) = &saml_provider {
        let name = match provider.strip_prefix("arn:") {
            Some(_) => {
                let parts: Vec<&str> = provider.splitn(6, ':').collect();
                let well_formed = parts.len() == 6
                    && parts[1].starts_with("aws")
                    && parts[2] == "iam"
                    && parts[3].is_empty()
                    && AccountId::parse(parts[4]).is_ok();
                parts
                    .get(5)
                    .and_then(|rest| rest.strip_prefix("saml-provider/"))
                    .filter(|_| well_formed)
            }
            None => Some(provider.as_str()),
        };
        let valid_name = |n: &str| {
            (1..=128).contains(&n.len())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        if !name.is_some_and(valid_name) {
            return Err(ConfigError::Invalid {
                variable: "SAML_PROVIDER",
                reason: format!(
                    "{provider:?} is neither an IAM SAML provider name (letters, digits, ._-) nor \
                     its ARN (arn:aws:iam::ACCOUNT:saml-provider/NAME)"
                ),
            });
        }
    }
    Ok(SafetyRules {
        require_saml_trust: flag(get, "REQUIRE_SAML_TRUST", defaults.require_saml_trust)?,
        saml_provider,
        skip_service_role_path: flag(
            get,
            "SKIP_SERVICE_ROLE_PATH",
            defaults.skip_service_role_path,
        )?,
        allowed_path_prefixes,
        allowed_role_names: whole_name_pattern(get, "ALLOWED_ROLE_NAME_PATTERN")?,
        denied_groups: list(get, "DENIED_GROUPS"),
    })
}

/// The three queue URLs, all or none.
fn queues(get: &impl Fn(&str) -> Option<String>) -> Result<Option<QueueUrls>, ConfigError> {
    const NAMES: [&str; 3] = ["WORK_QUEUE_URL", "DELAY_QUEUE_URL", "PARKED_QUEUE_URL"];
    let values = NAMES.map(get);
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some(index) = values.iter().position(Option::is_none) {
        return Err(ConfigError::Missing {
            variable: NAMES[index],
            hint: "the three queue URLs are set together, or none of them",
        });
    }
    for (name, value) in NAMES.iter().zip(&values) {
        let value = value.as_deref().unwrap_or_default();
        if Url::parse(value).is_err() {
            return Err(ConfigError::Invalid {
                variable: name,
                reason: format!("{value:?} is not a queue URL"),
            });
        }
    }
    let [work, delay, parked] = values.map(Option::unwrap_or_default);
    if !work.ends_with(".fifo") || !parked.ends_with(".fifo") {
        return Err(ConfigError::Invalid {
            variable: if work.ends_with(".fifo") {
                "PARKED_QUEUE_URL"
            } else {
                "WORK_QUEUE_URL"
            },
            reason: "the work and parked queues must be FIFO queues (names ending in .fifo)"
                .to_owned(),
        });
    }
    Ok(Some(QueueUrls {
        work,
        delay,
        parked,
    }))
}

fn org_url(raw: String) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        variable: "OKTA_ORG_URL",
        reason,
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(format!("{raw:?} is not a URL: {e}")))?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{raw:?} must be the org's base URL, with no path, query or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the URL must not carry credentials".to_owned()));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(invalid(format!(
            "{raw:?} uses plain http, allowed only for a loopback address in local runs"
        ))),
        other => Err(invalid(format!("scheme {other:?} is not https"))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(variable) {
        None => Ok(default),
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ConfigError::Invalid {
                variable,
                reason: format!("{raw:?} is not true or false"),
            }),
        },
    }
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: Duration,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    match get(variable) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::Invalid {
                variable,
                reason: format!(
                    "{raw:?} is not a whole number of seconds from {} to {}",
                    range.start(),
                    range.end()
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("OKTA_ORG_URL", "https://example.okta.com"),
            ("OKTA_APP_ID", "0oa1awsfed000000demo"),
            ("OKTA_SECRET_ID", "okta-role-sync/okta-api-token"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in vars {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn minimal_environment_gives_the_documented_defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.naming.template.to_string(), "{role}");
        assert_eq!(config.naming.tag_key, None);
        assert!(config.rules.require_saml_trust);
        assert!(config.rules.skip_service_role_path);
        assert_eq!(config.label_format, LabelFormat::Auto);
        assert_eq!(
            config.apps.default_app.as_deref(),
            Some("0oa1awsfed000000demo")
        );
        assert!(config.assign_unassigned_groups);
        assert!(!config.dry_run);
        assert_eq!(config.secret_cache_ttl, Duration::from_secs(300));
    }

    #[test]
    fn without_an_app_id_or_map_the_apps_are_discovered() {
        let read = config(&[("OKTA_APP_ID", "")]).unwrap();
        assert!(read.apps.discovers());
    }

    #[test]
    fn account_app_map_is_read_and_each_fault_names_the_variable() {
        let read = config(&[(
            "ACCOUNT_APP_MAP",
            "111122223333=0oa1prod, 444455556666=0oa2stage",
        )])
        .unwrap();
        let account = AccountId::parse("444455556666").unwrap();
        assert_eq!(read.apps.by_account[&account], "0oa2stage");
        assert!(!read.apps.discovers());
        for bad in [
            "1111=0oa1",
            "111122223333",
            "111122223333=0oa/x",
            "111122223333=a,111122223333=b",
        ] {
            let err = config(&[("ACCOUNT_APP_MAP", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("ACCOUNT_APP_MAP is invalid"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn role_name_pattern_captures_become_template_placeholders() {
        let read = config(&[
            (
                "ROLE_NAME_PATTERN",
                "(?P<team>[a-z]+)-(?P<level>admin|read)",
            ),
            ("GROUP_NAME_TEMPLATE", "okta-{team}-{level}"),
        ])
        .unwrap();
        assert_eq!(read.naming.template.to_string(), "okta-{team}-{level}");
        let err = config_with_bad_capture();
        assert!(err.starts_with("GROUP_NAME_TEMPLATE is invalid"), "{err}");
        let err = config(&[("ROLE_NAME_PATTERN", "(?P<role>.*)")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ROLE_NAME_PATTERN is invalid"),
            "{err}"
        );
        let err = config(&[("ROLE_NAME_PATTERN", "(unclosed")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ROLE_NAME_PATTERN is invalid"),
            "{err}"
        );
    }

    fn config_with_bad_capture() -> String {
        config(&[
            ("ROLE_NAME_PATTERN", "(?P<team>[a-z]+)-admin"),
            ("GROUP_NAME_TEMPLATE", "{squad}"),
        ])
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn safety_rules_are_read_and_each_fault_names_the_variable() {
        let read = config(&[
            ("REQUIRE_SAML_TRUST", "false"),
            ("SKIP_SERVICE_ROLE_PATH", "no"),
            ("SAML_PROVIDER", "Okta"),
            ("ALLOWED_PATH_PREFIXES", "/okta/, /people/"),
            ("ALLOWED_ROLE_NAME_PATTERN", "okta-.*"),
            ("DENIED_GROUPS", "Everyone, Domain Admins"),
        ])
        .unwrap();
        assert!(!read.rules.require_saml_trust);
        assert!(!read.rules.skip_service_role_path);
        assert_eq!(read.rules.allowed_path_prefixes, ["/okta/", "/people/"]);
        assert_eq!(read.rules.denied_groups, ["Everyone", "Domain Admins"]);
        let pattern = read.rules.allowed_role_names.unwrap();
        assert!(pattern.is_match("okta-Admin") && !pattern.is_match("xokta-Admin"));
        let err = config(&[("ALLOWED_PATH_PREFIXES", "okta/")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ALLOWED_PATH_PREFIXES"),
            "{err}"
        );
        let err = config(&[("SAML_PROVIDER", "arn:aws:iam::1:role/x")]).unwrap_err();
        assert!(err.to_string().starts_with("SAML_PROVIDER"), "{err}");
        let err = config(&[("REQUIRE_SAML_TRUST", "maybe")]).unwrap_err();
        assert!(err.to_string().starts_with("REQUIRE_SAML_TRUST"), "{err}");
    }

    #[test]
    fn role_label_format_and_aliases_are_read() {
        let read = config(&[
            ("ROLE_LABEL_FORMAT", "[{alias}] -- {role}"),
            ("ACCOUNT_ALIASES", "111122223333=prod-main"),
        ])
        .unwrap();
        assert_ne!(read.label_format, LabelFormat::Auto);
        let account = AccountId::parse("111122223333").unwrap();
        assert_eq!(read.account_aliases[&account], "prod-main");
        for bad in [
            "111122223333=prod,444455556666=prod",
            "111122223333=444455556666",
            "111122223333=a -- b",
        ] {
            let err = config(&[("ACCOUNT_ALIASES", bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with("ACCOUNT_ALIASES is invalid"),
                "{bad}: {err}"
            );
        }
        let err = config(&[("ROLE_LABEL_FORMAT", "[{alias}]")]).unwrap_err();
        assert!(
            err.to_string().starts_with("ROLE_LABEL_FORMAT is invalid"),
            "{err}"
        );
    }

    #[test]
    fn plain_http_org_url_is_refused_unless_loopback() {
        let err = config(&[("OKTA_ORG_URL", "http://example.okta.com")]).unwrap_err();
        assert!(err.to_string().contains("OKTA_ORG_URL"), "{err}");
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:4010",
            "http://[::1]:9",
        ] {
            assert!(config(&[("OKTA_ORG_URL", local)]).is_ok(), "{local}");
        }
    }

    #[test]
    fn org_url_with_a_path_is_refused() {
        let err = config(&[("OKTA_ORG_URL", "https://example.okta.com/api/v1")]).unwrap_err();
        assert!(err.to_string().contains("base URL"), "{err}");
    }

    #[test]
    fn unreadable_boolean_names_the_variable() {
        let err = config(&[("DRY_RUN", "sometimes")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DRY_RUN is invalid: \"sometimes\" is not true or false"
        );
    }

    #[test]
    fn bad_group_name_template_names_the_variable() {
        let err = config(&[("GROUP_NAME_TEMPLATE", "aws_admins")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("GROUP_NAME_TEMPLATE is invalid"),
            "{err}"
        );
    }

    #[test]
    fn queue_urls_come_all_together_or_not_at_all() {
        assert!(config(&[]).unwrap().queues.is_none());
        let err = config(&[("WORK_QUEUE_URL", "http://127.0.0.1:5000/1/work.fifo")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DELAY_QUEUE_URL is not set"),
            "{err}"
        );
        let all = config(&[
            ("WORK_QUEUE_URL", "http://127.0.0.1:5000/1/work.fifo"),
            ("DELAY_QUEUE_URL", "http://127.0.0.1:5000/1/delay"),
            ("PARKED_QUEUE_URL", "http://127.0.0.1:5000/1/parked.fifo"),
        ])
        .unwrap();
        assert_eq!(all.queues.unwrap().delay, "http://127.0.0.1:5000/1/delay");
    }

    #[test]
    fn work_queue_must_be_fifo() {
        let err = config(&[
            ("WORK_QUEUE_URL", "http://127.0.0.1:5000/1/work"),
            ("DELAY_QUEUE_URL", "http://127.0.0.1:5000/1/delay"),
            ("PARKED_QUEUE_URL", "http://127.0.0.1:5000/1/parked.fifo"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().starts_with("WORK_QUEUE_URL is invalid"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_ttl_is_refused() {
        assert!(config(&[("SECRET_CACHE_TTL_SECONDS", "-1")]).is_err());
        assert!(config(&[("SECRET_CACHE_TTL_SECONDS", "0")]).is_ok());
    }
}
