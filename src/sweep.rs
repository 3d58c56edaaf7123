//! The reconciliation sweep: reads the IAM roles of the swept accounts and each app's group
//! assignments, computes the difference ([`reconcile`]), and with `apply` makes it: one
//! write per changed group, through the same guarded writer as events.
//!
//! Okta calls stay near the pages read plus the groups changed: the assignments come a page of
//! 200 at a time with their groups embedded, groups without an assignment are looked up by
//! name (or, when there are many, listed once), and a write uses the listing as its read while
//! that is fresh, reading the listing again when it ages. The sweep is run in the same
//! one-at-a-time lane as events, and stops writing before its deadline; what it did not reach,
//! the next sweep finds again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::apps::AppFor;
use crate::assign::{self, GroupChoice, LabelEdit};
use crate::edit::{self, Edited, Target};
use crate::error::Error;
use crate::handler::{self, Deps};
use crate::iam::{IamRole, RoleSource};
use crate::okta::{Group, ListedAssignment, OktaError};
use crate::reconcile::{self, AppInputs, Finding, FindingKind, GroupChange};
use crate::role::AccountId;
use crate::secret::SecretSource;
use crate::session::Session;

/// A listing older than this is read again before a write.
const LISTING_FRESH: Duration = Duration::from_secs(30);
/// Up to this many pages of assignments, an aged listing is read again whole rather than group
/// by group: at Okta's default limits about 25 writes fit in [`LISTING_FRESH`], so up to ten
/// pages cost less than a read per write.
const RELIST_PAGES: usize = 10;
/// The page size of assignment listings.
const ASSIGNMENTS_PAGE: usize = 200;
/// Above this many groups to find, every group is listed once instead of each looked up.
const LOOKUPS_BEFORE_LISTING: usize = 20;

/// What the sweep is asked to do.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Accounts to sweep; empty for the configured ones (or the credentials' own).
    pub accounts: Vec<AccountId>,
    /// Make the changes (otherwise only plan them).
    pub apply: bool,
    /// Remove labels whose role is gone (`SWEEP_REMOVE_STALE`, or the CLI's flag).
    pub remove_stale: bool,
    pub deadline: Option<Instant>,
    /// Run in the one-at-a-time lane (the function): no other writer of ours runs meanwhile,
    /// so a fresh listing may serve as a write's read. Outside it (the operator command), each
    /// group is read again right before its write.
    pub in_lane: bool,
}

/// What became of one group's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Planned,
    Applied,
    /// Okta already held it when the write came (someone else made it).
    AlreadyDone,
    Failed,
    /// The deadline came first; the next sweep takes it up.
    NotReached,
    /// Not made, for a reason given (the group's assignment was removed meanwhile).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeResult {
    #[serde(flatten)]
    pub change: GroupChange,
    pub status: ChangeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The sweep's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub accounts: Vec<String>,
    pub roles: usize,
    pub changes: Vec<ChangeResult>,
    pub findings: Vec<Finding>,
}

impl SweepReport {
    pub fn count(&self, status: ChangeStatus) -> usize {
        self.changes.iter().filter(|c| c.status == status).count()
    }

    pub fn labels_to_add(&self) -> usize {
        self.changes.iter().map(|c| c.change.add.len()).sum()
    }

    pub fn labels_to_remove(&self) -> usize {
        self.changes.iter().map(|c| c.change.remove.len()).sum()
    }
}

