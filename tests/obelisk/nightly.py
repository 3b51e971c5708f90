"""The shipped nightly sync (deploy/obelisk), deployed and run with the commands of
docs/production.md as they are written there, against the emulator's API and Graph group:

- the systemd unit: `systemd-analyze verify`, and the same command and folders as the page;
- the deployment folder, the settings (the mapping, sidecar and protected agents of
  `smartcomm sync`), the verify and the server, which logs no warning;
- a first night onboards the group, a second has nothing to do, a third would deactivate too
  many and stops with its plan and a warning naming it, the approval applies exactly that
  plan, and a fourth night is in sync;
- the server restarted on the same folder keeps its history and its schedule, and wrote
  nothing outside the deployment folder.
"""

import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness import (ROOT, Obelisk, Server, check, execution_id, ok, origin, run, say, warnings,
                     writes)

SYNC_GROUP = "smartcomm-deploy:entra/nightly.sync-group"
# The execution that Obelisk keeps for the schedule, pending until its next tick.
CRON = f"obelisk-cron-{SYNC_GROUP}"
ENTRA_TENANT = "0a1b2c3d-0000-4000-8000-00000000e17a"
ENTRA_GROUP = "5b6c7d8e-0000-4000-8000-00000000abcd"
UNIT = ROOT / "deploy" / "obelisk" / "smartcomm-nightly.service"
PROTECTED = "night-user-029"
# The files of the page's `settings` block, as an administrator would write them.
MAPPING = {"fields": {"store": "officeLocation"}, "defaults": {"roles": ["member"]}}
SIDECAR = "user_object_id,roles\nnight-user-001,member;manager\n"
PROTECT = f"# kept whatever the group says\n{PROTECTED}\n"


def entra_user(i, enabled=True):
    return {"@odata.type": "#microsoft.graph.user", "id": f"night-user-{i:03}",
            "displayName": f"Night Associate {i}", "userPrincipalName": f"night{i}@example.com",
            "department": "Front End", "officeLocation": f"Store {1200 + i % 3}",
            "accountEnabled": enabled}


# ---- the unit --------------------------------------------------------------------------------

def page_folders(docs):
    """The folders the page's first block exports, by name."""
    block = next(code for _, _, code in docs.not_run if "export DEPLOY=" in code)
    return dict(re.findall(r"^export (\w+)=(\S+)", block, re.M))


def unit_settings():
    return dict(re.findall(r"^(\w+)=(.*)$", UNIT.read_text(), re.M))


def check_unit(docs, work):
    """The unit starts the page's command in the page's folders, and systemd finds it valid."""
    folders = page_folders(docs)
    unit = unit_settings()
    start = [line for line in docs.commands("start") if line.startswith("obelisk ")]
    expected = start[0].replace('"', "").replace("$DEPLOY", folders["DEPLOY"])
    expected = expected.replace("obelisk ", f"{folders['OBELISK_ROOT']}/bin/obelisk ", 1)
    check(unit["ExecStart"] == expected, f"the unit runs the page's command: {unit['ExecStart']}")
    deploy = folders["DEPLOY"]
    check(unit["EnvironmentFile"] == f"{deploy}/secrets.env"
          and unit["ReadWritePaths"] == f"{deploy}/history {deploy}/cache",
          "the unit reads the page's secrets.env and may write only history/ and cache/")
    if not shutil.which("systemd-analyze"):
        say("not checked: systemd-analyze is not installed here")
        return
    # An image of the machine the unit expects: systemd's own units, and an executable at
    # the unit's path (verify refuses a command that is not there).
    image = work / "unit-root"
    shutil.copytree("/lib/systemd/system", image / "usr/lib/systemd/system", symlinks=True)
    (image / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, image / "etc/systemd/system" / UNIT.name)
    binary = image / folders["OBELISK_ROOT"].lstrip("/") / "bin/obelisk"
    binary.parent.mkdir(parents=True)
    shutil.copy("/bin/true", binary)
    verified = subprocess.run(["systemd-analyze", "verify", f"--root={image}", UNIT.name],
                              text=True, capture_output=True)
    said = (verified.stdout + verified.stderr).strip()
    check(verified.returncode == 0 and not said,
          f"systemd-analyze verify finds nothing to say about the unit {said!r}")


# ---- the deployment --------------------------------------------------------------------------

