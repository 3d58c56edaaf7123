//! The operator command: the same binary, run outside Lambda with `plan` or `apply`, sweeps
//! as the scheduled function does. `plan` prints the difference and writes nothing; `apply`
//! makes it, with progress on standard error and a summary at the end.
//!
//! Exit codes: 0 nothing to do, 2 changes (planned, or made), 1 failed, 64 usage.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::handler::Deps;
use crate::iam::{Iam, RoleSource};
use crate::reconcile::FindingKind;
use crate::role::AccountId;
use crate::secret::{SecretSource, SecretsManager};
use crate::sweep::{self, ChangeStatus, SweepOptions, SweepReport};

const NOTHING_TO_DO: u8 = 0;
const FAILED: u8 = 1;
const CHANGES: u8 = 2;
const USAGE: u8 = 64;

/// Reconciles IAM roles with Okta AWS Account Federation group assignments. Configured by the
/// same environment variables as the function (OKTA_ORG_URL, OKTA_SECRET_ID, ...), with AWS
/// credentials from the environment.
#[derive(Debug, Parser)]
#[command(name = "okta-role-sync", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print what a sweep would change, writing nothing. Exit 0: nothing to do; 2: changes.
    Plan(SweepArgs),
    /// Make the changes. Exit 0: nothing to do; 2: changes made; 1: a change failed.
    Apply(SweepArgs),
}

#[derive(Debug, clap::Args)]
struct SweepArgs {
    /// An account to sweep (repeat for several); default SWEEP_ACCOUNTS, else the
    /// credentials' own account.
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    accounts: Vec<String>,
    /// Print the plan or the result as JSON.
    #[arg(long)]
    json: bool,
    /// Also remove labels whose IAM role no longer exists (as SWEEP_REMOVE_STALE=true).
    #[arg(long)]
    remove_stale: bool,
}

/// Runs the command named by `args` (the program's arguments, the program's name first).
pub async fn main(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                USAGE
            } else {
                NOTHING_TO_DO
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    if std::env::var_os("RUST_LOG").is_some() {
        lambda_runtime::tracing::init_default_subscriber_with_writer(std::io::stderr);
    }
    let (apply, args) = match cli.command {
        Command::Plan(args) => (false, args),
        Command::Apply(args) => (true, args),
    };
    let mut accounts = Vec::new();
    for raw in &args.accounts {
        match AccountId::parse(raw) {
            Ok(account) => accounts.push(account),
            Err(reason) => {
                eprintln!("okta-role-sync: --account: {reason}");
                return ExitCode::from(USAGE);
            }
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("okta-role-sync: {err}");
            return ExitCode::from(FAILED);
        }
    };
    let aws = aws_config::load_from_env().await;
    let secrets = SecretsManager::new(
        aws_sdk_secretsmanager::Client::new(&aws),
        config.okta_secret_id.clone(),
    );
    let iam = Iam::new(aws.clone(), config.sweep_role_name.clone());
    let remove_stale = args.remove_stale || config.sweep_remove_stale;
    let deps = match Deps::new(config, secrets) {
        Ok(deps) => deps,
        Err(err) => {
            eprintln!("okta-role-sync: failed to build the okta client: {err}");
            return ExitCode::from(FAILED);
        }
    };
    let options = SweepOptions {
        accounts,
        apply,
        remove_stale,
        deadline: None,
        in_lane: false,
    };
    run(&deps, &iam, &options, args.json).await
}

/// Runs a sweep and prints its report; the exit code says what happened.
pub async fn run<S: SecretSource, R: RoleSource>(
    deps: &Deps<S>,
    iam: &R,
    options: &SweepOptions,
    json: bool,
) -> ExitCode {
    let progress = |done: usize, total: usize| {
        if done == total || done.is_multiple_of(10) {
            eprintln!("applied {done}/{total} groups");
        }
    };
    let report = match sweep::run(deps, iam, options, progress).await {
        Ok(report) => report,
        Err(err) => {
            eprintln!("okta-role-sync: {}", err.chain());
            return ExitCode::from(FAILED);
        }
    };
    let mut out = std::io::stdout().lock();
    let printed = if json {
        serde_json::to_string_pretty(&report)
            .map(|text| writeln!(out, "{text}"))
            .unwrap_or(Ok(()))
    } else {
        write!(out, "{}", render(&report, options.apply))
    };
    if printed.is_err() {
        return ExitCode::from(FAILED);
    }
    ExitCode::from(exit_code(&report))
}

/// 1 when a change or an account failed, 2 when there were changes (planned, or made), 0
/// otherwise: a change Okta already held, one skipped or one the deadline left is no change.
pub fn exit_code(report: &SweepReport) -> u8 {
    let failed = report.count(ChangeStatus::Failed) > 0
        || report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Failed);
    if failed {
        FAILED
    } else if report.count(ChangeStatus::Planned) + report.count(ChangeStatus::Applied) > 0 {
        CHANGES
    } else {
        NOTHING_TO_DO
    }
}

