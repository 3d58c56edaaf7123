//! The naming rule that maps a role to the name of its Okta group.
//!
//! A template holds literal text and the placeholders `{role}` and `{account}`, at least one of
//! them: `{role}` alone gives a group per role, `aws_{account}` a group per account that
//! receives all of that account's roles. A template with neither would send every role to
//! one group, and is refused.

use std::fmt;

use crate::role::{AccountId, RoleName};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Role,
    Account,
}

/// A parsed `GROUP_NAME_TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNameTemplate {
    source: String,
    parts: Vec<Part>,
}

impl GroupNameTemplate {
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{source:?} has a '{{' with no closing '}}'"))?;
            let placeholder = &rest[open + 1..open + close];
            parts.push(match placeholder {
                "role" => Part::Role,
                "account" => Part::Account,
                other => {
                    return Err(format!(
                        "{source:?} has an unknown placeholder {{{other}}}: use {{role}} and {{account}}"
                    ));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{source:?} has a '}}' with no opening '{{'"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.contains(&Part::Role) && !parts.contains(&Part::Account) {
            return Err(format!("{source:?} must contain {{role}} or {{account}}"));
        }
        if source.chars().any(char::is_control) {
            return Err(format!("{source:?} contains a control character"));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The group name for a role in an account.
    pub fn render(&self, role: &RoleName, account: &AccountId) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Role => role.as_str(),
                Part::Account => account.as_str(),
            })
            .collect()
    }
}

impl Default for GroupNameTemplate {
    fn default() -> Self {
        Self {
            source: "{role}".to_owned(),
            parts: vec![Part::Role],
        }
    }
}

impl fmt::Display for GroupNameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleName {
        RoleName::parse(name).unwrap()
    }

    fn account() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    #[test]
    fn default_template_is_the_role_name() {
        let name = GroupNameTemplate::default().render(&role("DataEngineer"), &account());
        assert_eq!(name, "DataEngineer");
    }

    #[test]
    fn template_with_account_and_role_renders_both() {
        let template = GroupNameTemplate::parse("aws_{account}_{role}").unwrap();
        assert_eq!(
            template.render(&role("Data.Eng+Ops"), &account()),
            "aws_111122223333_Data.Eng+Ops"
        );
    }

    #[test]
    fn template_without_any_placeholder_is_rejected() {
        let err = GroupNameTemplate::parse("aws-admins").unwrap_err();
        assert!(err.contains("{role} or {account}"), "{err}");
    }

    #[test]
    fn template_per_account_gives_one_group_for_all_its_roles() {
        let template = GroupNameTemplate::parse("aws_{account}").unwrap();
        assert_eq!(template.render(&role("A"), &account()), "aws_111122223333");
        assert_eq!(template.render(&role("B"), &account()), "aws_111122223333");
    }

    #[test]
    fn template_with_unknown_placeholder_names_it() {
        let err = GroupNameTemplate::parse("{team}-{role}").unwrap_err();
        assert!(err.contains("{team}"), "{err}");
    }

    #[test]
    fn template_with_unbalanced_braces_is_rejected() {
        assert!(GroupNameTemplate::parse("{role").is_err());
        assert!(GroupNameTemplate::parse("role}").is_err());
    }
}
