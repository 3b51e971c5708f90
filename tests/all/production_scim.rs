//! docs/production.md, "The SCIM endpoint", run as it is written: every command block marked
//! `<!-- cargo test: NAME -->` is taken from the page and run in bash, in order, with the
//! page's variables set to folders and an address of this test's own, against the emulator
//! and a certificate made here. The shipped unit starts the page's command in the page's
//! folder, and the nginx example agrees with the server's limits.

use crate::certificates::{self, TestCa};
use crate::common::*;
use crate::scim::TENANT;
use smartcomm_host::{RuntimeOptions, ScimLimits, ScimOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const AT_ONCE: Duration = Duration::from_secs(20);
const SECTION: &str = "## The SCIM endpoint";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

/// The section's command blocks: each marker (`cargo test: NAME`, `not run: …`) and its code.
fn blocks() -> Vec<(String, String)> {
    let page = std::fs::read_to_string(repository().join("docs/production.md")).unwrap();
    let section = &page[page.find(SECTION).expect("the section")..];
    let section = match section[SECTION.len()..].find("\n## ") {
        Some(end) => &section[..SECTION.len() + end],
        None => section,
    };
    let lines: Vec<&str> = section.lines().collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line != "```sh" {
            continue;
        }
        let marker = lines[i - 1]
            .strip_prefix("<!-- ")
            .and_then(|m| m.strip_suffix(" -->"))
            .unwrap_or_else(|| panic!("a ```sh block without a marker after {:?}", lines[i - 1]));
        let code: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| **l != "```")
            .copied()
            .collect();
        blocks.push((marker.to_string(), code.join("\n") + "\n"));
    }
    blocks
}

/// The blocks this test runs, by name, and the variables the page's first block exports.
struct Page {
    run: BTreeMap<String, String>,
    not_run: Vec<String>,
}

impl Page {
    fn read() -> Page {
        let (mut run, mut not_run) = (BTreeMap::new(), Vec::new());
        for (marker, code) in blocks() {
            match marker.strip_prefix("cargo test: ") {
                Some(name) => assert!(run.insert(name.to_string(), code).is_none(), "{name} twice"),
                None => {
                    assert!(marker.starts_with("not run: "), "{marker}");
                    not_run.push(code);
                }
            }
        }
        Page { run, not_run }
    }

    fn code(&mut self, name: &str) -> String {
        self.run
            .remove(name)
            .unwrap_or_else(|| panic!("no block named {name} (or run twice)"))
    }

