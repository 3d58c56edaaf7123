//! Removal: a deleted role leaves the group it maps to, and nothing else changes.

use serde_json::json;

use crate::assign::{ROLES, group};
use crate::helpers::{self, World, event, seed};
use okta_role_sync::{OutcomeKind, handle};

/// PlatformAdmin's group holds the role with others; a hand-made group holds it too.
async fn world_with_the_role_in_two_groups() -> World {
    World::new(seed(
        ROLES,
        json!([
            group("00gplatformadmin0001", "PlatformAdmin"),
            group("00gbreakglass0000001", "BreakGlass"),
        ]),
        json!([
            {
                "appId": helpers::APP_ID, "groupId": "00gplatformadmin0001", "priority": 2,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "PlatformAdmin", "BillingViewer"]}
            },
            {
                "appId": helpers::APP_ID, "groupId": "00gbreakglass0000001", "priority": 1,
                "profile": {"samlRoles": ["PlatformAdmin"]}
            }
        ]),
    ))
    .await
}

#[tokio::test]
async fn a_deleted_role_leaves_its_group_and_nothing_else_changes() {
    let world = world_with_the_role_in_two_groups().await;
    let deps = world.deps(&[]);

    let outcome = handle(&deps, &event("delete-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Removed);
    assert_eq!(outcome.label.as_deref(), Some("PlatformAdmin"));
    let stored = world.assignment("00gplatformadmin0001").await.unwrap();
    assert_eq!(
        stored["profile"],
        json!({"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]})
    );
    assert_eq!(stored["priority"], json!(2));
    // The label put in another group by hand is not the naming rules' to take.
    assert_eq!(
        world.saml_roles("00gbreakglass0000001").await,
        ["PlatformAdmin"]
    );
    assert_eq!(world.writes().await, 1);
}

#[tokio::test]
async fn a_second_delivery_of_the_deletion_writes_nothing() {
    let world = world_with_the_role_in_two_groups().await;
    let deps = world.deps(&[]);
    handle(&deps, &event("delete-role.json")).await.unwrap();

    let again = handle(&deps, &event("delete-role.json")).await.unwrap();

    assert_eq!(again.outcome, OutcomeKind::AlreadyAbsent);
    assert_eq!(world.writes().await, 1);
}

#[tokio::test]
async fn a_deletion_whose_group_does_not_exist_has_nothing_to_remove() {
    let world = World::new(seed(ROLES, json!([]), json!([]))).await;

    let outcome = handle(&world.deps(&[]), &event("delete-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::AlreadyAbsent);
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn removal_can_be_turned_off_and_then_asks_nothing_of_okta() {
    let world = world_with_the_role_in_two_groups().await;
    let deps = world.deps(&[("REMOVE_DELETED_ROLES", "false")]);

    let outcome = handle(&deps, &event("delete-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Ignored);
    assert_eq!(world.secrets.reads(), 0);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn a_dry_run_of_a_deletion_reports_the_removal_and_writes_nothing() {
    let world = world_with_the_role_in_two_groups().await;
    let deps = world.deps(&[("DRY_RUN", "true")]);

    let outcome = handle(&deps, &event("delete-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::WouldRemove);
    assert_eq!(outcome.saml_roles.unwrap(), ["ReadOnly", "BillingViewer"]);
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_failed_deletion_in_iam_is_skipped() {
    let world = world_with_the_role_in_two_groups().await;
    let mut failed = event("delete-role.json");
    failed["detail"]["errorCode"] = json!("DeleteConflictException");

    let outcome = handle(&world.deps(&[]), &failed).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert!(world.requests().await.is_empty());
}

#[tokio::test]
async fn a_deletion_handled_after_the_role_was_created_again_removes_nothing() {
    let account = helpers::Account::new().await;
    let mut org = seed(
        ROLES,
        json!([group("00gplatformadmin0001", "PlatformAdmin")]),
        json!([{
            "appId": helpers::APP_ID, "groupId": "00gplatformadmin0001", "priority": 1,
            "profile": {"samlRoles": ["ReadOnly", "PlatformAdmin"]}
        }]),
    );
    org["apps"][0]["settings"]["app"]["identityProviderArn"] =
        json!(format!("arn:aws:iam::{}:saml-provider/Okta", account.id));
    let world = World::new(org).await;
    account.create_role("PlatformAdmin", "/", true).await;
    let deps = world.deps(&[]).with_iam(helpers::iam_source());
    let mut deleted = event("delete-role.json");
    deleted["account"] = json!(account.id);
    deleted["detail"]["recipientAccountId"] = json!(account.id);

    let outcome = handle(&deps, &deleted).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("role-exists"));
    assert_eq!(
        world.saml_roles("00gplatformadmin0001").await,
        ["ReadOnly", "PlatformAdmin"]
    );

    account.delete_role("PlatformAdmin").await;
    let outcome = handle(&deps, &deleted).await.unwrap();
    assert_eq!(outcome.outcome, OutcomeKind::Removed);
    assert_eq!(world.saml_roles("00gplatformadmin0001").await, ["ReadOnly"]);
}

#[tokio::test]
async fn with_a_naming_tag_a_deletion_leaves_labels_alone_since_its_group_is_not_known() {
    let world = world_with_the_role_in_two_groups().await;
    let deps = world.deps(&[("GROUP_TAG_KEY", "okta-group")]);

    let outcome = handle(&deps, &event("delete-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("group-tag"));
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_deletion_in_an_account_the_default_app_does_not_serve_touches_nothing() {
    let world = world_with_the_role_in_two_groups().await;
    let mut other_account = event("delete-role.json");
    other_account["account"] = json!("444455556666");
    other_account["detail"]["recipientAccountId"] = json!("444455556666");

    let outcome = handle(&world.deps(&[]), &other_account).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Skipped);
    assert_eq!(outcome.rule, Some("app-serves-other-accounts"));
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_deletion_whose_role_cannot_be_checked_in_iam_removes_nothing() {
    let world = world_with_the_role_in_two_groups().await;
    // No SWEEP_ROLE_NAME: the event's account cannot be read, so it is not known to be gone.
    let iam = okta_role_sync::iam::Iam::new(helpers::moto_config(), None);
    let deps = world.deps(&[]).with_iam(iam);

    let err = handle(&deps, &event("delete-role.json")).await.unwrap_err();

    assert_eq!(err.error_type(), "Permanent.IamUnavailable");
    assert!(err.chain().contains("SWEEP_ROLE_NAME"), "{}", err.chain());
    assert_eq!(world.writes().await, 0);
}
