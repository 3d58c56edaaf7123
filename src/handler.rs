//! The handler: one event in, one decision out. It reads the event, and for a created role
//! finds the group, reads its assignment, writes the merged assignment and checks Okta's answer.
//!
//! It logs one line per decision and returns the decision as JSON; a failure is returned as an
//! [`Error`] for the caller to log and report.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::apps::{App, AppDirectory, AppFor};
use crate::assign::{self, GroupChoice, LabelEdit};
use crate::config::Config;
use crate::edit::{self, Edited, Target};
use crate::error::Error;
use crate::event::{self, Intake, RoleCreated, RoleDeleted};
use crate::iam::{Iam, RoleSource};
use crate::labels::{self, Label, LabelContext};
use crate::locks::GroupLocks;
use crate::naming::NoGroup;
use crate::okta::{Group, GroupQuery, OktaClient};
use crate::queues::Queues;
use crate::ratelimit::OktaClock;
use crate::role::{AccountId, RoleName, RolePath};
use crate::rules::Skip;
use crate::secret::{SecretSource, TokenCache};
use crate::session::Session;

/// What the handler needs, built once per container.
pub struct Deps<S> {
    pub config: Config,
    pub okta: OktaClient,
    pub tokens: TokenCache<S>,
    pub queues: Option<Queues>,
    pub apps: AppDirectory,
    /// Where a sweep reads IAM roles; set by [`Deps::with_iam`].
    pub iam: Option<Iam>,
    pub(crate) group_locks: GroupLocks,
}

impl<S: SecretSource> Deps<S> {
    pub fn new(config: Config, secrets: S) -> Result<Self, reqwest::Error> {
        Self::with_clock(config, secrets, OktaClock::REAL)
    }

    /// As [`Deps::new`], for an Okta whose clock runs at another pace (a simulator's).
    pub fn with_clock(
        config: Config,
        secrets: S,
        clock: OktaClock,
    ) -> Result<Self, reqwest::Error> {
        let okta = OktaClient::new(config.okta_org_url.clone(), config.okta_timeout, clock)?;
        let tokens = TokenCache::new(secrets, config.secret_cache_ttl, okta.token_endpoint());
        let apps = AppDirectory::new(config.apps.clone());
        Ok(Self {
            config,
            okta,
            tokens,
            queues: None,
            apps,
            iam: None,
            group_locks: GroupLocks::default(),
        })
    }

    /// Reads IAM roles through `iam` when a sweep is asked for.
    pub fn with_iam(mut self, iam: Iam) -> Self {
        self.iam = Some(iam);
        self
    }

    /// Uses the queues of the deployed design for waits.
    pub fn with_queues(mut self, queues: Queues) -> Self {
        self.queues = Some(queues);
        self
    }
}

/// The decision taken for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The role was written to the group's `samlRoles`.
    Assigned,
    /// The role was already there: nothing written.
    AlreadyPresent,
    /// `DRY_RUN`: the write that would have been made was logged, not made.
    WouldAssign,
    /// A deleted role's label was removed from the group's `samlRoles`.
    Removed,
    /// A deleted role's label was not in its group (or there is no such group): nothing written.
    AlreadyAbsent,
    /// `DRY_RUN`: the removal that would have been made was logged, not made.
    WouldRemove,
    /// A relevant event that asks for nothing: the IAM call failed, or a rule (`rule`) says
    /// the role is not handed out automatically.
    Skipped,
    /// An event this function does not act on.
    Ignored,
    /// A wait (no group yet, role not imported yet, rate limit): retried later by itself.
    Deferred,
    /// Waited longer than allowed: on the parked queue for an operator.
    Parked,
}

impl OutcomeKind {
    /// The name the result's `outcome` field and the metrics use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::AlreadyPresent => "already_present",
            Self::WouldAssign => "would_assign",
            Self::Removed => "removed",
            Self::AlreadyAbsent => "already_absent",
            Self::WouldRemove => "would_remove",
            Self::Skipped => "skipped",
            Self::Ignored => "ignored",
            Self::Deferred => "deferred",
            Self::Parked => "parked",
        }
    }
}

