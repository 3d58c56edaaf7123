//! One CloudWatch metric per decision, in the embedded metric format: a JSON line on standard
//! output that CloudWatch Logs turns into a `Decisions` count with the dimensions `Outcome` and
//! `Outcome, Reason`. An operator alarms on `Outcome=parked` or `Outcome=failed` without
//! parsing logs.
//!
//! Written here rather than through a metrics facade: each decision is one self-contained
//! record, so no registry, aggregation or flush is needed, and a global recorder would mix the
//! counts of tests that run side by side. Reasons are short fixed names (a rule, a wait, an
//! error kind), never identifiers, so the dimension stays small.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::reconcile::FindingKind;
use crate::sweep::{ChangeStatus, SweepReport};

/// The metrics' namespace.
pub const NAMESPACE: &str = "OktaRoleSync";

/// The record for one decision.
pub fn record(outcome: &str, reason: &str, count: usize, at: SystemTime) -> String {
    let timestamp = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Outcome"], ["Outcome", "Reason"]],
                "Metrics": [{"Name": "Decisions", "Unit": "Count"}],
            }],
        },
        "Outcome": outcome,
        "Reason": reason,
        "Decisions": count,
    })
    .to_string()
}

/// Emits the record of one decision.
pub fn decision(outcome: &str, reason: &str) {
    emit(&record(outcome, reason, 1, SystemTime::now()));
}

/// Emits a sweep's decisions: its changes by status and its findings by kind.
pub fn sweep(report: &SweepReport) {
    let now = SystemTime::now();
    for status in [
        ChangeStatus::Applied,
        ChangeStatus::AlreadyDone,
        ChangeStatus::Failed,
        ChangeStatus::NotReached,
        ChangeStatus::Planned,
        ChangeStatus::Skipped,
    ] {
        let count = report.count(status);
        if count > 0 {
            emit(&record("sweep_change", status_name(status), count, now));
        }
    }
    for kind in [
        FindingKind::Skipped,
        FindingKind::NotImported,
        FindingKind::AmbiguousLabel,
        FindingKind::GroupMissing,
        FindingKind::GroupNotAssigned,
        FindingKind::Stale,
        FindingKind::Failed,
        FindingKind::NotReached,
    ] {
        let count = report.findings.iter().filter(|f| f.kind == kind).count();
        if count > 0 {
            emit(&record("sweep_finding", finding_name(kind), count, now));
        }
    }
}

fn status_name(status: ChangeStatus) -> &'static str {
    match status {
        ChangeStatus::Planned => "planned",
        ChangeStatus::Applied => "applied",
        ChangeStatus::AlreadyDone => "already_done",
        ChangeStatus::Failed => "failed",
        ChangeStatus::NotReached => "not_reached",
        ChangeStatus::Skipped => "skipped",
    }
}

fn finding_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Skipped => "skipped",
        FindingKind::NotImported => "not_imported",
        FindingKind::AmbiguousLabel => "ambiguous_label",
        FindingKind::GroupMissing => "group_missing",
        FindingKind::GroupNotAssigned => "group_not_assigned",
        FindingKind::Stale => "stale",
        FindingKind::Failed => "failed",
        FindingKind::NotReached => "not_reached",
    }
}

fn emit(line: &str) {
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;

    #[test]
    fn a_decision_is_one_emf_record_with_outcome_and_reason_dimensions() {
        let at = UNIX_EPOCH + Duration::from_millis(1_796_000_000_123);
        let line = record("deferred", "group_not_found", 1, at);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["_aws"]["Timestamp"], 1_796_000_000_123u64);
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "OktaRoleSync");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["Outcome"], ["Outcome", "Reason"]])
        );
        assert_eq!(directive["Metrics"][0]["Name"], "Decisions");
        assert_eq!(value["Outcome"], "deferred");
        assert_eq!(value["Reason"], "group_not_found");
        assert_eq!(value["Decisions"], 1);
        assert!(!line.contains('\n'));
    }
}
