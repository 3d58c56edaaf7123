//! The decisions about one group: which of Okta's groups is the role's group, and how its app
//! assignment changes. Pure functions, so that every rule is tested without a network.
//!
//! A write replaces the whole assignment, so the new body is the old one with the role
//! appended: `role`, the order of `samlRoles`, the priority and every other profile field
//! are kept as they were.

use serde_json::{Map, Value};

use crate::okta::{Assignment, AssignmentWrite, Group};

/// Okta's type for groups mastered in Okta; preferred over imported groups of the same name.
const OKTA_GROUP: &str = "OKTA_GROUP";
/// Okta's type for the built-in "Everyone" group, never a target.
const BUILT_IN: &str = "BUILT_IN";

/// Which group, if any, is the role's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChoice {
    Found {
        group: Group,
        /// Imported groups that share the name and were passed over for an Okta group.
        passed_over: Vec<String>,
    },
    NotFound {
        /// Names that differ from the wanted one only in letter case.
        differing_in_case: Vec<String>,
    },
    Ambiguous {
        ids: Vec<String>,
    },
}

/// Picks the group named exactly `name` (case-sensitive) from lookup results, which may hold
/// prefix matches and the same group twice.
pub fn choose_group(name: &str, candidates: impl IntoIterator<Item = Group>) -> GroupChoice {
    let mut exact: Vec<Group> = Vec::new();
    let mut differing_in_case: Vec<String> = Vec::new();
    for group in candidates {
        if group.kind == BUILT_IN {
            continue;
        }
        if group.profile.name == name {
            if !exact.iter().any(|g| g.id == group.id) {
                exact.push(group);
            }
        } else if group.profile.name.eq_ignore_ascii_case(name)
            && !differing_in_case.contains(&group.profile.name)
        {
            differing_in_case.push(group.profile.name);
        }
    }
    let (mut preferred, others): (Vec<Group>, Vec<Group>) =
        exact.into_iter().partition(|g| g.kind == OKTA_GROUP);
    let passed_over: Vec<String> = if preferred.is_empty() {
        preferred = others;
        Vec::new()
    } else {
        others.into_iter().map(|g| g.id).collect()
    };
    match preferred.len() {
        0 => GroupChoice::NotFound { differing_in_case },
        1 => GroupChoice::Found {
            group: preferred.remove(0),
            passed_over,
        },
        _ => {
            let mut ids: Vec<String> = preferred.into_iter().map(|g| g.id).collect();
            ids.sort();
            GroupChoice::Ambiguous { ids }
        }
    }
}

/// What to do with a group's assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The role is already in `samlRoles`: nothing to write.
    AlreadyPresent { saml_roles: Vec<String> },
    /// Write this body; `creates` when the group had no assignment.
    Write {
        body: AssignmentWrite,
        creates: bool,
    },
}

/// The assignment's profile cannot be merged safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the assignment's profile.samlRoles is {0}, expected a list of role labels")]
pub struct UnexpectedProfile(pub String);

/// The change that adds `label` to the group's `samlRoles`, keeping everything else.
pub fn add_role(existing: Option<&Assignment>, label: &str) -> Result<Change, UnexpectedProfile> {
    let Some(existing) = existing else {
        let mut profile = Map::new();
        profile.insert("samlRoles".to_owned(), Value::from(vec![label]));
        return Ok(Change::Write {
            body: AssignmentWrite {
                priority: None,
                profile,
            },
            creates: true,
        });
    };
    let mut saml_roles = saml_roles(&existing.profile)?;
    if saml_roles.iter().any(|r| r == label) {
        return Ok(Change::AlreadyPresent { saml_roles });
    }
    saml_roles.push(label.to_owned());
    let mut profile = existing.profile.clone();
    profile.insert("samlRoles".to_owned(), Value::from(saml_roles));
    Ok(Change::Write {
        body: AssignmentWrite {
            priority: existing.priority,
            profile,
        },
        creates: false,
    })
}

