//! The Okta API surface over real HTTP: auth, headers, group lookups, pagination,
//! assignments, validation, rate limits and latency.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use hyper::Method;
use serde_json::json;

fn assignment_path(group_id: &str) -> String {
    format!("/api/v1/apps/{APP}/groups/{group_id}")
}

#[tokio::test]
async fn requests_without_a_valid_ssws_token_are_refused_with_e0000011() {
    let addr = start(aws_org(json!([]), json!([])));
    for authorization in [
        None,
        Some("SSWS not-a-token"),
        Some(&*format!("Bearer {TOKEN}")),
        Some("SSWS"),
    ] {
        let answer = send(addr, Method::GET, "/api/v1/groups", authorization, None).await;
        assert_eq!(answer.status, 401, "{authorization:?}");
        assert_eq!(answer.error_code(), "E0000011");
        assert_eq!(answer.json()["errorSummary"], "Invalid token provided");
        assert_eq!(answer.json()["errorLink"], "E0000011");
        assert!(answer.json()["errorCauses"].is_array());
    }
}

#[tokio::test]
async fn every_okta_response_carries_date_request_id_and_rate_limit_headers() {
    let addr = start(aws_org(json!([]), json!([])));
    let ok = get(addr, "/api/v1/groups").await;
    let missing = get(addr, &assignment_path("00gnothere")).await;
    let unauthorized = send(addr, Method::GET, "/api/v1/apps", None, None).await;
    let mut request_ids = Vec::new();
    for answer in [&ok, &missing, &unauthorized] {
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let date = answer.header("date").expect("Date");
        assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
        request_ids.push(
            answer
                .header("x-okta-request-id")
                .expect("request id")
                .to_string(),
        );
        let limit: u32 = answer
            .header("x-rate-limit-limit")
            .unwrap()
            .parse()
            .unwrap();
        let remaining: u32 = answer
            .header("x-rate-limit-remaining")
            .unwrap()
            .parse()
            .unwrap();
        let reset: u64 = answer
            .header("x-rate-limit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!(remaining <= limit);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            reset > now - 1 && reset <= now + 61,
            "reset {reset} now {now}"
        );
        assert_eq!(reset % 60, 0);
    }
    // A token's limit is its default share, 50 %, of the org's 500 and 100.
    assert_eq!(ok.header("x-rate-limit-limit"), Some("250"));
    assert_eq!(ok.header("x-rate-limit-remaining"), Some("249"));
    assert_eq!(missing.header("x-rate-limit-limit"), Some("50"));
    assert_eq!(missing.header("x-rate-limit-remaining"), Some("49"));
    assert_eq!(unauthorized.header("x-rate-limit-limit"), Some("50"));
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 3);
}

#[tokio::test]
async fn q_matches_name_prefixes_while_search_eq_matches_exactly() {
    let addr = start(aws_org(
        json!([
            {"id": "00g1", "name": "PlatformAdmin"},
            {"id": "00g2", "name": "PlatformAdminTeam"},
            {"id": "00g3", "name": "DataEngineer"}
        ]),
        json!([]),
    ));
    let q = get(addr, "/api/v1/groups?q=platformadmin").await;
    assert_eq!(q.status, 200);
    assert_eq!(names(&q), ["PlatformAdmin", "PlatformAdminTeam"]);
    assert_eq!(q.next(), None);

    let search = get(
        addr,
        "/api/v1/groups?search=profile.name%20eq%20%22PlatformAdmin%22",
    )
    .await;
    assert_eq!(search.status, 200);
    assert_eq!(names(&search), ["PlatformAdmin"]);
    assert!(search.links().iter().any(|l| l.ends_with("rel=\"self\"")));

    let sw = get(addr, "/api/v1/groups?search=profile.name+sw+%22Platform%22").await;
    assert_eq!(names(&sw), ["PlatformAdmin", "PlatformAdminTeam"]);

    let case = get(
        addr,
        "/api/v1/groups?search=profile.name+eq+%22platformadmin%22",
    )
    .await;
    assert_eq!(names(&case), ["PlatformAdmin"]);
}

