//! The difference between what IAM holds and what one Okta AWS app's group assignments say:
//! pure, so that every rule of the sweep is tested without a network.
//!
//! Every role of the swept accounts goes through the same safety and naming rules as an event,
//! and its label is chosen the same way. A label is only ever removed when the naming rules
//! map it to the group it is in and its IAM role is gone: a label the rules do not map (put
//! there by hand) is never touched, nor is one of an account the sweep did not list.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::apps::App;
use crate::assign;
use crate::config::Config;
use crate::iam::IamRole;
use crate::labels::{self, Label, LabelContext};
use crate::okta::{Assignment, ListedAssignment};
use crate::role::{AccountId, RoleName};

/// One group's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupChange {
    pub app_id: String,
    pub group_name: String,
    /// `None` until the group is found in Okta (it has no assignment to this app yet).
    pub group_id: Option<String>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
    /// The assignment as the listing gave it; `None` when the group has none yet.
    #[serde(skip)]
    pub assignment: Option<Assignment>,
    /// The account and role of each label in `remove`, confirmed gone before the write.
    #[serde(skip)]
    pub stale_roles: Vec<(AccountId, RoleName)>,
}

/// Something an operator may want to know that the sweep does not change by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: FindingKind,
    pub account: String,
    pub role: String,
    pub group: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A rule skips the role.
    Skipped,
    /// Okta does not list the role's label yet (refresh application data).
    NotImported,
    /// Several labels could be the role's; `ACCOUNT_ALIASES` would tell.
    AmbiguousLabel,
    /// No group has the name the rules give.
    GroupMissing,
    /// The group has no assignment and `ASSIGN_UNASSIGNED_GROUPS` is false.
    GroupNotAssigned,
    /// A label the rules map to this group whose IAM role no longer exists.
    Stale,
    /// An account (or app) the sweep could not cover: the detail says why.
    Failed,
    /// The deadline came before the sweep reached this account or app.
    NotReached,
}

/// What the sweep found for one app.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppPlan {
    pub changes: Vec<GroupChange>,
    pub findings: Vec<Finding>,
}

/// The accounts this app serves in this sweep, with their roles.
pub struct AppInputs<'a> {
    pub app: &'a App,
    /// The labels the app's schema lists, when it lists any.
    pub listed: Option<&'a [String]>,
    pub assignments: &'a [ListedAssignment],
    /// The swept accounts this app serves; only their labels are judged.
    pub accounts: &'a [AccountId],
    pub roles: &'a [IamRole],
}