/// The invocation's result, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub outcome: OutcomeKind,
    pub account: Option<String>,
    pub role: Option<String>,
    pub path: Option<String>,
    pub group: Option<String>,
    pub group_id: Option<String>,
    pub app_id: Option<String>,
    /// The value written to (or found in) `samlRoles`: Okta's label for the role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub reason: Option<String>,
    /// The rule that skipped the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    pub created_assignment: bool,
    pub saml_roles: Option<Vec<String>>,
    pub dry_run: bool,
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_seconds: Option<u64>,
}

impl Outcome {
    pub(crate) fn new(outcome: OutcomeKind, event_id: Option<String>) -> Self {
        Self {
            outcome,
            account: None,
            role: None,
            path: None,
            group: None,
            group_id: None,
            app_id: None,
            label: None,
            reason: None,
            rule: None,
            created_assignment: false,
            saml_roles: None,
            dry_run: false,
            event_id,
            attempt: None,
            retry_in_seconds: None,
        }
    }
}

/// Handles one event with no deadline.
pub async fn handle<S: SecretSource>(deps: &Deps<S>, event: &Value) -> Result<Outcome, Error> {
    handle_until(deps, event, None).await
}

/// Handles one event, waiting for nothing that would end past `deadline`.
pub async fn handle_until<S: SecretSource>(
    deps: &Deps<S>,
    event: &Value,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    match event::parse(event)? {
        Intake::NotRelevant {
            event_source,
            event_name,
            event_id,
            account,
        } => {
            let reason = format!("{event_name} from {event_source} is not a CreateRole call");
            tracing::info!(
                outcome = "ignored",
                event_source,
                event_name,
                account = account.as_ref().map(AccountId::as_str),
                event_id = event_id.as_deref(),
                "event ignored"
            );
            Ok(Outcome {
                account: account.map(|a| a.to_string()),
                reason: Some(reason),
                ..Outcome::new(OutcomeKind::Ignored, event_id)
            })
        }
        Intake::CallFailed {
            event_name,
            error_code,
            event_id,
            account,
            role,
        } => {
            tracing::info!(
                outcome = "skipped",
                event_name,
                error_code,
                account = account.as_ref().map(AccountId::as_str),
                role = role.as_deref(),
                event_id = event_id.as_deref(),
                "failed iam call skipped"
            );
            Ok(Outcome {
                account: account.map(|a| a.to_string()),
                role,
                reason: Some(format!("the {event_name} call failed with {error_code}")),
                ..Outcome::new(OutcomeKind::Skipped, event_id)
            })
        }
        // Boxed: the assignment future is deep enough to strain the compiler's layout limit.
        Intake::RoleCreated(created) => Box::pin(assign_role(deps, created, deadline)).await,
        Intake::RoleDeleted(deleted) => Box::pin(remove_role(deps, deleted, deadline)).await,
    }
}

async fn assign_role<S: SecretSource>(
    deps: &Deps<S>,
    created: RoleCreated,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let config = &deps.config;
    if let Err(skip) = config.rules.check_role(&created) {
        return Ok(skipped(&created, None, skip));
    }
    let group = match config.naming.group_for(&created) {
        Ok(group) => group,
        Err(NoGroup::Skip(skip)) => return Ok(skipped(&created, None, skip)),
        Err(NoGroup::BadTag(err)) => return Err(Error::InvalidEvent(err)),
    };
    if let Err(skip) = config.rules.check_group(&group.name, None) {
        return Ok(skipped(&created, Some(&group.name), skip));
    }
    let span = tracing::info_span!(
        "assign",
        account = %created.account,
        role = %created.role,
        path = %created.path,
        group = group.name,
        naming_rule = group.rule,
        app_id = tracing::field::Empty,
        event_id = created.event_id.as_deref(),
    );
    assign_to_group(deps, created, group.name, deadline)
        .instrument(span)
        .await
}