/// The report as a table an operator reads.
pub fn render(report: &SweepReport, applied: bool) -> String {
    let mut text = String::new();
    if !report.changes.is_empty() {
        let width = report
            .changes
            .iter()
            .map(|c| c.change.group_name.len())
            .max()
            .unwrap_or(0)
            .max("GROUP".len());
        text.push_str(&format!(
            "{:<20}  {:<width$}  {:<12}  CHANGE\n",
            "APP", "GROUP", "STATUS"
        ));
        for result in &report.changes {
            let change = &result.change;
            let status = match result.status {
                ChangeStatus::Planned if change.assignment.is_some() => "to change",
                ChangeStatus::Planned => "to assign",
                ChangeStatus::Applied => "applied",
                ChangeStatus::AlreadyDone => "already done",
                ChangeStatus::Failed => "FAILED",
                ChangeStatus::NotReached => "not reached",
                ChangeStatus::Skipped => "skipped",
            };
            let mut edits: Vec<String> = change.add.iter().map(|l| format!("+ {l}")).collect();
            edits.extend(change.remove.iter().map(|l| format!("- {l}")));
            for (i, edit) in edits.iter().enumerate() {
                if i == 0 {
                    text.push_str(&format!(
                        "{:<20}  {:<width$}  {:<12}  {edit}\n",
                        change.app_id, change.group_name, status
                    ));
                } else {
                    text.push_str(&format!("{:<20}  {:<width$}  {:<12}  {edit}\n", "", "", ""));
                }
            }
            if let Some(error) = &result.error {
                text.push_str(&format!(
                    "{:<20}  {:<width$}  {:<12}  {error}\n",
                    "", "", ""
                ));
            }
        }
        text.push('\n');
    }
    let notable: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::Skipped)
        .collect();
    if !notable.is_empty() {
        let kind_of = |kind: FindingKind| {
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let rows: Vec<[String; 5]> = notable
            .iter()
            .map(|f| {
                let dash = |s: &str| {
                    if s.is_empty() {
                        "-".to_owned()
                    } else {
                        s.to_owned()
                    }
                };
                [
                    kind_of(f.kind),
                    dash(&f.account),
                    dash(&f.role),
                    dash(f.group.as_deref().unwrap_or_default()),
                    f.detail.clone(),
                ]
            })
            .collect();
        let header = ["TO LOOK AT", "ACCOUNT", "ROLE", "GROUP", "DETAIL"];
        let widths: Vec<usize> = (0..4)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].len())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
            text.push_str(&format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}\n",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
            ));
        }
        text.push('\n');
    }
    let skipped = report.findings.len() - notable.len();
    let verb = if applied { "changed" } else { "to change" };
    let groups = if applied {
        report.count(ChangeStatus::Applied)
    } else {
        report.changes.len()
    };
    text.push_str(&format!(
        "{groups} groups {verb} ({} labels to add, {} to remove); {} to look at, {skipped} roles \
         skipped by rule; {} roles in {} account(s)",
        report.labels_to_add(),
        report.labels_to_remove(),
        notable.len(),
        report.roles,
        report.accounts.len()
    ));
    if applied {
        let failed = report.count(ChangeStatus::Failed);
        let not_reached = report.count(ChangeStatus::NotReached);
        text.push_str(&format!("; {failed} failed, {not_reached} not reached"));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::GroupChange;
    use crate::sweep::ChangeResult;

    fn report(statuses: &[ChangeStatus]) -> SweepReport {
        let change = GroupChange {
            app_id: "0oa1".into(),
            group_name: "Admin".into(),
            group_id: Some("00g1".into()),
            add: vec!["Admin".into()],
            remove: vec![],
            assignment: None,
            stale_roles: vec![],
        };
        SweepReport {
            changes: statuses
                .iter()
                .map(|status| ChangeResult {
                    change: change.clone(),
                    status: *status,
                    error: None,
                })
                .collect(),
            ..SweepReport::default()
        }
    }

    #[test]
    fn the_exit_code_says_nothing_to_do_changes_or_failed() {
        assert_eq!(exit_code(&report(&[])), 0);
        assert_eq!(
            exit_code(&report(&[ChangeStatus::AlreadyDone, ChangeStatus::Skipped])),
            0
        );
        assert_eq!(exit_code(&report(&[ChangeStatus::Planned])), 2);
        assert_eq!(
            exit_code(&report(&[ChangeStatus::Applied, ChangeStatus::NotReached])),
            2
        );
        assert_eq!(
            exit_code(&report(&[ChangeStatus::Applied, ChangeStatus::Failed])),
            1
        );
    }
}
