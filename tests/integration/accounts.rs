//! Real deployments: events of many accounts on a central bus, an app per account found in
//! Okta, Okta's own role labels, the naming rules and the safety rules.

use serde_json::{Value, json};

use crate::assign::group;
use crate::helpers::{World, aws_app, create_role_in, event};
use okta_role_sync::{OutcomeKind, handle};

const PROD: &str = "111122223333";
const STAGING: &str = "444455556666";
const PROD_APP: &str = "0oa1prod000000000000";
const STAGING_APP: &str = "0oa2staging000000000";

fn org(apps: Vec<Value>, groups: Value, assignments: Value) -> Value {
    json!({"apps": apps, "groups": groups, "assignments": assignments})
}

/// An org with an app per account and an Admin group in each account's naming.
async fn two_account_world() -> World {
    World::new(org(
        vec![
            aws_app(PROD_APP, &[PROD], &["Admin", "ReadOnly"]),
            aws_app(STAGING_APP, &[STAGING], &["Admin", "ReadOnly"]),
        ],
        json!([
            group("00gadminprod00000001", "Admin"),
            group("00gawsprodadmin00001", "aws_111122223333_Admin"),
            group("00gawsstageadmin0001", "aws_444455556666_Admin"),
        ]),
        json!([]),
    ))
    .await
}