#[tokio::test]
async fn q_returns_at_most_300_groups_and_honours_a_smaller_limit() {
    let groups: Vec<_> = (0..310)
        .map(|i| json!({"id": format!("00g{i:04}"), "name": format!("team{i:04}")}))
        .collect();
    let addr = start(aws_org(json!(groups), json!([])));
    assert_eq!(names(&get(addr, "/api/v1/groups?q=team").await).len(), 300);
    assert_eq!(
        names(&get(addr, "/api/v1/groups?q=team&limit=5").await).len(),
        5
    );
}

#[tokio::test]
async fn a_plus_in_a_group_name_is_found_by_search_only_when_sent_as_percent_2b() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "Data.Eng+Ops=Team,Read@Only_v-2"}]),
        json!([]),
    ));
    let encoded = get(
        addr,
        "/api/v1/groups?search=profile.name+eq+%22Data.Eng%2BOps%3DTeam%2CRead%40Only_v-2%22",
    )
    .await;
    assert_eq!(names(&encoded), ["Data.Eng+Ops=Team,Read@Only_v-2"]);

    let raw_plus = get(
        addr,
        "/api/v1/groups?search=profile.name+eq+%22Data.Eng+Ops%3DTeam%2CRead%40Only_v-2%22",
    )
    .await;
    assert_eq!(raw_plus.status, 200);
    assert!(names(&raw_plus).is_empty());
}

#[tokio::test]
async fn a_double_encoded_or_unsupported_search_is_invalid_search_criteria() {
    let addr = start(aws_org(json!([{"name": "A"}]), json!([])));
    for query in [
        "search=profile.name%2520eq%2520%2522A%2522",
        "search=profile.name+eq+%22A%22+or+type+eq+%22OKTA_GROUP%22",
        "search=profile.name+eq+%22unterminated",
        "filter=type+sw+%22OKTA%22",
    ] {
        let answer = get(addr, &format!("/api/v1/groups?{query}")).await;
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.error_code(), "E0000031");
        assert_eq!(answer.json()["errorSummary"], "Invalid search criteria.");
    }
}

#[tokio::test]
async fn a_group_not_yet_indexed_is_found_by_q_but_not_by_search_until_indexed() {
    let addr = start(aws_org(
        json!([{"id": "00gnew", "name": "NewTeam", "searchable": false}]),
        json!([]),
    ));
    let search = "/api/v1/groups?search=profile.name+eq+%22NewTeam%22";
    assert!(names(&get(addr, search).await).is_empty());
    assert_eq!(
        names(&get(addr, "/api/v1/groups?q=NewTeam").await),
        ["NewTeam"]
    );
    assert_eq!(
        post(addr, "/__sim/groups/00gnew/index", "").await.status,
        200
    );
    assert_eq!(names(&get(addr, search).await), ["NewTeam"]);
}

#[tokio::test]
async fn the_type_filter_tells_an_okta_group_from_an_imported_one_of_the_same_name() {
    let addr = start(aws_org(
        json!([
            {"id": "00g1", "name": "Admins", "type": "APP_GROUP"},
            {"id": "00g2", "name": "Admins"}
        ]),
        json!([]),
    ));
    let both = get(addr, "/api/v1/groups?search=profile.name+eq+%22Admins%22").await;
    assert_eq!(both.json().as_array().map(Vec::len), Some(2));
    assert_eq!(
        both.json()[0]["objectClass"],
        json!(["okta:windows_security_principal"])
    );

    let okta = get(
        addr,
        "/api/v1/groups?search=profile.name+eq+%22Admins%22&filter=type+eq+%22OKTA_GROUP%22",
    )
    .await;
    assert_eq!(okta.json().as_array().map(Vec::len), Some(1));
    assert_eq!(okta.json()[0]["id"], "00g2");
    assert_eq!(okta.json()[0]["type"], "OKTA_GROUP");
    assert_eq!(okta.json()[0]["objectClass"], json!(["okta:user_group"]));

    let in_search = get(
        addr,
        "/api/v1/groups?search=profile.name+eq+%22Admins%22+and+type+eq+%22APP_GROUP%22",
    )
    .await;
    assert_eq!(in_search.json()[0]["id"], "00g1");
}

