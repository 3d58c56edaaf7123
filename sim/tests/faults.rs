//! The fault schedule over real HTTP: Okta's error answers, a gateway's HTML, answers lost
//! after the write applied, connections closed without an answer, delays, and how faults meet
//! the rate limiter and the request log.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use http_body_util::Full;
use hyper::Method;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const GROUP: &str = "00g1platformadmin000";

fn assignment() -> String {
    format!("/api/v1/apps/{APP}/groups/{GROUP}")
}

const READ_ONLY: &str = r#"{"profile": {"samlRoles": ["ReadOnly"]}}"#;

fn org() -> Value {
    aws_org(json!([{"id": GROUP, "name": "PlatformAdmin"}]), json!([]))
}

fn internal_error() -> Value {
    json!({
        "errorCode": "E0000009",
        "errorSummary": "Internal Server Error",
        "errorLink": "E0000009",
        "errorId": "oaeFaultInjected00001",
        "errorCauses": []
    })
}

async fn schedule(addr: SocketAddr, faults: Value) -> Answer {
    post(
        addr,
        "/__sim/faults",
        &json!({ "faults": faults }).to_string(),
    )
    .await
}

async fn log(addr: SocketAddr) -> Vec<Value> {
    match get(addr, "/__sim/requests").await.json() {
        Value::Array(items) => items,
        other => panic!("unexpected request log {other}"),
    }
}

async fn assigned(addr: SocketAddr) -> bool {
    let state = get(addr, "/__sim/state").await.json();
    state["assignments"]
        .as_array()
        .is_some_and(|a| a.iter().any(|a| a["groupId"] == GROUP))
}

/// Sends `request` raw on a fresh TCP connection and returns every byte the server sends
/// before it closes the connection (a read that times out is an `Err`).
async fn raw_exchange(addr: SocketAddr, request: &str) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let request = request.to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(request.as_bytes())?;
        let mut received = Vec::new();
        stream.read_to_end(&mut received)?;
        Ok(received)
    })
    .await
    .expect("the raw client")
}

#[tokio::test]
async fn a_500_fault_answers_instead_of_the_put_and_changes_nothing() {
    let addr = start(org());
    let scheduled = schedule(
        addr,
        json!([{"method": "PUT", "path": "/api/v1/apps/", "status": 500, "body": internal_error()}]),
    )
    .await;
    assert_eq!(scheduled.status, 200);
    assert_eq!(scheduled.json()["faults"][0]["times"], 1);

    let failed = put(addr, &assignment(), READ_ONLY).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json(), internal_error());
    assert_eq!(failed.header("content-type"), Some("application/json"));
    assert!(failed.header("date").is_some());
    assert!(failed.header("x-okta-request-id").is_some());
    assert_eq!(failed.header("x-rate-limit-limit"), Some("50"));
    assert_eq!(failed.header("x-rate-limit-remaining"), Some("49"));
    assert!(!assigned(addr).await);

    let retried = put(addr, &assignment(), READ_ONLY).await;
    assert_eq!(retried.status, 200);
    assert!(assigned(addr).await);
    assert_eq!(
        get(addr, "/__sim/faults").await.json(),
        json!({"faults": []})
    );
    let path = assignment();
    assert_eq!(
        log(addr).await,
        [
            json!({"method": "PUT", "path": path, "query": "", "status": 500, "bucket": "apps", "fault": true}),
            json!({"method": "PUT", "path": path, "query": "", "status": 200, "bucket": "apps"}),
        ]
    );
}

#[tokio::test]
async fn a_502_fault_sends_its_html_body_and_headers_as_given() {
    let addr = start(org());
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    schedule(
        addr,
        json!([{
            "status": 502,
            "body": page,
            "contentType": "text/html",
            "headers": {"Server": "awselb/2.0", "X-Rate-Limit-Remaining": "7"}
        }]),
    )
    .await;
    let gateway = get(addr, "/api/v1/groups").await;
    assert_eq!(gateway.status, 502);
    assert_eq!(gateway.text, page);
    assert_eq!(gateway.header("content-type"), Some("text/html"));
    assert_eq!(gateway.header("server"), Some("awselb/2.0"));
    assert_eq!(all(&gateway, "x-rate-limit-remaining"), ["7"]);
    assert_eq!(get(addr, "/api/v1/groups").await.status, 200);
}

#[tokio::test]
async fn a_403_fault_applies_only_to_matching_requests_as_many_times_as_asked() {
    let addr = start(org());
    let forbidden = json!({
        "errorCode": "E0000006",
        "errorSummary": "You do not have permission to perform the requested action",
        "errorLink": "E0000006",
        "errorId": "oaeForbidden0000000001",
        "errorCauses": []
    });
    schedule(
        addr,
        json!([{"method": "get", "path": "/api/v1/groups", "times": 2, "status": 403, "body": forbidden}]),
    )
    .await;
    assert_eq!(get(addr, "/api/v1/apps").await.status, 200);
    assert_eq!(put(addr, &assignment(), READ_ONLY).await.status, 200);
    for _ in 0..2 {
        let refused = get(addr, "/api/v1/groups?q=Platform").await;
        assert_eq!(refused.status, 403);
        assert_eq!(refused.json(), forbidden);
    }
    assert_eq!(get(addr, "/api/v1/groups?q=Platform").await.status, 200);
}

