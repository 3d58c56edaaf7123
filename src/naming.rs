//! The naming rules that map a role to the name of its Okta group.
//!
//! Three rules, the first that applies wins:
//! 1. a role tag (`GROUP_TAG_KEY`, e.g. `okta-group`) names the group outright;
//! 2. `ROLE_NAME_PATTERN`, a regex with named captures, takes the role name apart, and the
//!    template may use each capture as a placeholder (`^(?P<team>[a-z]+)-(?P<level>admin|read)$`
//!    with `okta-{team}-{level}`): the inverse of Okta's own group-filter convention, which reads
//!    the role from the group's name. A role the pattern does not match is skipped;
//! 3. `GROUP_NAME_TEMPLATE` alone, from `{role}` and `{account}`.
//!
//! A template holds literal text and placeholders, at least one of them: `{role}` alone gives a
//! group per role, `aws_{account}` a group per account that receives all of that account's
//! roles. A template with none would send every role to one group, and is refused.

use std::collections::HashMap;
use std::fmt;

use regex::Regex;

use crate::event::{EventError, RoleCreated, Tag};
use crate::role::{AccountId, RoleName};
use crate::rules::Skip;

/// Okta's longest group name.
const MAX_GROUP_NAME: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Role,
    Account,
    Capture(String),
}

/// A piece of a template: literal text, or the name inside `{…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders; unbalanced braces and control characters
/// are refused, naming the template.
pub(crate) fn split_template(source: &str) -> Result<Vec<Piece<'_>>, String> {
    if source.chars().any(char::is_control) {
        return Err(format!("{source:?} contains a control character"));
    }
    let mut pieces = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        if rest[..open].contains('}') {
            return Err(format!("{source:?} has a '}}' with no opening '{{'"));
        }
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("{source:?} has a '{{' with no closing '}}'"))?;
        pieces.push(Piece::Placeholder(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("{source:?} has a '}}' with no opening '{{'"));
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// A parsed `GROUP_NAME_TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNameTemplate {
    source: String,
    parts: Vec<Part>,
}

impl GroupNameTemplate {
    /// A template with the placeholders `{role}` and `{account}` only.
    pub fn parse(source: &str) -> Result<Self, String> {
        Self::parse_with(source, &[])
    }

    /// A template that may also use the named captures `captures` as placeholders.
    pub fn parse_with(source: &str, captures: &[&str]) -> Result<Self, String> {
        let mut parts = Vec::new();
        for piece in split_template(source)? {
            parts.push(match piece {
                Piece::Text(text) => Part::Text(text.to_owned()),
                Piece::Placeholder("role") => Part::Role,
                Piece::Placeholder("account") => Part::Account,
                Piece::Placeholder(name) if captures.contains(&name) => {
                    Part::Capture(name.to_owned())
                }
                Piece::Placeholder(other) => {
                    let mut known = vec!["{role}".to_owned(), "{account}".to_owned()];
                    known.extend(captures.iter().map(|c| format!("{{{c}}}")));
                    return Err(format!(
                        "{source:?} has an unknown placeholder {{{other}}}: use {}",
                        known.join(", ")
                    ));
                }
            });
        }
        if !parts.iter().any(|p| !matches!(p, Part::Text(_))) {
            return Err(format!("{source:?} must contain {{role}} or {{account}}"));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// Whether the template uses the capture `name`.
    pub fn uses(&self, name: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Capture(c) if c == name))
    }

    /// The group name for a role in an account.
    pub fn render(&self, role: &RoleName, account: &AccountId) -> String {
        self.render_with(role, account, &HashMap::new())
    }

    fn render_with(
        &self,
        role: &RoleName,
        account: &AccountId,
        captures: &HashMap<&str, &str>,
    ) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Role => role.as_str(),
                Part::Account => account.as_str(),
                Part::Capture(name) => captures.get(name.as_str()).copied().unwrap_or(""),
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

/// The naming rules together, as configured.
#[derive(Debug, Clone, Default)]
pub struct GroupNaming {
    /// The role tag whose value names the group, when set.
    pub tag_key: Option<String>,
    /// Matched against the whole role name; its named captures feed the template.
    pub role_pattern: Option<Regex>,
    pub template: GroupNameTemplate,
}

/// The group a role maps to, and which rule said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName {
    pub name: String,
    /// `tag`, `pattern` or `template`.
    pub rule: &'static str,
}

