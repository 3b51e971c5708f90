//! The SCIM server under hostile clients and large answers, over raw TCP where a well-behaved
//! client library would hide what is tested: a client without the token is refused from its
//! headers, slow bodies hold no instance, the wait for an instance and the connections are
//! bounded, an answer of several MiB arrives whole, and running out of file descriptors is
//! logged and waited out.

use crate::common::*;
use crate::scim::{Bridge, INBOX, TENANT, TOKEN, bridge_with, entra_user, uid};
use serde_json::json;
use smartcomm_host::{ScimLimits, ScimOptions};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A generous bound for what must happen at once (a loaded machine included): well below every
/// timeout that a broken server would instead wait out.
const AT_ONCE: Duration = Duration::from_secs(20);

/// A connection that sent a request's head announcing `length` bytes of body, and one byte
/// of it.
async fn stalled(bridge: &Bridge, token: Option<&str>, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(bridge.authority()).await.unwrap();
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {}\r\nContent-Type: application/scim+json\r\n\
         {authorization}Content-Length: {length}\r\n\r\n{{",
        bridge.authority()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// What the server answered on `stream`, up to the end of its head.
async fn answer_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await.unwrap() {
            0 => break,
            _ => head.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn options(limits: ScimLimits) -> ScimOptions {
    ScimOptions {
        limits,
        ..ScimOptions::default()
    }
}

/// A user to read, so that the real requests below go through the component to the API.
async fn with_a_user(bridge: &Bridge) -> String {
    let id = uid(1);
    let created = bridge
        .send("POST", "/Users", Some(entra_user(&id, "real@x.example")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    id
}

#[tokio::test]
async fn a_slow_client_without_the_token_is_refused_from_its_headers_while_a_real_request_is_served()
 {
    let bridge = bridge_with(options(ScimLimits {
        body_timeout: Duration::from_secs(120),
        ..ScimLimits::default()
    }))
    .await;
    let id = with_a_user(&bridge).await;
    let instances = bridge.server.instances_made();
    let mut slow = stalled(&bridge, None, 100_000).await;
    let refused = tokio::time::timeout(AT_ONCE, answer_head(&mut slow))
        .await
        .expect("refused without waiting for the body");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{refused}"
    );
    let read = tokio::time::timeout(AT_ONCE, bridge.send("GET", &format!("/Users/{id}"), None))
        .await
        .expect("served meanwhile");
    assert_eq!(read.status, 200);
    // The scheme's name in any letter case.
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("/scim/v2/Users/{id}"))
        .header("authorization", format!("bEARER {TOKEN}"));
    let answer = bridge.exchange(request, bytes::Bytes::new()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        bridge.server.instances_made(),
        instances,
        "no instance more"
    );
}

/// A client refused for its token keeps no connection: it could otherwise hold one of the
/// connection slots for the whole idle timeout, without ever knowing the token.
#[tokio::test]
async fn a_client_refused_for_its_token_is_disconnected_after_the_answer() {
    let bridge = bridge_with(ScimOptions::default()).await;
    let mut stream = TcpStream::connect(bridge.authority()).await.unwrap();
    let request = format!(
        "GET /scim/v2/Users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer wrong\r\n\r\n",
        bridge.authority()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let refused = tokio::time::timeout(AT_ONCE, answer_head(&mut stream))
        .await
        .expect("answered");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(AT_ONCE, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection stays open after a 401");
}

/// Eight instances, and ten clients with the token that send a body slowly: they hold no
/// instance, so a real request is served at once; each slow body ends with a 408.
#[tokio::test]
async fn ten_slow_clients_with_the_token_hold_no_instance_of_eight() {
    let bridge = bridge_with(options(ScimLimits {
        body_timeout: Duration::from_secs(45),
        ..ScimLimits::default()
    }))
    .await;
    let id = with_a_user(&bridge).await;
    let mut slow = Vec::new();
    for round in [8, 2] {
        for _ in 0..round {
            slow.push(stalled(&bridge, Some(TOKEN), 1000).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let read = tokio::time::timeout(AT_ONCE, bridge.send("GET", &format!("/Users/{id}"), None))
            .await
            .expect("a real request is served while slow clients are connected");
        println!(
            "scim: a real request took {} ms while {} slow clients were connected",
            started.elapsed().as_millis(),
            slow.len()
        );
        assert_eq!(read.status, 200);
    }
    assert_eq!(
        bridge.server.instances_made(),
        1,
        "one instance served it all"
    );
    for stream in &mut slow {
        let head = tokio::time::timeout(Duration::from_secs(120), answer_head(stream))
            .await
            .expect("the body timeout ends it");
        assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    }
}

#[tokio::test]
async fn the_wait_for_an_instance_is_bounded_by_a_503_with_retry_after() {
    let bridge = bridge_with(ScimOptions {
        instances: 1,
        limits: ScimLimits {
            instance_wait: Duration::from_millis(300),
            ..ScimLimits::default()
        },
        ..ScimOptions::default()
    })
    .await;
    let id = with_a_user(&bridge).await;
    bridge
        .emulator
        .set_latency("GET /agents/{id}", Duration::from_secs(3));
    let path = format!("/Users/{id}");
    let (slow, busy) = tokio::join!(bridge.send("GET", &path, None), async {
        while bridge.emulator.requests().last().map(|r| r.route.as_str())
            != Some("GET /agents/{id}")
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bridge.send("GET", "/ServiceProviderConfig", None).await
    });
    assert_eq!(slow.status, 200);
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.headers["retry-after"], "5");
    let after = bridge.send("GET", "/ServiceProviderConfig", None).await;
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let bridge = bridge_with(options(ScimLimits {
        max_connections: 2,
        header_timeout: Duration::from_secs(60),
        ..ScimLimits::default()
    }))
    .await;
    let first = TcpStream::connect(bridge.authority()).await.unwrap();
    let _second = TcpStream::connect(bridge.authority()).await.unwrap();
    let third = bridge.send("GET", "/ServiceProviderConfig", None);
    tokio::pin!(third);
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut third)
            .await
            .is_err(),
        "a third connection is not served while two are open"
    );
    drop(first);
    let answer = tokio::time::timeout(AT_ONCE, third)
        .await
        .expect("served once a connection closed");
    assert_eq!(answer.status, 200);
}

/// The answer streams while the component writes it: a group of 400 members whose names are
/// long is an answer of several MiB.
#[tokio::test]
async fn a_groups_answer_of_several_mib_arrives_whole() {
    let bridge = bridge_with(ScimOptions::default()).await;
    let members = 400;
    let long_name = "n".repeat(8 << 10);
    let mut config = config(&bridge.emulator, CUSTOMER);
    config.concurrency = Some(4);
    let mut session = runtime().session(config);
    let agents: Vec<_> = (0..members)
        .map(|i| {
            let mut agent = new_agent(&uid(1000 + i));
            agent.tenant_id = TENANT.into();
            agent.name = format!("{long_name} {i}");
            agent
        })
        .collect();
    let outcomes = session
        .onboard_agents(agents, onboard_options(None))
        .await
        .unwrap();
    assert!(succeeded(&outcomes));
    let group = bridge
        .send("GET", "/Groups?excludedAttributes=members", None)
        .await;
    let id = group.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(group.body["Resources"][0]["displayName"], INBOX);
    let values: Vec<_> = (0..members)
        .map(|i| json!({"value": uid(1000 + i)}))
        .collect();
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": values}]});
    let added = bridge
        .send("PATCH", &format!("/Groups/{id}"), Some(add))
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let read = bridge.send("GET", &format!("/Groups/{id}"), None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["members"].as_array().unwrap().len(),
        members as usize
    );
    let size = read.body.to_string().len();
    assert!(size > 3 << 20, "{size} bytes");
    println!("scim: GET /Groups/{{id}} answered {size} bytes whole");
}

/// `smartcomm scim serve [args]` run by `sh`, after `shell` (a `ulimit`, say), with the
/// emulator's settings, the SCIM token and `env`; its stderr is gathered as it comes.
pub struct Served {
    child: tokio::process::Child,
    pub authority: String,
    /// The client's TLS, when the server speaks HTTPS.
    pub tls: Option<tokio_rustls::TlsConnector>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Served {
    pub async fn start(
        emulator: &smartcomm_emulator::Emulator,
        shell: &str,
        args: &str,
        env: &[(&str, &str)],
    ) -> Served {
        let mut command = Served::command(emulator, shell, args);
        for (name, value) in env {
            command.env(name, value);
        }
        Served::spawn(command).await
    }

    /// The command, to change before `spawn`.
    pub fn command(
        emulator: &smartcomm_emulator::Emulator,
        shell: &str,
        args: &str,
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "{shell} exec \"$0\" scim serve --listen 127.0.0.1:0 --tenant-id {TENANT} {args}"
            ))
            .arg(env!("CARGO_BIN_EXE_smartcomm"))
            .env_remove("SMARTCOMM_LOG")
            .env_remove("SMARTCOMM_SCIM_INBOXES")
            .env_remove("SMARTCOMM_SCIM_TOKEN_FILE")
            .env_remove("SMARTCOMM_CALL_DEADLINE")
            .envs(emulator_env(emulator, CUSTOMER))
            .env("SMARTCOMM_SCIM_TOKEN", TOKEN)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Starts `command` and waits for the first line, the base URL.
    pub async fn spawn(mut command: tokio::process::Command) -> Served {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = command.spawn().expect("smartcomm runs");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let gathered = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = gathered.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(120), stdout.next_line())
            .await
            .expect("it starts")
            .unwrap()
            .unwrap_or_else(|| panic!("no base URL: {}", stderr.lock().unwrap()));
        let authority = ["SCIM endpoint: http://", "SCIM endpoint: https://"]
            .iter()
            .find_map(|prefix| first.strip_prefix(prefix))
            .and_then(|rest| rest.strip_suffix("/scim/v2"))
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        Served {
            child,
            authority,
            tls: None,
            stderr,
        }
    }

    /// Sends `signal` (`TERM`, `HUP`, …) to the server, by its process id.
    pub async fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = tokio::process::Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .await
            .unwrap();
        assert!(status.success(), "kill -s {signal} {pid}");
    }

    /// The server's exit code, once it exits within `within`.
    pub async fn exit_code(&mut self, within: Duration) -> i32 {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("it exits within {within:?}: {}", self.stderr()))
            .unwrap();
        status.code().expect("an exit code, not a signal")
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> crate::scim::Answer {
        self.send_as(method, path, body, TOKEN).await
    }

    /// Sends a SCIM request with `token`, over TLS when the server speaks it.
    pub async fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        token: &str,
    ) -> crate::scim::Answer {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("/scim/v2{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json");
        let body = bytes::Bytes::from(body.map(|b| b.to_string()).unwrap_or_default());
        match &self.tls {
            None => crate::scim::exchange_at(&self.authority, request, body).await,
            Some(tls) => {
                let stream = crate::certificates::connect(tls, &self.authority).await;
                crate::scim::exchange_on(stream, &self.authority, request, body).await
            }
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// User and system CPU time the server has used, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // The fields after the command's name, which is in parentheses: utime is the 14th
        // field of the line, stime the 15th.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

fn clock_ticks_per_second() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// With its file descriptors used up by open connections, the server logs the failed
/// accept and pauses instead of spinning, then serves again once they close.
#[tokio::test(flavor = "multi_thread")]
async fn out_of_file_descriptors_the_server_logs_pauses_and_serves_again() {
    let emulator = emulator().await;
    let served = Served::start(&emulator, "ulimit -n 64;", "", &[]).await;
    assert_eq!(
        served
            .send("GET", "/ServiceProviderConfig", None)
            .await
            .status,
        200
    );
    let mut held = Vec::new();
    for _ in 0..120 {
        if let Ok(stream) = TcpStream::connect(&served.authority).await {
            held.push(stream);
        }
    }
    let logged = async {
        while !served.stderr().contains("accepting a connection failed") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(AT_ONCE, logged)
        .await
        .unwrap_or_else(|_| panic!("no failed accept was logged: {}", served.stderr()));
    let before = served.cpu_ticks();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = served.cpu_ticks() - before;
    assert!(
        used < clock_ticks_per_second(),
        "{used} ticks of CPU in 2 s while out of file descriptors: the accept loop spins"
    );
    drop(held);
    let served_again = async {
        loop {
            let answer = served.send("GET", "/ServiceProviderConfig", None).await;
            if answer.status == 200 {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), served_again)
        .await
        .expect("it serves again once the connections close");
    assert!(
        served.stderr().contains("too many open files")
            || served.stderr().contains("Too many open files"),
        "{}",
        served.stderr()
    );
}

/// The inbox map comes from `--inboxes FILE`, or as SMARTCOMM_SCIM_INBOXES, the map itself,
/// as the component reads it under other hosts; a bad one stops the command, naming where it
/// came from.
#[tokio::test(flavor = "multi_thread")]
async fn scim_serve_reads_the_inbox_map_from_a_file_or_smartcomm_scim_inboxes() {
    let emulator = emulator().await;
    let map = json!({ INBOX: seeded_number(50) }).to_string();
    let file = crate::cli::file("scim-inboxes.json", &map);
    let filter = smartcomm::request::percent_encode(&format!(r#"displayName eq "{INBOX}""#));
    let query = format!("/Groups?filter={filter}&excludedAttributes=members");
    for (args, env) in [
        (format!("--inboxes {}", file.display()), vec![]),
        (
            String::new(),
            vec![("SMARTCOMM_SCIM_INBOXES", map.as_str())],
        ),
    ] {
        let served = Served::start(&emulator, "", &args, &env).await;
        let found = served.send("GET", &query, None).await;
        assert_eq!(
            found.body["totalResults"], 1,
            "{args} {env:?}: {}",
            found.body
        );
        assert_eq!(found.body["Resources"][0]["displayName"], INBOX);
    }
    let run = crate::cli::smartcomm(
        Some(&emulator),
        &[
            "scim",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tenant-id",
            TENANT,
        ],
        &[
            ("SMARTCOMM_SCIM_TOKEN", TOKEN),
            ("SMARTCOMM_SCIM_INBOXES", r#"{"Store 9": "555-0100"}"#),
        ],
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("SMARTCOMM_SCIM_INBOXES"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Store 9"), "{}", run.stderr);
}

/// A request head larger than SCIM needs is refused before it is read whole.
#[tokio::test]
async fn a_request_head_over_the_limit_is_a_431() {
    let bridge = bridge_with(ScimOptions::default()).await;
    let padded = http::Request::builder()
        .method("GET")
        .uri("/scim/v2/ServiceProviderConfig")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-padding", "p".repeat(20 << 10));
    let answer = bridge.exchange(padded, bytes::Bytes::new()).await;
    assert_eq!(answer.status, 431);
    let request = http::Request::builder()
        .method("GET")
        .uri("/scim/v2/ServiceProviderConfig")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-padding", "p".repeat(8 << 10));
    assert_eq!(
        bridge.exchange(request, bytes::Bytes::new()).await.status,
        200
    );
}
