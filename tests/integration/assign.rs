//! The main path: a created role reaches its group, and every other kind of event is answered
//! without a write.

use crate::helpers::{self, World, event, fixture, fixture_names, seed};
use okta_role_sync::secret::SecretsManager;
use okta_role_sync::{Deps, OutcomeKind, handle};
use serde_json::{Value, json};

pub const ROLES: &[&str] = &[
    "ReadOnly",
    "BillingViewer",
    "PlatformAdmin",
    "DataEngineer",
    "Data.Eng+Ops=Team,Read@Only_v-2",
];

pub fn group(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "type": "OKTA_GROUP"})
}

/// The usual org: group PlatformAdmin assigned with two roles, a prefix decoy, and an
/// unassigned DataEngineer group.
pub async fn usual_world() -> World {
    World::new(seed(
        ROLES,
        json!([
            group("00gplatformadmin0001", "PlatformAdmin"),
            group("00gplatformadminteam", "PlatformAdminTeam"),
            group("00gdataengineer00001", "DataEngineer"),
        ]),
        json!([{
            "appId": helpers::APP_ID, "groupId": "00gplatformadmin0001", "priority": 4,
            "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]}
        }]),
    ))
    .await
}

#[tokio::test]
async fn created_role_is_appended_keeping_order_role_and_priority() {
    let world = usual_world().await;
    let deps = world.deps(&[]);

    let outcome = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(outcome.group_id.as_deref(), Some("00gplatformadmin0001"));
    assert_eq!(outcome.account.as_deref(), Some("111122223333"));
    assert!(!outcome.created_assignment);
    let stored = world.assignment("00gplatformadmin0001").await.unwrap();
    assert_eq!(
        stored["profile"],
        json!({"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer", "PlatformAdmin"]})
    );
    assert_eq!(stored["priority"], json!(4));
    assert_eq!(world.writes().await, 1);
    assert_eq!(world.secrets.reads(), 1);
}

#[tokio::test]
async fn result_json_has_the_documented_fields() {
    let world = usual_world().await;
    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    let json = serde_json::to_value(&outcome).unwrap();

    for field in [
        "outcome",
        "account",
        "role",
        "group",
        "groupId",
        "appId",
        "reason",
        "createdAssignment",
    ] {
        assert!(json.get(field).is_some(), "result lacks {field}: {json}");
    }
    assert_eq!(json["outcome"], "assigned");
    assert_eq!(json["appId"], helpers::APP_ID);
}

#[tokio::test]
async fn second_delivery_of_the_same_event_writes_nothing() {
    let world = usual_world().await;
    let deps = world.deps(&[]);
    handle(&deps, &event("create-role.json")).await.unwrap();

    let again = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(again.outcome, OutcomeKind::AlreadyPresent);
    assert_eq!(world.writes().await, 1);
    assert_eq!(
        world.saml_roles("00gplatformadmin0001").await,
        ["ReadOnly", "BillingViewer", "PlatformAdmin"]
    );
    assert_eq!(
        world.secrets.reads(),
        1,
        "the token is cached per container"
    );
}

#[tokio::test]
async fn role_name_with_every_allowed_punctuation_reaches_its_exact_group() {
    let name = "Data.Eng+Ops=Team,Read@Only_v-2";
    // If '+' were sent unencoded Okta would read a space and could match the decoy.
    let world = World::new(seed(
        ROLES,
        json!([
            group("00gpunctuationdecoy1", "Data.Eng Ops=Team,Read@Only_v-2"),
            group("00gpunctuationgroup1", name),
        ]),
        json!([]),
    ))
    .await;

    let outcome = handle(
        &world.deps(&[]),
        &event("create-role-path-punctuation.json"),
    )
    .await
    .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(outcome.group_id.as_deref(), Some("00gpunctuationgroup1"));
    assert_eq!(outcome.path.as_deref(), Some("/okta/federated/"));
    assert_eq!(world.saml_roles("00gpunctuationgroup1").await, [name]);
    assert!(world.assignment("00gpunctuationdecoy1").await.is_none());
    for request in world.requests().await {
        let query = request["query"].as_str().unwrap_or("");
        assert!(!query.contains("%252B"), "double-encoded query {query}");
    }
}