def secrets_env(settings):
    """secrets.env as the page describes it: one variable a line, single-quoted. Against the
    emulator, it also names its URLs and their origins (loopback, plain HTTP)."""
    values = dict(settings)
    for name in ("API", "AUTH", "GRAPH", "LOGIN"):
        values[f"SMARTCOMM_{name}_ORIGIN"] = origin(settings[f"SMARTCOMM_{name}_URL"])
    return "".join(f"{name}='{value}'\n" for name, value in sorted(values.items()))


def deploy(docs, env, settings, work):
    deploy_dir = Path(env["DEPLOY"])
    docs.run("deploy", env=env)
    modes = [(deploy_dir / name).stat().st_mode & 0o777
             for name in ("secrets.env", "history", "cache")]
    check(modes == [0o600, 0o700, 0o700],
          "secrets.env, history/ and cache/ are made their owner's alone")
    (deploy_dir / "secrets.env").write_text(secrets_env(settings))
    (deploy_dir / "mapping.json").write_text(json.dumps(MAPPING))
    (deploy_dir / "sidecar.csv").write_text(SIDECAR)
    (deploy_dir / "protected.txt").write_text(PROTECT)
    written = docs.run("settings", env=env)
    say("the settings' plan by hand:\n" + written.stdout[-600:])
    check("Plan: 29 to onboard" in written.stdout,
          "`smartcomm sync plan` with the settings plans the 29 enabled users")
    deployment = (deploy_dir / "deployment.toml").read_text()
    check(deployment.startswith((ROOT / "deploy/obelisk/deployment.toml").read_text())
          and f'ffqn = "{SYNC_GROUP}"' in deployment and 'schedule = "0 2 * * *"' in deployment,
          "deployment.toml is the shipped one and the cron section")
    params = json.loads((deploy_dir / "nightly.json").read_text())
    check(params[0]["group_id"] == ENTRA_GROUP and params[0]["options"]["protected"] == [PROTECTED]
          and params[0]["extras"][0]["roles"] == ["member", "manager"],
          "nightly.json holds the group, the protected agent and the sidecar's roles")
    verified = docs.run("verify", env=server_env(env, work))
    output = verified.stdout + verified.stderr
    check("Obelisk configuration was verified" in output
          and "matches requirement =0.38.3" in output,
          "obelisk server verify: verified, under the Obelisk server.toml asks for")
    left, plain_http = warnings(output)
    check(left == [], f"verify warns of nothing but the emulator's plain-HTTP secret hosts "
                      f"({plain_http} of those): {left}")
    refused_by_verify(docs, env, work)


def refused_by_verify(docs, env, work):
    """What the page says verify and the server refuse: another Obelisk than the one
    server.toml names, and cron parameters that are not the workflow's."""
    deploy_dir = Path(env["DEPLOY"])
    for name, old, new, says in (
            ("server.toml", 'obelisk-version = "=0.38.3"', 'obelisk-version = "=0.38.2"',
             "Obelisk version mismatch"),
            ("deployment.toml", '"group_id"', '"group"', "params do not match")):
        original = (deploy_dir / name).read_text()
        check(old in original, f"{name} holds {old}")
        (deploy_dir / name).write_text(original.replace(old, new))
        try:
            refused = docs.run("verify", env=server_env(env, work), check=False)
        finally:
            (deploy_dir / name).write_text(original)
        output = refused.stdout + refused.stderr
        check(refused.returncode != 0 and says in output,
              f"verify refuses {name} with {new}: {says}")


def server_env(env, work):
    """The server's environment: a HOME of its own, to see that it writes nothing there."""
    return dict(env, HOME=str(work / "server-home"))


def start(docs, env, work, obelisk_binary, name):
    server = Server(docs, "start", server_env(env, work), work, work / f"{name}.log")
    components = server.wait_until_serving(obelisk_binary, "nightly-sync")
    return server, components


def no_warning(server, expected_plain_http=2):
    left, plain_http = warnings(server.text())
    check(left == [] and plain_http == expected_plain_http,
          f"the server logs no warning but the {plain_http} of the emulator's plain-HTTP secret "
          f"hosts: {left}")


def executions(obelisk_binary, ffqn):
    """The executions of `ffqn` (exactly), newest first, as `execution list --json` gives them."""
    listed = json.loads(run(obelisk_binary, "execution", "list", "--ffqn", ffqn, "--limit", "100",
                            "--json", stdout=subprocess.PIPE).stdout)
    return [e for e in listed if e["ffqn"] == ffqn]


