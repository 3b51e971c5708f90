use crate::batch::{Outcome, chunk_outcomes, chunks};
use crate::error::ApiError;
use crate::response::RawResponse;

fn json(status: u16, body: &str) -> Result<RawResponse, ApiError> {
    Ok(RawResponse {
        status,
        content_type: Some("application/json".into()),
        retry_after: None,
        body: body.as_bytes().to_vec(),
    })
}

#[test]
fn twenty_five_items_split_into_10_10_5_with_their_offsets() {
    let items: Vec<u32> = (0..25).collect();
    let split: Vec<(usize, usize)> = chunks(&items)
        .map(|(offset, c)| (offset, c.len()))
        .collect();
    assert_eq!(split, vec![(0, 10), (10, 10), (20, 5)]);
}

#[test]
fn a_clean_answer_marks_every_item_succeeded() {
    let outcomes = chunk_outcomes(
        3,
        json(200, r#"{"message":"ok","errors":[]}"#),
        false,
        0,
        |_, _| (),
    );
    assert_eq!(outcomes, vec![Outcome::Succeeded(()); 3]);
}

#[test]
fn without_continue_on_error_items_before_the_rejected_one_were_applied_and_after_it_not_attempted()
{
    let body = r#"{"message":"Onboarding failed","errors":[{"itemIndex":2,"errors":["dup"]}]}"#;
    let outcomes = chunk_outcomes(4, json(400, body), false, 0, |_, _| ());
    assert_eq!(
        outcomes,
        vec![
            Outcome::Succeeded(()),
            Outcome::Succeeded(()),
            Outcome::Rejected(vec!["dup".into()]),
            Outcome::NotAttempted,
        ]
    );
}

#[test]
fn with_continue_on_error_only_the_named_items_failed() {
    let body = r#"{"message":"Onboarding failed","errors":[{"itemIndex":0,"errors":["a"]},{"itemIndex":2,"errors":["b","c"]}]}"#;
    let outcomes = chunk_outcomes(3, json(400, body), true, 0, |_, _| ());
    assert_eq!(
        outcomes,
        vec![
            Outcome::Rejected(vec!["a".into()]),
            Outcome::Succeeded(()),
            Outcome::Rejected(vec!["b".into(), "c".into()]),
        ]
    );
}

#[test]
fn a_whole_request_failure_fails_every_item_with_the_error() {
    let outcomes = chunk_outcomes(2, json(503, r#"{"message":"down"}"#), true, 0, |_, _| ());
    let expected = ApiError::ServerError {
        status: 503,
        message: "down".into(),
        attempts: 1,
    };
    assert_eq!(
        outcomes,
        vec![Outcome::Failed(expected.clone()), Outcome::Failed(expected)]
    );
    let outcomes = chunk_outcomes::<()>(1, Err(ApiError::timeout("slow")), false, 0, |_, _| ());
    assert_eq!(outcomes, vec![Outcome::Failed(ApiError::timeout("slow"))]);
}

#[test]
fn a_rejection_naming_no_item_fails_the_whole_request() {
    let body = r#"{"message":"Onboarding failed","errors":["Batch operations are limited to 10 items per request"]}"#;
    let outcomes = chunk_outcomes(2, json(400, body), false, 0, |_, _| ());
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Failed(ApiError::Rejected { .. })))
    );
}

#[test]
fn a_200_with_item_errors_rejects_those_items() {
    let body = r#"{"message":"Partly","errors":[{"itemIndex":1,"errors":["x"]}]}"#;
    let outcomes = chunk_outcomes(2, json(200, body), true, 0, |_, _| ());
    assert_eq!(
        outcomes,
        vec![Outcome::Succeeded(()), Outcome::Rejected(vec!["x".into()])]
    );
}

#[test]
fn bulk_update_results_are_matched_by_item_index() {
    let body = r#"{"message":"Updated successfully","errors":[],"result":[{"itemIndex":1,"name":"B"},{"itemIndex":0,"name":"A"}]}"#;
    let outcomes = chunk_outcomes(2, json(200, body), false, 0, |answer, i| {
        answer
            .results
            .iter()
            .find(|(index, _)| *index == i)
            .and_then(|(_, a)| a.name.clone())
    });
    assert_eq!(
        outcomes,
        vec![
            Outcome::Succeeded(Some("A".into())),
            Outcome::Succeeded(Some("B".into()))
        ]
    );
}
