"""What the Obelisk runs share: checks, the emulator's control API, an Obelisk server started
from a docs block, executions, and the server log's warnings."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CUSTOMER = "12345678"
API = ("127.0.0.1", 5005)  # server.toml's api.listening_addr, in both deployments


def say(text):
    print(f"obelisk: {text}", flush=True)


class Failed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failed(what)
    say(f"ok: {what}")


def run(*args, **kwargs):
    return subprocess.run(args, check=True, text=True, **kwargs)


def origin(url):
    return re.match(r"^\w+://[^/]+", url).group(0)


def start_emulator(smartcomm, work):
    out = open(work / "emulator.log", "w+")
    process = subprocess.Popen([str(smartcomm), "emulator", "--port", "0"], stdout=out,
                               stderr=subprocess.STDOUT, text=True)
    settings = {}
    for _ in range(200):
        out.seek(0)
        settings = dict(re.findall(r"^export (SMARTCOMM_\w+)=(\S+)$", out.read(), re.M))
        if "SMARTCOMM_GRAPH_CLIENT_SECRET" in settings:
            return process, settings
        if process.poll() is not None:
            break
        time.sleep(0.05)
    out.seek(0)
    raise Failed(f"the emulator did not start: {out.read()}")


# ---- an Obelisk server, started as a docs block starts it ----------------------------------

class Server:
    """The server a docs block starts (`bash -c '… obelisk server run …'`), in a process
    group of its own so that stopping it stops the server and not only the shell."""

    def __init__(self, docs, block, env, cwd, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = docs.start(block, env=env, cwd=cwd, log=self.log, new_session=True)

    def wait_until_serving(self, obelisk_binary, component):
        """Waits for the API and the deployment's components; returns `component list`."""
        for _ in range(600):
            if self.process.poll() is not None:
                raise Failed(f"obelisk server stopped: {self.log_path.read_text()}")
            try:
                with socket.create_connection(API, timeout=0.2):
                    listed = subprocess.run([obelisk_binary, "component", "list"], text=True,
                                            capture_output=True)
                    if listed.returncode == 0 and component in listed.stdout:
                        return listed.stdout
            except OSError:
                pass
            time.sleep(0.1)
        raise Failed("obelisk server did not come up in 60 s")

    def stop(self):
        """SIGTERM to the group, as systemd stops a service; returns the seconds it took."""
        started = time.monotonic()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        return time.monotonic() - started

    def text(self):
        return self.log_path.read_text()


# Obelisk's warning for a secret allowed to an `http://` host: the emulator's loopback URLs are
# plain HTTP, the vendor's and Microsoft's are HTTPS (for which Obelisk's source does not
# emit it).
PLAIN_HTTP_SECRET = re.compile(
    r"secrets allowed for potentially unencrypted host `http://127\.0\.0\.1:\d+ \[POST\]`")


def warnings(log_text):
    """The server log's WARN and ERROR lines, but the warning the emulator's plain-HTTP
    secret hosts cause; and how many of those there were."""
    lines = [line for line in log_text.splitlines() if re.search(r"\b(WARN|ERROR)\b", line)]
    plain_http = [line for line in lines if PLAIN_HTTP_SECRET.search(line)]
    return [line for line in lines if line not in plain_http], len(plain_http)


# ---- the emulator's control API ------------------------------------------------------------

class Emulator:
    def __init__(self, base):
        self.base = base.rstrip("/") + "/__emulator/"

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return json.loads(text) if text else None

    def account(self):
        return self._call("GET", "state")["customers"][CUSTOMER]

    def agent(self, user_object_id):
        """Every agent of the account with this user_object_id: one, if all went well."""
        return [a for a in self.account()["agents"] if a.get("user_object_id") == user_object_id]

    def requests(self):
        return self._call("GET", "requests")

    def clear_requests(self):
        self._call("DELETE", "requests")

    def latency(self, route, ms):
        self._call("PUT", "latency", {"route": route, "ms": ms})

    def peak_in_flight(self):
        return self._call("GET", "peak-in-flight")["peak_in_flight"]

    def set_graph_group(self, group, members):
        self._call("PUT", f"graph/groups/{group}", members)

    def fault(self, route, action, times=1):
        self._call("POST", "faults", {"route": route, "times": times, "action": action})


def writes(requests):
    """The requests that change the users API: not an authenticate, not Entra's token."""
    return [r for r in requests if r["method"] in ("POST", "PATCH", "DELETE")
            and not r["route"].endswith(("/authenticate", "/oauth2/v2.0/token"))]


# ---- executions ----------------------------------------------------------------------------

class Obelisk:
    def __init__(self, binary):
        self.binary = binary

    def submit(self, ffqn, params):
        out = run(self.binary, "execution", "submit", ffqn, json.dumps(params),
                  stdout=subprocess.PIPE).stdout
        return out.strip().splitlines()[-1]

    def result(self, execution_id):
        out = run(self.binary, "execution", "result", "--follow", "--json", execution_id,
                  stdout=subprocess.PIPE).stdout
        return json.loads(out)

    def events(self, execution_id):
        out = run(self.binary, "execution", "events", "--json", "--limit", "200", execution_id,
                  stdout=subprocess.PIPE).stdout
        return json.loads(out)

    def call(self, ffqn, *params):
        execution_id = self.submit(ffqn, list(params))
        return execution_id, self.result(execution_id)

    def history(self, execution_id):
        """The kinds of the execution's events, in order: `locked` once per attempt."""
        return [next(iter(e["event"])) for e in self.events(execution_id)["events"]]

    def first_failure(self, execution_id):
        for e in self.events(execution_id)["events"]:
            if "temporarily_failed" in e["event"]:
                return e["event"]["temporarily_failed"]
        return None


def ok(result):
    """The value of an execution that returned `ok`."""
    if isinstance(result, dict) and "ok" in result:
        return result["ok"]
    raise Failed(f"expected an ok result, got {json.dumps(result)[:2000]}")


def err(result):
    """The error of an execution that returned `err`."""
    if isinstance(result, dict) and "error" in result:
        return result["error"]
    raise Failed(f"expected an err result, got {json.dumps(result)[:2000]}")


def execution_id(text):
    """The first execution id (`E_…`) a command printed."""
    found = re.search(r"\bE_[0-9A-Za-z]+\b", text)
    if not found:
        raise Failed(f"no execution id in: {text[:1000]}")
    return found.group(0)