#[tokio::test]
async fn groups_come_back_in_oktas_shape_with_absolute_links() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "G", "description": "d"}]),
        json!([]),
    ));
    let answer = get(addr, "/api/v1/groups?q=G").await;
    let group = &answer.json()[0];
    assert_eq!(group["profile"], json!({"name": "G", "description": "d"}));
    for field in ["created", "lastUpdated", "lastMembershipUpdated"] {
        assert!(
            group[field].as_str().is_some_and(|s| s.ends_with('Z')),
            "{field}"
        );
    }
    assert_eq!(
        group["_links"]["users"]["href"],
        format!("http://{addr}/api/v1/groups/00g1/users")
    );
}

#[tokio::test]
async fn a_seeded_base_url_replaces_the_host_in_links() {
    let mut seed = aws_org(
        json!([{"id": "00g1", "name": "a"}, {"id": "00g2", "name": "b"}]),
        json!([]),
    );
    seed["baseUrl"] = json!("https://example.okta.com/");
    let addr = start(seed);
    let answer = get(addr, "/api/v1/groups?limit=1").await;
    assert_eq!(
        answer.next().as_deref(),
        Some("https://example.okta.com/api/v1/groups?limit=1&after=00g1")
    );
    assert_eq!(
        answer.json()[0]["_links"]["apps"]["href"],
        "https://example.okta.com/api/v1/groups/00g1/apps"
    );
}

#[tokio::test]
async fn listing_groups_pages_by_link_next_until_the_end() {
    let groups: Vec<_> = (0..7)
        .map(|i| json!({"id": format!("00g{i}"), "name": format!("team-{i}")}))
        .collect();
    let addr = start(aws_org(json!(groups), json!([])));
    let mut url = "/api/v1/groups?search=profile.name+sw+%22team%22&limit=3".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let answer = get(addr, &url).await;
        assert_eq!(answer.status, 200);
        pages += 1;
        seen.extend(names(&answer));
        let Some(next) = answer.next() else { break };
        assert!(
            next.starts_with(&format!("http://{addr}/api/v1/groups?")),
            "{next}"
        );
        assert!(next.contains("search=profile.name+sw+%22team%22"), "{next}");
        assert!(next.contains("limit=3"), "{next}");
        assert_eq!(answer.links().len(), 2);
        url = next;
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|i| format!("team-{i}")).collect();
    assert_eq!(seen, expected);

    let all = get(addr, "/api/v1/groups?limit=5").await;
    assert_eq!(names(&all).len(), 5);
    let rest = get(addr, &all.next().expect("next page")).await;
    assert_eq!(names(&rest), ["team-5", "team-6"]);
    assert_eq!(rest.next(), None);
}

#[tokio::test]
async fn an_unassigned_group_reads_as_404_e0000007_app_group() {
    let addr = start(aws_org(
        json!([{"id": "00gfree", "name": "Free"}]),
        json!([]),
    ));
    let answer = get(addr, &assignment_path("00gfree")).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_code(), "E0000007");
    assert_eq!(
        answer.json()["errorSummary"],
        "Not found: Resource not found: 00gfree (AppGroup)"
    );
    assert!(
        answer.json()["errorId"]
            .as_str()
            .is_some_and(|id| id.starts_with("oae"))
    );

    let unknown_app = get(addr, "/api/v1/apps/0oanope/groups/00gfree").await;
    assert_eq!(unknown_app.status, 404);
    assert_eq!(
        unknown_app.json()["errorSummary"],
        "Not found: Resource not found: 0oanope (App)"
    );
}