def nights(obelisk_binary):
    return [e["execution_id"] for e in executions(obelisk_binary, SYNC_GROUP)]


def schedules(obelisk_binary):
    """The cron's pending ticks: when each will submit the next night."""
    return [e["pending_state"].get("scheduled_at") for e in executions(obelisk_binary, CRON)
            if e["pending_state"]["status"] == "pending_at"]


def next_two_am():
    now = datetime.now(timezone.utc)
    tick = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if tick <= now:
        tick += timedelta(days=1)
    return tick.strftime("%Y-%m-%dT%H:%M:%S")


# ---- the nights ------------------------------------------------------------------------------

def night(docs, env, obelisk):
    """A night run now, with the page's command; its id and result."""
    submitted = docs.run("night", env=env)
    night_id = execution_id(submitted.stdout)
    return night_id, ok(obelisk.result(night_id))


def the_first_tick(obelisk, obelisk_binary, nights_before):
    """The night a new schedule runs at once, when the server starts with it."""
    for _ in range(300):
        started = [n for n in nights(obelisk_binary) if n not in nights_before]
        if started:
            break
        time.sleep(0.1)
    check(len(started) == 1, f"the server runs the new schedule's first night at once: {started}")
    return started[0], ok(obelisk.result(started[0]))


def first_nights(docs, env, obelisk, obelisk_binary, emulator, deployed_from):
    _, first = the_first_tick(obelisk, obelisk_binary, [])
    check("applied" in first and first["applied"]["summary"]["succeeded"] == 29,
          f"the first night onboards the 29 enabled users: {json.dumps(first)[:300]}")
    say(f"from the page's deploy step to the first night applied: "
        f"{time.monotonic() - deployed_from:.1f} s")
    tenant = [a for a in emulator.account()["agents"] if a["tenant_id"] == ENTRA_TENANT]
    stores = {a["store"] for a in tenant}
    manager = next(a for a in tenant if a["user_object_id"] == "night-user-001")
    check(len(tenant) == 29 and stores == {"Store 1200", "Store 1201", "Store 1202"}
          and sorted(manager["roles"]) == ["manager", "member"],
          "each with its store (officeLocation, the mapping) and the sidecar's roles")
    _, second = night(docs, env, obelisk)
    check("in_sync" in second and second["in_sync"]["onboard"] == 0
          and second["in_sync"]["update"] == 0,
          f"a second night, run now, plans nothing: {second}")


def stopped_night(docs, env, obelisk, emulator, members, server):
    """Half the group leaves: more removals than the default cap (10% of 29, so 3)."""
    remaining = members[:15]
    emulator.set_graph_group(ENTRA_GROUP, remaining)
    emulator.clear_requests()
    live = {f"night-user-{i:03}" for i in range(30)} - {"night-user-004"}
    expected = sorted(live - {m["id"] for m in remaining} - {PROTECTED})
    logged_before = len(server.text().splitlines())
    night_id, stopped = night(docs, env, obelisk)
    stop = stopped.get("stopped_too_many_removals")
    check(stop is not None and (stop["removals"], stop["max_removals"], stop["in_scope"])
          == (len(expected), 3, 29),
          f"the third night would deactivate {len(expected)} of 29, more than 3: it stops")
    plan = stop["plan"]
    removed = sorted(c["user_object_id"] for c in plan["changes"] if c["action"] == "deactivate")
    check(removed == expected and plan["kept"] == [PROTECTED],
          "its result holds the plan: the absent agents' deactivations, the protected one kept")
    check(writes(emulator.requests()) == [], "and nothing was applied")
    new_lines = server.text().splitlines()[logged_before:]
    left, _ = warnings("\n".join(new_lines))
    check(len(left) == 1 and night_id in left[0] and plan["fingerprint"] in left[0]
          and f"{len(expected)} of the 29" in left[0] and "nightly.approve" in left[0],
          f"one warning names the night, its plan and the count: {left}")
    say("the warning: " + left[0][:400])
    return night_id, plan


