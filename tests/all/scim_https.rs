//! The SCIM endpoint ready for the internet: HTTPS with certificates made here (Entra's
//! sequence over it, a renewal while it runs), `GET /health` without a token, a token rotated
//! while it runs, a kept-alive connection's idle timeout apart from a head's timeout; and the
//! real `smartcomm scim serve`: its flags, the call deadline, SIGHUP, and its shutdown on
//! SIGTERM.

use crate::certificates::{self, TestCa};
use crate::common::*;
use crate::scim::{Bridge, INBOX, TOKEN, bridge_speaking, bridge_with, entra_user, uid};
use crate::scim_server::Served;
use serde_json::json;
use smartcomm_host::{ScimLimits, ScimOptions, TlsFiles};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A generous bound for what must happen at once (a loaded machine included).
const AT_ONCE: Duration = Duration::from_secs(20);

/// A folder of this test's own.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smartcomm-https-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tls_files(dir: &Path) -> TlsFiles {
    TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

fn inboxes() -> serde_json::Value {
    json!({ INBOX: seeded_number(50) })
}

/// A server over HTTPS with a certificate `ca` signed, valid until 2040, in `dir`.
async fn https_bridge(ca: &TestCa, dir: &Path, options: ScimOptions) -> Bridge {
    let files = tls_files(dir);
    ca.server_certificate(2040).write(&files.cert, &files.key);
    let options = ScimOptions {
        tls: Some(files),
        ..options
    };
    bridge_speaking(options, inboxes(), Some(ca.connector())).await
}

/// Writes `request` (a whole request, head and body) on `stream` and reads the answer: its
/// head, and its body (none for a `HEAD`).
async fn raw_exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(stream, request.starts_with("HEAD ")).await
}

async fn read_answer<S: AsyncRead + Unpin>(stream: &mut S, head_only: bool) -> String {
    let mut answer = Vec::new();
    read_until(stream, &mut answer, b"\r\n\r\n").await;
    let head = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map(|n| n.trim().parse::<usize>().unwrap());
    match (head_only, length) {
        (true, _) => {}
        (false, Some(length)) => {
            let mut body = vec![0u8; length];
            stream.read_exact(&mut body).await.unwrap();
            answer.extend(body);
        }
        // Chunked: up to the last, empty chunk.
        (false, None) => read_until(stream, &mut answer, b"\r\n0\r\n\r\n").await,
    }
    String::from_utf8_lossy(&answer).into_owned()
}

async fn read_until<S: AsyncRead + Unpin>(stream: &mut S, read: &mut Vec<u8>, end: &[u8]) {
    let mut byte = [0u8; 1];
    while !read.ends_with(end) {
        match stream.read(&mut byte).await.unwrap() {
            0 => panic!("closed before the end: {}", String::from_utf8_lossy(read)),
            _ => read.push(byte[0]),
        }
    }
}

