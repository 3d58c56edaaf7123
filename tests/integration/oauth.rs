//! Okta as an OAuth 2.0 service app: the managed-rotation secret, the client assertion, the
//! access token and its reuse and renewal, all through prism (the token endpoint included).

use crate::assign::{ROLES, group};
use crate::helpers::{self, TestKey, World, event, new_client_id, seed, service_app_secret};
use okta_role_sync::secret::{SecretContent, parse_secret};
use okta_role_sync::{OutcomeKind, handle};
use secrecy::SecretString;
use serde_json::{Value, json};

const ALL_SCOPES: &[&str] = &[
    "okta.groups.read",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.schemas.read",
];

fn usual_seed() -> Value {
    seed(
        ROLES,
        json!([
            group("00gplatformadmin0001", "PlatformAdmin"),
            group("00gplatformadminteam", "PlatformAdminTeam"),
        ]),
        json!([{
            "appId": helpers::APP_ID, "groupId": "00gplatformadmin0001", "priority": 4,
            "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]}
        }]),
    )
}

/// The usual org with a service app holding `key`, granted `granted`, and its secret.
async fn service_app_world(key: &TestKey, granted: &[&str], extra: Value) -> World {
    let client_id = new_client_id();
    let mut seed = usual_seed();
    if let Value::Object(extra) = extra {
        seed.as_object_mut().unwrap().extend(extra);
    }
    World::with_service_app(
        seed,
        &client_id,
        &[key],
        granted,
        service_app_secret(&client_id, key, None),
    )
    .await
}

fn statuses(requests: &[Value]) -> Vec<u64> {
    requests
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn oauth_service_app_assigns_the_role_end_to_end() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(
        world.saml_roles("00gplatformadmin0001").await,
        ["ReadOnly", "BillingViewer", "PlatformAdmin"]
    );
    assert_eq!(statuses(&world.token_requests().await), [200]);
    assert_eq!(world.writes().await, 1);
}

#[tokio::test]
async fn oauth_service_app_with_an_rsa_key_signs_rs256_and_assigns_the_role() {
    let key = TestKey::rsa("test-key-rsa");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;

    let outcome = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(statuses(&world.token_requests().await), [200]);
}

#[tokio::test]
async fn an_assertion_signed_by_a_key_the_service_app_lacks_fails_permanently_without_a_write() {
    let registered = TestKey::ec("test-key-1");
    let unregistered = TestKey::ec("test-key-1");
    let client_id = new_client_id();
    let world = World::with_service_app(
        usual_seed(),
        &client_id,
        &[&registered],
        ALL_SCOPES,
        service_app_secret(&client_id, &unregistered, None),
    )
    .await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.OAuthClientRefused");
    let chain = err.chain();
    assert!(
        chain.contains("test-key-1") && chain.contains("public key"),
        "{chain}"
    );
    assert!(!chain.contains("PRIVATE KEY"), "{chain}");
    assert_eq!(world.writes().await, 0);
    assert!(
        world.requests().await.is_empty(),
        "no API call without a token"
    );
    assert_eq!(
        world.secrets.reads(),
        1,
        "a secret just read is not read again"
    );
}

#[tokio::test]
async fn one_access_token_serves_several_events() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;
    let deps = world.deps(&[]);

    for _ in 0..4 {
        handle(&deps, &event("create-role.json")).await.unwrap();
    }

    assert_eq!(world.token_requests().await.len(), 1);
    assert_eq!(world.writes().await, 1);
    assert_eq!(world.secrets.reads(), 1);
}

#[tokio::test]
async fn an_access_token_about_to_expire_is_replaced_before_the_next_event() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({"accessTokenLifetimeSeconds": 2})).await;
    let deps = world.deps(&[]);
    handle(&deps, &event("create-role.json")).await.unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let again = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(again.outcome, OutcomeKind::AlreadyPresent);
    assert_eq!(statuses(&world.token_requests().await), [200, 200]);
    assert!(
        !statuses(&world.requests().await).contains(&401),
        "renewed before okta refused it"
    );
}