/// The role an event is about, as the answers name it.
#[derive(Clone, Copy)]
struct Subject<'a> {
    account: &'a AccountId,
    role: &'a RoleName,
    path: Option<&'a RolePath>,
    event_id: Option<&'a str>,
}

impl<'a> From<&'a RoleCreated> for Subject<'a> {
    fn from(created: &'a RoleCreated) -> Self {
        Self {
            account: &created.account,
            role: &created.role,
            path: Some(&created.path),
            event_id: created.event_id.as_deref(),
        }
    }
}

impl<'a> From<&'a RoleDeleted> for Subject<'a> {
    fn from(deleted: &'a RoleDeleted) -> Self {
        Self {
            account: &deleted.account,
            role: &deleted.role,
            path: None,
            event_id: deleted.event_id.as_deref(),
        }
    }
}

impl Subject<'_> {
    fn outcome(&self, kind: OutcomeKind) -> Outcome {
        Outcome {
            account: Some(self.account.to_string()),
            role: Some(self.role.to_string()),
            path: self.path.map(ToString::to_string),
            ..Outcome::new(kind, self.event_id.map(str::to_owned))
        }
    }
}

/// The answer for an event a rule skips; logged as the decision.
fn skipped<'a>(subject: impl Into<Subject<'a>>, group: Option<&str>, skip: Skip) -> Outcome {
    let subject = subject.into();
    tracing::info!(
        outcome = "skipped",
        rule = skip.rule,
        reason = skip.reason,
        account = %subject.account,
        role = %subject.role,
        path = subject.path.map(RolePath::as_str),
        group,
        event_id = subject.event_id,
        "role skipped by rule"
    );
    Outcome {
        group: group.map(str::to_owned),
        reason: Some(skip.reason),
        rule: Some(skip.rule),
        ..subject.outcome(OutcomeKind::Skipped)
    }
}

/// The app that serves the role's account, or the answer when none may be used.
async fn choose_app<S: SecretSource>(
    deps: &Deps<S>,
    session: &mut Session<'_, S>,
    subject: Subject<'_>,
) -> Result<Result<std::sync::Arc<App>, Outcome>, Error> {
    let (okta, apps, account) = (&deps.okta, &deps.apps, subject.account);
    let app = match session
        .call(|call| async move { apps.app_for(okta, &call, account).await })
        .await?
    {
        AppFor::App(app) => app,
        AppFor::None { rule, reason } => {
            return Ok(Err(skipped(subject, None, Skip::new(rule, reason))));
        }
        AppFor::Several { ids } => {
            return Err(Error::AmbiguousApp {
                account: account.to_string(),
                ids,
            });
        }
        AppFor::Missing { app_id, variable } => {
            return Err(Error::AppNotFound { app_id, variable });
        }
    };
    if app.use_group_mapping {
        return Err(Error::AppUsesGroupMapping {
            app_id: app.id.clone(),
        });
    }
    tracing::Span::current().record("app_id", app.id.as_str());
    Ok(Ok(app))
}

/// The group named exactly `name`: Okta's exact search and its prefix search together, since
/// the first lags behind new groups and the second matches more than the name.
async fn find_group<S: SecretSource>(
    okta: &OktaClient,
    session: &mut Session<'_, S>,
    name: &str,
) -> Result<Group, Error> {
    match assign::choose_group(name, group_candidates(okta, session, name).await?) {
        GroupChoice::Found { group, passed_over } => {
            if !passed_over.is_empty() {
                tracing::info!(
                    group_id = group.id,
                    ?passed_over,
                    "imported groups of the same name passed over"
                );
            }
            Ok(group)
        }
        GroupChoice::NotFound { differing_in_case } => Err(Error::GroupNotFound {
            name: name.to_owned(),
            differing_in_case,
        }),
        GroupChoice::Ambiguous { ids } => Err(Error::AmbiguousGroup {
            name: name.to_owned(),
            ids,
        }),
    }
}