/// Labels to add to and remove from one group's `samlRoles`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelEdit {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl LabelEdit {
    pub fn adding(label: &str) -> Self {
        Self {
            add: vec![label.to_owned()],
            remove: Vec::new(),
        }
    }

    pub fn removing(labels: Vec<String>) -> Self {
        Self {
            add: Vec::new(),
            remove: labels,
        }
    }
}

/// The change that applies `edit` to the group's assignment, keeping everything else: the
/// order of the labels kept, `role`, the priority and every other profile field. A group with
/// no assignment gets one holding only the added labels; with nothing to add it keeps none.
pub fn edit_labels(
    existing: Option<&Assignment>,
    edit: &LabelEdit,
) -> Result<Change, UnexpectedProfile> {
    let Some(existing) = existing else {
        let mut add: Vec<String> = Vec::new();
        for label in &edit.add {
            if !add.contains(label) && !edit.remove.contains(label) {
                add.push(label.clone());
            }
        }
        if add.is_empty() {
            return Ok(Change::AlreadyPresent {
                saml_roles: Vec::new(),
            });
        }
        let mut profile = Map::new();
        profile.insert("samlRoles".to_owned(), Value::from(add));
        return Ok(Change::Write {
            body: AssignmentWrite {
                priority: None,
                profile,
            },
            creates: true,
        });
    };
    let before = saml_roles(&existing.profile)?;
    let mut after: Vec<String> = before
        .iter()
        .filter(|label| !edit.remove.contains(label))
        .cloned()
        .collect();
    for label in &edit.add {
        if !after.contains(label) && !edit.remove.contains(label) {
            after.push(label.clone());
        }
    }
    // `role`, the single role some sign-on modes use, goes with its label: left behind it
    // would keep handing out the removed role.
    let role_removed = existing
        .profile
        .get("role")
        .and_then(Value::as_str)
        .is_some_and(|role| edit.remove.iter().any(|r| r == role));
    if after == before && !role_removed {
        return Ok(Change::AlreadyPresent { saml_roles: before });
    }
    let mut profile = existing.profile.clone();
    if role_removed {
        profile.remove("role");
    }
    profile.insert("samlRoles".to_owned(), Value::from(after));
    Ok(Change::Write {
        body: AssignmentWrite {
            priority: existing.priority,
            profile,
        },
        creates: false,
    })
}

/// What Okta's answer to a write does not confirm: labels sent but not stored, and labels
/// removed but still there.
pub fn unconfirmed_after_write(
    sent: &AssignmentWrite,
    stored: &Assignment,
    edit: &LabelEdit,
) -> Vec<String> {
    let stored_roles = saml_roles(&stored.profile).unwrap_or_default();
    let mut unconfirmed = missing_after_write(sent, stored);
    unconfirmed.extend(
        edit.remove
            .iter()
            .filter(|label| stored_roles.contains(label))
            .map(|label| format!("the removal of {label}")),
    );
    unconfirmed
}

/// The labels in a profile's `samlRoles`; a missing or null list is empty.
pub fn saml_roles(profile: &Map<String, Value>) -> Result<Vec<String>, UnexpectedProfile> {
    match profile.get("samlRoles") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(UnexpectedProfile(format!("a list holding {other}"))),
            })
            .collect(),
        Some(other) => Err(UnexpectedProfile(other.to_string())),
    }
}