#[tokio::test]
async fn an_assignment_reads_back_in_oktas_shape() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "G"}]),
        json!([{"appId": APP, "groupId": "00g1", "priority": 0,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]}}]),
    ));
    let answer = get(addr, &assignment_path("00g1")).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["id"], "00g1");
    assert_eq!(body["priority"], 0);
    assert_eq!(
        body["profile"],
        json!({"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]})
    );
    assert_eq!(
        body["_links"]["self"]["href"],
        format!("http://{addr}{}", assignment_path("00g1"))
    );
    assert_eq!(
        body["_links"]["app"]["href"],
        format!("http://{addr}/api/v1/apps/{APP}")
    );
    assert_eq!(
        body["_links"]["group"]["href"],
        format!("http://{addr}/api/v1/groups/00g1")
    );
}

#[tokio::test]
async fn a_put_without_priority_creates_the_assignment_with_the_next_free_priority() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "A"}, {"id": "00g2", "name": "B"}]),
        json!([{"appId": APP, "groupId": "00g1", "priority": 3, "profile": {}}]),
    ));
    let created = put(
        addr,
        &assignment_path("00g2"),
        r#"{"profile": {"role": "ReadOnly", "samlRoles": ["DataEngineer"]}}"#,
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json()["priority"], 4);
    assert_eq!(created.json()["id"], "00g2");
    let read = get(addr, &assignment_path("00g2")).await;
    assert_eq!(read.json()["priority"], 4);
    assert_eq!(
        read.json()["profile"],
        json!({"role": "ReadOnly", "samlRoles": ["DataEngineer"]})
    );
}

#[tokio::test]
async fn the_first_assignment_of_an_app_gets_priority_zero() {
    let addr = start(aws_org(json!([{"id": "00g1", "name": "A"}]), json!([])));
    let created = put(addr, &assignment_path("00g1"), "").await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json()["priority"], 0);
    assert_eq!(created.json()["profile"], json!({}));
}

#[tokio::test]
async fn a_put_replaces_the_whole_assignment() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "A"}]),
        json!([{"appId": APP, "groupId": "00g1", "priority": 2,
                "profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"], "extra": 1}}]),
    ));
    let replaced = put(
        addr,
        &assignment_path("00g1"),
        r#"{"id": "ignored", "lastUpdated": "2000-01-01T00:00:00.000Z", "_links": {},
            "priority": 7, "profile": {"samlRoles": ["DataEngineer"]}}"#,
    )
    .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let read = get(addr, &assignment_path("00g1")).await.json();
    assert_eq!(read["id"], "00g1");
    assert_eq!(read["priority"], 7);
    assert_eq!(read["profile"], json!({"samlRoles": ["DataEngineer"]}));
    assert_ne!(read["lastUpdated"], "2000-01-01T00:00:00.000Z");

    let again = put(addr, &assignment_path("00g1"), r#"{"profile": {}}"#).await;
    assert_eq!(
        again.json()["priority"],
        0,
        "the only assignment keeps the first slot"
    );
}

#[tokio::test]
async fn a_put_naming_an_unimported_role_fails_with_e0000001_and_changes_nothing() {
    let profile = json!({"role": "ReadOnly", "samlRoles": ["ReadOnly", "BillingViewer"]});
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "A"}]),
        json!([{"appId": APP, "groupId": "00g1", "priority": 0, "profile": profile}]),
    ));
    let refused = put(
        addr,
        &assignment_path("00g1"),
        r#"{"profile": {"role": "ReadOnly", "samlRoles": ["ReadOnly", "DataEngineerV2", "Ghost"]}}"#,
    )
    .await;
    assert_eq!(refused.status, 400);
    let body = refused.json();
    assert_eq!(body["errorCode"], "E0000001");
    assert_eq!(body["errorSummary"], "Api validation failed: samlRoles");
    assert_eq!(
        body["errorCauses"],
        json!([
            {"errorSummary": "samlRoles: Does not match allowed values: DataEngineerV2"},
            {"errorSummary": "samlRoles: Does not match allowed values: Ghost"}
        ])
    );
    let read = get(addr, &assignment_path("00g1")).await.json();
    assert_eq!(read["profile"], profile);

    let bad_role = put(
        addr,
        &assignment_path("00g1"),
        r#"{"profile": {"role": "Nope"}}"#,
    )
    .await;
    assert_eq!(bad_role.status, 400);
    assert_eq!(
        bad_role.json()["errorSummary"],
        "Api validation failed: role"
    );
    assert_eq!(
        bad_role.json()["errorCauses"][0]["errorSummary"],
        "role: Does not match allowed values: Nope"
    );
}

