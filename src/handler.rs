//! The handler: one event in, one decision out. It reads the event, and for a created role
//! finds the group, reads its assignment, writes the merged assignment and checks Okta's answer.
//!
//! It logs one line per decision and returns the decision as JSON; a failure is returned as an
//! [`Error`] for the caller to log and report.

use std::future::Future;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::assign::{self, Change, GroupChoice};
use crate::config::Config;
use crate::error::Error;
use crate::event::{self, Intake, RoleCreated, TrustSummary};
use crate::locks::GroupLocks;
use crate::okta::{Call, GroupQuery, OktaClient, OktaError};
use crate::queues::Queues;
use crate::ratelimit::OktaClock;
use crate::role::AccountId;
use crate::secret::{SecretSource, TokenCache};

/// Attempts at one group's read-merge-write when a write fails without a clear answer.
const WRITE_ATTEMPTS: usize = 3;
/// Time a read and a write take at worst, kept free before the deadline.
const WRITE_ROUND: Duration = Duration::from_secs(3);

/// What the handler needs, built once per container.
pub struct Deps<S> {
    pub config: Config,
    pub okta: OktaClient,
    pub tokens: TokenCache<S>,
    pub queues: Option<Queues>,
    group_locks: GroupLocks,
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
        Ok(Self {
            config,
            okta,
            tokens,
            queues: None,
            group_locks: GroupLocks::default(),
        })
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
    /// A relevant event that asks for nothing (the IAM call failed).
    Skipped,
    /// An event this function does not act on.
    Ignored,
    /// A wait (no group yet, role not imported yet, rate limit): retried later by itself.
    Deferred,
    /// Waited longer than allowed: on the parked queue for an operator.
    Parked,
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
    pub reason: Option<String>,
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
            reason: None,
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
    }
}

async fn assign_role<S: SecretSource>(
    deps: &Deps<S>,
    created: RoleCreated,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let group_name = deps
        .config
        .group_name_template
        .render(&created.role, &created.account);
    let span = tracing::info_span!(
        "assign",
        account = %created.account,
        role = %created.role,
        path = %created.path,
        group = group_name,
        app_id = deps.config.okta_app_id,
        event_id = created.event_id.as_deref(),
    );
    assign_to_group(deps, created, group_name, deadline)
        .instrument(span)
        .await
}

