"""The smartcomm component from Python: wasmtime-py's dynamic component API, against the
emulator that `smartcomm emulator` serves. Run: python story.py SMARTCOMM_BIN COMPONENT.wasm"""

import json
import re
import subprocess
import sys
import urllib.request

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant


def record(**fields):
    """A WIT record: Python names with `_` become the WIT names with `-`."""
    r = Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def field(r, name):
    return getattr(r, name.replace("_", "-"))


class Smartcomm:
    """Loads the component once; `call(interface, function, *args)` calls an export."""

    def __init__(self, wasm_path, env=None):
        self.engine = wasmtime.Engine()
        self.store = wasmtime.Store(self.engine)
        wasi = wasmtime.WasiConfig()
        # The resource-free functions (`steps`, `sync`) read their settings from here.
        wasi.env = list((env or {}).items())
        self.store.set_wasi(wasi)
        self.store.set_wasi_http()
        linker = Linker(self.engine)
        linker.add_wasip2()
        linker.add_wasi_http()
        self.instance = linker.instantiate(self.store, Component.from_file(self.engine, wasm_path))

    def func(self, interface, name):
        index = self.instance.get_export_index(self.store, f"intelepeer:smartcommunicator/{interface}@0.3.0")
        return self.instance.get_func(self.store, self.instance.get_export_index(self.store, name, index))

    def call(self, interface, name, *args):
        f = self.func(interface, name)
        result = f(self.store, *args)
        f.post_return(self.store)
        return result


def start_emulator(binary):
    process = subprocess.Popen([binary, "emulator", "--port", "0"], stdout=subprocess.PIPE, text=True)
    settings = {}
    for line in process.stdout:
        match = re.match(r"^export (SMARTCOMM_[A-Z_]+)=(.*)$", line.strip())
        if match:
            settings[match.group(1)] = match.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    return process, settings