/// The groups Okta's two lookups of `name` give: the exact search and the prefix search.
pub(crate) async fn group_candidates<S: SecretSource>(
    okta: &OktaClient,
    session: &mut Session<'_, S>,
    name: &str,
) -> Result<Vec<Group>, Error> {
    let (exact, prefix) = session
        .call(|call| async move {
            tokio::try_join!(
                okta.list_groups(&call, GroupQuery::NameEquals(name)),
                okta.list_groups(&call, GroupQuery::NamePrefix(name)),
            )
        })
        .await?;
    Ok(exact.into_iter().chain(prefix).collect())
}

/// Okta's label for the role in this app: from the app's schema when it lists labels (read
/// again before a role is declared missing), else as the format makes it.
async fn choose_label<S: SecretSource>(
    deps: &Deps<S>,
    session: &mut Session<'_, S>,
    app: &App,
    created: &RoleCreated,
    existing: &[String],
) -> Result<String, Error> {
    let ctx = LabelContext {
        role: &created.role,
        account: &created.account,
        alias: deps
            .config
            .account_aliases
            .get(&created.account)
            .map(String::as_str),
        app_accounts: &app.accounts,
        existing,
    };
    let (okta, apps, app_id) = (&deps.okta, &deps.apps, app.id.as_str());
    let mut fresh = false;
    loop {
        let listed = session
            .call(|call| async move { apps.labels(okta, &call, app_id, fresh).await })
            .await?;
        let Some(listed) = listed else {
            return Ok(labels::formatted(&deps.config.label_format, &ctx));
        };
        match labels::from_list(&listed, &ctx) {
            Label::Listed(label) | Label::Formatted(label) => return Ok(label),
            Label::Ambiguous(labels) => {
                return Err(Error::AmbiguousLabel {
                    role: created.role.to_string(),
                    account: created.account.to_string(),
                    app_id: app_id.to_owned(),
                    labels,
                });
            }
            Label::NotListed { looked_for } if fresh => {
                tracing::info!(?looked_for, "app schema does not list the role");
                return Err(Error::RoleNotImported {
                    role: created.role.to_string(),
                    app_id: app_id.to_owned(),
                    source: None,
                });
            }
            Label::NotListed { .. } => fresh = true,
        }
    }
}