/// Why no group name could be had for a role.
#[derive(Debug)]
pub enum NoGroup {
    /// A rule skips the role (the pattern does not match it).
    Skip(Skip),
    /// The role's naming tag holds no usable group name.
    BadTag(EventError),
}

impl GroupNaming {
    pub fn group_for(&self, created: &RoleCreated) -> Result<GroupName, NoGroup> {
        self.group_of(&created.role, &created.account, &created.tags)
    }

    /// The group of a role known by its name, account and tags (none for a deleted role: IAM's
    /// record of a deletion carries none, so a tag rule cannot apply to it).
    pub fn group_of(
        &self,
        role: &RoleName,
        account: &AccountId,
        tags: &[Tag],
    ) -> Result<GroupName, NoGroup> {
        if let Some(key) = &self.tag_key
            && let Some(tag) = tags.iter().find(|t| t.key == *key)
        {
            let name = tag.value.trim();
            let invalid = |reason: String| {
                NoGroup::BadTag(EventError::Invalid {
                    field: "detail.requestParameters.tags",
                    reason,
                })
            };
            if name.is_empty() {
                return Err(invalid(format!(
                    "tag {key:?} names no group: its value is empty"
                )));
            }
            if name.chars().count() > MAX_GROUP_NAME || name.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "tag {key:?} is not an okta group name (at most {MAX_GROUP_NAME} \
                     characters, no control characters)"
                )));
            }
            return Ok(GroupName {
                name: name.to_owned(),
                rule: "tag",
            });
        }
        let Some(pattern) = &self.role_pattern else {
            return Ok(GroupName {
                name: self.template.render(role, account),
                rule: "template",
            });
        };
        let Some(found) = pattern.captures(role.as_str()) else {
            return Err(NoGroup::Skip(Skip::new(
                "role-name-pattern",
                format!(
                    "role name {role} does not match ROLE_NAME_PATTERN {}",
                    pattern.as_str()
                ),
            )));
        };
        let mut captures: HashMap<&str, &str> = HashMap::new();
        for name in pattern.capture_names().flatten() {
            match found.name(name) {
                Some(m) if !m.as_str().is_empty() => {
                    captures.insert(name, m.as_str());
                }
                // A capture the template uses must say something, or the group's name would
                // be a fragment (`g-` for `g-{x}`).
                _ if self.template.uses(name) => {
                    return Err(NoGroup::Skip(Skip::new(
                        "role-name-pattern",
                        format!(
                            "ROLE_NAME_PATTERN's capture {name:?} matched nothing in role name \
                             {role}, and GROUP_NAME_TEMPLATE {} needs it",
                            self.template
                        ),
                    )));
                }
                _ => {}
            }
        }
        let name = self.template.render_with(role, account, &captures);
        if name.trim().is_empty() {
            return Err(NoGroup::Skip(Skip::new(
                "group-name-template",
                format!(
                    "GROUP_NAME_TEMPLATE {} gives role {role} an empty group name",
                    self.template
                ),
            )));
        }
        Ok(GroupName {
            name,
            rule: "pattern",
        })
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

    fn created(role_name: &str, tags: &[(&str, &str)]) -> RoleCreated {
        RoleCreated {
            event_id: None,
            account: account(),
            role: role(role_name),
            path: crate::role::RolePath::root(),
            arn: None,
            trust: crate::event::TrustSummary::Saml,
            saml_providers: Vec::new(),
            tags: tags
                .iter()
                .map(|(k, v)| crate::event::Tag {
                    key: (*k).to_owned(),
                    value: (*v).to_owned(),
                })
                .collect(),
        }
    }

    fn naming(tag: Option<&str>, pattern: Option<&str>, template: &str) -> GroupNaming {
        let role_pattern = pattern.map(|p| Regex::new(&format!("^(?:{p})$")).unwrap());
        let captures: Vec<&str> = role_pattern
            .iter()
            .flat_map(|p| p.capture_names().flatten())
            .collect();
        GroupNaming {
            tag_key: tag.map(str::to_owned),
            template: GroupNameTemplate::parse_with(template, &captures).unwrap(),
            role_pattern: role_pattern.clone(),
        }
    }

    fn name_of(result: Result<GroupName, NoGroup>) -> (String, &'static str) {
        match result {
            Ok(found) => (found.name, found.rule),
            Err(NoGroup::Skip(skip)) => (skip.reason, skip.rule),
            Err(NoGroup::BadTag(err)) => (err.to_string(), "bad-tag"),
        }
    }

    #[test]
    fn a_naming_tag_wins_over_the_pattern_and_the_template() {
        let rules = naming(
            Some("okta-group"),
            Some("(?P<team>[a-z]+)-admin"),
            "aws-{team}",
        );
        let tagged = created("data-admin", &[("okta-group", " Data Platform Admins ")]);
        assert_eq!(
            name_of(rules.group_for(&tagged)),
            ("Data Platform Admins".to_owned(), "tag")
        );
    }

    #[test]
    fn tag_keys_are_matched_exactly_as_iam_does() {
        let rules = naming(Some("okta-group"), None, "{role}");
        let other_case = created("Admin", &[("Okta-Group", "Admins")]);
        assert_eq!(
            name_of(rules.group_for(&other_case)),
            ("Admin".to_owned(), "template")
        );
    }

    #[test]
    fn an_empty_naming_tag_is_an_error_naming_the_tag() {
        let rules = naming(Some("okta-group"), None, "{role}");
        let (text, rule) = name_of(rules.group_for(&created("Admin", &[("okta-group", " ")])));
        assert_eq!(rule, "bad-tag");
        assert!(
            text.contains("\"okta-group\"") && text.contains("empty"),
            "{text}"
        );
    }

    #[test]
    fn the_pattern_captures_feed_the_template() {
        let rules = naming(
            None,
            "(?P<team>[a-z]+)-(?P<level>admin|read)".into(),
            "okta-{team}-{level}-{account}",
        );
        assert_eq!(
            name_of(rules.group_for(&created("billing-read", &[]))),
            ("okta-billing-read-111122223333".to_owned(), "pattern")
        );
    }

    #[test]
    fn a_role_the_pattern_does_not_match_is_skipped_by_the_pattern_rule() {
        let rules = naming(None, Some("(?P<team>[a-z]+)-admin"), "{team}");
        let (reason, rule) = name_of(rules.group_for(&created("billing-read", &[])));
        assert_eq!(rule, "role-name-pattern");
        assert!(reason.contains("billing-read"), "{reason}");
    }

    #[test]
    fn template_may_use_only_the_patterns_capture_names() {
        assert!(GroupNameTemplate::parse_with("{team}", &["team"]).is_ok());
        let err = GroupNameTemplate::parse_with("{squad}", &["team"]).unwrap_err();
        assert!(err.contains("{squad}") && err.contains("{team}"), "{err}");
    }

    #[test]
    fn a_capture_that_matched_nothing_skips_rather_than_naming_a_fragment() {
        let optional = naming(None, Some("(?P<x>a)?b"), "g-{x}");
        let (reason, rule) = name_of(optional.group_for(&created("b", &[])));
        assert_eq!(rule, "role-name-pattern");
        assert!(reason.contains("\"x\""), "{reason}");
        let empty = naming(None, Some("(?P<team>[a-z]*)-admin"), "{team}");
        assert_eq!(
            name_of(empty.group_for(&created("-admin", &[]))).1,
            "role-name-pattern"
        );
        assert_eq!(
            name_of(optional.group_for(&created("ab", &[]))),
            ("g-a".to_owned(), "pattern")
        );
    }
}
