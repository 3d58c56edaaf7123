//! The org authorization server: service apps' client assertions at `POST /oauth2/v1/token`,
//! and the Bearer access tokens it issues at the Okta API, with their lifetime and scopes.

mod common;

use std::time::Duration;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use common::*;
use hyper::Method;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const CLIENT: &str = "0oa1serviceapp000001";
const KID: &str = "test-key-1";

/// A throwaway P-256 key made for one test.
struct TestKey {
    encoding: EncodingKey,
    pair: EcdsaKeyPair,
}

impl TestKey {
    fn new() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        TestKey {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap(),
        }
    }

    /// The public JWK with `kid`, as Okta's admin console registers it.
    fn jwk(&self, kid: &str) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.to_string());
        serde_json::to_value(jwk).unwrap()
    }

    /// The public key as PEM.
    fn public_pem(&self) -> String {
        use base64_like::encode;
        let der: PublicKeyX509Der = self.pair.public_key().as_der().unwrap();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            encode(der.as_ref())
        )
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Standard base64, enough for a PEM body in a test.
mod base64_like {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
        out
    }
}

fn org(keys: Value, scopes: &[&str], extra: Value) -> Value {
    let mut seed = aws_org(json!([{"id": "00g1", "name": "Ops"}]), json!([]));
    seed["serviceApps"] = json!([{"clientId": CLIENT, "keys": keys, "scopes": scopes}]);
    if let Value::Object(extra) = extra {
        seed.as_object_mut().unwrap().extend(extra);
    }
    seed
}

const ALL: &[&str] = &["okta.groups.read", "okta.apps.read", "okta.apps.manage"];

fn claims(addr: std::net::SocketAddr, now: u64, jti: &str) -> Value {
    json!({
        "iss": CLIENT, "sub": CLIENT,
        "aud": format!("http://{addr}/oauth2/v1/token"),
        "iat": now, "exp": now + 300, "jti": jti,
    })
}

fn form(assertion: &str, scope: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("scope", scope)
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", assertion)
        .finish()
}

async fn token(addr: std::net::SocketAddr, body: &str) -> Answer {
    send(addr, Method::POST, "/oauth2/v1/token", None, Some(body)).await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_signed_assertion_gets_a_bearer_token_that_calls_the_api() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));

    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    let answer = token(addr, &form(&assertion, "okta.groups.read okta.apps.read")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "okta.groups.read okta.apps.read");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let groups = send(addr, Method::GET, "/api/v1/groups", Some(&bearer), None).await;
    assert_eq!(groups.status, 200, "{}", groups.text);
    assert_eq!(names(&groups), ["Ops"]);
    let requests = get(addr, "/__sim/oauth/token-requests").await.json();
    assert_eq!(requests, json!([{"clientId": CLIENT, "status": 200}]));
}

#[tokio::test]
async fn an_assertion_signed_by_a_key_the_app_does_not_have_is_invalid_client() {
    let registered = TestKey::new();
    let other = TestKey::new();
    let addr = start(org(json!([registered.jwk(KID)]), ALL, json!({})));

    let forged = other.sign(Some(KID), &claims(addr, now(), "jti-1"));
    let answer = token(addr, &form(&forged, "okta.groups.read")).await;

    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(answer.json()["error"], "invalid_client");
    assert!(
        answer.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    let unknown_kid = registered.sign(Some("not-registered"), &claims(addr, now(), "jti-2"));
    let answer = token(addr, &form(&unknown_kid, "okta.groups.read")).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("kid")
    );
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));
    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-once"));

    assert_eq!(
        token(addr, &form(&assertion, "okta.groups.read"))
            .await
            .status,
        200
    );
    let again = token(addr, &form(&assertion, "okta.groups.read")).await;

    assert_eq!(again.status, 401);
    assert!(
        again.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
}

#[tokio::test]
async fn wrong_audience_expired_or_too_long_lived_assertions_are_refused() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));
    let mut wrong_audience = claims(addr, now(), "a");
    wrong_audience["aud"] = json!("https://elsewhere.okta.com/oauth2/v1/token");
    let mut expired = claims(addr, now() - 600, "b");
    expired["exp"] = json!(now() - 1);
    let mut too_long = claims(addr, now(), "c");
    too_long["exp"] = json!(now() + 7200);
    let mut not_the_client = claims(addr, now(), "d");
    not_the_client["sub"] = json!("someone-else");

    for (claims, says) in [
        (wrong_audience, "audience"),
        (expired, "expired"),
        (too_long, "too far"),
        (not_the_client, "subject"),
    ] {
        let answer = token(
            addr,
            &form(&key.sign(Some(KID), &claims), "okta.groups.read"),
        )
        .await;
        assert_eq!(answer.status, 401, "{says}: {}", answer.text);
        assert_eq!(answer.json()["error"], "invalid_client");
        let description = answer.json()["error_description"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(description.contains(says), "{says}: {description}");
    }
}