async fn assign_to_group<S: SecretSource>(
    deps: &Deps<S>,
    created: RoleCreated,
    group_name: String,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let config = &deps.config;
    let mut session = Session::start(&deps.tokens, deadline).await?;
    let app = match choose_app(deps, &mut session, (&created).into()).await? {
        Ok(app) => app,
        Err(skipped) => return Ok(skipped),
    };
    let app_id = app.id.as_str();

    let okta = &deps.okta;
    let group = find_group(okta, &mut session, &group_name).await?;
    if let Err(skip) = config.rules.check_group(&group_name, Some(&group.id)) {
        return Ok(skipped(&created, Some(&group_name), skip));
    }
    let group_id = group.id.as_str();
    let mut outcome = Outcome {
        account: Some(created.account.to_string()),
        role: Some(created.role.to_string()),
        path: Some(created.path.to_string()),
        group: Some(group_name.clone()),
        group_id: Some(group.id.clone()),
        app_id: Some(app_id.to_owned()),
        dry_run: config.dry_run,
        ..Outcome::new(OutcomeKind::AlreadyPresent, created.event_id.clone())
    };

    // Okta has no conditional write: one read-merge-write per group at a time in this process.
    let _group_lock = deps.group_locks.lock(group_id).await;
    let existing = session
        .call(|call| async move { okta.get_assignment(&call, app_id, group_id).await })
        .await?;
    if existing.is_none() && !config.assign_unassigned_groups {
        return Err(Error::GroupNotAssigned {
            group: group_name,
            group_id: group.id,
            app_id: app_id.to_owned(),
        });
    }
    let present = existing
        .as_ref()
        .and_then(|a| assign::saml_roles(&a.profile).ok())
        .unwrap_or_default();
    let label = choose_label(deps, &mut session, &app, &created, &present).await?;
    outcome.label = Some(label.clone());
    let target = Target {
        app_id,
        group_id,
        adding_role: Some(&label),
        dry_run: config.dry_run,
    };
    let edited = edit::apply(
        okta,
        &mut session,
        &target,
        existing,
        &LabelEdit::adding(&label),
    )
    .await?;
    match edited {
        Edited::Unchanged { saml_roles } => {
            tracing::info!(
                outcome = "already_present",
                group_id,
                label,
                "role already assigned"
            );
            outcome.reason = Some("the role is already in the group's samlRoles".to_owned());
            outcome.saml_roles = Some(saml_roles);
        }
        Edited::WouldWrite {
            saml_roles,
            creates,
        } => {
            tracing::info!(
                outcome = "would_assign",
                group_id,
                label,
                creates_assignment = creates,
                saml_roles = ?saml_roles,
                "dry run: write not made"
            );
            outcome.outcome = OutcomeKind::WouldAssign;
            outcome.created_assignment = creates;
            outcome.reason = Some("DRY_RUN is set: the write was not made".to_owned());
            outcome.saml_roles = Some(saml_roles);
        }
        Edited::Written {
            saml_roles,
            created,
            after_lost_answer,
        } => {
            tracing::info!(
                outcome = "assigned",
                group_id,
                label,
                created_assignment = created,
                after_lost_answer,
                saml_roles = ?saml_roles,
                "role assigned"
            );
            outcome.outcome = OutcomeKind::Assigned;
            outcome.created_assignment = created;
            outcome.saml_roles = Some(saml_roles);
        }
    }
    Ok(outcome)
}

async fn remove_role<S: SecretSource>(
    deps: &Deps<S>,
    deleted: RoleDeleted,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let config = &deps.config;
    let subject = Subject::from(&deleted);
    if !config.remove_deleted_roles {
        tracing::info!(
            outcome = "ignored",
            account = %deleted.account,
            role = %deleted.role,
            "role deleted, REMOVE_DELETED_ROLES is false"
        );
        return Ok(Outcome {
            reason: Some("REMOVE_DELETED_ROLES is false".to_owned()),
            ..subject.outcome(OutcomeKind::Ignored)
        });
    }
    // A name outside the allow-list was never assigned automatically: whoever put it in a
    // group did so by hand, and it is theirs to take out.
    if let Err(skip) = config.rules.check_role_name(&deleted.role) {
        return Ok(skipped(subject, None, skip));
    }
    // IAM's record of a deletion holds no tags: the group a tag named is not known, and the
    // one the other rules give may hold the label for another reason.
    if let Some(key) = &config.naming.tag_key {
        let reason = format!(
            "GROUP_TAG_KEY ({key}) is set and a deletion carries no tags, so the role's group is \
             not known: remove its label by hand (the sweep reports it)"
        );
        return Ok(skipped(subject, None, Skip::new("group-tag", reason)));
    }
    // Events are delivered at least once and not always in order: a deletion handled after
    // the role was created again must not take the new role's access away.
    if let Some(iam) = &deps.iam {
        match iam.exists(&deleted.account, &deleted.role).await {
            Ok(true) => {
                let reason =
                    "iam has a role of this name again: it was created after this deletion";
                return Ok(skipped(subject, None, Skip::new("role-exists", reason)));
            }
            Ok(false) => {}
            // Not known to be gone: nothing is removed (a retryable error waits and comes back).
            Err(err) => return Err(Error::Iam(err)),
        }
    }
    let group_name = match config.naming.group_of(&deleted.role, &deleted.account, &[]) {
        Ok(group) => group.name,
        Err(NoGroup::Skip(skip)) => return Ok(skipped(subject, None, skip)),
        Err(NoGroup::BadTag(err)) => return Err(Error::InvalidEvent(err)),
    };
    if let Err(skip) = config.rules.check_group(&group_name, None) {
        return Ok(skipped(subject, Some(&group_name), skip));
    }
    let span = tracing::info_span!(
        "remove",
        account = %deleted.account,
        role = %deleted.role,
        group = group_name,
        app_id = tracing::field::Empty,
        event_id = deleted.event_id.as_deref(),
    );
    remove_from_group(deps, subject, group_name, deadline)
        .instrument(span)
        .await
}