#[tokio::test]
async fn a_401_from_okta_gets_exactly_one_new_access_token() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;
    let deps = world.deps(&[]);
    handle(&deps, &event("create-role.json")).await.unwrap();
    world.expire_access_tokens().await;

    let again = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(again.outcome, OutcomeKind::AlreadyPresent);
    assert_eq!(world.token_requests().await.len(), 2);
    let refused = statuses(&world.requests().await)
        .into_iter()
        .filter(|s| *s == 401)
        .count();
    // The two group lookups run at once: both may meet the expired token before the one new
    // token is fetched.
    assert!((1..=2).contains(&refused), "{refused} refused calls");
    assert_eq!(
        world.secrets.reads(),
        1,
        "a new access token needs no secret read"
    );
}

#[tokio::test]
async fn a_key_rotated_in_the_secret_is_read_again_when_okta_refuses_the_assertion() {
    let old = TestKey::ec("test-key-old");
    let new = TestKey::ec("test-key-new");
    let client_id = new_client_id();
    let world = World::with_service_app(
        usual_seed(),
        &client_id,
        &[&new],
        ALL_SCOPES,
        service_app_secret(&client_id, &old, None),
    )
    .await;
    let deps = world.deps(&[]);
    assert!(
        deps.tokens.token().await.is_err(),
        "okta no longer takes the old key"
    );
    world
        .rotate_secret(&service_app_secret(&client_id, &new, None).to_string())
        .await;

    let outcome = handle(&deps, &event("create-role.json")).await.unwrap();

    assert_eq!(outcome.outcome, OutcomeKind::Assigned);
    assert_eq!(world.secrets.reads(), 2);
    assert_eq!(statuses(&world.token_requests().await), [401, 401, 200]);
}

#[tokio::test]
async fn a_secret_naming_another_okta_org_is_refused_before_anything_is_sent() {
    let key = TestKey::ec("test-key-ec");
    let client_id = new_client_id();
    let mut secret = service_app_secret(&client_id, &key, None);
    secret["domain"] = json!("example-other.okta.com");
    let world =
        World::with_service_app(usual_seed(), &client_id, &[&key], ALL_SCOPES, secret).await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.SecretDomainMismatch");
    assert!(
        err.chain().contains("example-other.okta.com"),
        "{}",
        err.chain()
    );
    assert!(world.token_requests().await.is_empty());
}

#[tokio::test]
async fn a_scope_the_service_app_lacks_fails_permanently_naming_it() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, &["okta.groups.read", "okta.apps.read"], json!({})).await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Permanent.OAuthScopeRefused");
    let chain = err.chain();
    assert!(chain.contains("grant it okta.apps.manage"), "{chain}");
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn a_token_endpoint_outage_is_a_retryable_error() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;
    world
        .add_faults(
            json!([{"method": "POST", "path": "/oauth2/v1/token", "status": 503,
                            "body": {"error": "temporarily_unavailable"}}]),
        )
        .await;

    let err = handle(&world.deps(&[]), &event("create-role.json"))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Retryable.OAuthTokenUnavailable");
    assert_eq!(world.writes().await, 0);
}

#[tokio::test]
async fn debug_of_the_credential_shows_no_key_or_token() {
    let key = TestKey::ec("test-key-ec");
    let world = service_app_world(&key, ALL_SCOPES, json!({})).await;
    let deps = world.deps(&[]);

    let credential = deps.tokens.token().await.unwrap();

    let authorization = credential.authorization();
    let access_token = authorization
        .strip_prefix("Bearer ")
        .expect("a Bearer token");
    let shown = format!("{credential:?}");
    assert!(!shown.contains(access_token), "{shown}");
    let secret = service_app_secret("0oaany", &key, None).to_string();
    let parsed = parse_secret("okta/test", &SecretString::from(secret)).unwrap();
    assert!(matches!(parsed, SecretContent::ServiceApp(_)));
    let shown = format!("{parsed:?}");
    let body_line = key.private_pem.lines().nth(1).unwrap();
    assert!(
        !shown.contains(body_line) && !shown.contains("PRIVATE KEY"),
        "{shown}"
    );
}