    /// The variables the "not run" block of folders exports, as the page gives them.
    fn folders(&self) -> BTreeMap<String, String> {
        let block = self
            .not_run
            .iter()
            .find(|code| code.contains("export SCIM="))
            .unwrap();
        block
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .map(|line| {
                let (name, rest) = line.split_once('=').unwrap();
                (
                    name.to_string(),
                    rest.split_whitespace().next().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// Runs `code` as the page's reader would, in `bash -euo pipefail`, from the repository.
fn bash(code: &str, env: &BTreeMap<String, String>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", code])
        .current_dir(repository())
        .env_remove("SMARTCOMM_SCIM_TOKEN")
        .env_remove("SMARTCOMM_LOG")
        .envs(env);
    command
}

async fn run_block(page: &mut Page, name: &str, env: &BTreeMap<String, String>) -> String {
    let code = page.code(name);
    let out = bash(&code, env).output().await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{name}: {}\n{stdout}\n{stderr}",
        out.status
    );
    stdout.into_owned()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The page's environment: its folders this test's own, `smartcomm` the command this build
/// made, curl trusting the test's CA.
fn environment(work: &Path, ca: &TestCa) -> BTreeMap<String, String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_smartcomm")).parent().unwrap();
    let ca_file = work.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    [
        ("SCIM", work.join("etc-smartcomm-scim")),
        ("LIVE", work.join("live")),
        ("CURL_CA_BUNDLE", ca_file),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_string(), path.display().to_string()))
    .chain([
        ("LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("PATH".to_string(), path),
    ])
    .collect()
}

/// secrets.env as the page describes it, one single-quoted value a line, with the emulator's
/// settings; the page's example names the same variables.
fn write_secrets(scim: &Path, emulator: &smartcomm_emulator::Emulator) {
    let values = [
        ("SMARTCOMM_CUSTOMER_ID", CUSTOMER.to_string()),
        ("SMARTCOMM_USERNAME", emulator.username().to_string()),
        ("SMARTCOMM_PASSWORD", emulator.password().to_string()),
        ("SMARTCOMM_SCIM_TENANT_ID", TENANT.to_string()),
        ("SMARTCOMM_API_URL", emulator.base_url()),
        ("SMARTCOMM_AUTH_URL", emulator.auth_url()),
    ];
    let page = std::fs::read_to_string(repository().join("docs/production.md")).unwrap();
    let section = &page[page.find(SECTION).unwrap()..];
    let example = &section[section.find("```ini\n").unwrap() + 7..];
    let example = &example[..example.find("```").unwrap()];
    let named: Vec<&str> = example
        .lines()
        .map(|l| l.split_once('=').unwrap().0)
        .collect();
    let written: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        named,
        written[..4],
        "the page's secrets.env names what the server needs"
    );
    let text: String = values
        .iter()
        .map(|(name, value)| format!("{name}='{value}'\n"))
        .collect();
    std::fs::write(scim.join("secrets.env"), text).unwrap();
}

type Log = std::sync::Arc<std::sync::Mutex<String>>;

/// The server the page starts, in a process group of its own (bash and smartcomm), and its
/// base URL.
async fn start(code: &str, env: &BTreeMap<String, String>) -> (tokio::process::Child, String, Log) {
    let (child, first, log) = start_command(code, env).await;
    let port = first
        .strip_prefix("SCIM endpoint: https://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/scim/v2"))
        .unwrap_or_else(|| panic!("{first}"));
    let url = format!("https://{}:{port}", certificates::SERVER_NAME);
    (child, url, log)
}

/// `code` started in a process group of its own, the first line it prints, and its log.
async fn start_command(
    code: &str,
    env: &BTreeMap<String, String>,
) -> (tokio::process::Child, String, Log) {
    let mut command = bash(code, env);
    command
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let gathered = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            gathered.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(120), stdout.next_line())
        .await
        .expect("it starts")
        .unwrap()
        .unwrap_or_else(|| panic!("no first line: {}", log.lock().unwrap()));
    (child, first, log)
}

/// Sends SIGTERM to the process group `child` leads.
async fn terminate(child: &tokio::process::Child) {
    let group = format!("-{}", child.id().unwrap());
    let status = tokio::process::Command::new("kill")
        .args(["-s", "TERM", "--", &group])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

async fn status_with(url: &str, ca: &TestCa, token: &str) -> u16 {
    let authority = url.strip_prefix("https://").unwrap();
    let stream = certificates::connect(&ca.connector(), authority).await;
    let request = http::Request::builder()
        .method("GET")
        .uri("/scim/v2/Users")
        .header("authorization", format!("Bearer {token}"));
    crate::scim::exchange_on(stream, authority, request, bytes::Bytes::new())
        .await
        .status
}

async fn until<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let waited = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(AT_ONCE, waited)
        .await
        .unwrap_or_else(|_| panic!("{what}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scim_endpoint_is_deployed_and_renewed_as_the_production_page_says() {
    let emulator = emulator().await;
    let (mut page, ca) = (Page::read(), TestCa::new());
    let work =
        std::env::temp_dir().join(format!("smartcomm-production-scim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("live")).unwrap();
    let mut env = environment(&work, &ca);
    let (scim, live) = (PathBuf::from(&env["SCIM"]), PathBuf::from(&env["LIVE"]));
    let first = ca.server_certificate(2040);
    first.write(&live.join("fullchain.pem"), &live.join("privkey.pem"));

    run_block(&mut page, "scim-folder", &env).await;
    let token = std::fs::read_to_string(scim.join("token")).unwrap();
    assert!(
        token.trim().len() == 64 && token.trim().chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    assert_eq!(
        (
            mode(&scim.join("token")),
            mode(&scim.join("secrets.env")),
            mode(&scim.join("tls"))
        ),
        (0o600, 0o600, 0o700)
    );
    write_secrets(&scim, &emulator);
    run_block(&mut page, "scim-certificate", &env).await;
    assert_eq!(mode(&scim.join("tls/key.pem")), 0o600);

    let (mut server, url, log) = start(&page.code("scim-start"), &env).await;
    env.insert("SCIM_URL".into(), url.clone());
    let checked = run_block(&mut page, "scim-check", &env).await;
    assert!(checked.starts_with("ok\n"), "{checked}");
    assert!(
        checked.contains("notAfter=Jan  1 00:00:00 2040 GMT"),
        "{checked}"
    );
    assert_eq!(status_with(&url, &ca, token.trim()).await, 200);

    let rotated = run_block(&mut page, "scim-rotate", &env).await;
    let new = rotated.trim();
    assert!(new.len() == 64 && new != token.trim(), "{rotated}");
    until("the new token is taken", || async {
        status_with(&url, &ca, new).await == 200
    })
    .await;
    assert_eq!(status_with(&url, &ca, token.trim()).await, 401);

    let renewed = ca.server_certificate(2041);
    renewed.write(&live.join("fullchain.pem"), &live.join("privkey.pem"));
    run_block(&mut page, "scim-renew", &env).await;
    let authority = url.strip_prefix("https://").unwrap().to_string();
    let connector = ca.connector();
    until("the renewed certificate is served", || async {
        certificates::presented(&certificates::connect(&connector, &authority).await) == renewed.der
    })
    .await;
    terminate(&server).await;
    let stopped = tokio::time::timeout(AT_ONCE, server.wait())
        .await
        .expect("it stops")
        .unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(stopped.code(), Some(0), "{log}");
    assert!(
        !log.contains(new) && !log.contains(token.trim()),
        "a token in the log"
    );
    assert!(
        page.run.is_empty(),
        "blocks this test did not run: {:?}",
        page.run.keys()
    );
}

/// docs/scim.md's first commands, as written, from the repository: with the emulator's
/// settings and a tenant id in the shell, the server serves where the page says it does.
#[tokio::test(flavor = "multi_thread")]
async fn the_scim_pages_first_commands_serve_as_written() {
    let emulator = emulator().await;
    let page = std::fs::read_to_string(repository().join("docs/scim.md")).unwrap();
    let marker = "<!-- cargo test: scim-serve -->\n```sh\n";
    let code = &page[page.find(marker).expect("docs/scim.md's scim-serve block") + marker.len()..];
    let code = &code[..code.find("```").unwrap()];
    let bin = Path::new(env!("CARGO_BIN_EXE_smartcomm")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let env: BTreeMap<String, String> = [("PATH", path), ("ENTRA_TENANT_ID", TENANT.to_string())]
        .into_iter()
        .chain(emulator_env(&emulator, CUSTOMER))
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    let (mut server, first, log) = start_command(code, &env).await;
    assert_eq!(first, "SCIM endpoint: http://127.0.0.1:8443/scim/v2");
    assert!(
        page.contains(&format!("It prints `{first}`")),
        "the page names its first line"
    );
    let health = get_on_a_new_connection("127.0.0.1:8443", "/health").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("\r\n\r\nok\n"),
        "{health}"
    );
    let without_token = get_on_a_new_connection("127.0.0.1:8443", "/scim/v2/Groups").await;
    assert!(without_token.starts_with("HTTP/1.1 401"), "{without_token}");
    terminate(&server).await;
    let stopped = tokio::time::timeout(AT_ONCE, server.wait())
        .await
        .expect("it stops")
        .unwrap();
    assert_eq!(stopped.code(), Some(0), "{}", log.lock().unwrap());
}

/// One GET on a connection of its own, and the whole answer.
async fn get_on_a_new_connection(authority: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(AT_ONCE, stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    answer
}

/// The unit starts the page's command, as the page installs it, in the page's folder and
/// address; `systemd-analyze verify` finds nothing to say, where it is installed.
#[tokio::test]
async fn the_unit_runs_the_pages_command_in_the_pages_folder() {
    let mut page = Page::read();
    let folders = page.folders();
    let unit_path = repository().join("deploy/scim/smartcomm-scim.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let setting = |name: &str| -> String {
        unit.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name}"))
            .to_string()
    };
    let install = page
        .not_run
        .iter()
        .find(|code| code.contains("cargo install"))
        .unwrap();
    assert!(install.contains("--root /usr/local"), "{install}");
    let start = page.code("scim-start");
    let command = start
        .lines()
        .find(|line| line.starts_with("smartcomm "))
        .unwrap();
    let expected = command
        .replace('"', "")
        .replace("$SCIM", &folders["SCIM"])
        .replace("$LISTEN", &folders["LISTEN"])
        .replacen("smartcomm ", "/usr/local/bin/smartcomm ", 1);
    assert_eq!(setting("ExecStart"), expected);
    assert_eq!(
        setting("EnvironmentFile"),
        format!("{}/secrets.env", folders["SCIM"])
    );
    verify_with_systemd(&unit_path).await;
}

async fn verify_with_systemd(unit: &Path) {
    let Ok(which) = std::process::Command::new("sh")
        .args(["-c", "command -v systemd-analyze"])
        .output()
    else {
        return;
    };
    if !which.status.success() {
        println!("not checked: systemd-analyze is not installed here");
        return;
    }
    // An image of the machine the unit expects: systemd's own units, and executables at the
    // unit's paths (verify refuses a command that is not there).
    let image = std::env::temp_dir().join(format!("smartcomm-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&image);
    for dir in [
        "usr/lib/systemd",
        "etc/systemd/system",
        "usr/local/bin",
        "bin",
    ] {
        std::fs::create_dir_all(image.join(dir)).unwrap();
    }
    let copied = std::process::Command::new("cp")
        .args(["-a", "/lib/systemd/system"])
        .arg(image.join("usr/lib/systemd/"))
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::copy(
        unit,
        image
            .join("etc/systemd/system")
            .join(unit.file_name().unwrap()),
    )
    .unwrap();
    std::fs::copy("/bin/true", image.join("usr/local/bin/smartcomm")).unwrap();
    std::fs::copy("/bin/kill", image.join("bin/kill")).unwrap();
    let verified = tokio::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", image.display()))
        .arg(unit.file_name().unwrap())
        .output()
        .await
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        verified.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

/// The nginx example's numbers agree with the server's: it closes idle connections before
/// the server does, waits longer than a request may take, and lets the largest body through.
/// Where nginx is installed, the example itself runs in front of `smartcomm scim serve`.
#[tokio::test(flavor = "multi_thread")]
async fn the_nginx_example_agrees_with_the_servers_limits_and_proxies_scim() {
    let example = std::fs::read_to_string(repository().join("deploy/scim/nginx.conf")).unwrap();
    let seconds = |directive: &str| -> u64 {
        let line = example
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("{directive} ")))
            .unwrap_or_else(|| panic!("{directive}"));
        let value = line[directive.len()..].trim().trim_end_matches(';');
        value.trim_end_matches('s').parse().unwrap()
    };
    let (options, limits) = (ScimOptions::default(), ScimLimits::default());
    assert!(Duration::from_secs(seconds("keepalive_timeout")) < limits.idle_timeout);
    let longest = options.request_deadline + RuntimeOptions::default().deadline_margin;
    assert!(Duration::from_secs(seconds("proxy_read_timeout")) > longest);
    assert!(example.contains("client_max_body_size 1m;"));
    assert_eq!(limits.max_body_bytes, 1 << 20);
    let keep_alive = [
        "proxy_http_version 1.1;",
        "proxy_set_header Connection \"\";",
    ];
    assert!(keep_alive.iter().all(|line| example.contains(line)));
    match nginx() {
        Some(nginx) => nginx_in_front(&nginx, &example).await,
        None => println!("not run: nginx is not installed here, and apt-get cannot fetch it"),
    }
}

/// nginx: the machine's, or else Debian's package unpacked into the target folder on first
/// use (`apt-get download`, no install: the machine is left as it was).
fn nginx() -> Option<PathBuf> {
    if let Some(installed) = which("nginx") {
        return Some(installed);
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nginx");
    let binary = dir.join("usr/sbin/nginx");
    if binary.is_file() {
        return Some(binary);
    }
    which("apt-get")?;
    let download = dir.join("download");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&download).unwrap();
    crate::tools::run_ok(
        std::process::Command::new("apt-get")
            .args(["download", "--quiet", "nginx"])
            .current_dir(&download),
    );
    let package = std::fs::read_dir(&download)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    crate::tools::run_ok(
        std::process::Command::new("dpkg")
            .arg("-x")
            .arg(package.path())
            .arg(&dir),
    );
    Some(binary)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// The example as it is, but for its addresses, name and certificate, which `replace`
/// names (each must be in it), in front of the real `smartcomm scim serve`.
async fn nginx_in_front(nginx: &Path, example: &str) {
    use crate::scim::{TOKEN, entra_user, uid};
    let emulator = emulator().await;
    let served = crate::scim_server::Served::start(&emulator, "", "", &[]).await;
    let ca = TestCa::new();
    let work = std::env::temp_dir().join(format!("smartcomm-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("logs")).unwrap();
    let (cert, key) = (work.join("cert.pem"), work.join("key.pem"));
    ca.server_certificate(2040).write(&cert, &key);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = example.to_string();
    for (from, to) in [
        (
            "server 127.0.0.1:8080;".to_string(),
            format!("server {};", served.authority),
        ),
        (
            "listen 443 ssl;".to_string(),
            format!("listen 127.0.0.1:{port} ssl;"),
        ),
        (
            "server_name scim.example.com;".to_string(),
            "server_name localhost;".to_string(),
        ),
        (
            "/etc/letsencrypt/live/scim.example.com/fullchain.pem".to_string(),
            cert.display().to_string(),
        ),
        (
            "/etc/letsencrypt/live/scim.example.com/privkey.pem".to_string(),
            key.display().to_string(),
        ),
    ] {
        assert!(config.contains(&from), "{from}");
        config = config.replace(&from, &to);
    }
    std::fs::write(work.join("smartcomm-scim.conf"), config).unwrap();
    let temp: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .iter()
        .map(|t| format!("{t}_temp_path {}/{t};\n", work.display()))
        .collect();
    let main = format!(
        "daemon off;\nmaster_process off;\npid {w}/nginx.pid;\nerror_log {w}/logs/error.log;\n\
         events {{}}\nhttp {{\naccess_log off;\n{temp}include {w}/smartcomm-scim.conf;\n}}\n",
        w = work.display()
    );
    std::fs::write(work.join("nginx.conf"), main).unwrap();
    let args = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(nginx);
        command
            .arg("-p")
            .arg(&work)
            .arg("-e")
            .arg(work.join("logs/error.log"));
        command.arg("-c").arg(work.join("nginx.conf")).args(extra);
        command
    };
    let tested = args(&["-t"]).output().await.unwrap();
    assert!(
        tested.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&tested.stderr)
    );
    // One process (`master_process off`): a worker would outlive a killed master, orphaned,
    // holding the test's output open.
    let mut running = args(&[]).kill_on_drop(true).spawn().unwrap();
    let authority = format!("localhost:{port}");
    until("nginx listens", || async {
        tokio::net::TcpStream::connect(&authority).await.is_ok()
    })
    .await;
    let send = async |method: &str, path: &str, body: Option<serde_json::Value>| {
        let stream = certificates::connect(&ca.connector(), &authority).await;
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/scim+json");
        let body = bytes::Bytes::from(body.map(|b| b.to_string()).unwrap_or_default());
        crate::scim::exchange_on(stream, &authority, request, body).await
    };
    let id = uid(1);
    let created = send(
        "POST",
        "/scim/v2/Users",
        Some(entra_user(&id, "n@x.example")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = format!("https://localhost/scim/v2/Users/{id}");
    assert_eq!(
        created.headers["location"],
        location.as_str(),
        "the public URL"
    );
    let patch =
        serde_json::json!({"Operations": [{"op": "replace", "path": "displayName", "value": "N"}]});
    assert_eq!(
        send("PATCH", &format!("/scim/v2/Users/{id}"), Some(patch))
            .await
            .status,
        200
    );
    let mut stream = certificates::connect(&ca.connector(), &authority).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut health = String::new();
    stream.read_to_string(&mut health).await.unwrap();
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("\r\n\r\nok\n"),
        "{health}"
    );
    running.kill().await.unwrap();
    println!(
        "nginx ({}) proxied SCIM to smartcomm scim serve as deploy/scim/nginx.conf says",
        nginx.display()
    );
}
