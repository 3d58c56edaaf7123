//! Safety rules: which created roles may be handed to an Okta group without a person deciding,
//! and which groups may never receive a role this way. Pure checks on what the event says and
//! the group's name, made before the secret is read or Okta is asked anything.
//!
//! Each refusal names the rule that decided, so an operator can tell a skip by design from a
//! fault.

use regex::Regex;

use crate::event::{RoleCreated, TrustSummary};
use crate::role::RoleName;

/// Paths under which AWS itself creates roles; never handed out, whatever the configuration.
pub const AWS_MANAGED_PATHS: [&str; 2] = ["/aws-service-role/", "/aws-reserved/"];
/// The console's default path for service roles; skipped unless configured otherwise.
pub const SERVICE_ROLE_PATH: &str = "/service-role/";

/// The rules, read from configuration at cold start.
#[derive(Debug, Clone)]
pub struct SafetyRules {
    /// Assign only roles whose trust policy lets a SAML provider assume them.
    pub require_saml_trust: bool,
    /// With `require_saml_trust`, the one provider that must be trusted: a name or an ARN.
    pub saml_provider: Option<String>,
    /// Skip roles under `/service-role/`.
    pub skip_service_role_path: bool,
    /// When not empty, only roles whose path starts with one of these are assigned.
    pub allowed_path_prefixes: Vec<String>,
    /// When set, only role names this pattern matches (whole name) are assigned.
    pub allowed_role_names: Option<Regex>,
    /// Groups (names, compared ignoring case, or ids) that never receive a role automatically.
    pub denied_groups: Vec<String>,
}

impl Default for SafetyRules {
    fn default() -> Self {
        Self {
            require_saml_trust: true,
            saml_provider: None,
            skip_service_role_path: true,
            allowed_path_prefixes: Vec::new(),
            allowed_role_names: None,
            denied_groups: Vec::new(),
        }
    }
}

/// A rule said no: the event is skipped, successfully, with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The rule's short name, for logs, metrics and the result's `rule` field.
    pub rule: &'static str,
    pub reason: String,
}

impl Skip {
    pub fn new(rule: &'static str, reason: impl Into<String>) -> Self {
        Self {
            rule,
            reason: reason.into(),
        }
    }
}

