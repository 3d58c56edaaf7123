//! Faults of every dependency end in the right state with no role removed: Okta's server
//! errors, gateway pages, lost answers, timeouts, refusals and rate limits, and a Secrets
//! Manager that cannot be reached.

use okta_role_sync::secret::SecretsManager;
use okta_role_sync::{Deps, OutcomeKind, handle};
use serde_json::{Value, json};

use crate::assign::usual_world;
use crate::helpers::{self, World, event, seed};

const GROUP: &str = "00gplatformadmin0001";
const MERGED: [&str; 3] = ["ReadOnly", "BillingViewer", "PlatformAdmin"];

fn internal_error() -> Value {
    json!({"errorCode": "E0000009", "errorSummary": "Internal Server Error",
           "errorLink": "E0000009", "errorId": "oae-fault-500", "errorCauses": []})
}

async fn puts(world: &World) -> usize {
    world
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] == "PUT")
        .count()
}

#[tokio::test]
async fn server_error_on_a_write_that_applied_is_read_again_not_written_twice() {
    let world = usual_world().await;
    world
        .add_faults(
            json!([{"method": "PUT", "path": "/api/v1/apps/", "status": 500,
                            "body": internal_error(), "after": true}]),
        )
        .await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert_eq!(
        puts(&world).await,
        1,
        "the re-read showed the write had applied"
    );
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn write_whose_answer_was_lost_leaves_the_same_end_state() {
    let world = usual_world().await;
    world
        .add_faults(
            json!([{"method": "PUT", "path": "/api/v1/apps/", "drop": true,
                            "after": true}]),
        )
        .await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert_eq!(puts(&world).await, 1);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn server_error_before_a_write_applied_is_written_again_after_a_read() {
    let world = usual_world().await;
    world
        .add_faults(
            json!([{"method": "PUT", "path": "/api/v1/apps/", "status": 500,
                            "body": internal_error()}]),
        )
        .await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert_eq!(puts(&world).await, 2);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn gateway_page_on_a_read_is_retried() {
    let world = usual_world().await;
    world
        .add_faults(
            json!([{"method": "GET", "path": "/api/v1/apps/", "status": 502,
                            "contentType": "text/html",
                            "body": "<html><body><h1>502 Bad Gateway</h1></body></html>",
                            "times": 2}]),
        )
        .await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn dropped_connection_on_a_read_is_retried() {
    let world = usual_world().await;
    world
        .add_faults(json!([{"method": "GET", "path": "/api/v1/groups", "drop": true}]))
        .await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn read_that_times_out_is_retried() {
    let world = usual_world().await;
    world
        .add_faults(json!([{"method": "GET", "path": "/api/v1/apps/", "latencyMs": 2500}]))
        .await;

    let outcome = handle(
        &world.deps(&[("OKTA_TIMEOUT_SECONDS", "1")]),
        &event("create-role.json"),
    )
    .await
    .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn forbidden_write_is_permanent_and_names_the_missing_permission() {
    let world = usual_world().await;
    world
        .add_faults(json!([{"method": "PUT", "status": 403,
                            "body": {"errorCode": "E0000006",
                                     "errorSummary": "You do not have permission to perform the requested action",
                                     "errorLink": "E0000006", "errorId": "oae-403",
                                     "errorCauses": []}}]))
        .await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.OktaForbidden");
    assert!(
        err.to_string().contains("okta.apps.assignment.manage"),
        "{err}"
    );
    assert_eq!(puts(&world).await, 1, "a refusal is not repeated");
    assert_eq!(world.saml_roles(GROUP).await, ["ReadOnly", "BillingViewer"]);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn okta_that_keeps_failing_defers_the_event_and_it_completes_later() {
    let world = usual_world().await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[("RETRY_BASE_DELAY_SECONDS", "0")]);
    world
        .add_faults(
            json!([{"method": "GET", "path": "/api/v1/apps/", "status": 500,
                            "body": internal_error(), "times": 4}]),
        )
        .await;
    helpers::put_on_work_queue(&queues, &event("create-role.json")).await;

    helpers::work_once(&deps, &queues).await;
    let waiting = helpers::peek_delay(&queues).await;
    assert_eq!(
        waiting[0]["oktaRoleSyncRetry"]["reason"],
        "okta_unavailable"
    );
    assert_eq!(world.saml_roles(GROUP).await, ["ReadOnly", "BillingViewer"]);

    helpers::drain(&deps, &queues).await;

    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    assert!(
        world.pending_faults().await.is_empty(),
        "every fault was met"
    );
}

#[tokio::test]
async fn unreachable_secrets_manager_is_retryable_and_okta_is_not_called() {
    let world = usual_world().await;
    let config = world.deps(&[]).config;
    let closed = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let deps = Deps::new(config, SecretsManager::new(closed, &world.secret_id)).unwrap();

    let err = handle(&deps, &event("create-role.json")).await.unwrap_err();

    assert_eq!(err.error_type(), "Retryable.SecretUnavailable");
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn spent_app_bucket_is_waited_out_without_a_429_and_every_role_lands() {
    let roles: Vec<String> = (0..6).map(|i| format!("Paced{i}")).collect();
    let refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut seed = seed(
        &refs,
        json!([crate::assign::group(
            "00gaccount1111222233",
            "aws_111122223333"
        )]),
        json!([]),
    );
    // Four app calls a minute for this token: two events a minute; a minute is 0.2 s here.
    seed["rateLimits"] = json!({"apps": 8, "groups": 500, "tokenSharePercent": 50});
    seed["clockScale"] = json!(300);
    let world = World::new(seed).await;
    let deps = world.deps_scaled(
        okta_role_sync::ratelimit::OktaClock::scaled(300.0),
        &[("GROUP_NAME_TEMPLATE", "aws_{account}")],
    );

    for role in &roles {
        let mut event = event("create-role.json");
        event["detail"]["requestParameters"]["roleName"] = json!(role);
        event["detail"]["responseElements"] = Value::Null;
        let outcome = handle(&deps, &event).await.unwrap();
        assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    }

    let mut stored = world.saml_roles("00gaccount1111222233").await;
    stored.sort();
    assert_eq!(stored, roles);
    let throttled = world
        .requests()
        .await
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    assert_eq!(throttled, 0);
}

#[tokio::test]
async fn rate_limited_answer_is_waited_out_until_its_reset_and_retried() {
    let mut seed = seed(
        crate::assign::ROLES,
        json!([crate::assign::group(GROUP, "PlatformAdmin")]),
        json!([{"appId": helpers::APP_ID, "groupId": GROUP, "priority": 0,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]}}]),
    );
    seed["clockScale"] = json!(60);
    seed["rateLimits"] = json!({"apps": 100, "groups": 500, "tokenSharePercent": 100});
    let world = World::new(seed).await;
    world.spend_app_bucket_elsewhere().await;
    let deps = world.deps_scaled(okta_role_sync::ratelimit::OktaClock::scaled(60.0), &[]);

    let outcome = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.saml_roles(GROUP).await, MERGED);
    let throttled = world
        .requests()
        .await
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    assert!(
        throttled >= 2,
        "one 429 for the other client, at least one for this one"
    );
}

#[tokio::test]
async fn rate_limit_wait_past_the_deadline_is_not_waited_but_reported_as_a_wait() {
    let mut seed = seed(
        crate::assign::ROLES,
        json!([crate::assign::group(GROUP, "PlatformAdmin")]),
        json!([]),
    );
    seed["rateLimits"] = json!({"apps": 100, "groups": 500, "tokenSharePercent": 100});
    // Okta's minute lasts 100 of ours, so the spent bucket cannot reset within the deadline
    // whenever in the window the test starts.
    seed["clockScale"] = json!(0.01);
    let world = World::new(seed).await;
    world.spend_app_bucket_elsewhere().await;
    let deps = world.deps_scaled(okta_role_sync::ratelimit::OktaClock::scaled(0.01), &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);

    let started = std::time::Instant::now();
    let err = okta_role_sync::handle_until(&deps, &event("create-role.json"), Some(deadline))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Retryable.RateLimited");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(okta_role_sync::waits::wait_for(&err).is_some());
    assert_eq!(world.saml_roles(GROUP).await, Vec::<String>::new());
}