async fn assign_to_group<S: SecretSource>(
    deps: &Deps<S>,
    created: RoleCreated,
    group_name: String,
    deadline: Option<Instant>,
) -> Result<Outcome, Error> {
    let config = &deps.config;
    let app_id = config.okta_app_id.as_str();
    let label = created.role.as_str();
    if created.trust == TrustSummary::NotSaml {
        tracing::info!(trust = ?created.trust, "role trust policy allows no saml provider");
    }
    let mut session = Session::start(&deps.tokens, deadline).await?;

    let okta = &deps.okta;
    let name = group_name.as_str();
    let (exact, prefix) = session
        .call(|call| async move {
            tokio::try_join!(
                okta.list_groups(&call, GroupQuery::NameEquals(name)),
                okta.list_groups(&call, GroupQuery::NamePrefix(name)),
            )
        })
        .await?;
    let group = match assign::choose_group(&group_name, exact.into_iter().chain(prefix)) {
        GroupChoice::Found { group, passed_over } => {
            if !passed_over.is_empty() {
                tracing::info!(
                    group_id = group.id,
                    ?passed_over,
                    "imported groups of the same name passed over"
                );
            }
            group
        }
        GroupChoice::NotFound { differing_in_case } => {
            return Err(Error::GroupNotFound {
                name: group_name,
                differing_in_case,
            });
        }
        GroupChoice::Ambiguous { ids } => {
            return Err(Error::AmbiguousGroup {
                name: group_name,
                ids,
            });
        }
    };
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
    let mut backoff = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(4))
        .with_max_times(WRITE_ATTEMPTS - 1)
        .with_jitter()
        .build();
    let mut wrote = false;
    loop {
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
        let change = assign::add_role(existing.as_ref(), label).map_err(|source| {
            Error::UnexpectedProfile {
                group_id: group.id.clone(),
                source,
            }
        })?;
        let (body, creates) = match change {
            Change::AlreadyPresent { saml_roles } if wrote => {
                tracing::info!(
                    outcome = "assigned",
                    group_id,
                    saml_roles = ?saml_roles,
                    "role assigned (a write whose answer was lost had applied)"
                );
                outcome.outcome = OutcomeKind::Assigned;
                outcome.saml_roles = Some(saml_roles);
                return Ok(outcome);
            }
            Change::AlreadyPresent { saml_roles } => {
                tracing::info!(
                    outcome = "already_present",
                    group_id,
                    "role already assigned"
                );
                outcome.reason = Some("the role is already in the group's samlRoles".to_owned());
                outcome.saml_roles = Some(saml_roles);
                return Ok(outcome);
            }
            Change::Write { body, creates } => (body, creates),
        };
        if config.dry_run {
            let proposed = assign::saml_roles(&body.profile).unwrap_or_default();
            tracing::info!(
                outcome = "would_assign",
                group_id,
                creates_assignment = creates,
                saml_roles = ?proposed,
                "dry run: write not made"
            );
            outcome.outcome = OutcomeKind::WouldAssign;
            outcome.created_assignment = creates;
            outcome.reason = Some("DRY_RUN is set: the write was not made".to_owned());
            outcome.saml_roles = Some(proposed);
            return Ok(outcome);
        }

        let body = &body;
        let written = session
            .call(|call| async move { okta.put_assignment(&call, app_id, group_id, body).await })
            .await;
        let stored = match written {
            Ok(stored) => stored,
            Err(Error::Okta(source)) if is_unknown_role(&source) => {
                return Err(Error::RoleNotImported {
                    role: label.to_owned(),
                    app_id: app_id.to_owned(),
                    source,
                });
            }
            Err(Error::Okta(source)) if source.is_transient() => {
                // The write may have applied: read again before writing again.
                match backoff.next() {
                    Some(delay) if session.fits(delay) => {
                        tracing::info!(error = %source, delay_ms = delay.as_millis() as u64, "okta write failed, reading again");
                        wrote = true;
                        outcome.created_assignment |= creates;
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    _ => return Err(Error::Okta(source)),
                }
            }
            Err(other) => return Err(other),
        };
        let missing = assign::missing_after_write(body, &stored);
        if !missing.is_empty() {
            return Err(Error::WriteNotConfirmed {
                group_id: group.id,
                missing,
            });
        }
        let stored_roles = assign::saml_roles(&stored.profile).unwrap_or_default();
        tracing::info!(
            outcome = "assigned",
            group_id,
            created_assignment = creates,
            saml_roles = ?stored_roles,
            "role assigned"
        );
        outcome.outcome = OutcomeKind::Assigned;
        outcome.created_assignment |= creates;
        outcome.saml_roles = Some(stored_roles);
        return Ok(outcome);
    }
}

/// Okta's answer to a `samlRoles` value it has not imported: a 400 validation error.
fn is_unknown_role(err: &OktaError) -> bool {
    err.status() == Some(reqwest::StatusCode::BAD_REQUEST) && err.error_code() == Some("E0000001")
}

/// One invocation's use of the credential: on Okta's 401 the credential is got again once (an
/// API token by reading the secret, which may have been rotated; an access token by asking Okta
/// for a new one) and the call made once more.
struct Session<'a, S> {
    tokens: &'a TokenCache<S>,
    call: Call,
    refreshed: bool,
}

impl<'a, S: SecretSource> Session<'a, S> {
    async fn start(tokens: &'a TokenCache<S>, deadline: Option<Instant>) -> Result<Self, Error> {
        Ok(Self {
            tokens,
            call: Call {
                token: tokens.token().await?,
                deadline,
            },
            refreshed: false,
        })
    }

    /// Whether waiting `delay` still leaves time for a round of calls.
    fn fits(&self, delay: Duration) -> bool {
        self.call
            .deadline
            .is_none_or(|deadline| Instant::now() + delay + WRITE_ROUND < deadline)
    }

    async fn call<T, F, Fut>(&mut self, call: F) -> Result<T, Error>
    where
        F: Fn(Call) -> Fut,
        Fut: Future<Output = Result<T, OktaError>>,
    {
        match call(self.call.clone()).await {
            Err(err) if err.is_unauthorized() && !self.refreshed => {
                tracing::info!("okta refused the credential, getting it again");
                self.refreshed = true;
                self.call.token = self.tokens.refresh(&self.call.token).await?;
                call(self.call.clone()).await.map_err(Error::from)
            }
            result => result.map_err(Error::from),
        }
    }
}
