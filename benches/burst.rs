//! A burst of CreateRole events against Okta's real rate limits, on a simulator whose clock
//! runs faster (one Okta minute in a second by default), handled one at a time as the FIFO work
//! queue hands them to the function. Prints what matters for "nothing lost, nothing doubled"
//! and how close the drain comes to what the rate limit allows; asserts nothing about speed.
//!
//!   cargo bench --bench burst          (EVENTS=200 GROUP_COUNT=40 CLOCK_SCALE=60)

#[path = "../tests/helpers/mod.rs"]
mod helpers;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use helpers::World;
use okta_role_sync::ratelimit::OktaClock;
use okta_role_sync::{OutcomeKind, handle};
use serde_json::{Value, json};

/// Okta's defaults: 100 app calls a minute for the org, half of it for one token.
const APPS_PER_MINUTE: f64 = 100.0;
const TOKEN_SHARE: f64 = 0.5;

fn account(group: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + group as u64)
}

/// A console CreateRole event in `account`, trusting that account's Okta SAML provider.
fn create_role_event(role: &str, account: &str, index: usize) -> Value {
    let mut event = helpers::create_role_in(account, role, Value::Null);
    event["id"] = json!(format!("burst-envelope-{index}"));
    event["detail"]["eventID"] = json!(format!("burst-event-{index}"));
    event
}

#[tokio::main]
async fn main() {
    let events = helpers::bench_var("EVENTS", 200);
    let groups = helpers::bench_var("GROUP_COUNT", 40).max(1);
    let scale = helpers::bench_var("CLOCK_SCALE", 60) as f64;

    let roles: Vec<String> = (0..events).map(|i| format!("BurstRole{i:04}")).collect();
    let group_seeds: Vec<Value> = (0..groups)
        .map(|g| json!({"id": format!("00gburst{g:012}"), "name": format!("aws_{}", account(g))}))
        .collect();
    let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut seed = helpers::seed(&role_refs, json!(group_seeds), json!([]));
    // One app serves every account of the burst: its identity provider ARNs name them all.
    let arns: Vec<String> = (0..groups)
        .map(|g| format!("arn:aws:iam::{}:saml-provider/Okta", account(g)))
        .collect();
    seed["apps"][0]["settings"]["app"]["identityProviderArn"] = json!(arns.join(","));
    seed["clockScale"] = json!(scale);
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
            ("GROUP_NAME_TEMPLATE", "aws_{account}"),
        ],
    );

    let started = Instant::now();
    let mut failed = 0;
    for (index, role) in roles.iter().enumerate() {
        let event = create_role_event(role, &account(index % groups), index);
        match handle(&deps, &event).await {
            Ok(outcome) if outcome.outcome == OutcomeKind::Assigned => {}
            Ok(outcome) => {
                failed += 1;
                eprintln!(
                    "event {index} not assigned: {:?} {:?}",
                    outcome.outcome, outcome.reason
                );
            }
            Err(err) => {
                failed += 1;
                eprintln!("event {index} failed: {}", err.chain());
            }
        }
    }
    let drain = started.elapsed();

    let state = world.state().await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for assignment in state["assignments"].as_array().into_iter().flatten() {
        for label in assignment["profile"]["samlRoles"]
            .as_array()
            .into_iter()
            .flatten()
        {
            *seen
                .entry(label.as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    let present = roles.iter().filter(|r| seen.contains_key(*r)).count();
    let duplicated: usize = seen.values().map(|n| n.saturating_sub(1)).sum();
    let requests = world.requests().await;
    let count = |bucket: &str, status: Option<u64>| {
        requests
            .iter()
            .filter(|r| r["bucket"] == bucket)
            .filter(|r| status.is_none_or(|s| r["status"] == s))
            .count()
    };
    let (apps, groups_calls) = (count("apps", None), count("groups", None));
    let throttled = count("apps", Some(429)) + count("groups", Some(429));
    let token_rate = APPS_PER_MINUTE * TOKEN_SHARE;
    let app_calls_per_event = apps as f64 / events as f64;
    let minimum_okta = Duration::from_secs_f64(apps as f64 / token_rate * 60.0);
    let minimum_two_calls = Duration::from_secs_f64(events as f64 * 2.0 / token_rate * 60.0);
    let drain_okta = drain.mul_f64(scale);

    println!(
        "burst of {events} CreateRole events over {groups} groups, app bucket {APPS_PER_MINUTE}/min, token share {}%, clock x{scale}",
        TOKEN_SHARE * 100.0
    );
    println!(
        "events handled:        {} ({failed} not assigned)",
        events - failed
    );
    println!("roles present at end:  {present}");
    println!("lost:                  {}", events - present);
    println!("duplicated:            {duplicated}");
    println!(
        "429s seen:             {throttled} (none surfaced as a failure: {})",
        failed == 0
    );
    println!(
        "okta calls per event:  apps {app_calls_per_event:.2}, groups {:.2}",
        groups_calls as f64 / events as f64
    );
    println!(
        "drain time:            {:.1} okta-min ({:.2} s real); minimum for the app calls made {:.1} okta-min, for 2 per event {:.1} okta-min; ratio {:.3}",
        drain_okta.as_secs_f64() / 60.0,
        drain.as_secs_f64(),
        minimum_okta.as_secs_f64() / 60.0,
        minimum_two_calls.as_secs_f64() / 60.0,
        drain_okta.as_secs_f64() / minimum_two_calls.as_secs_f64(),
    );
    println!(
        "peak RSS:              {} KiB (function and simulator in one process)",
        helpers::peak_rss_kib()
    );
}
