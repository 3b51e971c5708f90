//! Agents end to end: component in the host, HTTP over loopback, the emulator's state.

use crate::common::*;
use smartcomm_host::{CallError, types};
use types::{IdentifierKind, ItemOutcome, KeyId, NumberType};

#[tokio::test]
async fn onboarded_agent_reads_back_with_every_field_numbers_and_supervisors() {
    let (emulator, mut session) = setup().await;
    let supervisor = new_agent("sup-1");
    let mut agent = new_agent("agent-1");
    agent.brand_name = Some("Acme".into());
    agent.department = Some("Sales".into());
    agent.region = Some("US-East".into());
    agent.state = Some("CA".into());
    agent.district = Some("90210".into());
    agent.store = Some("1234".into());
    agent.city = Some("Los Angeles".into());
    agent.zip_code = Some("90210".into());
    agent.roles = Some(vec![types::Role::Member, types::Role::Manager]);
    let mut supervised = provision(NumberType::Supervised, &seeded_number(1));
    supervised.supervisors = Some(selector(IdentifierKind::Upn, &["sup-1@example.com"]));
    agent.number_provisioning = vec![
        provision(NumberType::Messaging, &seeded_number(0)),
        supervised,
    ];
    agent.enabled_services = Some(types::EnabledServices {
        messages: Some(true),
        supervised_inbox: Some(true),
        calls: Some(false),
        shared_inbox: Some(true),
    });
    let outcomes = session
        .onboard_agents(vec![supervisor, agent], onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes), "{outcomes:?}");

    let read = session
        .get_agent("agent-1".into(), None, None)
        .await
        .unwrap();
    assert_eq!(read.name.as_deref(), Some("Agent agent-1"));
    assert_eq!(read.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(read.city.as_deref(), Some("Los Angeles"));
    assert_eq!(read.zip_code.as_deref(), Some("90210"));
    assert_eq!(read.store.as_deref(), Some("1234"));
    assert_eq!(read.roles, vec![types::Role::Member, types::Role::Manager]);
    let numbers: Vec<_> = read
        .phone_numbers
        .iter()
        .map(|p| (p.type_, p.value.clone()))
        .collect();
    assert_eq!(
        numbers,
        vec![
            (NumberType::Messaging, seeded_number(0)),
            (NumberType::Supervised, seeded_number(1))
        ]
    );
    assert_eq!(read.supervisors.len(), 1);
    assert_eq!(
        read.supervisors[0].upn.as_deref(),
        Some("sup-1@example.com")
    );
    assert_eq!(read.enabled_services.unwrap().calls, Some(false));
    assert_eq!(read.active, Some(true));

    // The body sent is the reference's shape.
    let sent = &api_requests(&emulator)[0];
    assert_eq!(sent.route, "POST /agents");
    assert_eq!(
        sent.body[1]["number_provisioning"][1]["supervisors"]["identifier"],
        "upn"
    );
    assert_eq!(sent.body[1]["enabled_services"]["supervisedInbox"], true);
    assert_eq!(sent.headers["content-type"], "application/json");
    assert_eq!(sent.headers["accept"], "application/json");
}

#[tokio::test]
async fn roles_default_to_member() {
    let (_emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let agent = session.get_agent("a".into(), None, None).await.unwrap();
    assert_eq!(agent.roles, vec![types::Role::Member]);
}

#[tokio::test]
async fn get_finds_an_agent_by_each_key_id_and_sends_it_percent_encoded() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    for (id, key) in [
        ("a", None),
        ("a", Some(KeyId::UserObjectId)),
        ("cid-a", Some(KeyId::ConsistencyId)),
        ("a@example.com", Some(KeyId::Upn)),
    ] {
        let agent = session.get_agent(id.into(), key, None).await.unwrap();
        assert_eq!(agent.user_object_id.as_deref(), Some("a"), "{id}");
    }
    let last = api_requests(&emulator).pop().unwrap();
    assert_eq!(last.path, format!("/{CUSTOMER}/agents/a%40example.com"));
    assert_eq!(last.query, "key_id=upn");
}