/// The labels the write asked for that Okta's stored answer does not hold.
pub fn missing_after_write(sent: &AssignmentWrite, stored: &Assignment) -> Vec<String> {
    let wanted = saml_roles(&sent.profile).unwrap_or_default();
    let stored = saml_roles(&stored.profile).unwrap_or_default();
    wanted.into_iter().filter(|r| !stored.contains(r)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::okta::GroupProfile;

    fn group(id: &str, name: &str, kind: &str) -> Group {
        Group {
            id: id.into(),
            kind: kind.into(),
            profile: GroupProfile { name: name.into() },
        }
    }

    fn assignment(value: Value) -> Assignment {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn prefix_matches_are_not_the_group() {
        let choice = choose_group(
            "DataEngineer",
            [
                group("00g2", "DataEngineerAdmin", OKTA_GROUP),
                group("00g3", "DataEngineer_ReadOnly", OKTA_GROUP),
            ],
        );
        assert_eq!(
            choice,
            GroupChoice::NotFound {
                differing_in_case: vec![]
            }
        );
    }

    #[test]
    fn exact_name_wins_among_prefix_matches() {
        let choice = choose_group(
            "DataEngineer",
            [
                group("00g2", "DataEngineerAdmin", OKTA_GROUP),
                group("00g1", "DataEngineer", OKTA_GROUP),
            ],
        );
        assert!(matches!(choice, GroupChoice::Found { group, .. } if group.id == "00g1"));
    }

    #[test]
    fn name_differing_only_in_case_is_not_the_group_but_is_reported() {
        let choice = choose_group("DataEngineer", [group("00g1", "dataengineer", OKTA_GROUP)]);
        assert_eq!(
            choice,
            GroupChoice::NotFound {
                differing_in_case: vec!["dataengineer".into()]
            }
        );
    }

    #[test]
    fn the_same_group_from_two_lookups_counts_once() {
        let choice = choose_group(
            "Ops",
            [
                group("00g1", "Ops", OKTA_GROUP),
                group("00g1", "Ops", OKTA_GROUP),
            ],
        );
        assert!(matches!(choice, GroupChoice::Found { .. }));
    }

    #[test]
    fn two_okta_groups_with_the_name_are_ambiguous_and_named() {
        let choice = choose_group(
            "Ops",
            [
                group("00g9", "Ops", OKTA_GROUP),
                group("00g1", "Ops", OKTA_GROUP),
            ],
        );
        assert_eq!(
            choice,
            GroupChoice::Ambiguous {
                ids: vec!["00g1".into(), "00g9".into()]
            }
        );
    }

    #[test]
    fn okta_group_is_preferred_over_an_imported_group_of_the_same_name() {
        let choice = choose_group(
            "Ops",
            [
                group("00gA", "Ops", "APP_GROUP"),
                group("00gO", "Ops", OKTA_GROUP),
            ],
        );
        assert_eq!(
            choice,
            GroupChoice::Found {
                group: group("00gO", "Ops", OKTA_GROUP),
                passed_over: vec!["00gA".into()],
            }
        );
    }

    #[test]
    fn imported_group_alone_is_used() {
        let choice = choose_group("Ops", [group("00gA", "Ops", "APP_GROUP")]);
        assert!(matches!(choice, GroupChoice::Found { group, .. } if group.id == "00gA"));
    }

    #[test]
    fn built_in_everyone_group_is_never_chosen() {
        let choice = choose_group("Everyone", [group("00gE", "Everyone", BUILT_IN)]);
        assert!(matches!(choice, GroupChoice::NotFound { .. }));
    }

    #[test]
    fn role_is_appended_keeping_order_role_priority_and_other_fields() {
        let existing = assignment(json!({
            "id": "00g1", "priority": 3,
            "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"],
                        "sessionDuration": 3600}
        }));
        let change = add_role(Some(&existing), "DataEngineer").unwrap();
        let Change::Write { body, creates } = change else {
            panic!("expected a write, got {change:?}")
        };
        assert!(!creates);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"priority": 3, "profile": {"role": "ReadOnly",
                   "samlRoles": ["ReadOnly", "BillingViewer", "DataEngineer"],
                   "sessionDuration": 3600}})
        );
    }

    #[test]
    fn role_already_present_needs_no_write() {
        let existing = assignment(json!({"priority": 0, "profile": {"samlRoles": ["A", "B"]}}));
        assert_eq!(
            add_role(Some(&existing), "B").unwrap(),
            Change::AlreadyPresent {
                saml_roles: vec!["A".into(), "B".into()]
            }
        );
    }

    #[test]
    fn role_differing_only_in_case_is_a_different_role() {
        let existing = assignment(json!({"profile": {"samlRoles": ["admin"]}}));
        assert!(matches!(
            add_role(Some(&existing), "Admin").unwrap(),
            Change::Write { .. }
        ));
    }

    #[test]
    fn unassigned_group_gets_a_new_assignment_with_only_the_role() {
        let change = add_role(None, "DataEngineer").unwrap();
        let Change::Write { body, creates } = change else {
            panic!("expected a write")
        };
        assert!(creates);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"profile": {"samlRoles": ["DataEngineer"]}})
        );
    }

    #[test]
    fn missing_or_null_saml_roles_start_an_empty_list() {
        for profile in [
            json!({"role": "X"}),
            json!({"role": "X", "samlRoles": null}),
        ] {
            let existing = assignment(json!({"priority": 1, "profile": profile}));
            let Change::Write { body, .. } = add_role(Some(&existing), "R").unwrap() else {
                panic!("expected a write")
            };
            assert_eq!(body.profile["samlRoles"], json!(["R"]));
            assert_eq!(body.profile["role"], json!("X"));
        }
    }

    #[test]
    fn saml_roles_of_an_unexpected_shape_are_not_overwritten() {
        for roles in [json!("ReadOnly"), json!(["ReadOnly", 7]), json!({"a": 1})] {
            let existing = assignment(json!({"profile": {"samlRoles": roles}}));
            assert!(add_role(Some(&existing), "R").is_err(), "{roles}");
        }
    }

    #[test]
    fn a_stored_answer_missing_a_sent_role_is_detected() {
        let sent = AssignmentWrite {
            priority: Some(0),
            profile: json!({"samlRoles": ["A", "B"]})
                .as_object()
                .unwrap()
                .clone(),
        };
        let stored = assignment(json!({"profile": {"samlRoles": ["A"]}}));
        assert_eq!(missing_after_write(&sent, &stored), vec!["B".to_owned()]);
    }

    #[test]
    fn removing_a_label_keeps_the_order_role_priority_and_other_fields() {
        let existing = assignment(json!({
            "id": "00g1", "priority": 3,
            "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "Gone", "Admin"], "sessionDuration": 3600}
        }));
        let change =
            edit_labels(Some(&existing), &LabelEdit::removing(vec!["Gone".into()])).unwrap();
        let Change::Write { body, creates } = change else {
            panic!("expected a write");
        };
        assert!(!creates);
        assert_eq!(body.priority, Some(3));
        assert_eq!(
            Value::Object(body.profile),
            json!({"role": "ReadOnly", "samlRoles": ["ReadOnly", "Admin"], "sessionDuration": 3600})
        );
    }

    #[test]
    fn an_edit_that_changes_nothing_writes_nothing() {
        let existing = assignment(json!({"profile": {"samlRoles": ["Admin"]}}));
        let edit = LabelEdit {
            add: vec!["Admin".into()],
            remove: vec!["Gone".into()],
        };
        assert!(matches!(
            edit_labels(Some(&existing), &edit).unwrap(),
            Change::AlreadyPresent { .. }
        ));
        assert!(matches!(
            edit_labels(None, &LabelEdit::removing(vec!["Admin".into()])).unwrap(),
            Change::AlreadyPresent { .. }
        ));
    }

    #[test]
    fn several_labels_are_added_in_one_change_without_doubles() {
        let existing = assignment(json!({"profile": {"samlRoles": ["A"]}}));
        let edit = LabelEdit {
            add: vec!["B".into(), "A".into(), "C".into(), "B".into()],
            remove: vec![],
        };
        let Change::Write { body, .. } = edit_labels(Some(&existing), &edit).unwrap() else {
            panic!("expected a write");
        };
        assert_eq!(body.profile["samlRoles"], json!(["A", "B", "C"]));
    }

    #[test]
    fn removing_the_label_that_is_also_the_role_takes_the_role_away_too() {
        let existing = assignment(json!({"profile": {"role": "Gone", "samlRoles": ["Gone"]}}));
        let Change::Write { body, .. } =
            edit_labels(Some(&existing), &LabelEdit::removing(vec!["Gone".into()])).unwrap()
        else {
            panic!("expected a write");
        };
        assert_eq!(Value::Object(body.profile), json!({"samlRoles": []}));
    }
}
