//! The `/__sim/` control surface over real HTTP: orgs, state, request log, groups, roles.

mod common;

use common::*;
use hyper::Method;
use okta_sim::{AppSeed, AssignmentSeed, GroupSeed, OrgSeed, Simulator, spawn_in_background};
use serde_json::json;

#[tokio::test]
async fn orgs_are_separate_tenants_selected_by_token() {
    let addr = start(aws_org(json!([{"id": "00g1", "name": "Mine"}]), json!([])));
    let other = json!({"tokens": ["token-b"], "groups": [{"id": "00g9", "name": "Theirs"}]});
    let created = send(
        addr,
        Method::POST,
        "/__sim/orgs",
        None,
        Some(&other.to_string()),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json(), json!({}));

    assert_eq!(names(&get(addr, "/api/v1/groups").await), ["Mine"]);
    let theirs = send(
        addr,
        Method::GET,
        "/api/v1/groups",
        Some("SSWS token-b"),
        None,
    )
    .await;
    assert_eq!(names(&theirs), ["Theirs"]);
}

#[tokio::test]
async fn a_token_already_in_use_cannot_create_another_org() {
    let addr = start(aws_org(json!([]), json!([])));
    let again = json!({"tokens": ["fresh", TOKEN]});
    let answer = send(
        addr,
        Method::POST,
        "/__sim/orgs",
        None,
        Some(&again.to_string()),
    )
    .await;
    assert_eq!(answer.status, 409);
    let fresh = send(
        addr,
        Method::GET,
        "/api/v1/groups",
        Some("SSWS fresh"),
        None,
    )
    .await;
    assert_eq!(fresh.status, 401);

    let invalid = send(
        addr,
        Method::POST,
        "/__sim/orgs",
        None,
        Some("{\"tokens\": 1}"),
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert!(invalid.json()["errorSummary"].is_string());
}

#[tokio::test]
async fn the_state_reads_back_in_the_seed_format_sorted_by_id() {
    let addr = start(aws_org(
        json!([{"id": "00g2", "name": "B"}, {"id": "00g1", "name": "A", "searchable": false}]),
        json!([
            {"appId": APP, "groupId": "00g2", "profile": {"samlRoles": ["ReadOnly"]}},
            {"appId": APP, "groupId": "00g1"}
        ]),
    ));
    let state = get(addr, "/__sim/state").await;
    assert_eq!(state.status, 200);
    let state = state.json();
    assert_eq!(state["tokens"], json!([TOKEN]));
    assert_eq!(
        state["rateLimits"],
        json!({"apps": 100, "groups": 500, "tokenSharePercent": 50})
    );
    assert_eq!(state["clockScale"], json!(1));
    assert_eq!(
        state["apps"][0]["roles"],
        json!(["ReadOnly", "BillingViewer", "DataEngineer"])
    );
    assert_eq!(
        state["groups"],
        json!([
            {"id": "00g1", "name": "A", "type": "OKTA_GROUP", "description": "", "searchable": false},
            {"id": "00g2", "name": "B", "type": "OKTA_GROUP", "description": "", "searchable": true}
        ])
    );
    assert_eq!(
        state["assignments"],
        json!([
            {"appId": APP, "groupId": "00g1", "priority": 1, "profile": {}},
            {"appId": APP, "groupId": "00g2", "priority": 0, "profile": {"samlRoles": ["ReadOnly"]}}
        ])
    );
    let reseeded: OrgSeed = serde_json::from_value(state).expect("state is a valid seed");
    assert_eq!(reseeded.groups.len(), 2);

    let unauthorized = send(addr, Method::GET, "/__sim/state", None, None).await;
    assert_eq!(unauthorized.status, 401);
}

#[tokio::test]
async fn the_request_log_lists_okta_calls_in_order_until_cleared() {
    let addr = start(aws_org(json!([]), json!([])));
    get(addr, "/api/v1/groups?q=Data+Eng").await;
    put(addr, &format!("/api/v1/apps/{APP}/groups/00gx"), "{}").await;
    get(addr, "/__sim/state").await;
    let log = get(addr, "/__sim/requests").await.json();
    assert_eq!(
        log,
        json!([
            {"method": "GET", "path": "/api/v1/groups", "query": "q=Data+Eng", "status": 200, "bucket": "groups"},
            {"method": "PUT", "path": format!("/api/v1/apps/{APP}/groups/00gx"), "query": "", "status": 404, "bucket": "apps"}
        ])
    );
    assert_eq!(delete(addr, "/__sim/requests").await.status, 204);
    assert_eq!(get(addr, "/__sim/requests").await.json(), json!([]));
}

#[tokio::test]
async fn a_group_created_unindexed_is_invisible_to_search_until_indexed() {
    let addr = start(aws_org(json!([]), json!([])));
    let created = post(
        addr,
        "/__sim/groups",
        r#"{"name": "Late", "searchable": false}"#,
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"]
        .as_str()
        .expect("generated id")
        .to_string();
    assert!(id.starts_with("00g") && id.len() == 20, "{id}");
    let search = "/api/v1/groups?search=profile.name+eq+%22Late%22";
    assert!(names(&get(addr, search).await).is_empty());
    let indexed = post(addr, &format!("/__sim/groups/{id}/index"), "").await;
    assert_eq!(indexed.status, 200);
    assert_eq!(indexed.json()["searchable"], true);
    assert_eq!(names(&get(addr, search).await), ["Late"]);
    assert_eq!(
        post(addr, "/__sim/groups/00gnope/index", "").await.status,
        404
    );

    let visible = post(addr, "/__sim/groups", r#"{"name": "Now"}"#).await;
    assert_eq!(visible.json()["searchable"], true);
}

#[tokio::test]
async fn importing_a_role_is_idempotent_and_needs_a_known_app() {
    let addr = start(aws_org(json!([]), json!([])));
    let path = format!("/__sim/apps/{APP}/roles");
    post(addr, &path, r#"{"role": "Auditor"}"#).await;
    let again = post(addr, &path, r#"{"role": "Auditor"}"#).await;
    assert_eq!(
        again.json()["roles"],
        json!(["ReadOnly", "BillingViewer", "DataEngineer", "Auditor"])
    );
    assert_eq!(
        post(addr, "/__sim/apps/0oanope/roles", r#"{"role": "X"}"#)
            .await
            .status,
        404
    );
    assert_eq!(post(addr, &path, r#"{"rolle": "X"}"#).await.status, 400);
}

#[tokio::test]
async fn seeds_built_in_rust_work_like_json_ones() {
    let sim = Simulator::new();
    sim.add_org(OrgSeed {
        tokens: vec!["rust-token".into()],
        apps: vec![AppSeed::aws("0oarust", &["ReadOnly"])],
        groups: vec![GroupSeed::named("Team").with_id("00gteam")],
        assignments: vec![AssignmentSeed::new(
            "0oarust",
            "00gteam",
            json!({"samlRoles": ["ReadOnly"]}),
        )],
        ..OrgSeed::default()
    })
    .expect("seed accepted");
    let duplicate = sim.add_org(OrgSeed {
        tokens: vec!["rust-token".into()],
        ..OrgSeed::default()
    });
    assert!(duplicate.is_err());
    let addr = spawn_in_background(sim.clone());
    let answer = send(
        addr,
        Method::GET,
        "/api/v1/apps/0oarust/groups/00gteam",
        Some("SSWS rust-token"),
        None,
    )
    .await;
    assert_eq!(answer.json()["priority"], 0);
    let log = sim.requests("rust-token").expect("org exists");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 200);
    assert_eq!(
        sim.org_state("rust-token").map(|s| s.assignments.len()),
        Some(1)
    );
}

#[test]
fn the_demo_seed_loads() {
    let seed: OrgSeed =
        serde_json::from_str(include_str!("../seeds/demo.json")).expect("demo seed parses");
    assert_eq!(seed.tokens, ["demo-not-secret"]);
    Simulator::new().add_org(seed).expect("demo seed accepted");
}
