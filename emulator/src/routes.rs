//! The users API's ten endpoints under `/{customer_id}`, from method, path and query to the
//! account operation that answers them.

use crate::AUTH_PATH;
use crate::state::{
    Account, Answer, CREATING_INBOXES, LISTING_AGENTS_FAILED, OFFBOARDING, OFFBOARDING_ONE,
    ONBOARDING, UPDATING, refused,
};
use crate::wire::Query;
use http::Method;
use serde_json::{Value, json};

/// The route template of a users-API or authenticate request, e.g. `GET /agents/{id}`: faults
/// and latency are set per route.
pub(crate) fn route_of(method: &Method, segments: &[String]) -> String {
    let tail = match segments {
        [a, b, c] if a == "rest" && b == "v1" && c == "authenticate" => {
            return format!("{method} {AUTH_PATH}");
        }
        [_, rest @ ..] => rest,
        [] => &[],
    };
    let template = match tail {
        [a] => format!("/{a}"),
        [a, b] if a == "agents" && b == "offboard" => "/agents/offboard".into(),
        [a, b] if a == "inboxes" && b == "assignments" => "/inboxes/assignments".into(),
        [a, _] if a == "agents" => "/agents/{id}".into(),
        _ => "/?".into(),
    };
    format!("{method} {template}")
}

/// Answers one users-API request on `account`; `path` is what follows `/{customer_id}`,
/// decoded. A body that is not JSON reads as `null`, which no endpoint accepts.
pub(crate) fn users_api(
    account: &mut Account,
    method: &Method,
    path: &[&str],
    query: &str,
    body: &[u8],
) -> Answer {
    let q = Query::parse(query);
    let json = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let answer = match (method.clone(), path) {
        (Method::POST, ["agents"]) => q
            .flags(["continueOnError", "reassignInbox"])
            .map_err(|p| refused(ONBOARDING.failure, p))
            .map(|[continue_on_error, reassign_inbox]| {
                account.onboard(&json(), continue_on_error, reassign_inbox)
            }),
        (Method::GET, ["agents"]) => q
            .agent_filter()
            .map_err(|p| refused(LISTING_AGENTS_FAILED, p))
            .map(|filter| account.list_agents(&filter)),
        (Method::PATCH, ["agents"]) => q
            .flags(["continueOnError"])
            .map_err(|p| refused(UPDATING.failure, p))
            .map(|[continue_on_error]| account.update_many(&json(), continue_on_error)),
        (Method::POST, ["agents", "offboard"]) => q
            .flags(["continueOnError", "deprovisionSupervisedInbox"])
            .map_err(|p| refused(OFFBOARDING.failure, p))
            .map(|[continue_on_error, deprovision]| {
                account.offboard_many(&json(), continue_on_error, deprovision)
            }),
        (Method::GET, ["agents", id]) => Ok(account.get_agent(id, q.get("key_id"), q.get("upn"))),
        (Method::PATCH, ["agents", id]) => Ok(account.update_agent(id, q.get("key_id"), &json())),
        (Method::DELETE, ["agents", id]) => q
            .flags(["deprovisionSupervisedInbox"])
            .map_err(|p| refused(OFFBOARDING_ONE.failure, p))
            .map(|[deprovision]| account.offboard_agent(id, q.get("key_id"), deprovision)),
        (Method::POST, ["inboxes"]) => q
            .flags(["continueOnError"])
            .map_err(|p| refused(CREATING_INBOXES.failure, p))
            .map(|[continue_on_error]| account.create_inboxes(&json(), continue_on_error)),
        (Method::POST, ["inboxes", "assignments"]) => Ok(account.assign(&json())),
        (Method::GET, ["numbers"]) => Ok(account.list_numbers(q.get("status"), q.get("match"))),
        (
            _,
            ["agents"] | ["agents", _] | ["inboxes"] | ["inboxes", "assignments"] | ["numbers"],
        ) => Err((405, json!({"message": "Method not allowed"}))),
        _ => Err((404, json!({"message": "Not found"}))),
    };
    answer.unwrap_or_else(|answer| answer)
}

/// 404 for a path with no customer id.
pub(crate) fn no_customer() -> Answer {
    (404, json!({"message": "Not found"}))
}
