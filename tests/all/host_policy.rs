//! The host's confinement of the component: outbound allow-list, memory limit, call deadline.

use crate::common::*;
use smartcomm_host::{CallError, ComponentSource, Origin, Runtime, RuntimeOptions, types};
use std::time::Duration;

#[tokio::test]
async fn a_request_to_a_host_outside_the_allow_list_is_denied_before_it_leaves() {
    let (emulator, session) = setup().await;
    let elsewhere = emulator_origin(&crate::common::emulator().await);
    let mut session = session.restrict_origins(vec![elsewhere]);
    match session.list_numbers(None, None).await {
        Err(CallError::Api(types::Error::Transport(failure))) => {
            assert!(failure.message.contains("denied"), "{failure:?}");
            assert_eq!(failure.attempts, 1, "a denial is not retried");
        }
        other => panic!("{other:?}"),
    }
    assert!(emulator.requests().is_empty());
}

fn emulator_origin(emulator: &smartcomm_emulator::Emulator) -> Origin {
    Origin::of(&emulator.base_url()).unwrap()
}

#[tokio::test]
async fn a_call_that_reaches_its_own_deadline_answers_timeout_and_the_session_goes_on() {
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.call_deadline = Some(1);
    let mut session = runtime().session(config);
    session.authenticate().await.unwrap();
    emulator.set_latency("GET /numbers", Duration::from_secs(3));
    // The component's own answer, not the host stopping it: the instance lives on.
    match session.list_numbers(None, None).await {
        Err(CallError::Api(types::Error::Timeout(failure))) => {
            assert!(
                failure.message.contains("deadline of 1 s") && failure.message.contains("unknown"),
                "{failure:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    emulator.set_latency("GET /numbers", Duration::ZERO);
    assert_eq!(session.list_numbers(None, None).await.unwrap().len(), 100);
}

#[tokio::test]
async fn a_guest_that_outgrows_its_memory_limit_is_stopped_and_the_session_recovers() {
    let runtime = Runtime::new(RuntimeOptions {
        memory_limit: 16 << 20,
        ..Default::default()
    })
    .unwrap();
    let emulator = crate::common::emulator().await;
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    let mut huge = new_agent("huge");
    huge.name = "x".repeat(32 << 20);
    match session
        .onboard_agents(vec![huge], onboard_options(None))
        .await
    {
        Err(CallError::Host(_)) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert!(emulator.requests().is_empty());
    let outcomes = session
        .onboard_agents(vec![new_agent("small")], onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
}

#[test]
fn plain_http_is_refused_off_loopback_and_unlisted_hosts_are_refused() {
    let policy = smartcomm_host::OutboundPolicy::new(
        [
            "http://127.0.0.1:8080",
            "https://api.example.com",
            "http://api.example.com",
        ]
        .into_iter()
        .filter_map(Origin::of)
        .collect(),
        Duration::from_secs(1),
        Duration::from_secs(1),
        None,
        1,
    );
    let refusal = |uri: &str| policy.refusal(&uri.parse().unwrap());
    assert_eq!(refusal("http://127.0.0.1:8080/x/agents"), None);
    assert_eq!(refusal("https://api.example.com/x"), None);
    assert!(
        refusal("http://api.example.com/x")
            .unwrap()
            .contains("loopback")
    );
    assert!(
        refusal("https://other.example.com/x")
            .unwrap()
            .contains("not one of")
    );
    assert!(
        refusal("http://127.0.0.1:8081/x")
            .unwrap()
            .contains("not one of")
    );
}

/// A runtime of the misbehaving guest, which keeps no deadline of its own: the host stops
/// its calls `deadline_margin` after their deadline.
fn misbehaving(deadline_margin: Duration, memory_limit: usize) -> Runtime {
    Runtime::new(RuntimeOptions {
        component: ComponentSource::Path(smartcomm_host::testing::MISBEHAVING_COMPONENT.into()),
        deadline_margin,
        memory_limit,
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn a_guest_that_spins_past_its_deadline_is_stopped_by_the_host_which_goes_on() {
    let runtime = misbehaving(Duration::from_millis(500), 64 << 20);
    let emulator = crate::common::emulator().await;
    let mut config = config(&emulator, CUSTOMER);
    config.call_deadline = Some(1);
    let mut session = runtime.session(config);
    for _ in 0..2 {
        // The epoch deadline interrupts the guest's loop.
        match session.authenticate().await {
            Err(CallError::Host(e)) => assert!(format!("{e:#}").contains("interrupt"), "{e:#}"),
            other => panic!("{other:?}"),
        }
    }
    // The host itself is unharmed: a well-behaved component still runs in this process.
    let (_emulator, mut good) = setup().await;
    assert_eq!(good.list_numbers(None, None).await.unwrap().len(), 100);
}

#[tokio::test]
async fn a_guest_that_allocates_without_bound_is_stopped_at_its_memory_limit() {
    let runtime = misbehaving(Duration::from_secs(60), 32 << 20);
    let emulator = crate::common::emulator().await;
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    // Stopped by the limit (a trap), not by the deadline's interrupt.
    match session.get_agent("a".into(), None, None).await {
        Err(CallError::Host(e)) => {
            let message = format!("{e:#}");
            assert!(
                !message.contains("interrupt") && !message.contains("deadline"),
                "{message}"
            );
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // A trapped instance is replaced: the session can be used again (and traps again).
    assert!(matches!(
        session.get_agent("a".into(), None, None).await,
        Err(CallError::Host(_))
    ));
}

#[tokio::test]
async fn a_runtime_started_after_another_loads_compiled_code_from_the_cache_without_compiling() {
    // The shared runtime has compiled the component (or loaded it) and filled the cache.
    runtime();
    let second = Runtime::new(RuntimeOptions::default()).unwrap();
    assert_eq!(second.compilation(), smartcomm_host::Compilation::Cached);
    let emulator = emulator().await;
    let numbers = second
        .session(config(&emulator, CUSTOMER))
        .list_numbers(None, None)
        .await
        .unwrap();
    assert!(!numbers.is_empty());
}

#[tokio::test]
async fn instances_from_the_pooling_allocator_run_calls_and_are_reused_after_they_end() {
    let runtime = Runtime::new(RuntimeOptions {
        pooled_instances: Some(2),
        ..Default::default()
    })
    .unwrap();
    let emulator = emulator().await;
    // More step calls than slots: each call's instance returns its slot when it ends.
    let mut steps = runtime.steps(&config(&emulator, CUSTOMER));
    for _ in 0..5 {
        assert!(!steps.list_numbers(None, None).await.unwrap().is_empty());
    }
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    assert!(!session.list_numbers(None, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_guest_gets_no_socket_and_no_name_lookup_of_its_own() {
    let runtime = misbehaving(Duration::from_secs(10), 64 << 20);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let emulator = crate::common::emulator().await;
    let mut session = runtime.session(config(&emulator, CUSTOMER));
    let filter = types::AgentFilter {
        user_object_id: Some(port.to_string()),
        ..no_filter()
    };
    match session.list_agents(filter).await {
        Err(CallError::Api(types::Error::Transport(failure))) => {
            println!("{}", failure.message);
            for part in ["tcp: Err", "udp: Err", "lookup: Err"] {
                assert!(failure.message.contains(part), "{}", failure.message);
            }
            assert_eq!(
                failure.message.matches("PermissionDenied").count(),
                2,
                "TCP and UDP refused as not allowed: {}",
                failure.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(listener.accept().is_err(), "nothing connected");
}

#[tokio::test]
async fn the_host_bounds_an_instances_requests_in_flight_whatever_its_concurrency() {
    let runtime = Runtime::new(RuntimeOptions {
        max_requests_in_flight: 3,
        ..Default::default()
    })
    .unwrap();
    let emulator = crate::common::emulator().await;
    emulator.set_latency("POST /agents", Duration::from_millis(100));
    let mut config = config(&emulator, CUSTOMER);
    config.concurrency = Some(8);
    let mut session = runtime.session(config);
    session.authenticate().await.unwrap();
    let batch: Vec<_> = (0..120).map(|i| new_agent(&format!("b{i:03}"))).collect();
    let outcomes = session
        .onboard_agents(batch, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    assert_eq!(emulator.peak_in_flight(), 3);
    let asked = session.stats().await.unwrap().peak_in_flight;
    assert!(
        asked > 3,
        "the guest kept {asked} in flight: more than the host let out"
    );
}

/// A folder of its own for one test's compiled-code cache.
fn cache_folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("smartcomm-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn compilation_with_cache(dir: &std::path::Path) -> smartcomm_host::Compilation {
    Runtime::new(RuntimeOptions {
        cache_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .unwrap()
    .compilation()
}

fn cached_file(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .expect("a compiled component in the cache")
}

#[tokio::test]
async fn compiled_code_is_loaded_only_from_a_cache_this_user_alone_can_have_written() {
    use smartcomm_host::Compilation::{Cached, Compiled};
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let set_mode = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let dir = cache_folder("private");
    assert_eq!(compilation_with_cache(&dir), Compiled);
    assert_eq!(mode(&dir), 0o700, "a new cache folder is this user's alone");
    let file = cached_file(&dir);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(compilation_with_cache(&dir), Cached);

    // A file others may write is not loaded; the fresh one written over it is private.
    set_mode(&file, 0o666);
    assert_eq!(compilation_with_cache(&dir), Compiled);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(compilation_with_cache(&dir), Cached);

    // A link in the file's place is not followed, and what it points to is left alone.
    let elsewhere = dir.with_extension("elsewhere");
    std::fs::copy(&file, &elsewhere).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    assert_eq!(compilation_with_cache(&dir), Compiled);
    assert!(
        !std::fs::symlink_metadata(&file)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read(&elsewhere).unwrap().len(),
        std::fs::read(&file).unwrap().len()
    );

    // A file of another user is not loaded (only root can make one here).
    match std::os::unix::fs::chown(&file, Some(65534), Some(65534)) {
        Ok(()) => assert_eq!(compilation_with_cache(&dir), Compiled),
        Err(e) => println!("not checked: a file of another user ({e})"),
    }

    // A folder others may write is not used at all.
    let shared = cache_folder("shared");
    std::fs::create_dir_all(&shared).unwrap();
    set_mode(&shared, 0o777);
    assert_eq!(compilation_with_cache(&shared), Compiled);
    assert_eq!(compilation_with_cache(&shared), Compiled);
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "nothing written"
    );
    for path in [dir, shared] {
        std::fs::remove_dir_all(path).unwrap();
    }
    std::fs::remove_file(elsewhere).unwrap();
}
