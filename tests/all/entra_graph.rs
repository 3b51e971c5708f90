//! Reading an Entra group through Graph (`entra.read-group`), against the emulator's own
//! Entra token endpoint and Graph members: pages, `$select`, members that are not users,
//! disabled accounts, a 429, refused credentials and permissions; and `sync --graph-group`.

use crate::cli::{json, smartcomm};
use crate::common::*;
use serde_json::{Value, json};
use smartcomm_emulator::{Emulator, FaultAction, FaultRule, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET};
use smartcomm_host::{Config, StepCallError, entra, steps};

const TENANT: &str = "0a1b2c3d-0000-4000-8000-00000000e17a";
const GROUP: &str = "5b6c7d8e-0000-4000-8000-00000000abcd";
const MEMBERS_ROUTE: &str = "GET /v1.0/groups/{id}/transitiveMembers";
const TOKEN_ROUTE: &str = "POST /{tenant}/oauth2/v2.0/token";

fn user(i: usize) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.user",
        "id": format!("3f1c{i:04}-8b2e-4d7a-9c11-{i:012}"),
        "displayName": format!("Store Associate {i}"),
        "userPrincipalName": format!("associate{i}@contoso-retail.example"),
        "department": "Front End",
        "companyName": "Contoso Retail",
        "officeLocation": format!("Store {}", 1200 + i % 50),
        "employeeId": format!("E{i:05}"),
        "accountEnabled": i != 7,
    })
}

/// `users` users, with a device, a nested group and a service principal among them.
fn group(users: usize) -> Vec<Value> {
    let mut members: Vec<Value> = (0..users).map(user).collect();
    members.insert(1, json!({"@odata.type": "#microsoft.graph.device", "id": "device-1", "displayName": "Till 3"}));
    members.insert(members.len().min(5), json!({"@odata.type": "#microsoft.graph.group", "id": "group-2", "displayName": "Night shift"}));
    members.push(json!({"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1", "displayName": "Scheduler"}));
    members
}

fn graph_config(emulator: &Emulator, secret: &str) -> Config {
    let mut config = config(emulator, CUSTOMER);
    config.graph.client_id = Some(GRAPH_CLIENT_ID.into());
    config.graph.client_secret = Some(secret.into());
    config.graph.graph_url = Some(emulator.graph_url());
    config.graph.login_url = Some(emulator.login_url());
    config
}

fn mapping(fields: &[(entra::AgentField, &str)]) -> entra::RosterMapping {
    entra::RosterMapping {
        fields: fields
            .iter()
            .map(|(field, property)| entra::FieldSource {
                field: *field,
                property: Some(property.to_string()),
            })
            .collect(),
        defaults: Vec::new(),
        default_roles: None,
        default_shared_inboxes: None,
    }
}

async fn read(
    emulator: &Emulator,
    secret: &str,
    mapping: entra::RosterMapping,
) -> Result<entra::GroupRoster, StepCallError> {
    let mut steps = runtime().steps(&graph_config(emulator, secret));
    steps
        .read_group(TENANT.into(), GROUP.into(), mapping, Vec::new())
        .await
}

fn routes(emulator: &Emulator) -> Vec<String> {
    emulator.requests().into_iter().map(|r| r.route).collect()
}

