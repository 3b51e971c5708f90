//! Query parameters: `key_id`, boolean flags, the filters of the number list.

use super::*;

#[test]
fn key_id_is_one_the_endpoint_allows() {
    let mut account = account();
    assert_eq!(
        call(&mut account, Method::GET, "/agents/x?key_id=id", ""),
        (
            400,
            json!({"message": "Reading the agent failed", "errors": [
                r#"Invalid key_id: "id" is not one of user_object_id, consistency_id, upn"#
            ]})
        )
    );
    assert_eq!(
        call(
            &mut account,
            Method::GET,
            "/agents/a%40x.tld?key_id=upn",
            ""
        )
        .0,
        200
    );
    let wrong = r#"Invalid key_id: "upn" is not one of user_object_id, consistency_id, id"#;
    assert_eq!(
        call(
            &mut account,
            Method::PATCH,
            "/agents/a%40x.tld?key_id=upn",
            "{}"
        ),
        (400, json!({"message": "Update failed", "errors": [wrong]}))
    );
    assert_eq!(
        call(
            &mut account,
            Method::DELETE,
            "/agents/a%40x.tld?key_id=upn",
            ""
        ),
        (
            400,
            json!({"message": "Unsuccessful offboarding", "errors": [wrong]})
        )
    );
    assert_eq!(account.agents.len(), 2);
}

#[test]
fn query_booleans_are_true_or_false_and_nothing_else() {
    let mut account = account();
    let body = json!([new_agent("u")]).to_string();
    assert_eq!(
        call(
            &mut account,
            Method::POST,
            "/agents?continueOnError=yes&reassignInbox=1",
            &body
        ),
        (
            400,
            json!({"message": "Onboarding failed", "errors": [
                r#"continueOnError must be true or false, not "yes""#,
                r#"reassignInbox must be true or false, not "1""#
            ]})
        )
    );
    assert_eq!(account.agents.len(), 2, "nothing applied");
    let (status, _) = call(
        &mut account,
        Method::DELETE,
        "/agents/a?deprovisionSupervisedInbox=True",
        "",
    );
    assert_eq!(status, 400);
    assert_eq!(
        call(
            &mut account,
            Method::POST,
            "/agents?continueOnError=false&reassignInbox=true",
            &body
        )
        .0,
        200
    );
}

#[test]
fn listing_numbers_checks_status_and_match_together() {
    assert_eq!(
        call(
            &mut account(),
            Method::GET,
            "/numbers?status=free&match=555-01",
            ""
        ),
        (
            400,
            json!({"message": "Listing numbers failed", "errors": [
                "status must be assigned or active, not free",
                "match must be 1 to 11 digits"
            ]})
        )
    );
    for bad_match in ["", "123456789012", "%2B1555"] {
        let (status, _) = call(
            &mut account(),
            Method::GET,
            &format!("/numbers?match={bad_match}"),
            "",
        );
        assert_eq!(status, 400, "{bad_match:?}");
    }
    let (status, list) = call(
        &mut account(),
        Method::GET,
        "/numbers?match=15550100001",
        "",
    );
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
}