impl SafetyRules {
    /// Whether the created role may be assigned at all, judging by the event alone.
    pub fn check_role(&self, created: &RoleCreated) -> Result<(), Skip> {
        let path = created.path.as_str();
        if let Some(managed) = AWS_MANAGED_PATHS.iter().find(|p| path.starts_with(*p)) {
            return Err(Skip::new(
                "aws-managed-path",
                format!("roles under {managed} are managed by AWS"),
            ));
        }
        if self.skip_service_role_path && path.starts_with(SERVICE_ROLE_PATH) {
            return Err(Skip::new(
                "service-role-path",
                format!(
                    "roles under {SERVICE_ROLE_PATH} are service roles \
                     (SKIP_SERVICE_ROLE_PATH is true)"
                ),
            ));
        }
        if !self.allowed_path_prefixes.is_empty()
            && !self
                .allowed_path_prefixes
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()))
        {
            return Err(Skip::new(
                "allowed-paths",
                format!(
                    "path {path} is not under ALLOWED_PATH_PREFIXES ({})",
                    self.allowed_path_prefixes.join(", ")
                ),
            ));
        }
        self.check_role_name(&created.role)?;
        if self.require_saml_trust {
            self.check_trust(created)?;
        }
        Ok(())
    }

    /// The name rule alone: all that can be judged of a deleted role, whose record holds only
    /// its name.
    pub fn check_role_name(&self, role: &RoleName) -> Result<(), Skip> {
        match &self.allowed_role_names {
            Some(pattern) if !pattern.is_match(role.as_str()) => Err(Skip::new(
                "allowed-role-names",
                format!(
                    "role name {role} does not match ALLOWED_ROLE_NAME_PATTERN {}",
                    pattern.as_str()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn check_trust(&self, created: &RoleCreated) -> Result<(), Skip> {
        match created.trust {
            TrustSummary::Unknown => {
                return Err(Skip::new(
                    "saml-trust",
                    "the event's trust policy could not be read, so it is not known to allow \
                     sign-in through a saml provider (REQUIRE_SAML_TRUST is true)",
                ));
            }
            TrustSummary::NotSaml => {
                return Err(Skip::new(
                    "saml-trust",
                    "the trust policy lets no saml provider assume the role with \
                     sts:AssumeRoleWithSAML (REQUIRE_SAML_TRUST is true)",
                ));
            }
            TrustSummary::Saml => {}
        }
        // IAM only lets a role trust a SAML provider of its own account.
        let own: Vec<&String> = created
            .saml_providers
            .iter()
            .filter(|arn| arn.split(':').nth(4) == Some(created.account.as_str()))
            .collect();
        if own.is_empty() {
            return Err(Skip::new(
                "saml-trust",
                format!(
                    "the trust policy names saml providers of other accounts only ({})",
                    created.saml_providers.join(", ")
                ),
            ));
        }
        if let Some(wanted) = &self.saml_provider
            && !own.iter().any(|arn| provider_matches(arn, wanted))
        {
            return Err(Skip::new(
                "saml-provider",
                format!(
                    "the trust policy trusts {} but not SAML_PROVIDER {wanted}",
                    created.saml_providers.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Whether the group may receive roles automatically; `id` once the group is known.
    pub fn check_group(&self, name: &str, id: Option<&str>) -> Result<(), Skip> {
        let denied = self
            .denied_groups
            .iter()
            .find(|d| d.eq_ignore_ascii_case(name) || id.is_some_and(|id| *d == id));
        match denied {
            Some(entry) => Err(Skip::new(
                "denied-group",
                format!("group {name:?} is on DENIED_GROUPS ({entry})"),
            )),
            None => Ok(()),
        }
    }
}

/// A provider ARN against a configured name (`Okta`) or ARN.
fn provider_matches(arn: &str, wanted: &str) -> bool {
    if wanted.starts_with("arn:") {
        arn == wanted
    } else {
        arn.rsplit_once(":saml-provider/")
            .is_some_and(|(_, name)| name == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::{AccountId, RolePath};

    fn role(name: &str, path: &str, trust: TrustSummary, providers: &[&str]) -> RoleCreated {
        RoleCreated {
            event_id: None,
            account: AccountId::parse("111122223333").unwrap(),
            role: RoleName::parse(name).unwrap(),
            path: RolePath::parse(path).unwrap(),
            arn: None,
            trust,
            saml_providers: providers.iter().map(|p| (*p).to_owned()).collect(),
            tags: Vec::new(),
        }
    }

    const OKTA: &str = "arn:aws:iam::111122223333:saml-provider/Okta";

    fn saml(name: &str, path: &str) -> RoleCreated {
        role(name, path, TrustSummary::Saml, &[OKTA])
    }

    fn rule_of(result: Result<(), Skip>) -> Option<&'static str> {
        result.err().map(|skip| skip.rule)
    }

    #[test]
    fn a_saml_trusted_role_at_the_root_passes_the_default_rules() {
        assert_eq!(
            SafetyRules::default().check_role(&saml("Admin", "/")),
            Ok(())
        );
    }

    #[test]
    fn aws_managed_paths_are_skipped_even_when_every_rule_is_relaxed() {
        let relaxed = SafetyRules {
            require_saml_trust: false,
            skip_service_role_path: false,
            ..SafetyRules::default()
        };
        for path in [
            "/aws-service-role/ecs.amazonaws.com/",
            "/aws-reserved/sso.amazonaws.com/",
        ] {
            assert_eq!(
                rule_of(relaxed.check_role(&saml("AWSServiceRoleForECS", path))),
                Some("aws-managed-path"),
                "{path}"
            );
        }
    }

    #[test]
    fn service_role_path_is_skipped_by_default_and_allowed_when_configured() {
        let created = saml("MyLambdaRole", "/service-role/");
        assert_eq!(
            rule_of(SafetyRules::default().check_role(&created)),
            Some("service-role-path")
        );
        let allowing = SafetyRules {
            skip_service_role_path: false,
            ..SafetyRules::default()
        };
        assert_eq!(allowing.check_role(&created), Ok(()));
    }

    #[test]
    fn a_role_without_saml_trust_is_skipped_unless_the_rule_is_off() {
        let ec2 = role("BuildAgent", "/", TrustSummary::NotSaml, &[]);
        assert_eq!(
            rule_of(SafetyRules::default().check_role(&ec2)),
            Some("saml-trust")
        );
        let unknown = role("BuildAgent", "/", TrustSummary::Unknown, &[]);
        assert_eq!(
            rule_of(SafetyRules::default().check_role(&unknown)),
            Some("saml-trust")
        );
        let off = SafetyRules {
            require_saml_trust: false,
            ..SafetyRules::default()
        };
        assert_eq!(off.check_role(&ec2), Ok(()));
    }

    #[test]
    fn a_named_provider_must_be_among_those_the_policy_trusts() {
        let by_name = SafetyRules {
            saml_provider: Some("Okta".into()),
            ..SafetyRules::default()
        };
        assert_eq!(by_name.check_role(&saml("Admin", "/")), Ok(()));
        let other = role(
            "Admin",
            "/",
            TrustSummary::Saml,
            &["arn:aws:iam::111122223333:saml-provider/AzureAD"],
        );
        assert_eq!(rule_of(by_name.check_role(&other)), Some("saml-provider"));
        let by_arn = SafetyRules {
            saml_provider: Some(OKTA.into()),
            ..SafetyRules::default()
        };
        assert_eq!(by_arn.check_role(&saml("Admin", "/")), Ok(()));
        assert_eq!(rule_of(by_arn.check_role(&other)), Some("saml-provider"));
    }

    #[test]
    fn a_saml_provider_of_another_account_does_not_count() {
        let foreign = role(
            "Admin",
            "/",
            TrustSummary::Saml,
            &["arn:aws:iam::999988887777:saml-provider/Okta"],
        );
        let by_name = SafetyRules {
            saml_provider: Some("Okta".into()),
            ..SafetyRules::default()
        };
        assert_eq!(
            rule_of(SafetyRules::default().check_role(&foreign)),
            Some("saml-trust")
        );
        assert_eq!(rule_of(by_name.check_role(&foreign)), Some("saml-trust"));
    }

    #[test]
    fn path_allow_list_lets_through_only_its_prefixes() {
        let rules = SafetyRules {
            allowed_path_prefixes: vec!["/okta/".into(), "/people/".into()],
            ..SafetyRules::default()
        };
        assert_eq!(rules.check_role(&saml("Admin", "/okta/federated/")), Ok(()));
        assert_eq!(rules.check_role(&saml("Admin", "/people/")), Ok(()));
        assert_eq!(
            rule_of(rules.check_role(&saml("Admin", "/"))),
            Some("allowed-paths")
        );
    }

    #[test]
    fn role_name_allow_list_matches_the_whole_name() {
        let rules = SafetyRules {
            allowed_role_names: Some(Regex::new("^(?:okta-.*|Admin)$").unwrap()),
            ..SafetyRules::default()
        };
        assert_eq!(rules.check_role(&saml("okta-ReadOnly", "/")), Ok(()));
        assert_eq!(rules.check_role(&saml("Admin", "/")), Ok(()));
        assert_eq!(
            rule_of(rules.check_role(&saml("SuperAdmin", "/"))),
            Some("allowed-role-names")
        );
    }

    #[test]
    fn denied_groups_match_names_ignoring_case_and_ids_exactly() {
        let rules = SafetyRules {
            denied_groups: vec!["Everyone-Admins".into(), "00g1secret".into()],
            ..SafetyRules::default()
        };
        assert_eq!(
            rule_of(rules.check_group("everyone-admins", None)),
            Some("denied-group")
        );
        assert_eq!(
            rule_of(rules.check_group("Renamed", Some("00g1secret"))),
            Some("denied-group")
        );
        assert_eq!(rules.check_group("Readers", Some("00g2")), Ok(()));
    }
}
