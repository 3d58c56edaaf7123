//! The Lambda entry: tells a batch of queue messages from a single event, runs each through
//! the handler, and turns waits into delayed retries and expired or hopeless events into
//! parked messages, so that nothing is dropped.
//!
//! In the deployed design EventBridge puts every CreateRole event on the FIFO work queue; the
//! function handles that queue's messages one at a time, in order. A waiting event goes to the
//! delay queue, whose messages the function only forwards back to the work queue, so all of
//! Okta's writes stay in the one ordered lane. A single event invoked directly (a manual run)
//! is handled the same way and answered with its outcome.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use crate::error::Error;
use crate::handler::{Deps, Outcome, OutcomeKind, handle_until};
use crate::metrics;
use crate::queues::Queues;
use crate::secret::SecretSource;
use crate::sweep::{self, ChangeStatus, SweepOptions};
use crate::waits::{self, Envelope, RetryState, Stage};

/// Time kept free before Lambda's deadline to park or answer.
const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// Handles one invocation.
pub async fn lambda<S: SecretSource>(
    deps: &Deps<S>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let deadline = local_deadline(event.context.deadline, SystemTime::now());
    let payload = event.payload;
    if is_sqs_batch(&payload) {
        let messages: Vec<SqsMessage> = serde_json::from_value(payload["Records"].clone())
            .map_err(|e| Diagnostic {
                error_type: "Permanent.InvalidEvent".to_owned(),
                error_message: format!("invalid event: unreadable SQS records: {e}"),
            })?;
        let response = handle_batch(deps, messages, deadline).await;
        return Ok(serde_json::to_value(response).unwrap_or_else(|_| json!({})));
    }
    if is_scheduled(&payload) {
        return match sweep(deps, deadline).await {
            Ok(report) => Ok(report),
            Err(err) => {
                log_failure(&err);
                Err(err.into())
            }
        };
    }
    match process(
        deps,
        Envelope {
            event: payload,
            retry: None,
        },
        deadline,
        None,
    )
    .await
    {
        Ok(outcome) => Ok(serde_json::to_value(outcome).unwrap_or_else(|_| json!({}))),
        Err(err) => {
            log_failure(&err);
            Err(err.into())
        }
    }
}

/// An EventBridge schedule's event: the hourly sweep.
fn is_scheduled(payload: &Value) -> bool {
    payload["source"] == "aws.events" && payload["detail-type"] == "Scheduled Event"
}

/// The sweep, applied, answered with its report; each change is logged and counted.
async fn sweep<S: SecretSource>(deps: &Deps<S>, deadline: Option<Instant>) -> Result<Value, Error> {
    let iam = deps.iam.as_ref().ok_or(Error::NoSweepSource)?;
    let options = SweepOptions {
        accounts: Vec::new(),
        apply: true,
        remove_stale: deps.config.sweep_remove_stale,
        deadline,
        in_lane: true,
    };
    let report = match sweep::run(deps, iam, &options, |_, _| {}).await {
        Ok(report) => report,
        Err(err) => {
            metrics::decision("failed", &format!("sweep_{}", err.kind()));
            return Err(err);
        }
    };
    metrics::sweep(&report);
    tracing::info!(
        outcome = "swept",
        accounts = ?report.accounts,
        roles = report.roles,
        applied = report.count(ChangeStatus::Applied),
        failed = report.count(ChangeStatus::Failed),
        not_reached = report.count(ChangeStatus::NotReached),
        findings = report.findings.len(),
        "sweep done"
    );
    Ok(serde_json::to_value(&report).unwrap_or_else(|_| json!({})))
}

fn is_sqs_batch(payload: &Value) -> bool {
    payload["Records"]
        .as_array()
        .and_then(|records| records.first())
        .is_some_and(|first| first["eventSource"] == "aws:sqs")
}

