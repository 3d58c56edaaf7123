//! The one way a group's app assignment is changed: from the latest read, made while the
//! caller holds the group's lock, written whole, and confirmed by Okta's answer to the write. A write that fails
//! without a clear answer is never repeated blindly: the assignment is read again first, since
//! the first write may have applied.
//!
//! The event path (one role added or removed) and the sweep (many labels of one group at
//! once) both come through here.

use std::time::Duration;

use backon::BackoffBuilder;

use crate::assign::{self, Change, LabelEdit};
use crate::error::Error;
use crate::okta::{Assignment, OktaClient, OktaError};
use crate::secret::SecretSource;
use crate::session::Session;

/// Attempts at one group's read-merge-write when a write fails without a clear answer.
const WRITE_ATTEMPTS: usize = 3;

/// Where the edit goes.
pub(crate) struct Target<'a> {
    pub app_id: &'a str,
    pub group_id: &'a str,
    /// The label a 400 from Okta is about, when the edit adds one role (it has not been
    /// imported); `None` when a 400 means something else.
    pub adding_role: Option<&'a str>,
    pub dry_run: bool,
}

/// What became of the edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edited {
    /// The assignment already said what the edit asks.
    Unchanged { saml_roles: Vec<String> },
    /// Written and confirmed; `created` when the group had no assignment;
    /// `after_lost_answer` when a write whose answer was lost turned out to have applied.
    Written {
        saml_roles: Vec<String>,
        created: bool,
        after_lost_answer: bool,
    },
    /// `DRY_RUN`: the write that would be made.
    WouldWrite {
        saml_roles: Vec<String>,
        creates: bool,
    },
}

/// Applies `edit` to the group's assignment. The caller holds the group's lock (see
/// [`GroupLocks`](crate::locks::GroupLocks)) and `latest` was read while holding it, so it is
/// used rather than read again.
pub(crate) async fn apply<S: SecretSource>(
    okta: &OktaClient,
    session: &mut Session<'_, S>,
    target: &Target<'_>,
    latest: Option<Assignment>,
    edit: &LabelEdit,
) -> Result<Edited, Error> {
    let (app_id, group_id) = (target.app_id, target.group_id);
    let mut backoff = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(4))
        .with_max_times(WRITE_ATTEMPTS - 1)
        .with_jitter()
        .build();
    let mut existing = latest;
    let mut wrote = false;
    let mut created = false;
    loop {
        let change = assign::edit_labels(existing.as_ref(), edit).map_err(|source| {
            Error::UnexpectedProfile {
                group_id: group_id.to_owned(),
                source,
            }
        })?;
        let (body, creates) = match change {
            Change::AlreadyPresent { saml_roles } if wrote => {
                return Ok(Edited::Written {
                    saml_roles,
                    created,
                    after_lost_answer: true,
                });
            }
            Change::AlreadyPresent { saml_roles } => return Ok(Edited::Unchanged { saml_roles }),
            Change::Write { body, creates } => (body, creates),
        };
        if target.dry_run {
            return Ok(Edited::WouldWrite {
                saml_roles: assign::saml_roles(&body.profile).unwrap_or_default(),
                creates,
            });
        }
        let body = &body;
        let written = session
            .call(|call| async move { okta.put_assignment(&call, app_id, group_id, body).await })
            .await;
        let stored = match written {
            Ok(stored) => stored,
            Err(Error::Okta(source))
                if is_unknown_role(&source) && target.adding_role.is_some() =>
            {
                return Err(Error::RoleNotImported {
                    role: target.adding_role.unwrap_or_default().to_owned(),
                    app_id: app_id.to_owned(),
                    source: Some(source),
                });
            }
            Err(Error::Okta(source)) if source.is_transient() => match backoff.next() {
                Some(delay) if session.fits(delay) => {
                    tracing::info!(
                        error = %source,
                        delay_ms = delay.as_millis() as u64,
                        "okta write failed, reading again"
                    );
                    wrote = true;
                    created |= creates;
                    tokio::time::sleep(delay).await;
                    existing =
                        session
                            .call(|call| async move {
                                okta.get_assignment(&call, app_id, group_id).await
                            })
                            .await?;
                    continue;
                }
                _ => return Err(Error::Okta(source)),
            },
            Err(other) => return Err(other),
        };
        let missing = assign::unconfirmed_after_write(body, &stored, edit);
        if !missing.is_empty() {
            return Err(Error::WriteNotConfirmed {
                group_id: group_id.to_owned(),
                missing,
            });
        }
        return Ok(Edited::Written {
            saml_roles: assign::saml_roles(&stored.profile).unwrap_or_default(),
            created: created || creates,
            after_lost_answer: false,
        });
    }
}

/// Okta's answer to a `samlRoles` value it has not imported: a 400 validation error.
fn is_unknown_role(err: &OktaError) -> bool {
    err.status() == Some(reqwest::StatusCode::BAD_REQUEST) && err.error_code() == Some("E0000001")
}
