//! The reconciliation sweep and the operator command: roles that existed before the function
//! are backfilled, labels assigned by hand survive, `plan` writes nothing, `apply` converges.

use std::process::Command;

use serde_json::json;

use crate::assign::group;
use crate::helpers::{self, Account, World, iam_source, seed};
use okta_role_sync::cli;
use okta_role_sync::ratelimit::OktaClock;
use okta_role_sync::reconcile::FindingKind;
use okta_role_sync::sweep::{self, ChangeStatus, SweepOptions, SweepReport};

const LABELS: &[&str] = &[
    "ReadOnly", "Admin", "Auditor", "Builder", "GoneRole", "Manual",
];

/// Admin's group is assigned without it, Auditor's is not assigned, Builder has no group,
/// NotImportedYet has a group but no label in Okta, Ec2Worker trusts no SAML provider.
async fn backfill_world() -> (World, Account) {
    backfill_world_at(1.0).await
}

/// As [`backfill_world`], with Okta's clock at `clock_scale` times ours.
async fn backfill_world_at(clock_scale: f64) -> (World, Account) {
    let account = Account::new().await;
    let mut org = in_account(
        &account,
        seed(
            LABELS,
            json!([
                group("00gadmin000000000001", "Admin"),
                group("00gauditor0000000001", "Auditor"),
                group("00gnotimported000001", "NotImportedYet"),
            ]),
            json!([{
                "appId": helpers::APP_ID, "groupId": "00gadmin000000000001", "priority": 1,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly"]}
            }]),
        ),
    );
    org["clockScale"] = json!(clock_scale);
    let world = World::new(org).await;
    for role in ["Admin", "Auditor", "Builder", "NotImportedYet"] {
        account.create_role(role, "/", true).await;
    }
    account.create_role("Ec2Worker", "/", false).await;
    (world, account)
}

/// The seed's app serves `account` (its identity provider ARN names it).
fn in_account(account: &Account, mut org: serde_json::Value) -> serde_json::Value {
    org["apps"][0]["settings"]["app"]["identityProviderArn"] =
        json!(format!("arn:aws:iam::{}:saml-provider/Okta", account.id));
    org
}

async fn sweep(world: &World, account: &Account, apply: bool, remove_stale: bool) -> SweepReport {
    let deps = world.deps(&[("SWEEP_ACCOUNTS", &account.id)]);
    let options = SweepOptions {
        apply,
        remove_stale,
        ..SweepOptions::default()
    };
    sweep::run(&deps, &iam_source(), &options, |_, _| {})
        .await
        .expect("the sweep runs")
}

fn finding_kinds(report: &SweepReport) -> Vec<(FindingKind, String)> {
    let mut kinds: Vec<(FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.role.clone()))
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn roles_that_existed_before_are_backfilled_and_a_second_apply_finds_nothing() {
    let (world, account) = backfill_world().await;

    let first = sweep(&world, &account, true, false).await;

    assert_eq!(first.roles, 5);
    assert_eq!(first.count(ChangeStatus::Applied), 2, "{first:#?}");
    assert_eq!(
        world.saml_roles("00gadmin000000000001").await,
        ["ReadOnly", "Admin"]
    );
    let stored = world.assignment("00gadmin000000000001").await.unwrap();
    assert_eq!(stored["profile"]["role"], "ReadOnly");
    assert_eq!(stored["priority"], 1);
    assert_eq!(world.saml_roles("00gauditor0000000001").await, ["Auditor"]);
    assert_eq!(
        finding_kinds(&first),
        [
            (FindingKind::Skipped, "Ec2Worker".to_owned()),
            (FindingKind::NotImported, "NotImportedYet".to_owned()),
            (FindingKind::GroupMissing, "Builder".to_owned()),
        ]
    );
    assert_eq!(cli::exit_code(&first), 2);

    let writes = world.writes().await;
    let second = sweep(&world, &account, true, false).await;
    assert!(second.changes.is_empty(), "{second:#?}");
    assert_eq!(cli::exit_code(&second), 0);
    assert_eq!(world.writes().await, writes);
}

#[tokio::test]
async fn a_plan_writes_nothing_and_lists_each_change() {
    let (world, account) = backfill_world().await;

    let plan = sweep(&world, &account, false, false).await;

    assert_eq!(world.writes().await, 0);
    assert_eq!(plan.count(ChangeStatus::Planned), 2);
    let text = cli::render(&plan, false);
    assert!(
        text.contains("+ Admin") && text.contains("+ Auditor"),
        "{text}"
    );
    assert!(text.contains("create the okta group \"Builder\""), "{text}");
    assert!(
        text.contains("2 groups to change (2 labels to add, 0 to remove)"),
        "{text}"
    );
}