fn health_request(method: &str) -> String {
    format!("{method} /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// Whether `stream` is closed by the server within `within`, anything it sends first read
/// and dropped.
async fn closed_within<S: AsyncRead + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut sink = [0u8; 256];
    let closed = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(within, closed).await.is_ok()
}

/// Entra ID's provisioning sequence, as `scim.rs` replays it over plain HTTP: Test
/// Connection, match then create, both PATCH forms, a soft delete and a re-enable, a group's
/// members added and removed, a hard delete.
async fn entra_sequence(bridge: &Bridge) {
    let filter = |query: &str| {
        format!(
            "/Users?filter={}",
            smartcomm::request::percent_encode(query)
        )
    };
    let test_connection = bridge
        .send(
            "GET",
            &filter(r#"userName eq "0e7b7f4c-5b6a-4f4e-9d5e-6f2c3e1a9b8d""#),
            None,
        )
        .await;
    assert_eq!(test_connection.status, 200);
    assert_eq!(test_connection.body["totalResults"], 0);
    let (id, member) = (uid(1), uid(2));
    for (user, upn) in [
        (&id, "ann@contoso.example"),
        (&member, "bo@contoso.example"),
    ] {
        let matched = bridge
            .send("GET", &filter(&format!(r#"userName eq "{upn}""#)), None)
            .await;
        assert_eq!(matched.body["totalResults"], 0);
        let created = bridge
            .send("POST", "/Users", Some(entra_user(user, upn)))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(
            created.headers["location"],
            format!("{}/Users/{user}", bridge.base).as_str(),
            "the https base URL"
        );
    }
    let by_path = json!({"Operations": [
        {"op": "Replace", "path": "displayName", "value": "Ann Lee-Park"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Pharmacy"},
    ]});
    let patched = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(by_path))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let pathless = json!({"Operations": [{"op": "replace", "value": {"name.givenName": "Ann", "active": "True"}}]});
    let patched = bridge
        .send("PATCH", &format!("/Users/{id}"), Some(pathless))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    for active in ["False", "True"] {
        let soft = json!({"Operations": [{"op": "Replace", "path": "active", "value": active}]});
        let answer = bridge
            .send("PATCH", &format!("/Users/{id}"), Some(soft))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["active"], active == "True");
    }
    let group_query = format!(
        "/Groups?filter={}&excludedAttributes=members",
        smartcomm::request::percent_encode(&format!(r#"displayName eq "{INBOX}""#))
    );
    let group = bridge.send("GET", &group_query, None).await;
    let group_id = group.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for op in ["Add", "Remove"] {
        let change =
            json!({"Operations": [{"op": op, "path": "members", "value": [{"value": member}]}]});
        let answer = bridge
            .send("PATCH", &format!("/Groups/{group_id}"), Some(change))
            .await;
        assert_eq!(answer.status, 204, "{op}: {}", answer.body);
        let read = bridge
            .send("GET", &format!("/Groups/{group_id}"), None)
            .await;
        assert_eq!(
            read.body["members"].as_array().unwrap().len(),
            usize::from(op == "Add")
        );
    }
    let deleted = bridge.send("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        bridge
            .send("GET", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
    let agents = bridge.emulator.account(CUSTOMER).agents;
    let left: Vec<_> = agents
        .iter()
        .map(|a| (a.user_object_id.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(
        left,
        [(member.as_str(), "Ann Lee")],
        "the member alone is left"
    );
}

#[tokio::test]
async fn entras_sequence_runs_over_https_with_a_certificate_made_here_and_the_port_speaks_tls_only()
{
    let ca = TestCa::new();
    let dir = folder("entra");
    let bridge = https_bridge(&ca, &dir, ScimOptions::default()).await;
    assert!(bridge.base.starts_with("https://"), "{}", bridge.base);
    entra_sequence(&bridge).await;
    let mut tls = certificates::connect(bridge.tls.as_ref().unwrap(), &bridge.authority()).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let health = raw_exchange(&mut tls, &health_request("GET")).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // Plain HTTP on the same port gets no HTTP answer.
    let mut plain = TcpStream::connect(bridge.authority()).await.unwrap();
    plain
        .write_all(health_request("GET").as_bytes())
        .await
        .unwrap();
    let mut answered = Vec::new();
    let _ = tokio::time::timeout(AT_ONCE, plain.read_to_end(&mut answered)).await;
    assert!(
        !String::from_utf8_lossy(&answered).contains("HTTP/1.1"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
}

/// `GET /health` is answered by the host, without a token, with a 200 that tells nothing
/// else: no instance is made and nothing reaches the API. Other methods are not special.
#[tokio::test]
async fn health_answers_200_without_a_token_and_tells_nothing_else() {
    let bridge = bridge_with(ScimOptions::default()).await;
    let mut stream = TcpStream::connect(bridge.authority()).await.unwrap();
    let answer = raw_exchange(&mut stream, &health_request("GET")).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    let mut names: Vec<String> = lines
        .map(|line| line.split_once(':').unwrap().0.to_ascii_lowercase())
        .collect();
    names.sort();
    assert_eq!(names, ["content-length", "content-type", "date"]);
    assert_eq!(body, "ok\n");
    let head_only = raw_exchange(&mut stream, &health_request("HEAD")).await;
    assert!(head_only.starts_with("HTTP/1.1 200"), "{head_only}");
    let wrong_token = "GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n";
    let answer = raw_exchange(&mut stream, wrong_token).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let post = raw_exchange(
        &mut stream,
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 401"), "{post}");
    assert_eq!(bridge.server.instances_made(), 0);
    assert!(bridge.emulator.requests().is_empty());
}

/// The files are looked at every 100 ms here, so that a change is taken at once.
fn following() -> ScimOptions {
    ScimOptions {
        watch_interval: Duration::from_millis(100),
        ..ScimOptions::default()
    }
}

/// Waits until `check` holds, for at most `AT_ONCE`.
async fn until<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let waited = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(AT_ONCE, waited)
        .await
        .unwrap_or_else(|_| panic!("{what}"));
}

/// A renewal written into the certificate files while the server runs reaches new
/// connections; a connection open since before keeps working; a certificate written without
/// its key is not taken until the key follows.
#[tokio::test]
async fn a_certificate_renewed_during_a_run_reaches_new_connections() {
    let ca = TestCa::new();
    let dir = folder("renewal");
    let files = tls_files(&dir);
    let first = ca.server_certificate(2040);
    first.write(&files.cert, &files.key);
    let options = ScimOptions {
        tls: Some(files.clone()),
        ..following()
    };
    let bridge = bridge_speaking(options, inboxes(), Some(ca.connector())).await;
    let connector = bridge.tls.clone().unwrap();
    let authority = bridge.authority();
    let presented =
        || async { certificates::presented(&certificates::connect(&connector, &authority).await) };
    let mut kept = certificates::connect(&connector, &authority).await;
    assert_eq!(certificates::presented(&kept), first.der);
    assert!(
        raw_exchange(&mut kept, &health_request("GET"))
            .await
            .starts_with("HTTP/1.1 200")
    );

    let renewed = ca.server_certificate(2041);
    renewed.write(&files.cert, &files.key);
    until("the renewed certificate is served", || async {
        presented().await == renewed.der
    })
    .await;
    let answer = raw_exchange(&mut kept, &health_request("GET")).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the open connection goes on: {answer}"
    );

    let next = ca.server_certificate(2042);
    std::fs::write(&files.cert, &next.chain_pem).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        presented().await,
        renewed.der,
        "a certificate without its key is not taken"
    );
    std::fs::write(&files.key, &next.key_pem).unwrap();
    until("the certificate is taken with its key", || async {
        presented().await == next.der
    })
    .await;
    entra_sequence(&bridge).await;
}

/// A new token written into the token file while the server runs replaces the old one: a
/// request in flight with the old token finishes, the idle instance made with it is dropped,
/// and the one that served the request in flight is not kept (an instance checks the token
/// it was made with: one kept would refuse the new token). An empty file changes nothing.
#[tokio::test]
async fn a_token_rotated_during_a_run_replaces_the_old_one_and_its_instances() {
    let dir = folder("rotation");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "first-token-0123456789\n").unwrap();
    let options = ScimOptions {
        token_file: Some(token_file.clone()),
        ..following()
    };
    let bridge = bridge_speaking(options, inboxes(), None).await;
    let (first, second) = ("first-token-0123456789", "second-token-9876543210");
    let id = uid(1);
    let created = bridge
        .send_as(
            "POST",
            "/Users",
            Some(entra_user(&id, "r@x.example")),
            Some(first),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        bridge
            .send_as("GET", "/Users", None, Some(TOKEN))
            .await
            .status,
        401
    );
    assert_eq!(bridge.server.instances_made(), 1);

    let path = format!("/Users/{id}");
    bridge
        .emulator
        .set_latency("GET /agents/{id}", Duration::from_secs(2));
    let in_flight = bridge.send_as("GET", &path, None, Some(first));
    let rotate = async {
        until("the request is in flight", || async {
            bridge
                .emulator
                .requests()
                .iter()
                .any(|r| r.route == "GET /agents/{id}")
        })
        .await;
        std::fs::write(&token_file, format!("{second}\n")).unwrap();
        until("the new token is taken", || async {
            bridge
                .send_as("GET", "/ServiceProviderConfig", None, Some(second))
                .await
                .status
                == 200
        })
        .await;
    };
    let (in_flight, ()) = tokio::join!(in_flight, rotate);
    assert_eq!(
        in_flight.status, 200,
        "admitted with the old token, it finishes: {}",
        in_flight.body
    );
    bridge
        .emulator
        .set_latency("GET /agents/{id}", Duration::ZERO);
    assert_eq!(
        bridge.send_as("GET", &path, None, Some(first)).await.status,
        401
    );
    let read = bridge.send_as("GET", &path, None, Some(second)).await;
    assert_eq!(
        read.status, 200,
        "no instance of the old token serves it: {}",
        read.body
    );
    assert_eq!(
        bridge.server.instances_made(),
        2,
        "one instance for each token"
    );

    std::fs::write(&token_file, "").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        bridge
            .send_as("GET", &path, None, Some(second))
            .await
            .status,
        200
    );
}

/// Between requests a kept-alive connection may wait `idle_timeout`, far longer than a
/// request's head may take: a proxy that reuses it after the header timeout is served, and
/// the connection closes at the idle timeout.
#[tokio::test]
async fn a_kept_alive_connection_outlives_the_header_timeout_and_closes_at_the_idle_timeout() {
    let limits = ScimLimits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(4),
        ..ScimLimits::default()
    };
    let bridge = bridge_with(ScimOptions {
        limits,
        ..ScimOptions::default()
    })
    .await;
    let mut stream = TcpStream::connect(bridge.authority()).await.unwrap();
    let request = format!(
        "GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    );
    assert!(
        raw_exchange(&mut stream, &request)
            .await
            .starts_with("HTTP/1.1 200")
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reused = raw_exchange(&mut stream, &request).await;
    assert!(reused.starts_with("HTTP/1.1 200"), "{reused}");
    let idle_since = Instant::now();
    assert!(
        closed_within(&mut stream, AT_ONCE).await,
        "closed at the idle timeout"
    );
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_secs(3),
        "closed after {idle:?} idle, before its idle timeout"
    );
}

/// A head that stops arriving is closed at the header timeout, counted from its first byte,
/// on a new connection and on a kept-alive one alike, long before the idle timeout.
#[tokio::test]
async fn a_head_that_stops_arriving_is_closed_at_the_header_timeout() {
    let limits = ScimLimits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(300),
        ..ScimLimits::default()
    };
    let bridge = bridge_with(ScimOptions {
        limits,
        ..ScimOptions::default()
    })
    .await;
    let mut silent = TcpStream::connect(bridge.authority()).await.unwrap();
    let mut kept = TcpStream::connect(bridge.authority()).await.unwrap();
    assert!(
        raw_exchange(&mut kept, &health_request("GET"))
            .await
            .starts_with("HTTP/1.1 200")
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    kept.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthor")
        .await
        .unwrap();
    assert!(
        closed_within(&mut kept, AT_ONCE).await,
        "a kept-alive connection's stalled head"
    );
    assert!(
        closed_within(&mut silent, AT_ONCE).await,
        "a new connection that sends nothing"
    );
}

// ---- the real `smartcomm scim serve` -------------------------------------------------------

/// `smartcomm scim serve` over HTTPS with the token in a file, both in `dir`.
fn https_command(
    emulator: &smartcomm_emulator::Emulator,
    dir: &Path,
    args: &str,
) -> tokio::process::Command {
    let files = tls_files(dir);
    let args = format!(
        "--token-file {} --tls-cert {} --tls-key {} {args}",
        dir.join("token").display(),
        files.cert.display(),
        files.key.display()
    );
    let mut command = Served::command(emulator, "", &args);
    command.env_remove("SMARTCOMM_SCIM_TOKEN");
    command
}

/// Over HTTPS, a renewal and a new token written into their files are taken while the
/// command runs; SIGHUP re-reads them (and does not end the process); nothing secret is
/// logged, at the most verbose level; SIGTERM stops it, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn scim_serve_over_https_takes_a_renewal_and_a_new_token_while_it_runs() {
    let emulator = emulator().await;
    let (ca, dir) = (TestCa::new(), folder("serve-https"));
    let first = ca.server_certificate(2040);
    let files = tls_files(&dir);
    first.write(&files.cert, &files.key);
    let (old, new) = ("old-token-0123456789abcdef", "new-token-fedcba9876543210");
    std::fs::write(dir.join("token"), old).unwrap();
    let mut served = Served::spawn(https_command(&emulator, &dir, "-vv")).await;
    served.tls = Some(ca.connector());
    let created = served
        .send_as(
            "POST",
            "/Users",
            Some(entra_user(&uid(1), "h@x.example")),
            old,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let connector = ca.connector();
    let presented = || async {
        certificates::presented(&certificates::connect(&connector, &served.authority).await)
    };
    assert_eq!(presented().await, first.der);

    served.signal("HUP").await;
    until("SIGHUP re-reads the files", || async {
        served
            .stderr()
            .contains("reload: the token and the certificate are as they were")
    })
    .await;
    let renewed = ca.server_certificate(2041);
    renewed.write(&files.cert, &files.key);
    std::fs::write(dir.join("token"), format!("{new}\n")).unwrap();
    until("the renewal is served", || async {
        presented().await == renewed.der
    })
    .await;
    until("the new token is taken", || async {
        served.send_as("GET", "/Users", None, new).await.status == 200
    })
    .await;
    assert_eq!(served.send_as("GET", "/Users", None, old).await.status, 401);

    served.signal("TERM").await;
    assert_eq!(served.exit_code(AT_ONCE).await, 0, "{}", served.stderr());
    let log = served.stderr();
    assert!(log.contains("the certificate was replaced"), "{log}");
    assert!(log.contains("the bearer token was replaced"), "{log}");
    for secret in [old, new] {
        assert!(!log.contains(secret), "a token in the log: {log}");
    }
    for key in [&first.key_pem, &renewed.key_pem] {
        let body = key.lines().nth(1).unwrap();
        assert!(!log.contains(body), "a private key in the log");
    }
}

/// A request that `scim serve` sends to the API and holds, the emulator slowed down for it.
async fn in_flight(
    served: &Served,
    emulator: &smartcomm_emulator::Emulator,
    latency: Duration,
) -> tokio::task::JoinHandle<()> {
    emulator.set_latency("GET /agents", latency);
    let (authority, request) = (
        served.authority.clone(),
        format!("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"),
    );
    let (sent, arrived) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut stream = TcpStream::connect(&authority).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let _ = sent.send(());
        let answer = read_answer(&mut stream, false).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    });
    arrived.await.unwrap();
    until("the API holds the request", || async {
        emulator.requests().iter().any(|r| r.route == "GET /agents")
    })
    .await;
    task
}

/// On SIGTERM the listener closes at once (a new connection is refused, not left in the
/// listen queue), the request in flight is answered, and the command exits 0.
#[tokio::test(flavor = "multi_thread")]
async fn on_sigterm_scim_serve_refuses_new_connections_and_finishes_the_request_in_flight() {
    let emulator = emulator().await;
    let mut served = Served::start(&emulator, "", "", &[]).await;
    assert_eq!(
        served
            .send("GET", "/ServiceProviderConfig", None)
            .await
            .status,
        200
    );
    let request = in_flight(&served, &emulator, Duration::from_secs(10)).await;
    served.signal("TERM").await;
    until("a new connection is refused", || async {
        TcpStream::connect(&served.authority)
            .await
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
    })
    .await;
    assert!(
        !request.is_finished(),
        "refused while the request in flight is still served"
    );
    request
        .await
        .expect("the request in flight is answered 200");
    assert_eq!(served.exit_code(AT_ONCE).await, 0, "{}", served.stderr());
    assert!(
        served.stderr().ends_with("stopped\n"),
        "{}",
        served.stderr()
    );
}

/// The shutdown grace bounds the wait for the requests in flight, and a second signal ends
/// it at once; either way the command says so and exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn the_shutdown_grace_bounds_the_wait_and_a_second_signal_ends_it_at_once() {
    let emulator = emulator().await;
    let mut served = Served::start(&emulator, "", "--shutdown-grace 1", &[]).await;
    let _cut = in_flight(&served, &emulator, Duration::from_secs(120)).await;
    served.signal("TERM").await;
    assert_eq!(served.exit_code(AT_ONCE).await, 1, "{}", served.stderr());
    assert!(
        served
            .stderr()
            .contains("1 request(s) in flight were cut at the end of the shutdown grace"),
        "{}",
        served.stderr()
    );

    emulator.reset();
    let mut served = Served::start(&emulator, "", "--shutdown-grace 600", &[]).await;
    let _cut = in_flight(&served, &emulator, Duration::from_secs(120)).await;
    served.signal("TERM").await;
    until("it is stopping", || async {
        served.stderr().contains("stopping")
    })
    .await;
    served.signal("INT").await;
    assert_eq!(served.exit_code(AT_ONCE).await, 1, "{}", served.stderr());
    assert!(
        served
            .stderr()
            .contains("stopped at once: 1 request(s) in flight were cut"),
        "{}",
        served.stderr()
    );
}

/// Each request is one call of the component, bounded by `--call-deadline` or
/// SMARTCOMM_CALL_DEADLINE: past it, a 503 with `Retry-After`.
#[tokio::test(flavor = "multi_thread")]
async fn scim_serve_bounds_each_request_by_the_call_deadline() {
    let emulator = emulator().await;
    emulator.set_latency("GET /agents", Duration::from_secs(8));
    for (args, env) in [
        ("--call-deadline 2", vec![]),
        ("", vec![("SMARTCOMM_CALL_DEADLINE", "2")]),
    ] {
        let served = Served::start(&emulator, "", args, &env).await;
        let answer = served.send("GET", "/Users", None).await;
        assert_eq!(answer.status, 503, "{args} {env:?}: {}", answer.body);
        assert_eq!(answer.headers["retry-after"], "30");
    }
}

/// Token and certificate settings that cannot serve stop the command before it listens
/// (exit 2), naming the file and never quoting a key.
#[tokio::test(flavor = "multi_thread")]
async fn scim_serve_refuses_a_token_or_certificate_that_cannot_serve() {
    let emulator = emulator().await;
    let (ca, dir) = (TestCa::new(), folder("refused"));
    let files = tls_files(&dir);
    let (cert, key) = (files.cert.to_str().unwrap(), files.key.to_str().unwrap());
    let token = dir.join("token");
    let token = token.to_str().unwrap();
    std::fs::write(token, "a-token-0123456789").unwrap();
    let serve = [
        "scim",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tenant-id",
        "t",
    ];
    let run = async |args: &[&str], env: &[(&str, &str)]| {
        let args: Vec<&str> = serve.iter().chain(args).copied().collect();
        let run = crate::cli::smartcomm(Some(&emulator), &args, env).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        run.stderr
    };
    let both = run(&["--token-file", token], &[("SMARTCOMM_SCIM_TOKEN", "x")]).await;
    assert!(both.contains("not both"), "{both}");
    std::fs::write(token, "\n").unwrap();
    let empty = run(&["--token-file", token], &[]).await;
    assert!(empty.contains(token) && empty.contains("empty"), "{empty}");
    std::fs::write(token, "a-token-0123456789").unwrap();

    let server = ca.server_certificate(2040);
    let other = ca.server_certificate(2040);
    std::fs::write(cert, &server.chain_pem).unwrap();
    std::fs::write(key, &other.key_pem).unwrap();
    let tls = ["--token-file", token, "--tls-cert", cert, "--tls-key", key];
    let mismatched = run(&tls, &[]).await;
    assert!(
        mismatched.contains("not the certificate's") && mismatched.contains(cert),
        "{mismatched}"
    );
    std::fs::write(
        key,
        "-----BEGIN PRIVATE KEY-----\nS3CRETKEYMATERIAL\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let garbled = run(&tls, &[]).await;
    assert!(garbled.contains("no private key"), "{garbled}");
    assert!(!garbled.contains("S3CRETKEYMATERIAL"), "{garbled}");
    let alone = run(&["--token-file", token, "--tls-cert", cert], &[]).await;
    assert!(alone.contains("--tls-key"), "{alone}");
}