#[tokio::test]
async fn a_group_of_2500_members_reads_in_three_pages_of_users_with_the_mapped_properties() {
    let emulator = emulator().await;
    emulator.set_graph_group(GROUP, group(2500));
    let read = read(
        &emulator,
        GRAPH_CLIENT_SECRET,
        mapping(&[(entra::AgentField::Store, "officeLocation")]),
    )
    .await
    .unwrap();
    assert_eq!((read.agents.len(), read.skipped, read.pages), (2500, 3, 3));
    let first = &read.agents[0].agent;
    assert_eq!(first.tenant_id, TENANT);
    assert_eq!(
        first.upn.as_deref(),
        Some("associate0@contoso-retail.example")
    );
    // Not in Graph's default set of properties: there only because $select named them.
    assert_eq!(first.department.as_deref(), Some("Front End"));
    assert_eq!(first.consistency_id.as_deref(), Some("E00000"));
    assert_eq!(first.store.as_deref(), Some("Store 1200"));
    // The last page was asked for the same properties as the first.
    let last = &read.agents[2499].agent;
    assert_eq!(last.consistency_id.as_deref(), Some("E02499"));
    assert_eq!(last.department.as_deref(), Some("Front End"));
    assert_eq!(last.store.as_deref(), Some("Store 1249"));
    assert_eq!(read.agents[7].active, Some(false), "the disabled account");
    assert_eq!(read.agents[6].active, Some(true));
    assert_eq!(
        routes(&emulator),
        [TOKEN_ROUTE, MEMBERS_ROUTE, MEMBERS_ROUTE, MEMBERS_ROUTE],
        "one token, three pages, nothing sent to the users API"
    );
    let first_page = &emulator.requests()[1].query;
    assert!(
        first_page.starts_with("$select=accountEnabled,city,companyName,department,displayName,employeeId,id,officeLocation,postalCode,state,userPrincipalName&$top=999"),
        "{first_page}"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_read_finishes() {
    let emulator = emulator().await;
    emulator.set_graph_group(GROUP, group(3));
    emulator.add_fault(FaultRule::new(
        MEMBERS_ROUTE,
        1,
        FaultAction::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
    ));
    let read = read(&emulator, GRAPH_CLIENT_SECRET, mapping(&[]))
        .await
        .unwrap();
    assert_eq!(read.agents.len(), 3);
    let pages: Vec<u64> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.route == MEMBERS_ROUTE)
        .map(|r| r.at_ms)
        .collect();
    assert_eq!(pages.len(), 2, "the page, and the page again");
    assert!(
        pages[1] - pages[0] >= 1000,
        "Retry-After: 1 waited: {pages:?}"
    );
}

fn unauthorized(result: Result<entra::GroupRoster, StepCallError>) -> String {
    match result {
        Err(StepCallError::Step(steps::StepError::PermanentUnauthorized(message))) => message,
        other => panic!("expected permanent-unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_credentials_and_missing_permissions_say_what_is_missing() {
    let emulator = emulator().await;
    emulator.set_graph_group(GROUP, group(3));
    let message = unauthorized(read(&emulator, "wrong-secret-4711", mapping(&[])).await);
    assert!(
        message.contains("SMARTCOMM_GRAPH_CLIENT_SECRET"),
        "{message}"
    );
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(!message.contains("wrong-secret-4711"));
    assert_eq!(
        routes(&emulator),
        [TOKEN_ROUTE],
        "only the token request, once"
    );

    emulator.set_graph_permissions(&[]);
    let message = unauthorized(read(&emulator, GRAPH_CLIENT_SECRET, mapping(&[])).await);
    assert!(message.contains("GroupMember.Read.All"), "{message}");
    emulator.set_graph_permissions(&["GroupMember.Read.All"]);
    let message = unauthorized(read(&emulator, GRAPH_CLIENT_SECRET, mapping(&[])).await);
    assert!(message.contains("User.Read.All"), "{message}");

    emulator.set_graph_permissions(&["GroupMember.Read.All", "User.Read.All"]);
    let mut steps = runtime().steps(&graph_config(&emulator, GRAPH_CLIENT_SECRET));
    let missing = steps
        .read_group(
            TENANT.into(),
            "no-such-group".into(),
            mapping(&[]),
            Vec::new(),
        )
        .await;
    assert!(
        matches!(
            missing,
            Err(StepCallError::Step(steps::StepError::PermanentNotFound(_)))
        ),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_bad_mapping_or_missing_graph_settings_send_nothing() {
    let emulator = emulator().await;
    let mut bad = mapping(&[]);
    bad.defaults.push(entra::FieldDefault {
        field: entra::AgentField::UserObjectId,
        value: "x".into(),
    });
    let refused = read(&emulator, GRAPH_CLIENT_SECRET, bad).await;
    assert!(
        matches!(&refused, Err(StepCallError::Step(steps::StepError::PermanentInvalidInput(p))) if p[0].field == "mapping.defaults.user_object_id"),
        "{refused:?}"
    );
    let mut steps = runtime().steps(&config(&emulator, CUSTOMER));
    let unset = steps
        .read_group(TENANT.into(), GROUP.into(), mapping(&[]), Vec::new())
        .await;
    assert!(
        matches!(&unset, Err(StepCallError::Step(steps::StepError::PermanentBadSetting(p))) if p[0].field == "SMARTCOMM_GRAPH_CLIENT_ID"),
        "{unset:?}"
    );
    assert_eq!(routes(&emulator), Vec::<String>::new());
}

fn graph_env(emulator: &Emulator, secret: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("SMARTCOMM_GRAPH_URL", emulator.graph_url()),
        ("SMARTCOMM_LOGIN_URL", emulator.login_url()),
        ("SMARTCOMM_GRAPH_CLIENT_ID", GRAPH_CLIENT_ID.into()),
        ("SMARTCOMM_GRAPH_CLIENT_SECRET", secret.into()),
    ]
}

/// `smartcomm ARGS… --graph-group GROUP --tenant-id TENANT`, with the Graph credentials.
async fn from_group(emulator: &Emulator, secret: &'static str, args: &[&str]) -> crate::cli::Run {
    let env = graph_env(emulator, secret);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = [args, &["--graph-group", GROUP, "--tenant-id", TENANT]].concat();
    smartcomm(Some(emulator), &args, &env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_apply_from_a_graph_group_then_a_second_plan_has_nothing_to_do() {
    let emulator = emulator().await;
    emulator.set_graph_group(GROUP, group(25));
    let apply = from_group(&emulator, GRAPH_CLIENT_SECRET, &["sync", "apply"]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply
            .stderr
            .contains("25 users in 1 page; 3 members that are not users left out"),
        "{}",
        apply.stderr
    );
    let report = json(&apply.stdout);
    // The disabled account (associate 7) is not onboarded: a sync onboards active agents.
    assert_eq!(report["summary"]["succeeded"], 24, "{report:#}");
    let live = emulator.account(CUSTOMER).agents;
    assert_eq!(live.len(), 24);
    let disabled = Some("associate7@contoso-retail.example");
    assert!(live.iter().all(|a| a.upn.as_deref() != disabled));

    let plan = from_group(&emulator, GRAPH_CLIENT_SECRET, &["sync", "plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan = json(&plan.stdout);
    // The 24 agents and the disabled account that is not onboarded are all as wanted.
    assert_eq!(plan["summary"]["unchanged"], 25, "{plan:#}");
    assert_eq!(plan["changes"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_secret_exits_1_naming_the_credentials_sends_nothing_to_the_api_and_never_shows_the_secret()
 {
    let emulator = emulator().await;
    emulator.set_graph_group(GROUP, group(3));
    let run = from_group(&emulator, "wrong-secret-4711", &["-vv", "sync", "plan"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("SMARTCOMM_GRAPH_CLIENT_SECRET"),
        "{}",
        run.stderr
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("wrong-secret-4711"), "{output}");
    }
    assert_eq!(
        routes(&emulator),
        [TOKEN_ROUTE],
        "nothing sent to the users API"
    );
    let logged = serde_json::to_string(&emulator.requests()).unwrap();
    assert!(
        !logged.contains("wrong-secret-4711"),
        "the emulator's log redacts it too"
    );
}
