// The smartcomm component from JavaScript: transpiled by jco, run under Node with the
// preview2 shim, against the emulator that `smartcomm emulator` serves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const bin = process.env.SMARTCOMM_BIN;
const wasm = process.env.SMARTCOMM_WASM;
let emulator;
let settings = {};
let smartcomm;
let out;

before(async () => {
  assert.ok(bin && wasm, 'SMARTCOMM_BIN and SMARTCOMM_WASM name the CLI and the component');
  // Inside this folder, so the generated module finds the shim in node_modules.
  out = mkdtempSync(join(import.meta.dirname, 'transpiled-'));
  const jco = join(import.meta.dirname, 'node_modules', '.bin', 'jco');
  execFileSync(jco, ['transpile', wasm, '-o', out, '--name', 'smartcomm', '--quiet']);
  smartcomm = await import(pathToFileURL(join(out, 'smartcomm.js')));

  emulator = spawn(bin, ['emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: emulator.stdout });
  for await (const line of lines) {
    const match = /^export (SMARTCOMM_[A-Z_]+)=(.*)$/.exec(line);
    if (match) settings[match[1]] = match[2];
    if (line.startsWith('Press Ctrl-C')) break;
  }
});

after(() => {
  emulator?.kill();
  if (out) rmSync(out, { recursive: true, force: true });
});

function client(customerId = 'js-customer', concurrency = undefined) {
  return new smartcomm.client.Client({
    apiUrl: settings.SMARTCOMM_API_URL,
    authUrl: settings.SMARTCOMM_AUTH_URL,
    customerId,
    auth: { tag: 'credentials', val: { username: settings.SMARTCOMM_USERNAME, password: settings.SMARTCOMM_PASSWORD } },
    concurrency,
  });
}

/// A request to the emulator's control API.
async function control(method, command, body) {
  const response = await fetch(`${settings.SMARTCOMM_API_URL}/__emulator/${command}`, {
    method,
    body: body && JSON.stringify(body),
  });
  assert.equal(response.status, 200, `${method} ${command}`);
  return response.json();
}

function agent(id, numbers = []) {
  return { userObjectId: id, tenantId: 't', name: `Agent ${id}`, upn: `${id}@example.com`, numberProvisioning: numbers };
}

test('a whole story: onboard with numbers, list, update, assign to an inbox, numbers, offboard', () => {
  const { agents, inboxes, numbers } = smartcomm;
  const c = client();
  const free = numbers.listNumbers(c, 'active', undefined).map((n) => n.number);
  assert.equal(free.length, 100);

  const outcomes = agents.onboardAgents(
    c,
    [
      agent('ada', [
        { type: 'messaging', phoneNumber: free[0] },
        { type: 'supervised', phoneNumber: free[1] },
      ]),
      agent('grace'),
    ],
    {},
  );
  assert.deepEqual(outcomes.map((o) => o.tag), ['succeeded', 'succeeded']);

  const listed = agents.listAgents(c, { tenantId: 't' });
  assert.deepEqual(listed.map((a) => a.userObjectId).sort(), ['ada', 'grace']);
  const ada = agents.getAgent(c, 'ada@example.com', 'upn', undefined);
  assert.deepEqual(ada.phoneNumbers.map((p) => p.type), ['messaging', 'supervised']);

  const updated = agents.updateAgent(c, 'grace', undefined, { department: 'Support', roles: { assign: ['manager'], remove: [] } });
  assert.equal(updated.department, 'Support');
  assert.deepEqual(updated.roles, ['member', 'manager']);

  const created = inboxes.createInboxes(
    c,
    [{ name: 'Desk', type: 'shared', phoneNumber: free[2], users: { identifier: 'user-object-id', values: ['ada'] } }],
    {},
  );
  assert.equal(created[0].tag, 'succeeded');
  const assigned = inboxes.assignInboxes(c, [
    {
      inbox: { type: 'shared', identifier: 'phone-number', value: free[2] },
      agents: { identifier: 'upn', values: ['grace@example.com'] },
      operation: 'add',
    },
  ]);
  assert.equal(assigned[0].tag, 'succeeded');
  assert.equal(agents.getAgent(c, 'grace', undefined, undefined).sharedInboxes[0].phoneNumber, free[2]);

  assert.equal(numbers.listNumbers(c, 'assigned', undefined).length, 3);
  const gone = agents.offboardAgents(c, [{ identifier: 'user-object-id', values: ['ada', 'grace'] }], { deprovisionSupervisedInbox: true });
  assert.equal(gone[0].tag, 'succeeded');
  assert.deepEqual(agents.listAgents(c, {}), []);
});

test('errors arrive as the WIT variant: invalid input names item and field, not-found is its own case', () => {
  const { agents } = smartcomm;
  const c = client();
  assert.throws(
    () => agents.onboardAgents(c, [agent('x', [{ type: 'messaging', phoneNumber: '555-0100' }])], {}),
    (e) => {
      assert.equal(e.payload.tag, 'invalid-input');
      assert.equal(e.payload.val[0].index, 0);
      assert.equal(e.payload.val[0].field, 'number_provisioning[0].phone_number');
      return true;
    },
  );
  assert.throws(
    () => agents.getAgent(c, 'nobody', undefined, undefined),
    (e) => e.payload.tag === 'not-found',
  );
});

test('a sync as two steps: a plan from a roster, then an apply of exactly that plan', async () => {
  // The sync functions read their settings from the environment, as an engine's step would.
  const { _setEnv } = await import('@bytecodealliance/preview2-shim/cli');
  _setEnv({ ...settings, SMARTCOMM_CUSTOMER_ID: 'js-sync' });
  const { sync } = smartcomm;
  const desired = [{ agent: agent('s1') }, { agent: agent('s2'), active: true }];
  const options = { scope: [], protected: [] };
  const plan = sync.plan(desired, options);
  assert.equal(plan.summary.onboard, 2);
  assert.deepEqual(plan.changes.map((c) => [c.action, c.userObjectId]), [['onboard', 's1'], ['onboard', 's2']]);
  const report = sync.apply(plan, {});
  assert.equal(report.summary.succeeded, 2);
  const again = sync.plan(desired, options);
  assert.equal(again.summary.unchanged, 2);
  assert.equal(again.changes.length, 0);
  // A plan refused for its removals is the step error's own case.
  assert.throws(
    () => sync.plan([desired[0]], { ...options, maxRemovals: 0 }),
    (e) => e.payload.tag === 'permanent-too-many-removals' && e.payload.val.removals === 1,
  );
});

test('a bulk onboard at concurrency 4: every agent once, and the requests this host kept in flight', async () => {
  const { agents } = smartcomm;
  await control('PUT', 'latency', { route: '*', ms: 100 });
  await control('DELETE', 'requests');
  const c = client('js-bulk', 4);
  const batch = Array.from({ length: 80 }, (_, i) => agent(`b${i}`));
  const outcomes = agents.onboardAgents(c, batch, {});
  assert.deepEqual(new Set(outcomes.map((o) => o.tag)), new Set(['succeeded']));
  assert.equal(outcomes.length, 80);
  const { peak_in_flight: peak } = await control('GET', 'peak-in-flight');
  const stats = c.stats();
  assert.equal(stats.requests, 8n, 'ten agents per request');
  assert.ok(peak >= 1 && peak <= 4, `peak ${peak}`);
  // The test harness reads this line: how many requests jco's host kept in flight at once.
  console.log(`jco: peak in flight ${peak} at concurrency 4`);
  await control('PUT', 'latency', { route: '*', ms: 0 });
});
