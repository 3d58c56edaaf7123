//! The value a role takes in `samlRoles`: Okta's label for the imported role, which is the bare
//! role name in an app that serves one account and `[alias] -- RoleName` (the account id when
//! the account has no alias) in an app that lists the roles of several accounts.
//!
//! The label is taken, in order, from the app's profile schema when it lists the allowed
//! values, then from `ROLE_LABEL_FORMAT`, and by default from the shape of the labels already
//! on the group's assignment and the accounts the app serves. A label picked from Okta's own
//! list is never a guess; when the list holds several that could be this role's, nothing is
//! written.
//!
//! Assumed (no public source settles it): the AWS app's schema lists imported roles as
//! `samlRoles.items.enum` and/or `samlRoles.items.oneOf[].const`, under the `base` or `custom`
//! definitions. A schema with neither is read as "Okta lists nothing here", not "no roles".

use serde_json::Value;

use crate::naming::{Piece, split_template};
use crate::role::{AccountId, RoleName};

/// The separator Okta puts between the account and the role in a multi-account label.
const MULTI_ACCOUNT_SEPARATOR: &str = " -- ";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Role,
    Account,
    Alias,
}

/// `ROLE_LABEL_FORMAT`: `auto` or a template of `{role}`, `{account}` and `{alias}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelFormat {
    /// The bare name, or `[alias] -- name` where the app is seen to serve several accounts.
    Auto,
    Template(LabelTemplate),
}

/// A parsed label template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelTemplate(Vec<Part>);

impl LabelFormat {
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        let mut parts = Vec::new();
        for piece in split_template(source)? {
            parts.push(match piece {
                Piece::Text(text) => Part::Text(text.to_owned()),
                Piece::Placeholder("role") => Part::Role,
                Piece::Placeholder("account") => Part::Account,
                Piece::Placeholder("alias") => Part::Alias,
                Piece::Placeholder(other) => {
                    return Err(format!(
                        "{source:?} has an unknown placeholder {{{other}}}: use {{role}}, \
                         {{account}} and {{alias}}, or auto"
                    ));
                }
            });
        }
        if !parts.contains(&Part::Role) {
            return Err(format!("{source:?} must contain {{role}}, or be auto"));
        }
        Ok(Self::Template(LabelTemplate(parts)))
    }
}

/// What is known when the label is chosen.
#[derive(Debug, Clone, Copy)]
pub struct LabelContext<'a> {
    pub role: &'a RoleName,
    pub account: &'a AccountId,
    /// The account's alias from `ACCOUNT_ALIASES`, when configured.
    pub alias: Option<&'a str>,
    /// The accounts the app serves, read from its identity provider ARNs (may be empty).
    pub app_accounts: &'a [AccountId],
    /// The labels already on the group's assignment.
    pub existing: &'a [String],
}

impl LabelContext<'_> {
    fn multi_account_label(&self) -> String {
        let shown = self.alias.unwrap_or(self.account.as_str());
        format!("[{shown}]{MULTI_ACCOUNT_SEPARATOR}{}", self.role)
    }

    fn app_serves_several_accounts(&self) -> bool {
        self.app_accounts.len() > 1
    }
}

/// The label, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// Okta's schema lists this label: write it.
    Listed(String),
    /// Okta's schema lists labels, none of them this role's: Okta has not imported it.
    NotListed { looked_for: Vec<String> },
    /// Okta lists several labels that could be this role's, for different accounts.
    Ambiguous(Vec<String>),
    /// Okta lists nothing: the label as the configured or inferred format makes it.
    Formatted(String),
}