/// GoneRole's own group still holds its label; Admin's group holds a label put there by hand
/// (`Manual`, which the naming rules would give a group of its own), and so does BreakGlass.
async fn stale_world() -> (World, Account) {
    let account = Account::new().await;
    let world = World::new(in_account(
        &account,
        seed(
            LABELS,
            json!([
                group("00gadmin000000000001", "Admin"),
                group("00ggonerole000000001", "GoneRole"),
                group("00gbreakglass0000001", "BreakGlass"),
            ]),
            json!([
                {"appId": helpers::APP_ID, "groupId": "00gadmin000000000001", "priority": 1,
                 "profile": {"samlRoles": ["Admin", "Manual"]}},
                {"appId": helpers::APP_ID, "groupId": "00ggonerole000000001", "priority": 2,
                 "profile": {"samlRoles": ["GoneRole", "ReadOnly"]}},
                {"appId": helpers::APP_ID, "groupId": "00gbreakglass0000001", "priority": 3,
                 "profile": {"samlRoles": ["Admin", "GoneRole"]}},
            ]),
        ),
    ))
    .await;
    account.create_role("Admin", "/", true).await;
    (world, account)
}

#[tokio::test]
async fn labels_assigned_by_hand_survive_a_sweep_and_stale_ones_are_only_reported() {
    let (world, account) = stale_world().await;

    let report = sweep(&world, &account, true, false).await;

    assert!(report.changes.is_empty(), "{report:#?}");
    assert_eq!(
        finding_kinds(&report),
        [(FindingKind::Stale, "GoneRole".to_owned())]
    );
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn stale_labels_are_removed_when_asked_and_hand_assigned_ones_still_survive() {
    let (world, account) = stale_world().await;

    let report = sweep(&world, &account, true, true).await;

    assert_eq!(report.count(ChangeStatus::Applied), 1, "{report:#?}");
    assert_eq!(world.saml_roles("00ggonerole000000001").await, ["ReadOnly"]);
    assert_eq!(
        world.saml_roles("00gadmin000000000001").await,
        ["Admin", "Manual"]
    );
    assert_eq!(
        world.saml_roles("00gbreakglass0000001").await,
        ["Admin", "GoneRole"]
    );
}

#[tokio::test]
async fn the_hourly_schedule_runs_a_sweep_through_the_function() {
    let (world, account) = backfill_world().await;
    let deps = world
        .deps(&[("SWEEP_ACCOUNTS", &account.id)])
        .with_iam(iam_source());

    let report = helpers::invoke(&deps, helpers::event("scheduled-sweep.json")).await;

    assert_eq!(report["accounts"], json!([account.id]));
    let applied = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "applied")
        .count();
    assert_eq!(applied, 2, "{report}");
    assert_eq!(world.saml_roles("00gauditor0000000001").await, ["Auditor"]);
}

#[tokio::test]
async fn the_operator_command_plans_applies_and_then_has_nothing_to_do() {
    let (world, account) = backfill_world().await;

    let (planned, plan_text) = run_blocking(&world, &account, &["plan"]).await;
    assert_eq!(planned, 2, "{plan_text}");
    assert!(plan_text.contains("to assign"), "{plan_text}");
    assert_eq!(world.writes().await, 0);

    let (applied, apply_text) = run_blocking(&world, &account, &["apply", "--json"]).await;
    assert_eq!(applied, 2, "{apply_text}");
    assert!(
        apply_text.contains("\"status\": \"applied\""),
        "{apply_text}"
    );
    assert!(apply_text.contains("applied 2/2 groups"), "{apply_text}");

    let (again, again_text) = run_blocking(&world, &account, &["apply"]).await;
    assert_eq!(again, 0, "{again_text}");
    assert!(again_text.contains("0 groups changed"), "{again_text}");

    let (usage, usage_text) = run_blocking(&world, &account, &["plan", "--account", "12"]).await;
    assert_eq!(usage, 64, "{usage_text}");
}

/// Runs the operator command against this world; its exit code and everything it printed.
async fn run_blocking(world: &World, account: &Account, args: &[&str]) -> (i32, String) {
    let env = world.command_env(&[("SWEEP_ACCOUNTS", &account.id)]);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_okta-role-sync"))
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        (
            output.status.code().unwrap_or(-1),
            format!("{stdout}{stderr}"),
        )
    })
    .await
    .expect("the command's thread")
}

