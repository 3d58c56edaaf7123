//! No lost update: many events for one group at once all end up in its `samlRoles`, through
//! the deployed path (the FIFO work queue) and when one process handles them side by side,
//! against an Okta that answers slowly.

use std::sync::Arc;

use okta_role_sync::{OutcomeKind, handle};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::assign::group;
use crate::helpers::{self, World, event, seed};

const EVENTS: usize = 50;
const GROUP_ID: &str = "00gaccount1111222233";
/// One group per account, so that every role of the account lands in it.
const TEMPLATE: (&str, &str) = ("GROUP_NAME_TEMPLATE", "aws_{account}");

fn role_names() -> Vec<String> {
    (0..EVENTS).map(|i| format!("Team{i:02}")).collect()
}

async fn slow_world(roles: &[String]) -> World {
    let refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut seed = seed(
        &refs,
        json!([group(GROUP_ID, "aws_111122223333")]),
        json!([{"appId": helpers::APP_ID, "groupId": GROUP_ID, "priority": 0,
                "profile": {"role": "Team00", "samlRoles": []}}]),
    );
    seed["latencyMs"] = json!(20);
    seed["rateLimits"] = json!({"apps": 100000, "groups": 100000});
    World::new(seed).await
}

fn create_role_event(role: &str, index: usize) -> Value {
    let mut event = event("create-role.json");
    event["id"] = json!(format!("envelope-{index}"));
    event["detail"]["eventID"] = json!(format!("event-{index}"));
    event["detail"]["requestParameters"]["roleName"] = json!(role);
    event["detail"]["responseElements"] = Value::Null;
    event
}

fn sorted(mut roles: Vec<String>) -> Vec<String> {
    roles.sort();
    roles
}

#[tokio::test]
async fn fifty_events_for_one_group_on_the_work_queue_all_land() {
    let roles = role_names();
    let world = slow_world(&roles).await;
    let queues = helpers::new_queues().await;
    let deps = world.deps_with_queues(&queues, &[TEMPLATE]);
    for (index, role) in roles.iter().enumerate() {
        helpers::put_on_work_queue(&queues, &create_role_event(role, index)).await;
    }

    helpers::drain(&deps, &queues).await;

    assert_eq!(sorted(world.saml_roles(GROUP_ID).await), roles);
    assert_eq!(world.writes().await, EVENTS);
    let stored = world.assignment(GROUP_ID).await.unwrap();
    assert_eq!(stored["profile"]["role"], "Team00");
    assert_eq!(stored["priority"], 0);
}

#[tokio::test]
async fn fifty_events_for_one_group_handled_at_once_in_one_process_all_land() {
    let roles = role_names();
    let world = slow_world(&roles).await;
    let deps = Arc::new(world.deps(&[TEMPLATE]));

    let mut tasks = JoinSet::new();
    for (index, role) in roles.iter().enumerate() {
        let (deps, event) = (deps.clone(), create_role_event(role, index));
        tasks.spawn(async move { handle(&deps, &event).await });
    }
    let mut assigned = 0;
    while let Some(result) = tasks.join_next().await {
        let outcome = result.expect("task ran").expect("event handled");
        assert_eq!(outcome.outcome, OutcomeKind::Assigned);
        assigned += 1;
    }

    assert_eq!(assigned, EVENTS);
    assert_eq!(sorted(world.saml_roles(GROUP_ID).await), roles);
    assert_eq!(world.writes().await, EVENTS);
}
