//! What the emulator refuses, and how it says so: the reference's rules read from the JSON.

mod batches;
mod fields;
mod queries;

use super::*;
use crate::state::Account;
use crate::testing::{account_with, call};
use http::Method;
use serde_json::{Value, json};

const NUMBER: &str = "+15550100000";

fn account() -> Account {
    let mut account = account_with(&[NUMBER, "+15550100001", "+15550100002"]);
    for uoid in ["a", "b"] {
        let agent = json!([{"user_object_id": uoid, "tenant_id": "t", "name": uoid,
            "upn": format!("{uoid}@x.tld"), "consistency_id": format!("cid-{uoid}")}]);
        assert_eq!(
            call(&mut account, Method::POST, "/agents", &agent.to_string()).0,
            200
        );
    }
    account
}

fn send(account: &mut Account, method: Method, path: &str, body: Value) -> (u16, Value) {
    call(account, method, path, &body.to_string())
}

/// The problems of the one item of a batch sent to a fresh account.
fn item_problems(method: Method, path: &str, item: Value) -> Vec<String> {
    let (status, body) = send(&mut account(), method, path, json!([item]));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["itemIndex"], 0, "{body}");
    serde_json::from_value(body["errors"][0]["errors"].clone()).unwrap()
}

fn onboard_problems(item: Value) -> Vec<String> {
    item_problems(Method::POST, "/agents", item)
}

fn new_agent(uoid: &str) -> Value {
    json!({"user_object_id": uoid, "tenant_id": "t", "name": uoid})
}

#[test]
fn every_choice_is_named_on_the_wire_as_serde_names_it() {
    fn check<T: Choice + serde::Serialize + std::fmt::Debug>() {
        for choice in T::ALL {
            assert_eq!(serde_json::to_value(choice).unwrap(), choice.as_str());
            assert_eq!(T::from_wire(choice.as_str()), Some(*choice));
        }
    }
    check::<Role>();
    check::<InboxType>();
    check::<NumberType>();
    check::<Identifier>();
    check::<KeyId>();
    check::<Operation>();
    check::<NumberStatus>();
}