#[tokio::test]
async fn get_of_an_unknown_agent_is_not_found() {
    let (_emulator, mut session) = setup().await;
    match session.get_agent("nobody".into(), None, None).await {
        Err(CallError::Api(types::Error::NotFound(message))) => {
            assert_eq!(message, "object not found")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn list_filters_by_each_field_and_nothing_matching_is_an_empty_list() {
    let (emulator, mut session) = setup().await;
    let mut a = new_agent("a");
    a.number_provisioning = vec![provision(NumberType::Supervised, &seeded_number(5))];
    let mut b = new_agent("b");
    b.tenant_id = "tenant-2".into();
    session
        .onboard_agents(vec![a, new_agent("c"), b], onboard_options(None))
        .await
        .unwrap();

    assert_eq!(session.list_agents(no_filter()).await.unwrap().len(), 3);
    let by = |f: fn(&mut types::AgentFilter)| {
        let mut filter = no_filter();
        f(&mut filter);
        filter
    };
    let tenant = session
        .list_agents(by(|f| f.tenant_id = Some("tenant-1".into())))
        .await
        .unwrap();
    assert_eq!(tenant.len(), 2);
    let number = session
        .list_agents(by(|f| f.phone_number = Some(seeded_number(5))))
        .await
        .unwrap();
    assert_eq!(number[0].user_object_id.as_deref(), Some("a"));
    let upn = session
        .list_agents(by(|f| f.upn = Some("b@example.com".into())))
        .await
        .unwrap();
    assert_eq!(upn[0].user_object_id.as_deref(), Some("b"));
    let cid = session
        .list_agents(by(|f| f.consistency_id = Some("cid-c".into())))
        .await
        .unwrap();
    assert_eq!(cid[0].user_object_id.as_deref(), Some("c"));
    let uoid = session
        .list_agents(by(|f| f.user_object_id = Some("c".into())))
        .await
        .unwrap();
    assert_eq!(uoid.len(), 1);
    let none = session
        .list_agents(by(|f| f.upn = Some("zz@example.com".into())))
        .await
        .unwrap();
    assert!(none.is_empty());
    let last = api_requests(&emulator).pop().unwrap();
    assert_eq!(last.query, "upn=zz%40example.com");
}

#[tokio::test]
async fn update_changes_fields_roles_numbers_and_active() {
    let (_emulator, mut session) = setup().await;
    let mut a = new_agent("a");
    a.number_provisioning = vec![provision(NumberType::Messaging, &seeded_number(0))];
    session
        .onboard_agents(vec![a], onboard_options(None))
        .await
        .unwrap();
    let changes = types::AgentChanges {
        department: Some("Support".into()),
        city: Some("Denver".into()),
        roles: Some(types::RoleChanges {
            assign: vec![types::Role::Admin],
            remove: vec![types::Role::Member],
        }),
        phone_numbers: Some(vec![types::PhoneNumber {
            type_: NumberType::Messaging,
            value: seeded_number(7),
        }]),
        active: Some(false),
        ..empty_changes()
    };
    let updated = session
        .update_agent("cid-a".into(), Some(KeyId::ConsistencyId), changes)
        .await
        .unwrap();
    assert_eq!(updated.department.as_deref(), Some("Support"));
    assert_eq!(updated.roles, vec![types::Role::Admin]);
    assert_eq!(updated.phone_numbers[0].value, seeded_number(7));
    assert_eq!(updated.active, Some(false));
    let free = session
        .list_numbers(
            Some(types::NumberStatus::Active),
            Some(seeded_number(0)[1..].into()),
        )
        .await
        .unwrap();
    assert_eq!(free.len(), 1, "the old messaging number was released");
}

#[tokio::test]
async fn update_by_internal_id_and_of_an_unknown_agent() {
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let id = emulator.account(CUSTOMER).agents[0].id.clone();
    let changes = types::AgentChanges {
        name: Some("Renamed".into()),
        ..empty_changes()
    };
    let updated = session
        .update_agent(id, Some(KeyId::Id), changes.clone())
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Renamed"));
    assert!(matches!(
        session.update_agent("ghost".into(), None, changes).await,
        Err(CallError::Api(types::Error::NotFound(_)))
    ));
}

fn update(uoid: &str, department: &str) -> types::AgentUpdate {
    types::AgentUpdate {
        target: types::AgentRef {
            identifier: IdentifierKind::UserObjectId,
            value: uoid.into(),
        },
        updates: types::AgentChanges {
            department: Some(department.into()),
            ..empty_changes()
        },
    }
}

#[tokio::test]
async fn bulk_update_of_25_sends_3_requests_and_returns_each_updated_agent() {
    let (emulator, mut session) = setup().await;
    let ids: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
    let outcomes = session
        .onboard_agents(
            ids.iter().map(|id| new_agent(id)).collect(),
            onboard_options(None),
        )
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    emulator.clear_requests();
    let outcomes = session
        .update_agents(
            ids.iter().map(|id| update(id, "Support")).collect(),
            update_options(None),
        )
        .await
        .unwrap();
    let mut sizes: Vec<usize> = api_requests(&emulator)
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .collect();
    // Several are in flight, so they may arrive in any order.
    sizes.sort_unstable();
    assert_eq!(sizes, [5, 10, 10]);
    assert_eq!(outcomes.len(), 25);
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            types::UpdateOutcome::Updated(Some(agent)) => {
                assert_eq!(agent.user_object_id.as_deref(), Some(ids[i].as_str()));
                assert_eq!(agent.department.as_deref(), Some("Support"));
            }
            other => panic!("item {i}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn bulk_update_without_continue_on_error_stops_at_the_unknown_agent() {
    let (emulator, mut session) = setup_one_at_a_time().await;
    session
        .onboard_agents(
            (0..12).map(|i| new_agent(&format!("u{i}"))).collect(),
            onboard_options(None),
        )
        .await
        .unwrap();
    emulator.clear_requests();
    let mut updates: Vec<_> = (0..12).map(|i| update(&format!("u{i}"), "X")).collect();
    updates[4] = update("ghost", "X");
    let outcomes = session
        .update_agents(updates.clone(), update_options(None))
        .await
        .unwrap();
    assert!(
        outcomes[..4]
            .iter()
            .all(|o| matches!(o, types::UpdateOutcome::Updated(Some(_))))
    );
    assert!(
        matches!(&outcomes[4], types::UpdateOutcome::Rejected(m) if m[0].contains("not found"))
    );
    assert!(
        outcomes[5..]
            .iter()
            .all(|o| matches!(o, types::UpdateOutcome::NotAttempted))
    );
    assert_eq!(
        api_requests(&emulator).len(),
        1,
        "the second request was never sent"
    );
    let state = emulator.account(CUSTOMER);
    assert_eq!(
        state
            .agents
            .iter()
            .filter(|a| a.department.as_deref() == Some("X"))
            .count(),
        4
    );

    let outcomes = session
        .update_agents(updates, update_options(Some(true)))
        .await
        .unwrap();
    assert!(matches!(&outcomes[4], types::UpdateOutcome::Rejected(_)));
    let applied = outcomes
        .iter()
        .filter(|o| matches!(o, types::UpdateOutcome::Updated(_)))
        .count();
    assert_eq!(applied, 11);
}

#[tokio::test]
async fn onboarding_25_splits_10_10_5_and_reports_the_conflicting_agent_at_its_index() {
    // Someone else already holds u13's user_object_id: a genuine conflict.
    let mut someone_else = new_agent("u13");
    someone_else.name = "Someone else".into();
    let batch: Vec<_> = (0..25).map(|i| new_agent(&format!("u{i}"))).collect();

    let (emulator, mut session) = setup_one_at_a_time().await;
    session
        .onboard_agents(vec![someone_else.clone()], onboard_options(None))
        .await
        .unwrap();
    emulator.clear_requests();
    let outcomes = session
        .onboard_agents(batch.clone(), onboard_options(None))
        .await
        .unwrap();
    assert!(
        outcomes[..13]
            .iter()
            .all(|o| matches!(o, ItemOutcome::Succeeded))
    );
    match &outcomes[13] {
        ItemOutcome::Rejected(messages) => {
            assert_eq!(
                messages[0],
                "An agent with the same user_object_id already exists"
            );
            assert_eq!(
                messages[1],
                "an agent with this user_object_id exists with other values: name"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        outcomes[14..]
            .iter()
            .all(|o| matches!(o, ItemOutcome::NotAttempted))
    );
    let routes: Vec<String> = api_requests(&emulator)
        .into_iter()
        .map(|r| r.route)
        .collect();
    // A batch of several requests reads its tenant once to judge a refused repeat.
    assert_eq!(
        routes,
        ["POST /agents", "POST /agents", "GET /agents"],
        "the conflict was read back"
    );
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 14);

    // With continueOnError, every request goes out and everything but the conflict lands.
    let (emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![someone_else], onboard_options(None))
        .await
        .unwrap();
    emulator.clear_requests();
    let outcomes = session
        .onboard_agents(batch, onboard_options(Some(true)))
        .await
        .unwrap();
    let posts: Vec<_> = api_requests(&emulator)
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    // Several are in flight, so they may arrive in any order: each request is one chunk.
    let mut chunks: Vec<Vec<String>> = posts
        .iter()
        .map(|r| {
            let items = r.body.as_array().unwrap();
            items
                .iter()
                .map(|a| a["user_object_id"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    chunks.sort_by_key(|chunk| chunk[0][1..].parse::<usize>().unwrap());
    let expected: Vec<Vec<String>> = [0..10, 10..20, 20..25]
        .into_iter()
        .map(|range| range.map(|i| format!("u{i}")).collect())
        .collect();
    assert_eq!(chunks, expected);
    assert!(posts.iter().all(|r| r.query == "continueOnError=true"));
    assert!(matches!(outcomes[13], ItemOutcome::Rejected(_)));
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, ItemOutcome::Succeeded))
            .count(),
        24
    );
    assert_eq!(emulator.account(CUSTOMER).agents.len(), 25);
}

#[tokio::test]
async fn a_taken_number_is_rejected_and_reassign_inbox_takes_over_an_orphaned_supervised_inbox() {
    let (_emulator, mut session) = setup().await;
    let number = seeded_number(3);
    let mut first = new_agent("first");
    first.number_provisioning = vec![provision(NumberType::Supervised, &number)];
    session
        .onboard_agents(vec![first], onboard_options(None))
        .await
        .unwrap();
    let mut second = new_agent("second");
    second.number_provisioning = vec![provision(NumberType::Supervised, &number)];
    let outcomes = session
        .onboard_agents(vec![second.clone()], onboard_options(None))
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], ItemOutcome::Rejected(m) if m[0].contains("already assigned")));

    // Offboarded without deprovisioning, the inbox stays: only reassignInbox takes it over.
    session
        .offboard_agent("first".into(), None, None)
        .await
        .unwrap();
    let outcomes = session
        .onboard_agents(vec![second.clone()], onboard_options(None))
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], ItemOutcome::Rejected(m) if m[0].contains("reassignInbox")));
    let options = types::OnboardOptions {
        continue_on_error: None,
        reassign_inbox: Some(true),
    };
    assert!(succeeded(
        &session.onboard_agents(vec![second], options).await.unwrap()
    ));
    let agent = session
        .get_agent("second".into(), None, None)
        .await
        .unwrap();
    assert_eq!(agent.phone_numbers[0].value, number);
}

