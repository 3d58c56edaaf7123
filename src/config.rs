//! Configuration: read from the environment once at cold start, validated, and handed to the
//! handler as a typed value. Every error names the variable at fault.

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::naming::GroupNameTemplate;
use crate::queues::QueueUrls;

/// Everything the function is told by its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Okta org, e.g. `https://example.okta.com` (no trailing path).
    pub okta_org_url: Url,
    /// The id of the AWS Account Federation app (`amazon_aws`) in Okta.
    pub okta_app_id: String,
    /// The Secrets Manager secret holding the Okta API token.
    pub okta_secret_id: String,
    pub group_name_template: GroupNameTemplate,
    /// Whether a group that is not yet assigned to the app gets an assignment created.
    pub assign_unassigned_groups: bool,
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
        let okta_app_id = get("OKTA_APP_ID").ok_or(ConfigError::Missing {
            variable: "OKTA_APP_ID",
            hint: "set it to the id of the AWS Account Federation app in Okta",
        })?;
        if !okta_app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConfigError::Invalid {
                variable: "OKTA_APP_ID",
                reason: format!("{okta_app_id:?} is not an Okta app id (letters and digits)"),
            });
        }
        let okta_secret_id = get("OKTA_SECRET_ID").ok_or(ConfigError::Missing {
            variable: "OKTA_SECRET_ID",
            hint: "set it to the name or ARN of the secret holding the Okta API token",
        })?;
        let group_name_template = match get("GROUP_NAME_TEMPLATE") {
            Some(source) => {
                GroupNameTemplate::parse(&source).map_err(|reason| ConfigError::Invalid {
                    variable: "GROUP_NAME_TEMPLATE",
                    reason,
                })?
            }
            None => GroupNameTemplate::default(),
        };

        Ok(Self {
            okta_org_url,
            okta_app_id,
            okta_secret_id,
            group_name_template,
            assign_unassigned_groups: flag(&get, "ASSIGN_UNASSIGNED_GROUPS", true)?,
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
        assert_eq!(config.group_name_template.to_string(), "{role}");
        assert!(config.assign_unassigned_groups);
        assert!(!config.dry_run);
        assert_eq!(config.secret_cache_ttl, Duration::from_secs(300));
    }

    #[test]
    fn missing_app_id_names_the_variable() {
        let err = config(&[("OKTA_APP_ID", "")]).unwrap_err();
        assert!(
            err.to_string().starts_with("OKTA_APP_ID is not set"),
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