def approval(docs, env, obelisk, emulator, night_id, plan, work):
    env = dict(env, NIGHT=night_id)
    docs.run("read-stopped", env=env, cwd=work)
    saved = json.loads((work / f"{night_id}.json").read_text())
    check(saved["ok"]["stopped_too_many_removals"]["plan"] == plan,
          "the saved result holds the plan to read")
    emulator.clear_requests()
    approved = docs.run("approve", env=env, cwd=work)
    applied = ok(obelisk.result(execution_id(approved.stdout)))["applied"]
    done = [(c["action"], c["user_object_id"]) for c in applied["changes"]]
    planned = [(c["action"], c["user_object_id"]) for c in plan["changes"]]
    check(done == planned and applied["summary"]["succeeded"] == len(planned),
          f"the approval applies exactly the stopped plan: {applied['summary']}")
    tenant = {a["user_object_id"]: a for a in emulator.account()["agents"]
              if a["tenant_id"] == ENTRA_TENANT}
    deactivated = sorted(u for u, a in tenant.items() if a["active"] is False)
    check(deactivated == sorted(u for _, u in planned) and tenant[PROTECTED]["active"] is True,
          "the plan's agents are deactivated, the protected agent is not")
    patched = {r["route"] for r in writes(emulator.requests())}
    say(f"the approval's writes: {sorted(patched)}")


def restart(docs, env, work, obelisk, server):
    """Stopped and started again on the same folder: the history and the schedule stay, and
    no night runs; after a change of the settings, the new schedule runs a night at once."""
    before, ticks = nights(obelisk.binary), schedules(obelisk.binary)
    seconds = server.stop()
    say(f"the server stopped {seconds:.1f} s after SIGTERM")
    server, _ = start(docs, env, work, obelisk.binary, "server-restarted")
    check(nights(obelisk.binary) == before and schedules(obelisk.binary) == ticks,
          f"restarted, it lists the {len(before)} nights, runs none, and keeps its schedule "
          f"({ticks})")
    no_warning(server)
    server.stop()
    (Path(env["DEPLOY"]) / "sidecar.csv").write_text(SIDECAR + "night-user-002,member;manager\n")
    docs.run("settings", env=env)
    server, _ = start(docs, env, work, obelisk.binary, "server-new-settings")
    _, changed = the_first_tick(obelisk, obelisk.binary, before)
    changes = [(c["action"], c["user_object_id"]) for c in changed["applied"]["changes"]]
    check(changes == [("update", "night-user-002")],
          f"after a change of the settings, a night applies them at once: {changes}")
    check(len(schedules(obelisk.binary)) == 2,
          "the earlier settings' schedule stays listed as pending beside the new one")
    no_warning(server)
    return server


def run_nightly(docs, base_env, obelisk_binary, emulator, settings, work):
    env = dict(base_env, DEPLOY=str(work / "deploy"), TENANT_ID=ENTRA_TENANT,
               GROUP_ID=ENTRA_GROUP)
    (work / "server-home").mkdir()
    members = [entra_user(i) for i in range(30)]
    members[4]["accountEnabled"] = False
    members.insert(2, {"@odata.type": "#microsoft.graph.device", "id": "till-3"})
    emulator.set_graph_group(ENTRA_GROUP, members)  # the plan by hand reads it too
    started = time.monotonic()
    deploy(docs, env, settings, work)
    obelisk = Obelisk(obelisk_binary)
    server, components = start(docs, env, work, obelisk_binary, "server")
    try:
        check(SYNC_GROUP in components and "smartcomm-deploy:entra/nightly.approve" in components,
              "Obelisk offers the nightly workflow and its approval")
        no_warning(server)
        check([tick[:19] for tick in schedules(obelisk_binary)] == [next_two_am()],
              "the cron's next tick is at 02:00 UTC")
        first_nights(docs, env, obelisk, obelisk_binary, emulator, started)
        night_id, plan = stopped_night(docs, env, obelisk, emulator, members, server)
        approval(docs, env, obelisk, emulator, night_id, plan, work)
        last_id, fourth = night(docs, env, obelisk)
        check("in_sync" in fourth and fourth["in_sync"]["deactivate"] == 0,
              f"a fourth night is in sync: {fourth}")
        read = docs.run("read", env=dict(env, NIGHT=last_id))
        check(last_id in read.stdout and '"in_sync"' in read.stdout,
              "the page's read commands list the nights and print the last one's result")
        server = restart(docs, env, work, obelisk, server)
    finally:
        server.stop()
    home = list((work / "server-home").iterdir())
    check(home == [], f"the server wrote nothing in its HOME: {home}")