#[tokio::test]
async fn faults_apply_in_order_and_each_is_used_up_before_the_next() {
    let addr = start(org());
    schedule(addr, json!([{"status": 500}, {"status": 503}])).await;
    schedule(addr, json!([{"status": 504}])).await;
    let listed = get(addr, "/__sim/faults").await.json();
    assert_eq!(
        listed,
        json!({"faults": [
            {"times": 1, "status": 500, "latencyMs": 0, "drop": false, "after": false},
            {"times": 1, "status": 503, "latencyMs": 0, "drop": false, "after": false},
            {"times": 1, "status": 504, "latencyMs": 0, "drop": false, "after": false}
        ]})
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(addr, "/api/v1/groups").await.status);
    }
    assert_eq!(statuses, [500, 503, 504, 200]);
}

#[tokio::test]
async fn an_after_fault_lets_the_write_apply_and_replaces_its_answer() {
    let addr = start(org());
    schedule(
        addr,
        json!([{"method": "PUT", "status": 500, "body": internal_error(), "after": true}]),
    )
    .await;
    let lost = put(addr, &assignment(), READ_ONLY).await;
    assert_eq!(lost.status, 500);
    assert_eq!(lost.json()["errorCode"], "E0000009");
    assert!(assigned(addr).await, "the write applied");
    let read_back = get(addr, &assignment()).await;
    assert_eq!(
        read_back.json()["profile"]["samlRoles"],
        json!(["ReadOnly"])
    );
    assert_eq!(log(addr).await[0]["status"], 500);
    assert_eq!(log(addr).await[0]["fault"], true);
}