/// The labels a schema lists for `samlRoles`, or `None` when it lists none.
pub fn listed_labels(schema: &Value) -> Option<Vec<String>> {
    let mut found: Option<Vec<String>> = None;
    for definition in ["base", "custom"] {
        let items = &schema["definitions"][definition]["properties"]["samlRoles"]["items"];
        if let Some(values) = items["enum"].as_array() {
            let list = found.get_or_insert_with(Vec::new);
            list.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(choices) = items["oneOf"].as_array() {
            let list = found.get_or_insert_with(Vec::new);
            list.extend(
                choices
                    .iter()
                    .filter_map(|c| c["const"].as_str())
                    .map(str::to_owned),
            );
        }
    }
    if let Some(list) = found.as_mut() {
        list.sort();
        list.dedup();
    }
    found
}

/// The labels that can only be this account's role: `[alias] -- Name`, `[account] -- Name`,
/// and the bare name unless the app serves several accounts (where a bare name says not
/// whose role it is).
pub fn own_labels(ctx: &LabelContext<'_>) -> Vec<String> {
    let bare = ctx.role.to_string();
    let mut own: Vec<String> = Vec::new();
    if !ctx.app_serves_several_accounts() {
        own.push(bare.clone());
    }
    if let Some(alias) = ctx.alias {
        own.push(format!("[{alias}]{MULTI_ACCOUNT_SEPARATOR}{bare}"));
    }
    own.push(format!("[{}]{MULTI_ACCOUNT_SEPARATOR}{bare}", ctx.account));
    own
}

/// The label for the role from Okta's list of imported labels.
pub fn from_list(listed: &[String], ctx: &LabelContext<'_>) -> Label {
    let bare = ctx.role.to_string();
    let mut wanted: Vec<String> = Vec::new();
    if let Some(alias) = ctx.alias {
        wanted.push(format!("[{alias}]{MULTI_ACCOUNT_SEPARATOR}{bare}"));
    }
    wanted.push(format!("[{}]{MULTI_ACCOUNT_SEPARATOR}{bare}", ctx.account));
    // In an app of several accounts a bare name does not say whose role it is.
    if ctx.app_serves_several_accounts() {
        wanted.push(bare.clone());
    } else {
        wanted.insert(0, bare.clone());
    }
    if let Some(label) = wanted.iter().find(|w| listed.contains(w)) {
        return Label::Listed(label.clone());
    }
    let suffix = format!("]{MULTI_ACCOUNT_SEPARATOR}{bare}");
    let others: Vec<String> = listed
        .iter()
        .filter(|l| l.starts_with('[') && l.ends_with(&suffix))
        .cloned()
        .collect();
    match others.as_slice() {
        [] => Label::NotListed { looked_for: wanted },
        // The account's alias is known and its label is not among them: those are other
        // accounts' roles of the same name.
        _ if ctx.alias.is_some() => Label::NotListed { looked_for: wanted },
        // The app serves this account alone and every label it lists names one account: the
        // one bracketed label is this account's, under an alias not configured here.
        [only]
            if ctx.app_accounts == [ctx.account.clone()]
                && one_account_shown(listed)
                && !names_another_account(only, ctx.account) =>
        {
            Label::Listed(only.clone())
        }
        _ => Label::Ambiguous(others),
    }
}

/// Whether every bracketed label names the same account (alias or id).
fn one_account_shown(listed: &[String]) -> bool {
    let mut shown = listed
        .iter()
        .filter_map(|l| l.strip_prefix('['))
        .filter_map(|rest| rest.split_once(&format!("]{MULTI_ACCOUNT_SEPARATOR}")))
        .map(|(account, _)| account);
    match shown.next() {
        Some(first) => shown.all(|other| other == first),
        None => true,
    }
}

/// Whether a bracketed label shows another account's id.
fn names_another_account(label: &str, account: &AccountId) -> bool {
    label
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(shown, _)| AccountId::parse(shown).ok())
        .is_some_and(|shown| shown != *account)
}

/// The labels among `present` (a group's) that can only be this role's: what a deletion of
/// the role takes out. A label under an alias not configured in `ACCOUNT_ALIASES` is not
/// among them (a group's labels, unlike Okta's list, do not show which accounts the app
/// serves), so removals in multi-account apps need the aliases.
pub fn own_labels_in(present: &[String], ctx: &LabelContext<'_>) -> Vec<String> {
    own_labels(ctx)
        .into_iter()
        .filter(|label| present.contains(label))
        .collect()
}