fn get_paths(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r["method"] == "GET")
        .map(|r| r["path"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn an_event_from_account_b_on_the_central_bus_lands_in_account_bs_app() {
    let world = two_account_world().await;
    let deps = world.deps(&[
        ("OKTA_APP_ID", ""),
        ("GROUP_NAME_TEMPLATE", "aws_{account}_{role}"),
    ]);

    let outcome = handle(&deps, &create_role_in(STAGING, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(outcome.app_id.as_deref(), Some(STAGING_APP));
    assert_eq!(outcome.account.as_deref(), Some(STAGING));
    assert_eq!(
        world
            .saml_roles_in(STAGING_APP, "00gawsstageadmin0001")
            .await,
        ["Admin"]
    );
    assert!(
        world
            .assignment_in(PROD_APP, "00gawsstageadmin0001")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn an_explicit_account_map_chooses_the_app_without_listing_apps() {
    let world = two_account_world().await;
    let map = format!("{PROD}={PROD_APP},{STAGING}={STAGING_APP}");
    let deps = world.deps(&[
        ("OKTA_APP_ID", ""),
        ("ACCOUNT_APP_MAP", &map),
        ("GROUP_NAME_TEMPLATE", "aws_{account}_{role}"),
    ]);

    handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(
        world.saml_roles_in(PROD_APP, "00gawsprodadmin00001").await,
        ["Admin"]
    );
    let paths = get_paths(&world.requests().await);
    assert!(!paths.contains(&"/api/v1/apps".to_owned()), "{paths:?}");
}

#[tokio::test]
async fn an_account_no_app_serves_is_skipped_naming_the_account() {
    let world = two_account_world().await;
    let deps = world.deps(&[("OKTA_APP_ID", "")]);

    let outcome = handle(&deps, &create_role_in("777788889999", "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("no-app-for-account"));
    assert!(outcome.reason.unwrap().contains("777788889999"));
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn discovery_follows_pagination_and_is_kept_for_the_next_events() {
    // More apps than Okta's largest page: the account's app is on the second page.
    let mut apps: Vec<Value> = (0..205)
        .map(|i| {
            aws_app(
                &format!("0oa0other{i:011}"),
                &[&format!("{:012}", 900_000_000_000u64 + i)],
                &[],
            )
        })
        .collect();
    apps.push(aws_app("0oazlast000000000000", &[STAGING], &["Admin"]));
    let world = World::new(org(
        apps,
        json!([group("00gadminstaging00001", "Admin")]),
        json!([]),
    ))
    .await;
    let deps = world.deps(&[("OKTA_APP_ID", "")]);

    let first = handle(&deps, &create_role_in(STAGING, "Admin", Value::Null))
        .await
        .unwrap();
    let second = handle(&deps, &create_role_in(STAGING, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(first.app_id.as_deref(), Some("0oazlast000000000000"));
    assert_eq!(first.outcome, OutcomeKind::Assigned);
    assert_eq!(second.outcome, OutcomeKind::AlreadyPresent);
    let requests = world.requests().await;
    let listings: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == "/api/v1/apps")
        .collect();
    assert_eq!(listings.len(), 2, "two pages, listed once for both events");
    assert!(
        listings[1]["query"]
            .as_str()
            .unwrap_or_default()
            .contains("after="),
        "{listings:?}"
    );
}

#[tokio::test]
async fn a_multi_account_app_receives_the_label_in_its_own_format() {
    let world = World::new(org(
        vec![aws_app(
            PROD_APP,
            &[PROD, STAGING],
            &[
                "[prod-main] -- Admin",
                "[staging] -- Admin",
                "[prod-main] -- ReadOnly",
            ],
        )],
        json!([group("00gadminprod00000001", "Admin")]),
        json!([{
            "appId": PROD_APP, "groupId": "00gadminprod00000001", "priority": 0,
            "profile": {"samlRoles": ["[prod-main] -- ReadOnly"]}
        }]),
    ))
    .await;
    let aliases = format!("{PROD}=prod-main,{STAGING}=staging");
    let deps = world.deps(&[("OKTA_APP_ID", ""), ("ACCOUNT_ALIASES", &aliases)]);

    let outcome = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.label.as_deref(), Some("[prod-main] -- Admin"));
    assert_eq!(
        world.saml_roles_in(PROD_APP, "00gadminprod00000001").await,
        ["[prod-main] -- ReadOnly", "[prod-main] -- Admin"]
    );
}

#[tokio::test]
async fn a_multi_account_app_without_known_aliases_writes_nothing_and_says_what_to_set() {
    let world = World::new(org(
        vec![aws_app(
            PROD_APP,
            &[PROD, STAGING],
            &["[prod-main] -- Admin", "[staging] -- Admin"],
        )],
        json!([group("00gadminprod00000001", "Admin")]),
        json!([]),
    ))
    .await;
    let deps = world.deps(&[("OKTA_APP_ID", "")]);

    let err = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.AmbiguousLabel");
    assert!(err.to_string().contains("ACCOUNT_ALIASES"), "{err}");
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn without_a_listed_schema_the_label_follows_the_labels_on_the_assignment() {
    let mut app = aws_app(
        PROD_APP,
        &[PROD],
        &["[111122223333] -- Admin", "[111122223333] -- ReadOnly"],
    );
    app["schemaListsRoles"] = json!(false);
    let world = World::new(org(
        vec![app],
        json!([group("00gadminprod00000001", "Admin")]),
        json!([{
            "appId": PROD_APP, "groupId": "00gadminprod00000001", "priority": 0,
            "profile": {"samlRoles": ["[111122223333] -- ReadOnly"]}
        }]),
    ))
    .await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP)]);

    let outcome = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(
        world.saml_roles_in(PROD_APP, "00gadminprod00000001").await,
        ["[111122223333] -- ReadOnly", "[111122223333] -- Admin"]
    );
}

#[tokio::test]
async fn an_app_in_group_mapping_mode_is_refused_with_no_write() {
    let mut app = aws_app(PROD_APP, &[PROD], &["Admin"]);
    app["settings"]["app"]["useGroupMapping"] = json!(true);
    let world = World::new(org(
        vec![app],
        json!([group("00gadminprod00000001", "Admin")]),
        json!([]),
    ))
    .await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP)]);

    let err = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.AppUsesGroupMapping");
    assert!(err.to_string().contains("Use Group Mapping"), "{err}");
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_configured_app_okta_does_not_have_names_the_variable() {
    let world = two_account_world().await;
    let deps = world.deps(&[("OKTA_APP_ID", "0oa9missing000000000")]);

    let err = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.AppNotFound");
    assert!(err.to_string().contains("OKTA_APP_ID"), "{err}");
}

/// An org whose app holds every role below, with a group for each naming rule.
async fn naming_world() -> World {
    World::new(org(
        vec![aws_app(
            PROD_APP,
            &[PROD],
            &["data-admin", "billing-read", "Admin", "DataEngineer"],
        )],
        json!([
            group("00gtagged00000000001", "Data Platform Admins"),
            group("00gpattern0000000001", "okta-billing-read"),
            group("00gtemplate000000001", "aws-Admin"),
            group("00gdataengineer00001", "DataEngineer"),
        ]),
        json!([]),
    ))
    .await
}

#[tokio::test]
async fn the_tag_the_pattern_and_the_template_each_pick_their_group() {
    let world = naming_world().await;
    let deps = world.deps(&[
        ("OKTA_APP_ID", PROD_APP),
        ("GROUP_TAG_KEY", "okta-group"),
        ("ROLE_NAME_PATTERN", "(?P<team>[a-z]+)-(?P<level>read)"),
        ("GROUP_NAME_TEMPLATE", "okta-{team}-{level}"),
    ]);
    let tagged = create_role_in(
        PROD,
        "data-admin",
        json!([{"key": "okta-group", "value": "Data Platform Admins"}]),
    );
    let by_pattern = create_role_in(PROD, "billing-read", Value::Null);
    let unmatched = create_role_in(PROD, "Admin", Value::Null);

    let tagged = handle(&deps, &tagged).await.unwrap();
    let by_pattern = handle(&deps, &by_pattern).await.unwrap();
    let unmatched = handle(&deps, &unmatched).await.unwrap();

    assert_eq!(tagged.group_id.as_deref(), Some("00gtagged00000000001"));
    assert_eq!(by_pattern.group_id.as_deref(), Some("00gpattern0000000001"));
    assert_eq!(unmatched.outcome, OutcomeKind::Skipped);
    assert_eq!(unmatched.rule, Some("role-name-pattern"));
    assert_eq!(
        world.saml_roles_in(PROD_APP, "00gtagged00000000001").await,
        ["data-admin"]
    );
    assert_eq!(
        world.saml_roles_in(PROD_APP, "00gpattern0000000001").await,
        ["billing-read"]
    );

    let by_template = world.deps(&[
        ("OKTA_APP_ID", PROD_APP),
        ("GROUP_NAME_TEMPLATE", "aws-{role}"),
    ]);
    let outcome = handle(&by_template, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap();
    assert_eq!(outcome.group_id.as_deref(), Some("00gtemplate000000001"));
}

#[tokio::test]
async fn the_terraform_events_naming_tag_in_its_list_shape_names_the_group() {
    let world = naming_world().await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP), ("GROUP_TAG_KEY", "okta-group")]);

    let outcome = handle(&deps, &event("create-role-terraform-saml.json"))
        .await
        .unwrap();

    assert_eq!(outcome.group_id.as_deref(), Some("00gdataengineer00001"));
}

#[tokio::test]
async fn roles_the_safety_rules_refuse_are_skipped_before_any_secret_or_okta_call() {
    let world = naming_world().await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP), ("DENIED_GROUPS", "Admin")]);
    let mut service_role = create_role_in(PROD, "Admin", Value::Null);
    service_role["detail"]["requestParameters"]["path"] = json!("/service-role/");
    let mut aws_managed = create_role_in(PROD, "Admin", Value::Null);
    aws_managed["detail"]["requestParameters"]["path"] =
        json!("/aws-service-role/sso.amazonaws.com/");
    let mut not_saml = create_role_in(PROD, "DataEngineer", Value::Null);
    not_saml["detail"]["requestParameters"]["assumeRolePolicyDocument"] = json!(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
    );
    let denied = create_role_in(PROD, "Admin", Value::Null);

    let mut rules = Vec::new();
    for skipped in [service_role, aws_managed, not_saml, denied] {
        let outcome = handle(&deps, &skipped).await.unwrap();
        assert_eq!(outcome.outcome, OutcomeKind::Skipped);
        rules.push(outcome.rule.unwrap());
    }

    assert_eq!(
        rules,
        [
            "service-role-path",
            "aws-managed-path",
            "saml-trust",
            "denied-group"
        ]
    );
    assert_eq!(world.secrets.reads(), 0);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn roles_the_safety_rules_allow_are_assigned() {
    let world = naming_world().await;
    let deps = world.deps(&[
        ("OKTA_APP_ID", PROD_APP),
        ("SAML_PROVIDER", "Okta"),
        ("SKIP_SERVICE_ROLE_PATH", "false"),
        ("ALLOWED_PATH_PREFIXES", "/service-role/,/okta/"),
        ("ALLOWED_ROLE_NAME_PATTERN", "Admin|DataEngineer"),
        ("DENIED_GROUPS", "Everyone"),
    ]);
    let mut service_role = create_role_in(PROD, "DataEngineer", Value::Null);
    service_role["detail"]["requestParameters"]["path"] = json!("/service-role/");
    let mut elsewhere = create_role_in(PROD, "Admin", Value::Null);
    elsewhere["detail"]["requestParameters"]["path"] = json!("/people/");

    let allowed = handle(&deps, &service_role).await.unwrap();
    let outside = handle(&deps, &elsewhere).await.unwrap();

    assert_eq!(allowed.outcome, OutcomeKind::Assigned);
    assert_eq!(outside.outcome, OutcomeKind::Skipped);
    assert_eq!(outside.rule, Some("allowed-paths"));
}

#[tokio::test]
async fn a_group_denied_by_id_is_skipped_once_found_and_never_written() {
    let world = naming_world().await;
    let deps = world.deps(&[
        ("OKTA_APP_ID", PROD_APP),
        ("DENIED_GROUPS", "00gdataengineer00001"),
    ]);

    let outcome = handle(&deps, &create_role_in(PROD, "DataEngineer", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("denied-group"));
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn the_default_app_does_not_take_roles_of_accounts_its_arn_does_not_name() {
    let world = two_account_world().await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP)]);

    let outcome = handle(&deps, &create_role_in(STAGING, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("app-serves-other-accounts"));
    assert!(outcome.reason.unwrap().contains("ACCOUNT_APP_MAP"));
    assert_eq!(world.writes().await, 0);

    // Mapped by the operator, the account is served by the app whatever its ARN says.
    let mapped = world.deps(&[
        ("OKTA_APP_ID", ""),
        ("ACCOUNT_APP_MAP", &format!("{STAGING}={PROD_APP}")),
    ]);
    let outcome = handle(&mapped, &create_role_in(STAGING, "Admin", Value::Null))
        .await
        .unwrap();
    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
}

#[tokio::test]
async fn an_inactive_configured_app_is_not_written() {
    let mut app = aws_app(PROD_APP, &[PROD], &["Admin"]);
    app["status"] = json!("INACTIVE");
    let world = World::new(org(
        vec![app],
        json!([group("00gadminprod00000001", "Admin")]),
        json!([]),
    ))
    .await;
    let deps = world.deps(&[("OKTA_APP_ID", PROD_APP)]);

    let outcome = handle(&deps, &create_role_in(PROD, "Admin", Value::Null))
        .await
        .unwrap();

    assert_eq!(outcome.rule, Some("app-inactive"));
    assert_eq!(world.writes().await, 0);
}
