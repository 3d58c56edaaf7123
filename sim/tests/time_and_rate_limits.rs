//! Each org's scaled clock and Okta's per-token rate-limit shares over real HTTP: `Date`,
//! `lastUpdated`, windows, latency, `/__sim/clock`, `/__sim/stats` and the binary's
//! `--clock-scale`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use hyper::Method;
use serde_json::{Value, json};

async fn as_token(addr: std::net::SocketAddr, token: &str, target: &str) -> Answer {
    let authorization = format!("SSWS {token}");
    send(addr, Method::GET, target, Some(&authorization), None).await
}

fn header_u64(answer: &Answer, name: &str) -> u64 {
    answer
        .header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing or not a number: {answer:?}"))
}

fn date_secs(answer: &Answer) -> u64 {
    let date = answer.header("date").expect("Date");
    httpdate::parse_http_date(date)
        .expect("an HTTP date")
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn an_org_at_clock_scale_60_lives_one_minute_per_simulator_second() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock.clone(),
        json!({
            "tokens": [TOKEN],
            "clockScale": 60,
            "apps": [{"id": APP, "roles": ["ReadOnly"]}],
            "groups": [{"id": "00g1", "name": "G"}]
        }),
    );
    let reading = get(addr, "/__sim/clock").await.json();
    assert_eq!(reading, json!({"now": T0 as f64, "scale": 60}));

    clock.advance(Duration::from_secs(1));
    let reading = get(addr, "/__sim/clock").await.json();
    assert_eq!(reading["now"], json!((T0 + 60) as f64));
    let put = put(
        addr,
        &format!("/api/v1/apps/{APP}/groups/00g1"),
        r#"{"profile": {"samlRoles": ["ReadOnly"]}}"#,
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(put.header("date"), Some("Fri, 07 Mar 2025 10:22:20 GMT"));
    assert_eq!(put.json()["lastUpdated"], "2025-03-07T10:22:20.000Z");

    clock.advance(Duration::from_millis(500));
    let reading = get(addr, "/__sim/clock").await.json();
    assert_eq!(reading["now"], json!((T0 + 90) as f64));
}

#[tokio::test]
async fn each_org_keeps_its_own_time_from_when_it_was_created() {
    let clock = ManualClock::at(T0);
    let addr = start_on(clock.clone(), json!({"tokens": [TOKEN], "clockScale": 60}));
    clock.advance(Duration::from_secs(10));
    let slow = json!({"tokens": ["slow"], "clockScale": 0.5});
    let created = send(
        addr,
        Method::POST,
        "/__sim/orgs",
        None,
        Some(&slow.to_string()),
    )
    .await;
    assert_eq!(created.status, 201);
    clock.advance(Duration::from_secs(10));

    let fast = get(addr, "/__sim/clock").await.json();
    assert_eq!(fast, json!({"now": (T0 + 1200) as f64, "scale": 60}));
    let slow = as_token(addr, "slow", "/__sim/clock").await.json();
    assert_eq!(slow, json!({"now": (T0 + 15) as f64, "scale": 0.5}));
    let groups = as_token(addr, "slow", "/api/v1/groups").await;
    assert_eq!(date_secs(&groups), T0 + 15);
    let state = as_token(addr, "slow", "/__sim/state").await.json();
    assert_eq!(state["clockScale"], json!(0.5));

    let unauthorized = send(addr, Method::GET, "/__sim/clock", None, None).await;
    assert_eq!(unauthorized.status, 401);
}

#[tokio::test]
async fn rate_limit_windows_and_their_reset_run_on_the_orgs_time() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock.clone(),
        json!({"tokens": [TOKEN], "clockScale": 60, "rateLimits": {"apps": 2}}),
    );
    let first = get(addr, "/api/v1/apps").await;
    assert_eq!(first.status, 200);
    // T0 is 10:21:20, so the window ends at 10:22:00 in the org's time.
    assert_eq!(header_u64(&first, "x-rate-limit-reset"), T0 + 40);
    let limited = get(addr, "/api/v1/apps").await;
    assert_eq!(limited.status, 429);

    // 40 s of org time is two thirds of a simulator second.
    clock.advance(Duration::from_millis(667));
    let next = get(addr, "/api/v1/apps").await;
    assert_eq!(next.status, 200);
    assert_eq!(header_u64(&next, "x-rate-limit-reset"), T0 + 100);
    assert_eq!(date_secs(&next), T0 + 40);
}