#[tokio::test]
async fn a_dropped_request_gets_no_bytes_at_all_before_the_connection_closes() {
    let addr = start(org());
    schedule(addr, json!([{"path": "/api/v1/groups", "drop": true}])).await;
    let request = format!(
        "GET /api/v1/groups HTTP/1.1\r\nHost: {addr}\r\nAuthorization: SSWS {TOKEN}\r\n\r\n"
    );
    let received = match raw_exchange(addr, &request).await {
        Ok(bytes) => bytes,
        Err(e) => {
            // A reset is also no answer; a timeout would mean the server kept the connection.
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
            Vec::new()
        }
    };
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    // The same raw request, with the fault used up, gets an answer.
    let answered = raw_exchange(
        addr,
        &request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
    )
    .await
    .expect("an answer");
    assert!(answered.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let entry = &log(addr).await[0];
    assert_eq!(entry["status"], 0);
    assert_eq!(entry["fault"], true);
}

#[tokio::test]
async fn an_http_client_sees_a_dropped_request_as_a_connection_closed_mid_exchange() {
    let addr = start(org());
    schedule(addr, json!([{"method": "GET", "drop": true}])).await;
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    // A keep-alive connection answers normally until the dropped request.
    let auth = format!("SSWS {TOKEN}");
    let first = send_on(
        &mut sender,
        addr,
        Method::PUT,
        &assignment(),
        Some(&auth),
        Some(READ_ONLY),
    )
    .await
    .expect("an answer");
    assert_eq!(first.status, 200);
    let dropped = send_on(
        &mut sender,
        addr,
        Method::GET,
        "/api/v1/apps",
        Some(&auth),
        None,
    )
    .await
    .expect_err("no answer");
    assert!(dropped.is_incomplete_message(), "{dropped:?}");
    assert_eq!(
        dropped.to_string(),
        "connection closed before message completed"
    );
}

#[tokio::test]
async fn a_drop_after_the_handler_applies_the_write_and_loses_the_answer() {
    let addr = start(org());
    schedule(
        addr,
        json!([{"method": "PUT", "drop": true, "after": true}]),
    )
    .await;
    let lost = try_send(
        addr,
        Method::PUT,
        &assignment(),
        Some(&format!("SSWS {TOKEN}")),
        Some(READ_ONLY),
    )
    .await
    .expect_err("no answer");
    assert!(lost.is_incomplete_message(), "{lost:?}");
    assert!(assigned(addr).await, "the write applied");
    let entry = &log(addr).await[0];
    assert_eq!(
        (entry["method"].as_str(), entry["status"].as_u64()),
        (Some("PUT"), Some(0))
    );
    assert_eq!(entry["fault"], true);
}

#[tokio::test]
async fn a_latency_only_fault_delays_the_real_answer_in_org_time() {
    let addr = start(json!({"tokens": [TOKEN], "clockScale": 10}));
    schedule(addr, json!([{"path": "/api/v1/groups", "latencyMs": 3000}])).await;
    let started = Instant::now();
    let slow = get(addr, "/api/v1/groups").await;
    let waited = started.elapsed();
    assert_eq!(slow.status, 200);
    assert!(slow.json().is_array());
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let entry = &log(addr).await[0];
    assert_eq!(
        (entry["status"].as_u64(), entry["fault"].as_bool()),
        (Some(200), Some(true))
    );
    let started = Instant::now();
    get(addr, "/api/v1/groups").await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn an_after_fault_with_latency_applies_the_write_before_the_answer_arrives() {
    let addr = start(json!({
        "tokens": [TOKEN, "observer"],
        "apps": [{"id": APP, "roles": ["ReadOnly"]}],
        "groups": [{"id": GROUP, "name": "PlatformAdmin"}]
    }));
    schedule(
        addr,
        json!([{"method": "PUT", "latencyMs": 1500, "status": 504, "after": true}]),
    )
    .await;
    let writer = tokio::spawn(async move { put(addr, &assignment(), READ_ONLY).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = send(
        addr,
        Method::GET,
        &assignment(),
        Some("SSWS observer"),
        None,
    )
    .await;
    assert_eq!(seen.status, 200, "the write applied while its answer waits");
    assert!(!writer.is_finished());
    assert_eq!(writer.await.expect("the writer").status, 504);
}

#[tokio::test]
async fn faulted_requests_count_against_the_rate_limit_and_refused_ones_use_no_fault() {
    let clock = ManualClock::at(T0);
    let addr = start_on(
        clock,
        json!({"tokens": [TOKEN], "rateLimits": {"apps": 2, "tokenSharePercent": 100}}),
    );
    schedule(
        addr,
        json!([{"path": "/api/v1/apps", "times": 3, "status": 500}]),
    )
    .await;
    let first = get(addr, "/api/v1/apps").await;
    let second = get(addr, "/api/v1/apps").await;
    assert_eq!((first.status, second.status), (500, 500));
    assert_eq!(second.header("x-rate-limit-remaining"), Some("0"));
    let third = get(addr, "/api/v1/apps").await;
    assert_eq!(third.status, 429);
    assert_eq!(third.error_code(), "E0000047");
    assert_eq!(
        get(addr, "/__sim/faults").await.json()["faults"][0]["times"],
        1
    );
    let stats = get(addr, "/__sim/stats").await.json();
    assert_eq!(stats["requests"]["apps"], 3);
    assert_eq!(stats["throttled"]["apps"], 1);
}

#[tokio::test]
async fn a_fault_answering_429_repeats_the_reset_header_like_the_real_one() {
    let clock = ManualClock::at(T0);
    let addr = start_on(clock, org());
    let limited = json!({
        "errorCode": "E0000047",
        "errorSummary": "API call exceeded rate limit due to too many requests.",
        "errorLink": "E0000047",
        "errorId": "oaeLimited000000000001",
        "errorCauses": []
    });
    schedule(addr, json!([{"status": 429, "body": limited}])).await;
    let answer = get(addr, "/api/v1/apps").await;
    assert_eq!(answer.status, 429);
    let reset = (T0 + 40).to_string();
    assert_eq!(all(&answer, "x-rate-limit-reset"), [reset.clone(), reset]);
}

#[tokio::test]
async fn faults_belong_to_one_org_and_delete_clears_them() {
    let addr = start(json!({"tokens": [TOKEN]}));
    let other = json!({"tokens": ["token-b"]});
    send(
        addr,
        Method::POST,
        "/__sim/orgs",
        None,
        Some(&other.to_string()),
    )
    .await;
    schedule(addr, json!([{"status": 500, "times": 5}])).await;
    let theirs = send(
        addr,
        Method::GET,
        "/api/v1/groups",
        Some("SSWS token-b"),
        None,
    )
    .await;
    assert_eq!(theirs.status, 200);
    assert_eq!(get(addr, "/api/v1/groups").await.status, 500);
    assert_eq!(delete(addr, "/__sim/faults").await.status, 204);
    assert_eq!(
        get(addr, "/__sim/faults").await.json(),
        json!({"faults": []})
    );
    assert_eq!(get(addr, "/api/v1/groups").await.status, 200);
}

#[tokio::test]
async fn an_invalid_schedule_is_refused_with_e0000001_and_schedules_nothing() {
    let addr = start(json!({"tokens": [TOKEN]}));
    for body in [
        json!({"faults": [{"status": 500}, {"status": 42}]}),
        json!({"faults": [{"status": 500, "drop": true}]}),
        json!({"faults": [{"times": 0, "status": 500}]}),
        json!({"faults": [{"status": 500, "headers": {"Bad Name": "x"}}]}),
        json!({"faults": [{"stauts": 500}]}),
        json!({"fault": []}),
        json!([]),
    ] {
        let answer = post(addr, "/__sim/faults", &body.to_string()).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.error_code(), "E0000001");
    }
    let refused = post(addr, "/__sim/faults", r#"{"faults": [{}, {"status": 42}]}"#).await;
    assert!(
        refused.json()["errorSummary"]
            .as_str()
            .is_some_and(|s| s.starts_with("faults[1]: ")),
        "{refused:?}"
    );
    assert_eq!(
        get(addr, "/__sim/faults").await.json(),
        json!({"faults": []})
    );
    let unauthorized = send(
        addr,
        Method::POST,
        "/__sim/faults",
        None,
        Some(r#"{"faults": []}"#),
    )
    .await;
    assert_eq!(unauthorized.status, 401);
}
