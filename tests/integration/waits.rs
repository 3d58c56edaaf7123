//! Durable waits: an event that cannot be assigned yet waits on the delay queue, comes back by
//! itself, and is assigned once it can be; one that waits too long is parked with what to do.

use serde_json::json;

use crate::assign::{ROLES, group};
use crate::helpers::{self, World, event, seed};

fn create_role_event(name: &str) -> serde_json::Value {
    let mut event = event("create-role-terraform-saml.json");
    event["detail"]["requestParameters"]["roleName"] = json!(name);
    event["detail"]["responseElements"] = serde_json::Value::Null;
    event
}

#[tokio::test]
async fn event_for_a_group_not_created_yet_waits_and_completes_by_itself() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[("RETRY_BASE_DELAY_SECONDS", "0")]);
    helpers::put_on_work_queue(&queues, &event("create-role-terraform-saml.json")).await;

    helpers::work_once(&deps, &queues).await;
    let waiting = helpers::peek_delay(&queues).await;
    assert_eq!(waiting.len(), 1, "the event waits on the delay queue");
    assert_eq!(waiting[0]["oktaRoleSyncRetry"]["reason"], "group_not_found");
    assert_eq!(world.writes().await, 0);

    world
        .create_group(&group("00gdataengineer00001", "DataEngineer"))
        .await;
    helpers::drain(&deps, &queues).await;

    assert_eq!(
        world.saml_roles("00gdataengineer00001").await,
        ["DataEngineer"]
    );
    assert!(helpers::take_all(&queues.parked).await.is_empty());
}

#[tokio::test]
async fn role_okta_has_not_imported_waits_until_an_admin_refreshes_application_data() {
    let world = World::new(seed(
        &["ReadOnly"],
        json!([group("00gdataengineer00001", "DataEngineer")]),
        json!([{"appId": helpers::APP_ID, "groupId": "00gdataengineer00001",
                "priority": 2, "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly"]}}]),
    ))
    .await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[("RETRY_BASE_DELAY_SECONDS", "0")]);
    helpers::put_on_work_queue(&queues, &event("create-role-terraform-saml.json")).await;

    helpers::work_once(&deps, &queues).await;
    let waiting = helpers::peek_delay(&queues).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0]["oktaRoleSyncRetry"]["reason"],
        "role_not_imported"
    );
    assert_eq!(waiting[0]["oktaRoleSyncRetry"]["attempt"], 1);
    assert_eq!(world.saml_roles("00gdataengineer00001").await, ["ReadOnly"]);

    world.import_role("DataEngineer").await;
    helpers::drain(&deps, &queues).await;

    assert_eq!(
        world.saml_roles("00gdataengineer00001").await,
        ["ReadOnly", "DataEngineer"]
    );
}

#[tokio::test]
async fn wait_past_the_maximum_age_is_parked_with_what_to_do() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(
        &queues,
        &[("RETRY_BASE_DELAY_SECONDS", "0"), ("MAX_WAIT_SECONDS", "0")],
    );
    helpers::put_on_work_queue(&queues, &create_role_event("Auditor")).await;

    helpers::drain(&deps, &queues).await;

    let parked = helpers::take_all(&queues.parked).await;
    assert_eq!(parked.len(), 1);
    let action = parked[0]["action"].as_str().unwrap();
    assert!(
        action.contains("create the okta group \"Auditor\""),
        "{action}"
    );
    assert_eq!(parked[0]["errorType"], "Retryable.GroupNotFound");
    assert_eq!(
        parked[0]["event"]["detail"]["requestParameters"]["roleName"],
        "Auditor"
    );
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn parked_event_sent_back_to_the_work_queue_starts_over_and_completes() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;
    let queues = helpers::new_queues().await;
    let expiring = world.deps_with_queues(&queues, &[("MAX_WAIT_SECONDS", "0")]);
    helpers::put_on_work_queue(&queues, &create_role_event("DataEngineer")).await;
    helpers::drain(&expiring, &queues).await;
    let parked = helpers::take_all(&queues.parked).await;
    world
        .create_group(&group("00gdataengineer00001", "DataEngineer"))
        .await;

    let deps = world.deps_with_queues(&queues, &[]);
    helpers::put_on_work_queue(&queues, &parked[0]).await;
    helpers::drain(&deps, &queues).await;

    assert_eq!(
        world.saml_roles("00gdataengineer00001").await,
        ["DataEngineer"]
    );
}

#[tokio::test]
async fn direct_invocation_of_a_waiting_event_is_answered_deferred() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[]);

    let outcome = helpers::invoke(&deps, event("create-role-terraform-saml.json")).await;

    assert_eq!(outcome["outcome"], "deferred");
    assert_eq!(outcome["retryInSeconds"], 60);
    assert!(outcome["reason"].as_str().unwrap().contains("DataEngineer"));
    assert_eq!(helpers::delayed_count(&queues).await, 1);
}

#[tokio::test]
async fn invalid_message_on_the_work_queue_is_parked_not_retried_forever() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[]);
    helpers::put_on_work_queue(&queues, &json!({"hello": "world"})).await;

    helpers::drain(&deps, &queues).await;

    let parked = helpers::take_all(&queues.parked).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0]["errorType"], "Permanent.InvalidEvent");
    assert_eq!(world.secrets.reads(), 0);
}

#[tokio::test]
async fn same_event_delivered_twice_through_the_queue_writes_once() {
    let world = crate::assign::usual_world().await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[]);
    let mut second = event("create-role.json");
    second["id"] = json!("a-second-delivery-with-another-envelope-id");
    helpers::put_on_work_queue(&queues, &event("create-role.json")).await;
    helpers::put_on_work_queue(&queues, &second).await;

    helpers::drain(&deps, &queues).await;

    assert_eq!(world.writes().await, 1);
    assert_eq!(
        world.saml_roles("00gplatformadmin0001").await,
        ["ReadOnly", "BillingViewer", "PlatformAdmin"]
    );
}