#[tokio::test]
async fn a_client_waiting_until_reset_by_the_date_header_gets_through_within_a_real_second() {
    let addr = start(json!({"tokens": [TOKEN], "clockScale": 60, "rateLimits": {"apps": 2}}));
    let started = Instant::now();
    assert_eq!(get(addr, "/api/v1/apps").await.status, 200);
    let limited = get(addr, "/api/v1/apps").await;
    assert_eq!(limited.status, 429);
    let reset = header_u64(&limited, "x-rate-limit-reset");
    let date = date_secs(&limited);
    assert!(
        reset > date && reset <= date + 60,
        "reset {reset} date {date}"
    );
    // Okta's SDKs wait until Reset, measured against Date, plus a second: in org time.
    let wait_org = Duration::from_secs(reset - date + 1);
    tokio::time::sleep(wait_org / 60).await;
    let after = get(addr, "/api/v1/apps").await;
    assert_eq!(after.status, 200, "{after:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn latency_is_in_org_time_so_a_fast_clock_shortens_the_real_wait() {
    let addr = start(json!({"tokens": [TOKEN], "clockScale": 60, "latencyMs": 12000}));
    let started = Instant::now();
    assert_eq!(get(addr, "/api/v1/groups").await.status, 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

#[tokio::test]
async fn the_real_clock_scaled_by_60_moves_an_org_about_a_minute_per_second() {
    let addr = start(json!({"tokens": [TOKEN], "clockScale": 60}));
    let real_start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let before = get(addr, "/__sim/clock").await.json()["now"]
        .as_f64()
        .unwrap();
    assert!(
        (before - real_start).abs() < 5.0,
        "{before} vs {real_start}"
    );
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = get(addr, "/__sim/clock").await.json()["now"]
        .as_f64()
        .unwrap();
    let real = started.elapsed().as_secs_f64();
    let org = after - before;
    assert!(
        org >= 29.0 && org <= (real + 0.2) * 60.0,
        "org {org} s in {real} s"
    );
}

#[tokio::test]
async fn one_token_may_spend_only_its_share_of_the_orgs_bucket() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock,
        json!({"tokens": [TOKEN, "token-b"], "rateLimits": {"apps": 4, "groups": 10}}),
    );
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let answer = get(addr, "/api/v1/apps").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-rate-limit-limit"), Some("2"));
        remaining.push(header_u64(&answer, "x-rate-limit-remaining"));
    }
    assert_eq!(remaining, [1, 0]);
    let limited = get(addr, "/api/v1/apps").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error_code(), "E0000047");
    assert_eq!(limited.header("x-rate-limit-limit"), Some("2"));
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
    let resets = all(&limited, "x-rate-limit-reset");
    assert_eq!(resets, [(T0 + 40).to_string(), (T0 + 40).to_string()]);

    // The other token still has its own share of what the org has left.
    let other = as_token(addr, "token-b", "/api/v1/apps").await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("x-rate-limit-limit"), Some("2"));
    assert_eq!(other.header("x-rate-limit-remaining"), Some("1"));
    let groups = get(addr, "/api/v1/groups").await;
    assert_eq!(groups.status, 200);
    assert_eq!(groups.header("x-rate-limit-limit"), Some("5"));
    assert_eq!(groups.header("x-rate-limit-remaining"), Some("4"));
}

#[tokio::test]
async fn the_orgs_bucket_runs_out_before_any_token_has_spent_its_share() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock,
        json!({"tokens": ["a", "b", "c"], "rateLimits": {"apps": 4, "tokenSharePercent": 50}}),
    );
    for token in ["a", "a", "b"] {
        assert_eq!(as_token(addr, token, "/api/v1/apps").await.status, 200);
    }
    let last = as_token(addr, "c", "/api/v1/apps").await;
    assert_eq!(last.status, 200);
    // c has one of its two left, but the org has none.
    assert_eq!(last.header("x-rate-limit-remaining"), Some("0"));
    let refused = as_token(addr, "c", "/api/v1/apps").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("x-rate-limit-limit"), Some("2"));
    assert_eq!(as_token(addr, "b", "/api/v1/apps").await.status, 429);
}

#[tokio::test]
async fn stats_and_the_request_log_count_requests_and_429s_per_bucket() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock,
        json!({"tokens": [TOKEN], "rateLimits": {"apps": 2, "groups": 100}}),
    );
    for _ in 0..4 {
        get(addr, "/api/v1/apps").await;
    }
    get(addr, "/api/v1/groups").await;
    get(addr, "/api/v1/users").await;
    let stats = get(addr, "/__sim/stats").await;
    assert_eq!(stats.status, 200);
    assert_eq!(
        stats.json(),
        json!({"requests": {"apps": 4, "groups": 1}, "throttled": {"apps": 3, "groups": 0}})
    );
    let log = get(addr, "/__sim/requests").await.json();
    let statuses: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, [200, 429, 429, 429, 200, 404]);

    let unauthorized = send(addr, Method::GET, "/__sim/stats", None, None).await;
    assert_eq!(unauthorized.status, 401);
}

#[tokio::test]
async fn a_seed_with_an_invalid_clock_scale_or_token_share_is_refused() {
    let addr = start(json!({"tokens": [TOKEN]}));
    for seed in [
        json!({"tokens": ["x"], "clockScale": 0}),
        json!({"tokens": ["x"], "clockScale": -1}),
        json!({"tokens": ["x"], "clockScale": "fast"}),
        json!({"tokens": ["x"], "rateLimits": {"tokenSharePercent": 0}}),
        json!({"tokens": ["x"], "rateLimits": {"tokenSharePercent": 150}}),
    ] {
        let answer = send(
            addr,
            Method::POST,
            "/__sim/orgs",
            None,
            Some(&seed.to_string()),
        )
        .await;
        assert_eq!(answer.status, 400, "{seed}");
        assert_eq!(answer.error_code(), "E0000001");
    }
}

/// Kills the child process when dropped, so a failed assertion leaves nothing running.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binarys_clock_scale_flag_overrides_the_seed() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/demo.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args([
            "--seed",
            seed,
            "--listen",
            "127.0.0.1:0",
            "--clock-scale",
            "60",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("the okta-sim binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stderr)
        .read_line(&mut line)
        .expect("the binary says where it listens");
    let addr: std::net::SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let reading = send(
        addr,
        Method::GET,
        "/__sim/clock",
        Some("SSWS demo-not-secret"),
        None,
    )
    .await;
    assert_eq!(reading.json()["scale"], json!(60));
    drop(running);
}