def main(binary, wasm):
    emulator, s = start_emulator(binary)
    try:
        sc = Smartcomm(wasm)
        config = record(
            api_url=s["SMARTCOMM_API_URL"],
            auth_url=s["SMARTCOMM_AUTH_URL"],
            customer_id="py-customer",
            # `auth`'s cases carry different types (a record, a string), so wasmtime-py picks
            # the case from the value's type and takes no tag: a record means credentials.
            auth=record(username=s["SMARTCOMM_USERNAME"], password=s["SMARTCOMM_PASSWORD"]),
            auth_scheme=None,
            timeout_ms=None,
            retry=None,
            max_response_bytes=None,
            concurrency=None,
            call_deadline=None,
        )
        client = sc.call("client", "[constructor]client", config)

        free = [field(n, "number") for n in sc.call("numbers", "list-numbers", client, "active", None)]
        assert len(free) == 100, free

        def agent(uid, numbers):
            return record(
                user_object_id=uid, tenant_id="t", name=f"Agent {uid}", upn=f"{uid}@example.com",
                consistency_id=None, brand_name=None, department=None, region=None, state=None,
                district=None, store=None, city=None, zip_code=None, roles=None,
                number_provisioning=numbers, enabled_services=None,
            )

        def number(kind, value):
            return record(type=kind, phone_number=value, supervisors=None)

        outcomes = sc.call(
            "agents", "onboard-agents", client,
            [agent("ada", [number("messaging", free[0]), number("supervised", free[1])]), agent("grace", [])],
            record(continue_on_error=None, reassign_inbox=None),
        )
        # wasmtime-py gives variants as Variant(tag, payload) here: every case name survives.
        assert [o.tag for o in outcomes] == ["succeeded", "succeeded"], outcomes

        ada = sc.call("agents", "get-agent", client, "ada@example.com", "upn", None)
        assert [field(p, "type") for p in field(ada, "phone_numbers")] == ["messaging", "supervised"]
        listed = sc.call("agents", "list-agents", client, record(user_object_id=None, tenant_id="t", consistency_id=None, phone_number=None, upn=None))
        assert sorted(field(a, "user_object_id") for a in listed) == ["ada", "grace"]

        changes = record(**{k: None for k in [
            "user_object_id", "tenant_id", "name", "upn", "consistency_id", "brand_name", "region", "state",
            "district", "store", "city", "zip_code", "phone_numbers", "enabled_services", "active"]},
            department="Support", roles=record(assign=["manager"], remove=[]))
        updated = sc.call("agents", "update-agent", client, "grace", None, changes)
        assert field(updated, "department") == "Support" and field(updated, "roles") == ["member", "manager"]

        inbox = record(name="Desk", type="shared", phone_number=free[2], owner=None,
                       users=record(identifier="user-object-id", values=["ada"]))
        assert [o.tag for o in sc.call("inboxes", "create-inboxes", client, [inbox], record(continue_on_error=None))] == ["succeeded"]
        assignment = record(
            inbox=record(type="shared", identifier="phone-number", value=free[2]),
            agents=record(identifier="upn", values=["grace@example.com"]),
            operation="add",
        )
        assert [o.tag for o in sc.call("inboxes", "assign-inboxes", client, [assignment])] == ["succeeded"]
        assert len(sc.call("numbers", "list-numbers", client, "assigned", None)) == 3

        gone = sc.call("agents", "offboard-agents", client,
                       [record(identifier="user-object-id", values=["ada", "grace"])],
                       record(continue_on_error=None, deprovision_supervised_inbox=True))
        assert [o.tag for o in gone] == ["succeeded"]

        # A result's ok and error carry different types, so wasmtime-py returns either one as
        # it is: an error is a `Variant` (the `error` variant's cases share payload types, so
        # they keep their tags); an ok value is a record, a list or a string.
        missing = sc.call("agents", "get-agent", client, "nobody", None, None)
        assert isinstance(missing, Variant) and missing.tag == "not-found", missing
        bad = sc.call("agents", "onboard-agents", client, [agent("x", [number("messaging", "555-0100")])],
                      record(continue_on_error=None, reassign_inbox=None))
        assert isinstance(bad, Variant) and bad.tag == "invalid-input", bad
        problem = bad.payload[0]
        assert (field(problem, "index"), field(problem, "field")) == (0, "number_provisioning[0].phone_number")

        # A sync as two steps, configured from the environment as an engine's step is.
        steps = Smartcomm(wasm, dict(s, SMARTCOMM_CUSTOMER_ID="py-sync"))
        desired = [record(agent=agent(u, []), active=None, shared_inboxes=None) for u in ["s1", "s2"]]
        options = record(absent=None, scope=[], max_removals=None, protected=[])
        plan = steps.call("sync", "plan", desired, options)
        assert not isinstance(plan, Variant), plan
        assert field(field(plan, "summary"), "onboard") == 2, plan
        report = steps.call("sync", "apply", plan, record(continue_on_error=None, approved_removals=None))
        assert not isinstance(report, Variant), report
        assert field(field(report, "summary"), "succeeded") == 2, report
        again = steps.call("sync", "plan", desired, options)
        assert field(field(again, "summary"), "unchanged") == 2 and field(again, "changes") == [], again

        # A bulk onboard at concurrency 4: every agent once, and how many requests this host
        # kept in flight at once (the emulator counts them).
        def control(method, command, body=None):
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(f"{s['SMARTCOMM_API_URL']}/__emulator/{command}", data=data, method=method)
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())

        control("PUT", "latency", {"route": "*", "ms": 100})
        control("DELETE", "requests")
        bulk_config = record(**{field_name.replace("-", "_"): getattr(config, field_name) for field_name in vars(config)})
        setattr(bulk_config, "customer-id", "py-bulk")
        setattr(bulk_config, "concurrency", 4)
        bulk = sc.call("client", "[constructor]client", bulk_config)
        batch = [agent(f"b{i}", []) for i in range(80)]
        outcomes = sc.call("agents", "onboard-agents", bulk, batch, record(continue_on_error=None, reassign_inbox=None))
        assert len(outcomes) == 80 and {o.tag for o in outcomes} == {"succeeded"}, outcomes
        peak = control("GET", "peak-in-flight")["peak_in_flight"]
        assert 1 <= peak <= 4, peak
        assert field(sc.call("client", "[method]client.stats", bulk), "requests") == 8
        print(f"wasmtime-py: peak in flight {peak} at concurrency 4")
        control("PUT", "latency", {"route": "*", "ms": 0})
        print("python story: ok")
    finally:
        emulator.terminate()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