#[tokio::test]
async fn a_role_imported_later_is_accepted_afterwards() {
    let addr = start(aws_org(json!([{"id": "00g1", "name": "A"}]), json!([])));
    let body = r#"{"profile": {"samlRoles": ["NewRole"]}}"#;
    assert_eq!(put(addr, &assignment_path("00g1"), body).await.status, 400);
    let imported = post(
        addr,
        &format!("/__sim/apps/{APP}/roles"),
        r#"{"role": "NewRole"}"#,
    )
    .await;
    assert_eq!(imported.status, 200);
    assert_eq!(put(addr, &assignment_path("00g1"), body).await.status, 200);
}

#[tokio::test]
async fn a_put_for_an_unknown_app_or_group_is_404_naming_the_kind() {
    let addr = start(aws_org(json!([{"id": "00g1", "name": "A"}]), json!([])));
    let no_app = put(addr, "/api/v1/apps/0oanope/groups/00g1", "{}").await;
    assert_eq!(no_app.status, 404);
    assert_eq!(
        no_app.json()["errorSummary"],
        "Not found: Resource not found: 0oanope (App)"
    );
    let no_group = put(addr, &assignment_path("00gnope"), "{}").await;
    assert_eq!(no_group.status, 404);
    assert_eq!(no_group.error_code(), "E0000007");
    assert_eq!(
        no_group.json()["errorSummary"],
        "Not found: Resource not found: 00gnope (UserGroup)"
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_e0000003() {
    let addr = start(aws_org(json!([{"id": "00g1", "name": "A"}]), json!([])));
    for body in ["not json", "[1]", "\"x\"", "{\"profile\": "] {
        let answer = put(addr, &assignment_path("00g1"), body).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.error_code(), "E0000003");
        assert_eq!(
            answer.json()["errorSummary"],
            "The request body was not well-formed."
        );
    }
    let wrong_types = put(
        addr,
        &assignment_path("00g1"),
        r#"{"priority": "high", "profile": {"samlRoles": "ReadOnly"}}"#,
    )
    .await;
    assert_eq!(wrong_types.status, 400);
    assert_eq!(
        wrong_types.json()["errorSummary"],
        "Api validation failed: priority, samlRoles"
    );
    assert_eq!(get(addr, &assignment_path("00g1")).await.status, 404);
}

#[tokio::test]
async fn delete_removes_an_assignment_once() {
    let addr = start(aws_org(
        json!([{"id": "00g1", "name": "A"}]),
        json!([{"appId": APP, "groupId": "00g1"}]),
    ));
    let deleted = delete(addr, &assignment_path("00g1")).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty());
    assert_eq!(get(addr, &assignment_path("00g1")).await.status, 404);
    let again = delete(addr, &assignment_path("00g1")).await;
    assert_eq!(again.status, 404);
    assert_eq!(again.error_code(), "E0000007");
}

#[tokio::test]
async fn an_apps_assignments_list_in_group_id_order_with_paging() {
    let groups: Vec<_> = (0..5)
        .map(|i| json!({"id": format!("00g{i}"), "name": format!("g{i}")}))
        .collect();
    let assignments: Vec<_> = (0..5)
        .rev()
        .map(|i| json!({"appId": APP, "groupId": format!("00g{i}")}))
        .collect();
    let addr = start(aws_org(json!(groups), json!(assignments)));
    let first = get(addr, &format!("/api/v1/apps/{APP}/groups?limit=3")).await;
    assert_eq!(first.status, 200);
    let ids: Vec<_> = first
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!("00g0"), json!("00g1"), json!("00g2")]);
    let second = get(addr, &first.next().expect("next")).await;
    assert_eq!(second.json().as_array().map(Vec::len), Some(2));
    assert_eq!(second.next(), None);
    assert_eq!(get(addr, "/api/v1/apps/0oanope/groups").await.status, 404);
}