#[tokio::test]
async fn an_account_that_cannot_be_swept_is_reported_and_the_others_are_swept() {
    let (world, account) = backfill_world().await;
    let broken = "999900001111";
    let map = format!("{broken}=0oa9missing000000000");
    let deps = world.deps(&[
        ("SWEEP_ACCOUNTS", &format!("{},{broken}", account.id)),
        ("ACCOUNT_APP_MAP", &map),
    ]);
    let options = SweepOptions {
        apply: true,
        ..SweepOptions::default()
    };

    let report = sweep::run(&deps, &iam_source(), &options, |_, _| {})
        .await
        .unwrap();

    assert_eq!(report.count(ChangeStatus::Applied), 2);
    let failed: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert_eq!(failed[0].account, broken);
    assert!(
        failed[0].detail.contains("ACCOUNT_APP_MAP"),
        "{}",
        failed[0].detail
    );
    assert_eq!(cli::exit_code(&report), 1);
}

#[tokio::test]
async fn another_account_is_never_read_with_the_functions_own_credentials() {
    let (world, account) = backfill_world().await;
    let deps = world.deps(&[("SWEEP_ACCOUNTS", &account.id)]);
    let without_role = okta_role_sync::iam::Iam::new(helpers::moto_config(), None);
    let options = SweepOptions {
        apply: true,
        ..SweepOptions::default()
    };

    let report = sweep::run(&deps, &without_role, &options, |_, _| {})
        .await
        .unwrap();

    assert!(report.changes.is_empty(), "{report:#?}");
    assert_eq!(report.findings.len(), 1);
    assert!(
        report.findings[0].detail.contains("SWEEP_ROLE_NAME"),
        "{}",
        report.findings[0].detail
    );
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_denied_group_keeps_its_stale_labels_even_when_removal_is_asked() {
    let (world, account) = stale_world().await;
    let deps = world.deps(&[
        ("SWEEP_ACCOUNTS", &account.id),
        ("DENIED_GROUPS", "GoneRole"),
    ]);
    let options = SweepOptions {
        apply: true,
        remove_stale: true,
        ..SweepOptions::default()
    };

    let report = sweep::run(&deps, &iam_source(), &options, |_, _| {})
        .await
        .unwrap();

    assert!(report.changes.is_empty(), "{report:#?}");
    assert_eq!(
        world.saml_roles("00ggonerole000000001").await,
        ["GoneRole", "ReadOnly"]
    );
}

#[tokio::test]
async fn labels_okta_refuses_become_findings_and_the_others_are_still_written() {
    // The schema lists no labels, so the sweep writes labels as the format makes them, and
    // Okta refuses the one it has not imported.
    let account = Account::new().await;
    let mut org = in_account(
        &account,
        seed(
            &["Admin", "Auditor"],
            json!([group(
                "00gteam0000000000001",
                &format!("team-{}", account.id)
            )]),
            json!([{"appId": helpers::APP_ID, "groupId": "00gteam0000000000001", "priority": 1,
                    "profile": {"samlRoles": []}}]),
        ),
    );
    org["apps"][0]["schemaListsRoles"] = json!(false);
    let world = World::new(org).await;
    for role in ["Admin", "Auditor", "Unknown"] {
        account.create_role(role, "/", true).await;
    }
    let deps = world.deps(&[
        ("SWEEP_ACCOUNTS", &account.id),
        ("GROUP_NAME_TEMPLATE", "team-{account}"),
    ]);
    let options = SweepOptions {
        apply: true,
        ..SweepOptions::default()
    };

    let report = sweep::run(&deps, &iam_source(), &options, |_, _| {})
        .await
        .unwrap();

    assert_eq!(report.count(ChangeStatus::Applied), 1, "{report:#?}");
    let mut written = world.saml_roles("00gteam0000000000001").await;
    written.sort();
    assert_eq!(written, ["Admin", "Auditor"]);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::NotImported && f.role == "Unknown"),
        "{report:#?}"
    );
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_deadline_leaves_changes_not_reached_not_failed() {
    // Okta's minute lasts 100 of ours, so the spent bucket cannot reset within the deadline
    // whenever in the window the test starts.
    let (world, account) = backfill_world_at(0.01).await;
    let deps = world.deps_scaled(OktaClock::scaled(0.01), &[("SWEEP_ACCOUNTS", &account.id)]);
    // Spend the app bucket with this token too, until Okta answers 429.
    let http = reqwest::Client::new();
    for _ in 0..10_000 {
        let status = http
            .get(format!(
                "{}/api/v1/apps/{}/groups",
                world.sim_url(),
                helpers::APP_ID
            ))
            .header("Authorization", format!("SSWS {}", world.token))
            .send()
            .await
            .unwrap()
            .status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    let options = SweepOptions {
        apply: true,
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(20)),
        ..SweepOptions::default()
    };

    let report = sweep::run(&deps, &iam_source(), &options, |_, _| {}).await;

    let report = report.unwrap();
    assert_eq!(report.count(ChangeStatus::Failed), 0, "{report:#?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::NotReached),
        "{report:#?}"
    );
    assert_eq!(cli::exit_code(&report), 0);
    assert_eq!(world.writes().await, 0);
}
