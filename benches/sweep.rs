//! A reconciliation sweep at scale: thousands of IAM roles in moto, thousands of Okta groups
//! in the simulator with Okta's rate limits on a clock that runs faster (one Okta minute in a
//! second by default). Half the groups are assigned with one of their labels, half are not
//! assigned yet. Prints Okta calls by bucket, writes, the time against the rate-limit floor and
//! peak memory; asserts nothing about speed.
//!
//!   cargo bench --bench sweep          (ROLE_COUNT=5000 GROUP_COUNT=2000 CLOCK_SCALE=60)
//!
//! (`GROUPS` would not do: bash keeps a variable of that name for itself.)

#[path = "../tests/helpers/mod.rs"]
mod helpers;

use std::time::{Duration, Instant};

use helpers::{Account, World};
use okta_role_sync::ratelimit::OktaClock;
use okta_role_sync::sweep::{self, ChangeStatus, SweepOptions};
use serde_json::{Value, json};

/// Okta's defaults: 100 app calls a minute for the org, half of it for one token.
const APPS_PER_MINUTE: f64 = 100.0;
const TOKEN_SHARE: f64 = 0.5;

#[tokio::main]
async fn main() {
    let role_count = helpers::bench_var("ROLE_COUNT", 5000);
    let group_count = helpers::bench_var("GROUP_COUNT", 2000)
        .max(1)
        .min(role_count.max(1));
    let scale = helpers::bench_var("CLOCK_SCALE", 60) as f64;

    let team = |g: usize| format!("team{g:05}");
    let roles: Vec<String> = (0..role_count)
        .map(|i| format!("{}-role{:05}", team(i % group_count), i))
        .collect();

    let setup = Instant::now();
    let account = Account::new().await;
    for role in &roles {
        account.create_role(role, "/", true).await;
    }
    let groups: Vec<Value> = (0..group_count)
        .map(|g| json!({"id": format!("00gsweep{g:012}"), "name": team(g), "type": "OKTA_GROUP"}))
        .collect();
    // Half the groups are assigned, each holding the first of its roles already.
    let assignments: Vec<Value> = (0..group_count)
        .step_by(2)
        .map(|g| {
            json!({
                "appId": helpers::APP_ID,
                "groupId": format!("00gsweep{g:012}"),
                "profile": {"samlRoles": [roles[g]]},
            })
        })
        .collect();
    let labels: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut seed = helpers::seed(&labels, json!(groups), json!(assignments));
    seed["apps"][0]["settings"]["app"]["identityProviderArn"] =
        json!(format!("arn:aws:iam::{}:saml-provider/Okta", account.id));
    seed["clockScale"] = json!(scale);
    // Called directly, not through prism: the pages' links must name the simulator.
    seed["baseUrl"] = json!(helpers::sim_address());
    seed["rateLimits"] = json!({
        "apps": APPS_PER_MINUTE as u32,
        "groups": 500,
        "tokenSharePercent": (TOKEN_SHARE * 100.0) as u32,
    });
    let world = World::new(seed).await;
    let deps = world.deps_scaled(
        OktaClock::scaled(scale),
        &[
            ("OKTA_ORG_URL", world.sim_url()),
            ("SWEEP_ACCOUNTS", &account.id),
            ("ROLE_NAME_PATTERN", "(?P<team>team[0-9]+)-.*"),
            ("GROUP_NAME_TEMPLATE", "{team}"),
        ],
    );
    let setup = setup.elapsed();
    // As the scheduled function runs it: in the one lane, so a fresh listing serves as a read.
    let options = SweepOptions {
        apply: true,
        in_lane: true,
        ..SweepOptions::default()
    };
    let iam = helpers::iam_source();

    let started = Instant::now();
    let report = sweep::run(&deps, &iam, &options, |_, _| {})
        .await
        .expect("the sweep runs");
    let took = started.elapsed();
    let requests = world.requests().await;
    let again = sweep::run(&deps, &iam, &SweepOptions::default(), |_, _| {})
        .await
        .expect("the second sweep runs");

    let count = |bucket: &str, method: Option<&str>, status: Option<u64>| {
        requests
            .iter()
            .filter(|r| r["bucket"] == bucket)
            .filter(|r| method.is_none_or(|m| r["method"] == m))
            .filter(|r| status.is_none_or(|s| r["status"] == s))
            .count()
    };
    let app_calls = count("apps", None, None);
    let writes = count("apps", Some("PUT"), None);
    let pages = requests
        .iter()
        .filter(|r| r["bucket"] == "apps" && r["method"] == "GET")
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/groups")))
        .count();
    let changed = report.count(ChangeStatus::Applied);
    let throttled = count("apps", None, Some(429)) + count("groups", None, Some(429));
    let okta_time = Duration::from_secs_f64(took.as_secs_f64() * scale);
    let floor = Duration::from_secs_f64(app_calls as f64 / (APPS_PER_MINUTE * TOKEN_SHARE) * 60.0);
    let present: usize = world.state().await["assignments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a["profile"]["samlRoles"].as_array().map_or(0, Vec::len))
        .sum();

    println!(
        "sweep of {role_count} roles over {group_count} groups ({} assigned before), app bucket \
         {APPS_PER_MINUTE}/min, token share {}%, clock x{scale}",
        assignments.len(),
        TOKEN_SHARE * 100.0
    );
    println!(
        "setup (moto roles, simulator): {:.1} s",
        setup.as_secs_f64()
    );
    println!(
        "groups changed:         {changed} ({} failed, {} not reached)",
        report.count(ChangeStatus::Failed),
        report.count(ChangeStatus::NotReached)
    );
    println!("labels present at end:  {present} of {role_count}");
    println!(
        "okta calls:             apps {app_calls} (assignment pages {pages}, writes {writes}, reads {}), groups {}, other {}",
        app_calls - writes - pages,
        count("groups", None, None),
        count("other", None, None)
    );
    println!(
        "app calls per change:   {:.2}",
        app_calls as f64 / changed.max(1) as f64
    );
    println!("429s seen:              {throttled}");
    println!(
        "time:                   {:.1} okta-min ({:.1} s real); floor for the app calls made {:.1} okta-min; ratio {:.3}",
        okta_time.as_secs_f64() / 60.0,
        took.as_secs_f64(),
        floor.as_secs_f64() / 60.0,
        okta_time.as_secs_f64() / floor.as_secs_f64().max(f64::EPSILON)
    );
    println!("second sweep:           {} changes", again.changes.len());
    println!(
        "peak RSS:               {} KiB (sweep, simulator and clients in one process)",
        helpers::peak_rss_kib()
    );
}