async fn remove_from_group<S: SecretSource>(
    deps: &Deps<S>,
    subject: Subject<'_>,
    group_name: String,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let config = &deps.config;
    let okta = &deps.okta;
    let mut session = Session::start(&deps.tokens, deadline).await?;
    let app = match choose_app(deps, &mut session, subject).await? {
        Ok(app) => app,
        Err(skipped) => return Ok(skipped),
    };
    let app_id = app.id.as_str();
    let mut outcome = Outcome {
        group: Some(group_name.clone()),
        app_id: Some(app_id.to_owned()),
        dry_run: config.dry_run,
        ..subject.outcome(OutcomeKind::AlreadyAbsent)
    };
    let group = match find_group(okta, &mut session, &group_name).await {
        Ok(group) => group,
        Err(Error::GroupNotFound { .. }) => {
            tracing::info!(
                outcome = "already_absent",
                "role deleted, its group does not exist"
            );
            outcome.reason = Some(format!("no okta group is named {group_name:?}"));
            return Ok(outcome);
        }
        Err(err) => return Err(err),
    };
    if let Err(skip) = config.rules.check_group(&group_name, Some(&group.id)) {
        return Ok(skipped(subject, Some(&group_name), skip));
    }
    let group_id = group.id.as_str();
    outcome.group_id = Some(group.id.clone());

    let _group_lock = deps.group_locks.lock(group_id).await;
    let existing = session
        .call(|call| async move { okta.get_assignment(&call, app_id, group_id).await })
        .await?;
    let present = existing
        .as_ref()
        .and_then(|a| assign::saml_roles(&a.profile).ok())
        .unwrap_or_default();
    let ctx = LabelContext {
        role: subject.role,
        account: subject.account,
        alias: config
            .account_aliases
            .get(subject.account)
            .map(String::as_str),
        app_accounts: &app.accounts,
        existing: &present,
    };
    let own = labels::own_labels_in(&present, &ctx);
    if own.is_empty() {
        tracing::info!(
            outcome = "already_absent",
            group_id,
            "role deleted, not in its group"
        );
        outcome.reason = Some("the role is not in the group's samlRoles".to_owned());
        outcome.saml_roles = Some(present);
        return Ok(outcome);
    }
    outcome.label = Some(own.join(", "));
    let target = Target {
        app_id,
        group_id,
        adding_role: None,
        dry_run: config.dry_run,
    };
    let edit = LabelEdit::removing(own);
    match edit::apply(okta, &mut session, &target, existing, &edit).await? {
        Edited::Unchanged { saml_roles } => {
            tracing::info!(
                outcome = "already_absent",
                group_id,
                "role deleted, not in its group"
            );
            outcome.saml_roles = Some(saml_roles);
        }
        Edited::WouldWrite { saml_roles, .. } => {
            tracing::info!(
                outcome = "would_remove",
                group_id,
                removed = ?edit.remove,
                saml_roles = ?saml_roles,
                "dry run: removal not made"
            );
            outcome.outcome = OutcomeKind::WouldRemove;
            outcome.reason = Some("DRY_RUN is set: the write was not made".to_owned());
            outcome.saml_roles = Some(saml_roles);
        }
        Edited::Written { saml_roles, .. } => {
            tracing::info!(
                outcome = "removed",
                group_id,
                removed = ?edit.remove,
                saml_roles = ?saml_roles,
                "deleted role removed from its group"
            );
            outcome.outcome = OutcomeKind::Removed;
            outcome.saml_roles = Some(saml_roles);
        }
    }
    Ok(outcome)
}
