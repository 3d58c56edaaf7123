//! Latency and memory of the handler, measured against moto's server (Secrets Manager) and
//! the Okta simulator on loopback, with Okta's rate limits lifted so that only our own work
//! and the loopback round trips are timed. Prints figures; asserts nothing about speed.
//!
//!   cargo bench --bench handler            (EVENTS=N for more or fewer events, default 200)
//!
//! "cold" is one container's first event: configuration, the AWS SDK's set-up, the Okta client,
//! the secret read and the Okta calls. The simulator runs in this process, so the peak memory
//! printed includes it: it is an upper bound for the function alone.

#[path = "../tests/helpers/mod.rs"]
mod helpers;

use std::time::{Duration, Instant};

use helpers::World;
use okta_role_sync::{OutcomeKind, handle};
use serde_json::{Value, json};

fn create_role_event(role: &str) -> Value {
    let mut event = helpers::event("create-role.json");
    event["detail"]["requestParameters"]["roleName"] = json!(role);
    event["detail"]["responseElements"] = Value::Null;
    event
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{name:<28} n={:<5} p50={:>7.2} ms  p95={:>7.2} ms  max={:>7.2} ms",
        times.len(),
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let events = helpers::bench_var("EVENTS", 200);
    let roles: Vec<String> = (0..events).map(|i| format!("BenchRole{i:04}")).collect();
    let groups: Vec<Value> = roles
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"id": format!("00gbench{i:012}"), "name": name}))
        .collect();
    let mut role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    role_refs.push("PlatformAdmin");
    let mut seed = helpers::seed(&role_refs, json!(groups), json!([]));
    seed["rateLimits"] = json!({"apps": 1_000_000, "groups": 1_000_000});
    let world = World::new(seed).await;
    let direct = [("OKTA_ORG_URL", world.sim_url())];

    let started = Instant::now();
    let deps = world.deps(&direct);
    let init = started.elapsed();
    let first = handle(&deps, &create_role_event(&roles[0])).await;
    let cold = started.elapsed();
    assert!(
        matches!(first, Ok(ref o) if o.outcome == OutcomeKind::Assigned),
        "{first:?}"
    );

    let mut assigned = Vec::with_capacity(events);
    for role in &roles[1..] {
        let event = create_role_event(role);
        let t = Instant::now();
        let outcome = handle(&deps, &event).await.expect("assigned");
        assigned.push(t.elapsed());
        assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    }
    let mut present = Vec::with_capacity(events);
    for role in &roles {
        let event = create_role_event(role);
        let t = Instant::now();
        let outcome = handle(&deps, &event).await.expect("already present");
        present.push(t.elapsed());
        assert_eq!(outcome.outcome, OutcomeKind::AlreadyPresent);
    }
    let mut ignored_event = helpers::event("delete-role.json");
    ignored_event["detail"]["eventName"] = json!("TagRole");
    let mut ignored = Vec::with_capacity(events);
    for _ in 0..events {
        let t = Instant::now();
        handle(&deps, &ignored_event).await.expect("ignored");
        ignored.push(t.elapsed());
    }

    println!("okta-role-sync handler, {events} events, moto + simulator on loopback");
    println!(
        "{:<28} {:>7.2} ms",
        "init (config, okta client)",
        init.as_secs_f64() * 1e3
    );
    println!(
        "{:<28} {:>7.2} ms",
        "cold first event (total)",
        cold.as_secs_f64() * 1e3
    );
    summary("warm event, assigned", assigned);
    summary("warm event, already present", present);
    summary("ignored event (no I/O)", ignored);
    println!("secret reads: {}", world.secrets.reads());
    println!("okta calls: {}", world.requests().await.len());
    println!(
        "peak RSS (function + simulator + clients): {} KiB",
        helpers::peak_rss_kib()
    );
}