#[tokio::test]
async fn offboard_releases_numbers_as_asked_and_a_repeat_finds_it_already_done() {
    let (emulator, mut session) = setup().await;
    let mut a = new_agent("a");
    a.number_provisioning = vec![
        provision(NumberType::Messaging, &seeded_number(0)),
        provision(NumberType::Supervised, &seeded_number(1)),
    ];
    session
        .onboard_agents(vec![a], onboard_options(None))
        .await
        .unwrap();
    let message = session
        .offboard_agent("a".into(), None, Some(true))
        .await
        .unwrap();
    assert_eq!(message, "Agent successfully offboarded");
    let last = api_requests(&emulator).pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.query.as_str()),
        ("DELETE", "deprovisionSupervisedInbox=true")
    );
    let assigned = session
        .list_numbers(Some(types::NumberStatus::Assigned), None)
        .await
        .unwrap();
    assert!(assigned.is_empty(), "{assigned:?}");
    emulator.clear_requests();
    let again = session
        .offboard_agent("a".into(), None, None)
        .await
        .unwrap();
    assert_eq!(again, "already offboarded: no agent has user_object_id a");
    let routes: Vec<String> = api_requests(&emulator)
        .into_iter()
        .map(|r| r.route)
        .collect();
    assert_eq!(
        routes,
        ["DELETE /agents/{id}", "GET /agents"],
        "a read confirmed the API's not found"
    );
    // An agent that cannot be read back (by internal id) keeps the API's answer.
    match session
        .offboard_agent("no-such-id".into(), Some(KeyId::Id), None)
        .await
    {
        Err(CallError::Api(types::Error::Rejected(r))) => {
            assert_eq!(r.message, "Unsuccessful offboarding");
            assert_eq!(r.messages, vec!["Agent not found".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bulk_offboard_by_each_identifier_and_an_unknown_id_counts_as_already_offboarded() {
    let (emulator, mut session) = setup().await;
    let mut other_tenant = new_agent("t2");
    other_tenant.tenant_id = "tenant-2".into();
    session
        .onboard_agents(
            vec![new_agent("a"), new_agent("b"), new_agent("c"), other_tenant],
            onboard_options(None),
        )
        .await
        .unwrap();
    let outcomes = session
        .offboard_agents(
            vec![
                selector(IdentifierKind::UserObjectId, &["a"]),
                selector(IdentifierKind::Upn, &["b@example.com"]),
                selector(IdentifierKind::UserObjectId, &["ghost"]),
                selector(IdentifierKind::ConsistencyId, &["cid-c"]),
                selector(IdentifierKind::TenantId, &["tenant-2"]),
            ],
            types::OffboardOptions {
                continue_on_error: Some(true),
                deprovision_supervised_inbox: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(outcomes[0], ItemOutcome::Succeeded);
    assert_eq!(outcomes[1], ItemOutcome::Succeeded);
    // The API says "not registered"; a read confirms there is no such agent.
    assert_eq!(
        outcomes[2],
        ItemOutcome::AlreadyDone("already offboarded".into())
    );
    assert_eq!(outcomes[3], ItemOutcome::Succeeded);
    assert_eq!(outcomes[4], ItemOutcome::Succeeded);
    assert!(emulator.account(CUSTOMER).agents.is_empty());
    let sent = api_requests(&emulator)
        .into_iter()
        .find(|r| r.route == "POST /agents/offboard")
        .unwrap();
    assert_eq!(sent.route, "POST /agents/offboard");
    assert_eq!(
        sent.body[1],
        serde_json::json!({"identifier": "upn", "value": ["b@example.com"]})
    );
}

#[tokio::test]
async fn an_update_the_api_refuses_is_rejected_with_its_item_errors() {
    let (_emulator, mut session) = setup().await;
    session
        .onboard_agents(vec![new_agent("a")], onboard_options(None))
        .await
        .unwrap();
    let changes = types::AgentChanges {
        phone_numbers: Some(vec![types::PhoneNumber {
            type_: NumberType::Messaging,
            value: "+19999999999".into(),
        }]),
        ..empty_changes()
    };
    match session.update_agent("a".into(), None, changes).await {
        Err(CallError::Api(types::Error::Rejected(r))) => {
            assert_eq!((r.status, r.message.as_str()), (400, "Update failed"));
            assert_eq!(r.items[0].index, 0);
            assert!(r.items[0].messages[0].contains("not registered"), "{r:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_tenant_of_10000_agents_lists_in_one_answer_within_the_default_limits() {
    let emulator = emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(8);
    let mut session = runtime().session(config);
    // Agents with every text field set, as an HR export fills them: about 550 bytes each in
    // the list answer, 5.5 MB in all.
    let agents: Vec<_> = (0..10_000)
        .map(|i| {
            let mut agent = new_agent(&format!("3f1c{i:04}-8b2e-4d7a-9c11-{i:012}"));
            agent.tenant_id = "tenant-big".into();
            agent.name = format!("Store Associate {i}");
            agent.brand_name = Some("Contoso Retail".into());
            agent.department = Some("Front End".into());
            agent.region = Some("Midwest".into());
            agent.state = Some("OH".into());
            agent.district = Some("District 7".into());
            agent.store = Some(format!("Store 12{:02}", i % 100));
            agent.city = Some("Columbus".into());
            agent.zip_code = Some("43215".into());
            agent
        })
        .collect();
    assert!(succeeded(
        &session
            .onboard_agents(agents, onboard_options(None))
            .await
            .unwrap()
    ));
    emulator.clear_requests();
    let filter = types::AgentFilter {
        tenant_id: Some("tenant-big".into()),
        ..no_filter()
    };
    let listed = session.list_agents(filter).await.unwrap();
    assert_eq!(listed.len(), 10_000);
    // Onboarded eight requests at a time, they are listed in the order the API took them.
    let last = listed
        .iter()
        .find(|a| a.user_object_id.as_deref() == Some("3f1c9999-8b2e-4d7a-9c11-000000009999"))
        .expect("the last agent is listed");
    assert_eq!(last.store.as_deref(), Some("Store 1299"));
    assert_eq!(api_requests(&emulator).len(), 1, "one list request");
}