/// The label as `format` makes it, where Okta lists nothing to choose from.
pub fn formatted(format: &LabelFormat, ctx: &LabelContext<'_>) -> String {
    match format {
        LabelFormat::Auto => {
            let existing_multi = ctx
                .existing
                .iter()
                .any(|l| l.starts_with('[') && l.contains(&format!("]{MULTI_ACCOUNT_SEPARATOR}")));
            if ctx.app_serves_several_accounts() || existing_multi {
                ctx.multi_account_label()
            } else {
                ctx.role.to_string()
            }
        }
        LabelFormat::Template(LabelTemplate(parts)) => parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Role => ctx.role.as_str(),
                Part::Account => ctx.account.as_str(),
                Part::Alias => ctx.alias.unwrap_or(ctx.account.as_str()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Case {
        role: RoleName,
        account: AccountId,
        alias: Option<&'static str>,
        app_accounts: Vec<AccountId>,
        existing: Vec<String>,
    }

    impl Case {
        fn new(role: &str) -> Self {
            Self {
                role: RoleName::parse(role).unwrap(),
                account: AccountId::parse("111122223333").unwrap(),
                alias: None,
                app_accounts: vec![AccountId::parse("111122223333").unwrap()],
                existing: Vec::new(),
            }
        }

        fn ctx(&self) -> LabelContext<'_> {
            LabelContext {
                role: &self.role,
                account: &self.account,
                alias: self.alias,
                app_accounts: &self.app_accounts,
                existing: &self.existing,
            }
        }
    }

    fn several_accounts() -> Vec<AccountId> {
        vec![
            AccountId::parse("111122223333").unwrap(),
            AccountId::parse("444455556666").unwrap(),
        ]
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn schema_labels_are_read_from_enum_and_one_of() {
        let schema = json!({"definitions": {
            "base": {"properties": {"samlRoles": {"items": {
                "enum": ["Admin", "ReadOnly"],
                "oneOf": [{"const": "Admin", "title": "Admin"}, {"const": "Billing", "title": "Billing"}]
            }}}},
            "custom": {"properties": {}}
        }});
        assert_eq!(
            listed_labels(&schema),
            Some(strings(&["Admin", "Billing", "ReadOnly"]))
        );
        assert_eq!(listed_labels(&json!({"definitions": {"base": {}}})), None);
    }

    #[test]
    fn a_one_account_app_lists_the_bare_name() {
        let case = Case::new("Admin");
        let listed = strings(&["Admin", "ReadOnly"]);
        assert_eq!(
            from_list(&listed, &case.ctx()),
            Label::Listed("Admin".into())
        );
    }

    #[test]
    fn a_multi_account_app_gets_the_label_of_the_configured_alias() {
        let mut case = Case::new("Admin");
        case.alias = Some("prod-main");
        case.app_accounts = several_accounts();
        let listed = strings(&["[prod-main] -- Admin", "[staging] -- Admin"]);
        assert_eq!(
            from_list(&listed, &case.ctx()),
            Label::Listed("[prod-main] -- Admin".into())
        );
    }

    #[test]
    fn a_multi_account_app_without_an_alias_uses_the_account_id_label() {
        let mut case = Case::new("Admin");
        case.app_accounts = several_accounts();
        let listed = strings(&["[111122223333] -- Admin", "[444455556666] -- Admin"]);
        assert_eq!(
            from_list(&listed, &case.ctx()),
            Label::Listed("[111122223333] -- Admin".into())
        );
    }

    #[test]
    fn labels_of_other_accounts_are_never_taken_for_this_ones() {
        let mut case = Case::new("Admin");
        case.app_accounts = several_accounts();
        let listed = strings(&["[staging] -- Admin", "[prod] -- Admin"]);
        assert_eq!(
            from_list(&listed, &case.ctx()),
            Label::Ambiguous(strings(&["[staging] -- Admin", "[prod] -- Admin"]))
        );
        case.app_accounts = Vec::new();
        let one = strings(&["[staging] -- Admin"]);
        assert!(matches!(from_list(&one, &case.ctx()), Label::Ambiguous(_)));
    }

    #[test]
    fn the_one_bracketed_label_of_an_app_serving_only_this_account_is_its_own() {
        let case = Case::new("Admin");
        let listed = strings(&["[prod-main] -- Admin", "[prod-main] -- ReadOnly"]);
        assert_eq!(
            from_list(&listed, &case.ctx()),
            Label::Listed("[prod-main] -- Admin".into())
        );
        // A deletion needs the alias configured to take such a label out.
        assert!(own_labels_in(&listed, &case.ctx()).is_empty());
        let other = strings(&["[444455556666] -- Admin"]);
        assert!(matches!(
            from_list(&other, &case.ctx()),
            Label::Ambiguous(_)
        ));
    }

    #[test]
    fn another_accounts_label_is_never_taken_when_the_alias_is_known_or_accounts_differ() {
        let mut case = Case::new("Admin");
        let listed = strings(&["[staging] -- Admin", "[prod] -- ReadOnly"]);
        assert!(matches!(
            from_list(&listed, &case.ctx()),
            Label::Ambiguous(_)
        ));
        case.alias = Some("prod");
        assert!(matches!(
            from_list(&listed, &case.ctx()),
            Label::NotListed { .. }
        ));
        assert!(own_labels_in(&listed, &case.ctx()).is_empty());
    }

    #[test]
    fn a_role_okta_has_not_listed_is_reported_with_what_was_looked_for() {
        let case = Case::new("NewRole");
        let listed = strings(&["Admin", "NewRoleX", "[prod] -- NewRoleX"]);
        let Label::NotListed { looked_for } = from_list(&listed, &case.ctx()) else {
            panic!("expected NotListed");
        };
        assert_eq!(
            looked_for,
            strings(&["NewRole", "[111122223333] -- NewRole"])
        );
    }

    #[test]
    fn auto_format_follows_the_labels_already_on_the_assignment() {
        let mut case = Case::new("Admin");
        assert_eq!(formatted(&LabelFormat::Auto, &case.ctx()), "Admin");
        case.existing = strings(&["[111122223333] -- ReadOnly"]);
        assert_eq!(
            formatted(&LabelFormat::Auto, &case.ctx()),
            "[111122223333] -- Admin"
        );
        case.existing.clear();
        case.app_accounts = several_accounts();
        case.alias = Some("prod");
        assert_eq!(
            formatted(&LabelFormat::Auto, &case.ctx()),
            "[prod] -- Admin"
        );
    }

    #[test]
    fn a_configured_format_is_rendered_with_the_alias_or_the_account() {
        let mut case = Case::new("Admin");
        let format = LabelFormat::parse("{alias}/{role}").unwrap();
        assert_eq!(formatted(&format, &case.ctx()), "111122223333/Admin");
        case.alias = Some("prod");
        assert_eq!(formatted(&format, &case.ctx()), "prod/Admin");
        assert!(LabelFormat::parse("{alias}").is_err());
        assert!(LabelFormat::parse("{role}}").is_err());
        assert!(LabelFormat::parse("{role}\n").is_err());
        assert!(LabelFormat::parse("{team}-{role}").is_err());
        assert_eq!(LabelFormat::parse("AUTO"), Ok(LabelFormat::Auto));
    }

    #[test]
    fn own_labels_leave_out_the_bare_name_in_an_app_of_several_accounts() {
        let mut case = Case::new("Admin");
        case.alias = Some("prod");
        assert_eq!(
            own_labels(&case.ctx()),
            strings(&["Admin", "[prod] -- Admin", "[111122223333] -- Admin"])
        );
        case.app_accounts = several_accounts();
        assert_eq!(
            own_labels(&case.ctx()),
            strings(&["[prod] -- Admin", "[111122223333] -- Admin"])
        );
    }
}