/// Runs a sweep; `progress` hears of each change applied (done, total).
pub async fn run<S: SecretSource, R: RoleSource>(
    deps: &Deps<S>,
    iam: &R,
    options: &SweepOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<SweepReport, Error> {
    let config = &deps.config;
    let okta = &deps.okta;
    let accounts = match (&options.accounts, &config.sweep_accounts) {
        (given, _) if !given.is_empty() => given.clone(),
        (_, configured) if !configured.is_empty() => configured.clone(),
        _ => vec![iam.own_account().await.map_err(Error::Iam)?],
    };
    let mut report = SweepReport {
        accounts: accounts.iter().map(ToString::to_string).collect(),
        ..SweepReport::default()
    };
    let mut session = Session::start(&deps.tokens, options.deadline).await?;

    // Each account's app; accounts sharing an app are planned together. An account that
    // cannot be covered is a finding: the others are swept all the same.
    let mut by_app: BTreeMap<String, (std::sync::Arc<crate::apps::App>, Vec<AccountId>)> =
        BTreeMap::new();
    for account in &accounts {
        let apps = &deps.apps;
        let found = session
            .call(|call| async move { apps.app_for(okta, &call, account).await })
            .await;
        let failure = match found {
            Ok(AppFor::App(app)) if app.use_group_mapping => Error::AppUsesGroupMapping {
                app_id: app.id.clone(),
            },
            Ok(AppFor::App(app)) => {
                by_app
                    .entry(app.id.clone())
                    .or_insert_with(|| (app.clone(), Vec::new()))
                    .1
                    .push(account.clone());
                continue;
            }
            Ok(AppFor::None { rule, reason }) => {
                report.findings.push(account_finding(
                    FindingKind::Skipped,
                    account,
                    format!("{rule}: {reason}"),
                ));
                continue;
            }
            Ok(AppFor::Several { ids }) => Error::AmbiguousApp {
                account: account.to_string(),
                ids,
            },
            Ok(AppFor::Missing { app_id, variable }) => Error::AppNotFound { app_id, variable },
            Err(err) => err,
        };
        let kind = if is_rate_limited(&failure) {
            FindingKind::NotReached
        } else {
            FindingKind::Failed
        };
        report
            .findings
            .push(account_finding(kind, account, failure.chain()));
    }

    let with_tags = config.naming.tag_key.is_some();
    let mut changes: Vec<GroupChange> = Vec::new();
    let mut listings: BTreeMap<String, Listing> = BTreeMap::new();
    for (app_id, (app, app_accounts)) in &by_app {
        if !session.fits(Duration::ZERO) {
            for account in app_accounts {
                report.findings.push(account_finding(
                    FindingKind::NotReached,
                    account,
                    "the deadline came first; the next sweep takes it up".to_owned(),
                ));
            }
            continue;
        }
        let mut roles: Vec<IamRole> = Vec::new();
        let mut covered: Vec<AccountId> = Vec::new();
        for account in app_accounts {
            match iam.roles(account, with_tags).await {
                Ok(found) => {
                    roles.extend(found);
                    covered.push(account.clone());
                }
                Err(err) => report.findings.push(account_finding(
                    FindingKind::Failed,
                    account,
                    Error::Iam(err).chain(),
                )),
            }
        }
        if covered.is_empty() {
            continue;
        }
        report.roles += roles.len();
        let apps = &deps.apps;
        let app_id = app_id.as_str();
        let listed = session
            .call(|call| async move { apps.labels(okta, &call, app_id, true).await })
            .await;
        // The listing's age is that of its first page.
        let listed_at = Instant::now();
        let read = match listed {
            Ok(listed) => session
                .call(|call| async move { okta.list_assignments(&call, app_id).await })
                .await
                .map(|assignments| (listed, assignments)),
            Err(err) => Err(err),
        };
        let (listed, assignments) = match read {
            Ok(read) => read,
            Err(err) if is_rate_limited(&err) => {
                for account in &covered {
                    report.findings.push(account_finding(
                        FindingKind::NotReached,
                        account,
                        err.chain(),
                    ));
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        listings.insert(app_id.to_owned(), Listing::new(&assignments, listed_at));
        let plan = reconcile::plan_app(
            config,
            &AppInputs {
                app,
                listed: listed.as_deref(),
                assignments: &assignments,
                accounts: &covered,
                roles: &roles,
            },
            options.remove_stale,
        );
        report.findings.extend(plan.findings);
        changes.extend(plan.changes);
    }

    let changes = find_unassigned_groups(deps, &mut session, changes, &mut report).await?;
    let changes = confirm_stale(iam, changes, &mut report).await;
    let total = changes.len();
    let mut done = 0;
    for change in changes {
        if !options.apply {
            report.changes.push(ChangeResult {
                change,
                status: ChangeStatus::Planned,
                error: None,
            });
            continue;
        }
        if !session.fits(Duration::ZERO) {
            report.changes.push(ChangeResult {
                change,
                status: ChangeStatus::NotReached,
                error: None,
            });
            continue;
        }
        let listing = if options.in_lane {
            listings.get_mut(&change.app_id)
        } else {
            None
        };
        let result = apply_change(deps, &mut session, &change, listing).await;
        let (status, error) = match result {
            Ok(Applied::Edited(Edited::Written { .. })) => (ChangeStatus::Applied, None),
            Ok(Applied::Edited(Edited::Unchanged { .. })) => (ChangeStatus::AlreadyDone, None),
            Ok(Applied::Edited(Edited::WouldWrite { .. })) => (ChangeStatus::Planned, None),
            Ok(Applied::Skipped(reason)) => (ChangeStatus::Skipped, Some(reason)),
            Err(err) if is_rate_limited(&err) => (ChangeStatus::NotReached, None),
            Err(err) if is_unknown_label(&err) => {
                let (status, error) =
                    add_one_by_one(deps, &mut session, &change, &mut report).await;
                (status, error)
            }
            Err(err) => {
                tracing::error!(
                    group = change.group_name,
                    app_id = change.app_id,
                    error = err.chain(),
                    "sweep change failed"
                );
                (ChangeStatus::Failed, Some(err.chain()))
            }
        };
        tracing::info!(
            outcome = ?status,
            group = change.group_name,
            group_id = change.group_id.as_deref(),
            app_id = change.app_id,
            added = ?change.add,
            removed = ?change.remove,
            "sweep change"
        );
        done += 1;
        progress(done, total);
        report.changes.push(ChangeResult {
            change,
            status,
            error,
        });
    }
    Ok(report)
}

/// A rate-limit wait that would end past the deadline: the next sweep takes it up.
fn is_rate_limited(err: &Error) -> bool {
    matches!(err, Error::Okta(OktaError::RateLimited { .. }))
}

/// Okta's 400 to a label it has not imported (labels made by `ROLE_LABEL_FORMAT` when the
/// app's schema lists none are guesses Okta may refuse).
fn is_unknown_label(err: &Error) -> bool {
    matches!(err, Error::Okta(e) if e.status() == Some(reqwest::StatusCode::BAD_REQUEST)
        && e.error_code() == Some("E0000001"))
}

/// After Okta refused a change's labels: each label alone, so that the ones Okta knows are
/// written and the others become `not_imported` findings.
async fn add_one_by_one<S: SecretSource>(
    deps: &Deps<S>,
    session: &mut Session<'_, S>,
    change: &GroupChange,
    report: &mut SweepReport,
) -> (ChangeStatus, Option<String>) {
    let mut written = 0;
    for label in &change.add {
        let single = GroupChange {
            add: vec![label.clone()],
            remove: Vec::new(),
            stale_roles: Vec::new(),
            ..change.clone()
        };
        match apply_change(deps, session, &single, None).await {
            Ok(Applied::Edited(Edited::Written { .. })) => written += 1,
            Ok(_) => {}
            Err(err) if is_unknown_label(&err) => report.findings.push(Finding {
                kind: FindingKind::NotImported,
                account: String::new(),
                role: label.clone(),
                group: Some(change.group_name.clone()),
                detail: format!(
                    "okta refused the label {label:?}: refresh application data of app {}, or \
                     check ROLE_LABEL_FORMAT",
                    change.app_id
                ),
            }),
            Err(err) => return (ChangeStatus::Failed, Some(err.chain())),
        }
    }
    if written > 0 {
        (ChangeStatus::Applied, None)
    } else {
        (
            ChangeStatus::Skipped,
            Some("okta knows none of the labels".to_owned()),
        )
    }
}

/// Keeps only the removals whose role IAM confirms gone: a listing of roles can lag one just
/// created. A removal that cannot be confirmed is dropped and reported.
async fn confirm_stale<R: RoleSource>(
    iam: &R,
    changes: Vec<GroupChange>,
    report: &mut SweepReport,
) -> Vec<GroupChange> {
    let mut kept = Vec::with_capacity(changes.len());
    for mut change in changes {
        let mut remove = Vec::new();
        for (label, (account, role)) in change.remove.iter().zip(&change.stale_roles) {
            match iam.exists(account, role).await {
                Ok(false) => remove.push(label.clone()),
                Ok(true) => {}
                Err(err) => report.findings.push(Finding {
                    kind: FindingKind::Failed,
                    account: account.to_string(),
                    role: role.to_string(),
                    group: Some(change.group_name.clone()),
                    detail: format!("label {label:?} not removed: {}", Error::Iam(err).chain()),
                }),
            }
        }
        change.remove = remove;
        if !change.add.is_empty() || !change.remove.is_empty() {
            kept.push(change);
        }
    }
    kept
}

fn account_finding(kind: FindingKind, account: &AccountId, detail: String) -> Finding {
    Finding {
        kind,
        account: account.to_string(),
        role: String::new(),
        group: None,
        detail,
    }
}

/// Gives each change of a group without an assignment its group id, or turns it into a
/// finding (no such group, or `ASSIGN_UNASSIGNED_GROUPS` is false).
async fn find_unassigned_groups<S: SecretSource>(
    deps: &Deps<S>,
    session: &mut Session<'_, S>,
    changes: Vec<GroupChange>,
    report: &mut SweepReport,
) -> Result<Vec<GroupChange>, Error> {
    let okta = &deps.okta;
    let config = &deps.config;
    let unfound = changes.iter().filter(|c| c.group_id.is_none()).count();
    let everything: Option<Vec<Group>> = if unfound > LOOKUPS_BEFORE_LISTING {
        Some(
            session
                .call(|call| async move { okta.list_all_groups(&call).await })
                .await?,
        )
    } else {
        None
    };
    let mut found = Vec::with_capacity(changes.len());
    for mut change in changes {
        if change.group_id.is_some() {
            found.push(change);
            continue;
        }
        let name = change.group_name.as_str();
        let candidates: Vec<Group> = match &everything {
            Some(all) => all.clone(),
            None => handler::group_candidates(okta, session, name).await?,
        };
        let finding = |kind, detail: String| Finding {
            kind,
            account: String::new(),
            role: change.add.join(", "),
            group: Some(change.group_name.clone()),
            detail,
        };
        match assign::choose_group(name, candidates) {
            GroupChoice::Found { group, .. } => {
                if let Err(skip) = config.rules.check_group(name, Some(&group.id)) {
                    report.findings.push(finding(
                        FindingKind::Skipped,
                        format!("{}: {}", skip.rule, skip.reason),
                    ));
                } else if !config.assign_unassigned_groups {
                    report.findings.push(finding(
                        FindingKind::GroupNotAssigned,
                        format!(
                            "group {} is not assigned to app {} and ASSIGN_UNASSIGNED_GROUPS is false",
                            group.id, change.app_id
                        ),
                    ));
                } else {
                    change.group_id = Some(group.id);
                    found.push(change);
                }
            }
            GroupChoice::NotFound { .. } => report.findings.push(finding(
                FindingKind::GroupMissing,
                format!("create the okta group {name:?}"),
            )),
            GroupChoice::Ambiguous { ids } => report.findings.push(finding(
                FindingKind::Skipped,
                format!("okta has several groups named {name:?}: {}", ids.join(", ")),
            )),
        }
    }
    Ok(found)
}

/// What the sweep last read of an app's assignments, kept fresh while it writes.
struct Listing {
    by_group: std::collections::HashMap<String, crate::okta::Assignment>,
    pages: usize,
    at: Instant,
}

impl Listing {
    fn new(assignments: &[ListedAssignment], at: Instant) -> Self {
        let by_group = assignments
            .iter()
            .filter_map(|l| Some((l.assignment.id.clone()?, l.assignment.clone())))
            .collect();
        Self {
            by_group,
            pages: assignments.len().div_ceil(ASSIGNMENTS_PAGE).max(1),
            at,
        }
    }
}

/// What [`apply_change`] did.
enum Applied {
    Edited(Edited),
    /// Not written, and why.
    Skipped(String),
}

/// Writes one group's change from a read no older than [`LISTING_FRESH`] (by Okta's clock), so
/// that an edit made meanwhile by hand is kept: while the app's listing is short, it is read
/// again whole when it ages (a page refreshes up to 200 groups); otherwise, and always outside
/// the lane (`listing` is `None`), the group alone is read again.
async fn apply_change<S: SecretSource>(
    deps: &Deps<S>,
    session: &mut Session<'_, S>,
    change: &GroupChange,
    listing: Option<&mut Listing>,
) -> Result<Applied, Error> {
    let okta = &deps.okta;
    let group_id = change.group_id.as_deref().unwrap_or_default();
    let app_id = change.app_id.as_str();
    let _group_lock = deps.group_locks.lock(group_id).await;
    // Fresh by Okta's clock: the same share of the rate-limit window on a simulator's faster one.
    let fresh_for = okta.clock().to_local(LISTING_FRESH);
    let latest = match listing {
        Some(listing) if listing.at.elapsed() < fresh_for => {
            listing.by_group.get(group_id).cloned()
        }
        Some(listing) if listing.pages <= RELIST_PAGES => {
            listing.at = Instant::now();
            let assignments = session
                .call(|call| async move { okta.list_assignments(&call, app_id).await })
                .await?;
            *listing = Listing::new(&assignments, listing.at);
            listing.by_group.get(group_id).cloned()
        }
        _ => {
            session
                .call(|call| async move { okta.get_assignment(&call, app_id, group_id).await })
                .await?
        }
    };
    if latest.is_none() {
        if change.assignment.is_some() {
            return Ok(Applied::Skipped(
                "the group's assignment was removed since the listing: left as it is".to_owned(),
            ));
        }
        if !deps.config.assign_unassigned_groups {
            return Ok(Applied::Skipped(
                "the group is not assigned to the app and ASSIGN_UNASSIGNED_GROUPS is false"
                    .to_owned(),
            ));
        }
    }
    let target = Target {
        app_id,
        group_id,
        adding_role: None,
        dry_run: deps.config.dry_run,
    };
    let edit = LabelEdit {
        add: change.add.clone(),
        remove: change.remove.clone(),
    };
    edit::apply(okta, session, &target, latest, &edit)
        .await
        .map(Applied::Edited)
}