#[tokio::test]
async fn apps_are_found_by_name_filter_and_label_prefix() {
    let addr = start(json!({
        "tokens": [TOKEN],
        "apps": [
            {"id": "0oa1", "roles": []},
            {"id": "0oa2", "name": "salesforce", "label": "Salesforce"}
        ]
    }));
    let aws = get(addr, "/api/v1/apps?filter=name+eq+%22amazon_aws%22").await;
    assert_eq!(aws.status, 200);
    let apps = aws.json();
    assert_eq!(apps.as_array().map(Vec::len), Some(1));
    assert_eq!(apps[0]["id"], "0oa1");
    assert_eq!(apps[0]["signOnMode"], "SAML_2_0");
    assert_eq!(apps[0]["settings"]["app"], json!({}));
    assert_eq!(
        apps[0]["_links"]["self"]["href"],
        format!("http://{addr}/api/v1/apps/0oa1")
    );
    let by_label = get(addr, "/api/v1/apps?q=sales").await;
    assert_eq!(by_label.json()[0]["id"], "0oa2");
    let bad = get(addr, "/api/v1/apps?filter=name+eq+amazon_aws").await;
    assert_eq!(bad.error_code(), "E0000031");
}

struct StoppedClock(SystemTime);

impl okta_sim::Clock for StoppedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

#[tokio::test]
async fn the_apps_bucket_answers_429_once_spent_while_groups_still_work() {
    let stopped = UNIX_EPOCH + Duration::from_secs(1_741_342_880);
    let sim = okta_sim::Simulator::with_clock(Arc::new(StoppedClock(stopped)));
    let seed = json!({
        "tokens": [TOKEN],
        "rateLimits": {"apps": 3, "groups": 10, "tokenSharePercent": 100},
        "apps": [{"id": APP}]
    });
    sim.add_org(serde_json::from_value(seed).unwrap()).unwrap();
    let addr = okta_sim::spawn_in_background(sim);
    for remaining in ["2", "1", "0"] {
        let answer = get(addr, "/api/v1/apps").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-rate-limit-remaining"), Some(remaining));
    }
    let limited = get(addr, &format!("/api/v1/apps/{APP}/groups/00g1")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error_code(), "E0000047");
    assert_eq!(
        limited.json()["errorSummary"],
        "API call exceeded rate limit due to too many requests."
    );
    assert_eq!(limited.header("x-rate-limit-limit"), Some("3"));
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(
        all(&limited, "x-rate-limit-reset"),
        ["1741342920", "1741342920"]
    );
    assert_eq!(
        limited.header("date"),
        Some("Fri, 07 Mar 2025 10:21:20 GMT")
    );

    let groups = get(addr, "/api/v1/groups").await;
    assert_eq!(groups.status, 200);
    assert_eq!(groups.header("x-rate-limit-limit"), Some("10"));
    assert_eq!(groups.header("x-rate-limit-remaining"), Some("9"));
}

#[tokio::test]
async fn the_real_clock_spends_a_bucket_too() {
    let addr = start(json!({"tokens": [TOKEN], "rateLimits": {"apps": 2}}));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(get(addr, "/api/v1/apps").await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn latency_delays_every_okta_response() {
    let addr = start(json!({"tokens": [TOKEN], "latencyMs": 150}));
    let started = Instant::now();
    assert_eq!(get(addr, "/api/v1/groups").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn other_paths_are_404_and_wrong_methods_405_with_okta_bodies() {
    let addr = start(aws_org(json!([]), json!([])));
    let users = get(addr, "/api/v1/users").await;
    assert_eq!(users.status, 404);
    assert_eq!(users.error_code(), "E0000007");
    assert!(users.header("x-okta-request-id").is_some());

    let post_groups = post(addr, "/api/v1/groups", "{}").await;
    assert_eq!(post_groups.status, 405);
    assert_eq!(post_groups.error_code(), "E0000022");
    assert_eq!(post_groups.header("allow"), Some("GET"));

    let patch = send(
        addr,
        Method::PATCH,
        &assignment_path("00g1"),
        Some(&format!("SSWS {TOKEN}")),
        Some("[]"),
    )
    .await;
    assert_eq!(patch.status, 405);
    assert_eq!(patch.header("allow"), Some("GET, PUT, DELETE"));
}