#[tokio::test]
async fn a_scope_the_app_is_not_granted_is_invalid_scope_naming_it() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), &["okta.groups.read"], json!({})));

    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    let answer = token(addr, &form(&assertion, "okta.groups.read okta.apps.manage")).await;

    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"], "invalid_scope");
    assert!(
        answer.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("okta.apps.manage")
    );
}

#[tokio::test]
async fn a_token_without_the_scope_an_endpoint_needs_gets_403_insufficient_scope() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));
    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    let issued = token(addr, &form(&assertion, "okta.groups.read"))
        .await
        .json();
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());

    let apps = send(
        addr,
        Method::GET,
        &format!("/api/v1/apps/{APP}"),
        Some(&bearer),
        None,
    )
    .await;

    assert_eq!(apps.status, 403, "{}", apps.text);
    assert_eq!(apps.error_code(), "E0000006");
    let challenge = apps.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("okta.apps.read"),
        "{challenge}"
    );
    let log = get(addr, "/__sim/requests").await.json();
    assert_eq!(log[0]["status"], 403);
}

#[tokio::test]
async fn an_access_token_expires_on_the_org_clock() {
    let clock = ManualClock::at(T0);
    let key = TestKey::new();
    let addr = start_on(
        clock.clone(),
        org(
            json!([key.jwk(KID)]),
            ALL,
            json!({"accessTokenLifetimeSeconds": 120}),
        ),
    );
    let assertion = key.sign(Some(KID), &claims(addr, T0, "jti-1"));
    let issued = token(addr, &form(&assertion, "okta.groups.read"))
        .await
        .json();
    assert_eq!(issued["expires_in"], 120);
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
    let call = || send(addr, Method::GET, "/api/v1/groups", Some(&bearer), None);
    assert_eq!(call().await.status, 200);

    clock.advance(Duration::from_secs(121));
    let late = call().await;

    assert_eq!(late.status, 401);
    assert_eq!(late.error_code(), "E0000011");
    assert!(
        late.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn the_control_surface_expires_every_access_token_at_once() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));
    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    let issued = token(addr, &form(&assertion, "okta.groups.read"))
        .await
        .json();
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());

    let expired = send(
        addr,
        Method::POST,
        "/__sim/oauth/expire-tokens",
        Some(&format!("SSWS {TOKEN}")),
        None,
    )
    .await;

    assert_eq!(expired.json(), json!({"expired": 1}));
    let call = send(addr, Method::GET, "/api/v1/groups", Some(&bearer), None).await;
    assert_eq!(call.status, 401);
}

#[tokio::test]
async fn a_pem_public_key_verifies_assertions_and_the_ssws_path_is_unchanged() {
    let key = TestKey::new();
    let addr = start(org(
        json!([{"kid": KID, "pem": key.public_pem()}]),
        ALL,
        json!({}),
    ));

    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    assert_eq!(
        token(addr, &form(&assertion, "okta.groups.read"))
            .await
            .status,
        200
    );

    assert_eq!(get(addr, "/api/v1/groups").await.status, 200);
    let unknown = send(
        addr,
        Method::GET,
        "/api/v1/groups",
        Some("Bearer not-issued"),
        None,
    )
    .await;
    assert_eq!(unknown.status, 401);
}

#[tokio::test]
async fn faults_apply_to_the_token_endpoint() {
    let key = TestKey::new();
    let addr = start(org(json!([key.jwk(KID)]), ALL, json!({})));
    let faults = json!({"faults": [{"method": "POST", "path": "/oauth2/v1/token", "status": 503,
                                    "body": {"error": "server_error"}}]});
    let added = send(
        addr,
        Method::POST,
        "/__sim/faults",
        Some(&format!("SSWS {TOKEN}")),
        Some(&faults.to_string()),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.text);

    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-1"));
    assert_eq!(
        token(addr, &form(&assertion, "okta.groups.read"))
            .await
            .status,
        503
    );
    let assertion = key.sign(Some(KID), &claims(addr, now(), "jti-2"));
    assert_eq!(
        token(addr, &form(&assertion, "okta.groups.read"))
            .await
            .status,
        200
    );
}

#[test]
fn a_shared_secret_key_is_refused_as_a_service_app_key_in_the_seed() {
    let seed: okta_sim::OrgSeed = serde_json::from_value(org(
        json!([{"kid": KID, "kty": "oct", "k": "c2VjcmV0"}]),
        ALL,
        json!({}),
    ))
    .unwrap();
    let err = okta_sim::Simulator::new().add_org(seed).unwrap_err();
    assert!(err.to_string().contains(CLIENT), "{err}");
}