#[tokio::test]
async fn prefix_only_matches_are_not_the_group_and_nothing_is_written() {
    let world = World::new(seed(
        ROLES,
        json!([
            group("00gdataengineeradmin", "DataEngineerAdmin"),
            group("00gdataengineerread1", "DataEngineer_ReadOnly"),
        ]),
        json!([]),
    ))
    .await;

    let err = handle(&world.deps(&[]), &event("create-role-terraform-saml.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Retryable.GroupNotFound");
    assert!(err.to_string().contains("\"DataEngineer\""), "{err}");
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn two_groups_with_the_exact_name_are_ambiguous_and_nothing_is_written() {
    let world = World::new(seed(
        ROLES,
        json!([
            group("00gdataengineer0000a", "DataEngineer"),
            group("00gdataengineer0000b", "DataEngineer"),
        ]),
        json!([]),
    ))
    .await;

    let err = handle(&world.deps(&[]), &event("create-role-terraform-saml.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.AmbiguousGroup");
    let text = err.to_string();
    assert!(text.contains("00gdataengineer0000a") && text.contains("00gdataengineer0000b"));
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn group_not_yet_visible_to_search_is_found_by_prefix_lookup() {
    let mut new_group = group("00gdataengineer00001", "DataEngineer");
    new_group["searchable"] = json!(false);
    let world = World::new(seed(ROLES, json!([new_group]), json!([]))).await;

    let outcome = handle(&world.deps(&[]), &event("create-role-terraform-saml.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(
        world.saml_roles("00gdataengineer00001").await,
        ["DataEngineer"]
    );
}

#[tokio::test]
async fn unassigned_group_gets_an_assignment_with_the_role() {
    let world = usual_world().await;

    let outcome = handle(&world.deps(&[]), &event("create-role-terraform-saml.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert!(outcome.created_assignment);
    assert_eq!(
        world.saml_roles("00gdataengineer00001").await,
        ["DataEngineer"]
    );
}

#[tokio::test]
async fn unassigned_group_is_an_error_when_assignment_creation_is_off() {
    let world = usual_world().await;
    let deps = world.deps(&[("ASSIGN_UNASSIGNED_GROUPS", "false")]);

    let err = handle(&deps, &event("create-role-terraform-saml.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.GroupNotAssigned");
    assert!(
        err.to_string().contains("ASSIGN_UNASSIGNED_GROUPS"),
        "{err}"
    );
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn role_okta_has_not_imported_is_retryable_and_removes_nothing() {
    // Where the app's schema lists the imported roles, the missing role is seen there and
    // nothing is written; where it lists none, Okta's 400 to the write says the same.
    for schema_lists_roles in [true, false] {
        let mut org = seed(
            &["ReadOnly", "BillingViewer"],
            json!([group("00gplatformadmin0001", "PlatformAdmin")]),
            json!([{
                "appId": helpers::APP_ID, "groupId": "00gplatformadmin0001", "priority": 0,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]}
            }]),
        );
        org["apps"][0]["schemaListsRoles"] = json!(schema_lists_roles);
        let world = World::new(org).await;
        let deps = world.deps(&[]);

        let err = handle(&deps, &event("create-role.json")).await.unwrap_err();

        assert_eq!(err.error_type(), "Retryable.RoleNotImported");
        assert!(
            err.to_string().contains("refresh application data"),
            "{err}"
        );
        assert_eq!(
            world.saml_roles("00gplatformadmin0001").await,
            ["ReadOnly", "BillingViewer"]
        );
        let attempted_writes = if schema_lists_roles { 0 } else { 1 };
        assert_eq!(
            world.writes().await,
            attempted_writes,
            "{schema_lists_roles}"
        );

        world.import_role("PlatformAdmin").await;
        let outcome = handle(&deps, &event("create-role.json")).await.unwrap();
        assert_eq!(outcome.outcome, OutcomeKind::Assigned);
        assert_eq!(
            world.saml_roles("00gplatformadmin0001").await,
            ["ReadOnly", "BillingViewer", "PlatformAdmin"]
        );
    }
}

#[tokio::test]
async fn rotated_token_is_read_again_once_after_okta_says_401() {
    let world = usual_world().await;
    world
        .rotate_secret("an-old-token-okta-no-longer-takes")
        .await;
    let deps = world.deps(&[]);
    deps.tokens.token().await.unwrap();
    world.rotate_secret(&world.token).await;

    let outcome = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.secrets.reads(), 2);
}

#[tokio::test]
async fn token_okta_keeps_refusing_fails_after_one_reread() {
    let world = usual_world().await;
    world.rotate_secret("a-token-okta-never-issued").await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert!(err.chain().contains("401"), "{}", err.chain());
    assert!(!err.chain().contains("a-token-okta-never-issued"));
    assert_eq!(world.secrets.reads(), 2);
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn secret_holding_json_with_api_token_works() {
    let seed = seed(
        ROLES,
        json!([group("00gplatformadmin0001", "PlatformAdmin")]),
        json!([]),
    );
    let world = World::with_secret(seed, |token| json!({"apiToken": token}).to_string()).await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
}

#[tokio::test]
async fn missing_secret_is_a_permanent_error_and_okta_is_not_called() {
    let world = usual_world().await;
    let missing = "okta-role-sync/no-such-secret";
    let config = world.deps(&[("OKTA_SECRET_ID", missing)]).config;
    let secrets = SecretsManager::new(helpers::secrets_client(), missing);
    let deps = Deps::new(config, secrets).unwrap();

    let err = handle(&deps, &event("create-role.json")).await.unwrap_err();

    assert_eq!(err.error_type(), "Permanent.SecretUnavailable");
    assert!(
        err.chain().contains("ResourceNotFoundException"),
        "{}",
        err.chain()
    );
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn dry_run_reads_everything_and_writes_nothing() {
    let world = usual_world().await;

    let outcome = handle(
        &world.deps(&[("DRY_RUN", "true")]),
        &event("create-role.json"),
    )
    .await
    .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::WouldAssign);
    assert_eq!(
        outcome.saml_roles.as_deref(),
        Some(
            &[
                "ReadOnly".to_owned(),
                "BillingViewer".into(),
                "PlatformAdmin".into()
            ][..]
        )
    );
    assert_eq!(world.writes().await, 0);
    assert!(!world.requests().await.is_empty());
}

#[tokio::test]
async fn group_name_template_with_account_picks_the_prefixed_group() {
    let world = World::new(seed(
        ROLES,
        json!([
            group("00gplainplatformadm1", "PlatformAdmin"),
            group("00gaccountplatform01", "aws_111122223333_PlatformAdmin"),
        ]),
        json!([]),
    ))
    .await;
    let deps = world.deps(&[("GROUP_NAME_TEMPLATE", "aws_{account}_{role}")]);

    let outcome = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(
        outcome.group.as_deref(),
        Some("aws_111122223333_PlatformAdmin")
    );
    assert_eq!(
        world.saml_roles("00gaccountplatform01").await,
        ["PlatformAdmin"]
    );
    assert!(world.assignment("00gplainplatformadm1").await.is_none());
}

#[tokio::test]
async fn failed_call_is_skipped_without_reading_the_secret_or_calling_okta() {
    let world = usual_world().await;

    let outcome = handle(&world.deps(&[]), &event("create-role-failed.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert!(outcome.reason.unwrap().contains("EntityAlreadyExists"));
    assert_eq!(world.secrets.reads(), 0);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn other_iam_event_is_ignored_without_reading_the_secret_or_calling_okta() {
    let world = usual_world().await;

    let mut tag_role = event("delete-role.json");
    tag_role["detail"]["eventName"] = json!("TagRole");

    let outcome = handle(&world.deps(&[]), &tag_role).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Ignored);
    assert_eq!(world.secrets.reads(), 0);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn invalid_events_fail_clearly_without_reading_the_secret_or_calling_okta() {
    let world = usual_world().await;
    let deps = world.deps(&[]);
    let names = fixture_names("invalid");
    assert!(names.len() >= 7);

    for name in names {
        let err = handle(&deps, &fixture(&format!("invalid/{name}")))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Permanent.InvalidEvent", "{name}");
        assert!(
            err.chain().starts_with("invalid event: event"),
            "{name}: {}",
            err.chain()
        );
    }
    assert_eq!(world.secrets.reads(), 0);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn every_sample_event_is_handled_without_error_or_with_a_named_wait() {
    let world = usual_world().await;
    let deps = world.deps(&[]);
    let expected = [
        ("create-role.json", Ok(OutcomeKind::Assigned)),
        // From account 444455556666, which the app's identity provider ARN does not name.
        ("create-role-cloudformation.json", Ok(OutcomeKind::Skipped)),
        ("create-role-terraform-saml.json", Ok(OutcomeKind::Assigned)),
        ("create-role-failed.json", Ok(OutcomeKind::Skipped)),
        (
            "create-role-path-punctuation.json",
            Err("Retryable.GroupNotFound"),
        ),
        // Its trust policy names EC2, not a SAML provider: not handed out.
        ("create-role-legacy-console.json", Ok(OutcomeKind::Skipped)),
        // create-role.json put PlatformAdmin in its group just before.
        ("delete-role.json", Ok(OutcomeKind::Removed)),
        (
            "create-role-awaiting-import.json",
            Err("Retryable.GroupNotFound"),
        ),
    ];
    for (name, want) in expected {
        let got = handle(&deps, &event(name)).await;
        match (got, want) {
            (Ok(outcome), Ok(kind)) => assert_eq!(outcome.outcome, kind, "{name}"),
            (Err(err), Err(error_type)) => assert_eq!(err.error_type(), error_type, "{name}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}