/// The plan for one app: labels to add to (and, with `remove_stale`, remove from) groups.
pub fn plan_app(config: &Config, inputs: &AppInputs<'_>, remove_stale: bool) -> AppPlan {
    let app_id = inputs.app.id.as_str();
    let mut plan = AppPlan::default();

    // Assigned groups by name; a name held by several assigned groups is ambiguous and left.
    // Okta's own groups only: an imported group of the same name is chosen (or passed over)
    // as the event path chooses, when the group is looked up, and the built-in Everyone is
    // never a target.
    let mut assigned: BTreeMap<&str, Vec<&ListedAssignment>> = BTreeMap::new();
    for listed in inputs.assignments {
        if let Some(group) = listed.embedded.as_ref().and_then(|e| e.group.as_ref())
            && group.kind == "OKTA_GROUP"
        {
            assigned
                .entry(group.profile.name.as_str())
                .or_default()
                .push(listed);
        }
    }
    let labels_of = |listed: &ListedAssignment| {
        assign::saml_roles(&listed.assignment.profile).unwrap_or_default()
    };

    // What the rules want: group name -> labels, in the order the roles were listed.
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for role in inputs.roles {
        let finding = |kind, group: Option<&str>, detail: String| Finding {
            kind,
            account: role.account.to_string(),
            role: role.name.to_string(),
            group: group.map(str::to_owned),
            detail,
        };
        let created = role.as_created();
        if let Err(skip) = config.rules.check_role(&created) {
            plan.findings.push(finding(
                FindingKind::Skipped,
                None,
                format!("{}: {}", skip.rule, skip.reason),
            ));
            continue;
        }
        let group = match config.naming.group_for(&created) {
            Ok(group) => group.name,
            Err(crate::naming::NoGroup::Skip(skip)) => {
                plan.findings.push(finding(
                    FindingKind::Skipped,
                    None,
                    format!("{}: {}", skip.rule, skip.reason),
                ));
                continue;
            }
            Err(crate::naming::NoGroup::BadTag(err)) => {
                plan.findings
                    .push(finding(FindingKind::Skipped, None, err.to_string()));
                continue;
            }
        };
        let group_ids: Vec<&str> = assigned
            .get(group.as_str())
            .into_iter()
            .flatten()
            .map(|l| l.assignment.id.as_deref().unwrap_or_default())
            .collect();
        if let Err(skip) = config.rules.check_group(&group, None).and_then(|()| {
            group_ids
                .iter()
                .try_for_each(|id| config.rules.check_group(&group, Some(id)))
        }) {
            plan.findings.push(finding(
                FindingKind::Skipped,
                Some(&group),
                format!("{}: {}", skip.rule, skip.reason),
            ));
            continue;
        }
        let existing: Vec<String> = match assigned.get(group.as_str()).map(Vec::as_slice) {
            Some([only]) => labels_of(only),
            _ => Vec::new(),
        };
        let ctx = LabelContext {
            role: &role.name,
            account: &role.account,
            alias: config
                .account_aliases
                .get(&role.account)
                .map(String::as_str),
            app_accounts: &inputs.app.accounts,
            existing: &existing,
        };
        let label = match inputs.listed {
            Some(listed) => labels::from_list(listed, &ctx),
            None => Label::Formatted(labels::formatted(&config.label_format, &ctx)),
        };
        match label {
            Label::Listed(label) | Label::Formatted(label) => {
                let labels = wanted.entry(group).or_default();
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            Label::NotListed { looked_for } => plan.findings.push(finding(
                FindingKind::NotImported,
                Some(&group),
                format!(
                    "okta lists none of {}: refresh application data of app {app_id}",
                    looked_for.join(", ")
                ),
            )),
            Label::Ambiguous(labels) => plan.findings.push(finding(
                FindingKind::AmbiguousLabel,
                Some(&group),
                format!("okta lists {}: set ACCOUNT_ALIASES", labels.join(", ")),
            )),
        }
    }

    // Labels the rules map to their group whose role is gone.
    let existing_roles: BTreeSet<(String, String)> = inputs
        .roles
        .iter()
        .map(|r| (r.account.to_string(), r.name.as_str().to_ascii_lowercase()))
        .collect();
    let mut stale: BTreeMap<String, Vec<(String, AccountId, RoleName)>> = BTreeMap::new();
    for (name, listed) in &assigned {
        let [listed] = listed.as_slice() else {
            continue;
        };
        let group_id = listed.assignment.id.as_deref();
        if config.rules.check_group(name, group_id).is_err() {
            continue;
        }
        for label in labels_of(listed) {
            let Some((account, role)) = owner_of(config, inputs, &label) else {
                continue;
            };
            if existing_roles.contains(&(account.to_string(), role.as_str().to_ascii_lowercase())) {
                continue;
            }
            let maps_here = config.rules.check_role_name(&role).is_ok()
                && config
                    .naming
                    .group_of(&role, &account, &[])
                    .is_ok_and(|g| g.name == *name);
            if !maps_here {
                continue;
            }
            // Tags are gone with the role: with a tag rule, the label may sit here by design of
            // a tag that named this group for some other role, so it is reported, not removed.
            let removable = remove_stale && config.naming.tag_key.is_none();
            plan.findings.push(Finding {
                kind: FindingKind::Stale,
                account: account.to_string(),
                role: role.to_string(),
                group: Some((*name).to_owned()),
                detail: match (remove_stale, removable) {
                    (true, true) => format!("label {label:?} has no iam role: removed"),
                    (true, false) => format!(
                        "label {label:?} has no iam role: not removed, since GROUP_TAG_KEY is set"
                    ),
                    _ => format!("label {label:?} has no iam role"),
                },
            });
            if removable {
                stale
                    .entry((*name).to_owned())
                    .or_default()
                    .push((label, account, role));
            }
        }
    }

    let names: BTreeSet<String> = wanted.keys().chain(stale.keys()).cloned().collect();
    for name in names {
        let add = wanted.remove(&name).unwrap_or_default();
        let stale_here = stale.remove(&name).unwrap_or_default();
        let remove: Vec<String> = stale_here.iter().map(|(l, _, _)| l.clone()).collect();
        let stale_roles: Vec<(AccountId, RoleName)> =
            stale_here.into_iter().map(|(_, a, r)| (a, r)).collect();
        match assigned.get(name.as_str()).map(Vec::as_slice) {
            Some([listed]) => {
                let present = labels_of(listed);
                let add: Vec<String> = add.into_iter().filter(|l| !present.contains(l)).collect();
                if add.is_empty() && remove.is_empty() {
                    continue;
                }
                plan.changes.push(GroupChange {
                    app_id: app_id.to_owned(),
                    group_name: name,
                    group_id: listed.assignment.id.clone(),
                    add,
                    remove,
                    stale_roles,
                    assignment: Some(listed.assignment.clone()),
                });
            }
            Some(_) => plan.findings.push(Finding {
                kind: FindingKind::Skipped,
                account: String::new(),
                role: add.join(", "),
                group: Some(name.clone()),
                detail: format!("several groups named {name:?} are assigned to app {app_id}"),
            }),
            None if add.is_empty() => {}
            // Not assigned, or assigned only as an imported group: looked up as an event would.
            None => {
                plan.changes.push(GroupChange {
                    app_id: app_id.to_owned(),
                    group_name: name,
                    group_id: None,
                    add,
                    remove: Vec::new(),
                    stale_roles: Vec::new(),
                    assignment: None,
                });
            }
        }
    }
    plan
}

/// The account and role a label stands for, when it is one of the swept accounts'.
fn owner_of(config: &Config, inputs: &AppInputs<'_>, label: &str) -> Option<(AccountId, RoleName)> {
    if let Some(rest) = label.strip_prefix('[') {
        let (shown, role) = rest.split_once("] -- ")?;
        let account = match AccountId::parse(shown) {
            Ok(account) => account,
            Err(_) => config
                .account_aliases
                .iter()
                .find(|(_, alias)| alias.as_str() == shown)
                .map(|(account, _)| account.clone())?,
        };
        let role = RoleName::parse(role).ok()?;
        return inputs
            .accounts
            .contains(&account)
            .then_some((account, role));
    }
    // A bare label is the app's own account's, when the app serves exactly one.
    let account = match inputs.app.accounts.as_slice() {
        [only] => only.clone(),
        _ => return None,
    };
    let role = RoleName::parse(label).ok()?;
    inputs
        .accounts
        .contains(&account)
        .then_some((account, role))
}