/// Lambda's deadline (epoch milliseconds) as a local instant, less a margin.
///
/// Lambda sends an epoch time. Local emulators do not always: `cargo lambda watch` sends the
/// timeout itself (600000 for ten minutes), which read as an epoch time lies in 1970 and would
/// leave no time for any call. A value too small to be an epoch time in milliseconds (before
/// 2001) is taken as the time left; a deadline already past when the invocation starts, which
/// Lambda never sends, is logged and ignored.
fn local_deadline(deadline_ms: u64, now: SystemTime) -> Option<Instant> {
    const EPOCH_MS_2001: u64 = 978_307_200_000;
    if deadline_ms == 0 {
        return None;
    }
    let left = if deadline_ms < EPOCH_MS_2001 {
        Duration::from_millis(deadline_ms)
    } else {
        let now_ms = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if deadline_ms <= now_ms {
            tracing::warn!(
                deadline_ms,
                now_ms,
                "invocation deadline already past, ignored"
            );
            return None;
        }
        Duration::from_millis(deadline_ms - now_ms)
    };
    Some(Instant::now() + left.saturating_sub(DEADLINE_MARGIN))
}

/// Handles a batch in order. After the first message that must be retried, the rest are
/// reported as failed too, untouched: the work queue is FIFO and its order is kept.
pub async fn handle_batch<S: SecretSource>(
    deps: &Deps<S>,
    messages: Vec<SqsMessage>,
    deadline: Option<Instant>,
) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for message in messages {
        let id = message.message_id.clone().unwrap_or_default();
        if !failures.is_empty() {
            failures.push(failure(id));
            continue;
        }
        if let Err(err) = handle_message(deps, &message, deadline).await {
            log_failure(&err);
            failures.push(failure(id));
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

fn failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// One message: forwarded when it comes from the delay queue, handled otherwise. `Err` means
/// the message stays on its queue to be delivered again.
async fn handle_message<S: SecretSource>(
    deps: &Deps<S>,
    message: &SqsMessage,
    deadline: Option<Instant>,
) -> Result<(), Error> {
    let id = message.message_id.as_deref().unwrap_or_default();
    let body = message.body.as_deref().unwrap_or_default();
    let envelope = match Envelope::from_body(body) {
        Ok(envelope) => envelope,
        Err(reason) => {
            tracing::error!(
                outcome = "parked",
                message_id = id,
                reason,
                "unreadable message parked"
            );
            let parked = json!({"unreadableBody": body, "error": reason}).to_string();
            return park(deps, parked, id).await;
        }
    };
    if let Some(retry) = &envelope.retry
        && retry.stage == Stage::Waiting
    {
        let queues = queues(deps)?;
        let due = Envelope {
            event: envelope.event.clone(),
            retry: Some(RetryState {
                stage: Stage::Due,
                ..retry.clone()
            }),
        };
        queues.work(due.to_body(), id).await?;
        tracing::debug!(
            message_id = id,
            attempt = retry.attempt,
            "waiting event due again"
        );
        return Ok(());
    }
    // A sweep is never retried from the queue: the lane would wait behind it, and the next
    // schedule runs it again anyway. Its failure is logged and counted.
    if is_scheduled(&envelope.event) {
        if let Err(err) = sweep(deps, deadline).await {
            log_failure(&err);
        }
        return Ok(());
    }
    match process(deps, envelope.clone(), deadline, Some(id)).await {
        Ok(_) => Ok(()),
        Err(err) if err.retryable() => Err(err),
        Err(err) => {
            log_failure(&err);
            let parked = parked_body(&envelope, &err, None);
            park(deps, parked, id).await
        }
    }
}

/// Runs the handler on one event; a wait becomes a delayed retry (or, past the maximum age, a
/// parked message) and is answered as `deferred` (or `parked`).
async fn process<S: SecretSource>(
    deps: &Deps<S>,
    envelope: Envelope,
    deadline: Option<Instant>,
    message_id: Option<&str>,
) -> Result<Outcome, Error> {
    let err = match handle_until(deps, &envelope.event, deadline).await {
        Ok(outcome) => {
            metrics::decision(outcome.outcome.as_str(), outcome.rule.unwrap_or("none"));
            return Ok(outcome);
        }
        Err(err) => err,
    };
    let (Some(wait), Some(queues)) = (waits::wait_for(&err), deps.queues.as_ref()) else {
        metrics::decision("failed", err.kind());
        return Err(err);
    };
    let now = waits::epoch_seconds(SystemTime::now());
    let (attempt, first) = match &envelope.retry {
        Some(retry) if retry.stage != Stage::Parked => (retry.attempt + 1, retry.first_attempt_at),
        _ => (1, now),
    };
    let waited = Duration::from_secs(now.saturating_sub(first));
    let mut outcome = Outcome::new(OutcomeKind::Deferred, None);
    outcome.reason = Some(err.chain());
    let state = RetryState {
        stage: Stage::Waiting,
        attempt,
        first_attempt_at: first,
        reason: wait.reason.to_owned(),
    };
    if waited >= deps.config.max_wait {
        tracing::error!(
            outcome = "parked",
            reason = wait.reason,
            attempts = attempt,
            waited_s = waited.as_secs(),
            action = wait.action,
            error = err.chain(),
            "waited too long, parked for an operator"
        );
        let body = parked_body(&envelope, &err, Some((&state, &wait.action)));
        let dedup = message_id.map_or_else(|| format!("parked-{first}-{attempt}"), str::to_owned);
        queues.park(body, &dedup).await?;
        metrics::decision("parked", wait.reason);
        outcome.outcome = OutcomeKind::Parked;
        return Ok(outcome);
    }
    let delay = waits::next_delay(deps.config.retry_base_delay, attempt, wait.at_least);
    let waiting = Envelope {
        event: envelope.event,
        retry: Some(state),
    };
    queues.delay(waiting.to_body(), delay).await?;
    metrics::decision("deferred", wait.reason);
    tracing::info!(
        outcome = "deferred",
        reason = wait.reason,
        attempt,
        delay_s = delay.as_secs(),
        error = err.chain(),
        "event deferred"
    );
    outcome.retry_in_seconds = Some(delay.as_secs());
    outcome.attempt = Some(attempt);
    Ok(outcome)
}

fn queues<S>(deps: &Deps<S>) -> Result<&Queues, Error> {
    deps.queues.as_ref().ok_or(Error::NoQueues)
}

async fn park<S>(deps: &Deps<S>, body: String, dedup_id: &str) -> Result<(), Error> {
    queues(deps)?.park(body, dedup_id).await?;
    Ok(())
}

/// What an operator finds on the parked queue: the event (sent back to the work queue, it
/// starts over), the error and what to do.
fn parked_body(envelope: &Envelope, err: &Error, wait: Option<(&RetryState, &String)>) -> String {
    let retry = RetryState {
        stage: Stage::Parked,
        attempt: wait.map_or(1, |(s, _)| s.attempt),
        first_attempt_at: wait.map_or_else(
            || waits::epoch_seconds(SystemTime::now()),
            |(s, _)| s.first_attempt_at,
        ),
        reason: err.kind().to_owned(),
    };
    let mut body: Value = serde_json::from_str(
        &Envelope {
            event: envelope.event.clone(),
            retry: Some(retry),
        }
        .to_body(),
    )
    .unwrap_or_else(|_| json!({}));
    body["errorType"] = json!(err.error_type());
    body["error"] = json!(err.chain());
    if let Some((_, action)) = wait {
        body["action"] = json!(action);
    }
    body.to_string()
}

fn log_failure(err: &Error) {
    tracing::error!(
        outcome = "failed",
        error_type = err.error_type(),
        retryable = err.retryable(),
        error = err.chain(),
        "event failed"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(deadline: Option<Instant>) -> Option<Duration> {
        deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    #[test]
    fn an_epoch_deadline_leaves_the_time_until_it_less_the_margin() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let deadline_ms = 1_796_000_000_000 + 30_000;
        let left = left(local_deadline(deadline_ms, now)).unwrap();
        assert!(
            left <= Duration::from_secs(28) && left > Duration::from_secs(27),
            "{left:?}"
        );
    }

    #[test]
    fn a_timeout_sent_in_place_of_a_deadline_is_taken_as_the_time_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let left = left(local_deadline(600_000, now)).unwrap();
        assert!(left > Duration::from_secs(597), "{left:?}");
    }

    #[test]
    fn no_deadline_or_one_already_past_sets_no_deadline() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        assert_eq!(local_deadline(0, now), None);
        assert_eq!(local_deadline(1_795_999_000_000, now), None);
    }
}
