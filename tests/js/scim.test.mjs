// The SCIM component served by `jco serve` (Node, the preview2 shim's wasi:http server), in
// front of the emulator that `smartcomm emulator` serves: Entra's Test Connection, a user
// created, patched both ways, disabled, read, deleted, and a group's members.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const bin = process.env.SMARTCOMM_BIN;
const wasm = process.env.SMARTCOMM_SCIM_WASM;
const TOKEN = 'jco-scim-token-0123456789';
const TENANT = 'tenant-jco';
const GROUP = 'Store 88 Team';
const INBOX_NUMBER = '+15550100088';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let emulator;
let server;
let base;
const settings = {};

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function lines(stream, until) {
  for await (const line of createInterface({ input: stream })) {
    if (until(line)) return line;
  }
  throw new Error('the process ended before it was ready');
}

before(async () => {
  assert.ok(bin && wasm, 'SMARTCOMM_BIN and SMARTCOMM_SCIM_WASM name the CLI and the component');
  emulator = spawn(bin, ['emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await lines(emulator.stdout, (line) => {
    const match = /^export (SMARTCOMM_[A-Z_]+)=(.*)$/.exec(line);
    if (match) settings[match[1]] = match[2];
    return line.startsWith('Press Ctrl-C');
  });
  const port = await freePort();
  const jco = join(import.meta.dirname, 'node_modules', '.bin', 'jco');
  // jco serve hands the process environment to the component as wasi:cli's environment.
  server = spawn(jco, ['serve', wasm, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'inherit', 'pipe'],
    // A process group of its own: jco serve runs the server in a child process, and both end.
    detached: true,
    env: {
      ...process.env,
      ...settings,
      SMARTCOMM_SCIM_TOKEN: TOKEN,
      SMARTCOMM_SCIM_TENANT_ID: TENANT,
      SMARTCOMM_SCIM_INBOXES: JSON.stringify({ [GROUP]: INBOX_NUMBER }),
    },
  });
  // jco serve says where it listens on stderr.
  const ready = await lines(server.stderr, (line) => line.startsWith('Server listening'));
  console.log(`jco: ${ready}`);
  base = `http://127.0.0.1:${port}/scim/v2`;
});

after(() => {
  if (server) process.kill(-server.pid);
  emulator?.kill();
});

async function scim(method, path, body, token = TOKEN) {
  const headers = { 'content-type': 'application/scim+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(base + path, {
    method,
    headers,
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

async function control(method, command) {
  const response = await fetch(`${settings.SMARTCOMM_API_URL}/__emulator/${command}`, { method });
  assert.equal(response.status, 200, `${method} ${command}`);
  return response.json();
}

async function agentsNamed(id) {
  const state = await control('GET', 'state');
  return state.customers[settings.SMARTCOMM_CUSTOMER_ID].agents.filter((a) => a.user_object_id === id);
}

const patch = (...operations) => ({ schemas: [PATCH_OP], Operations: operations });

test('without the bearer token the answer is 401, asking for one', async () => {
  const answer = await scim('GET', '/Users', undefined, null);
  assert.equal(answer.status, 401);
  assert.equal(answer.headers.get('content-type'), 'application/scim+json');
  assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
  // The component checks the token itself under every host, its scheme in any letter case.
  const lower = await fetch(`${base}/ServiceProviderConfig`, { headers: { authorization: `bearer ${TOKEN}` } });
  assert.equal(lower.status, 200);
});

test("Entra's lifecycle: test connection, create, patch both ways, disable, delete", async () => {
  const connection = await scim('GET', '/Users?filter=externalId eq "9a6f2b1c-0d4e-4f3a-8b7c-123456789abc"');
  assert.equal(connection.status, 200);
  assert.equal(connection.body.totalResults, 0);

  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId: '1c0b0c00-0000-4000-8000-000000000001',
    userName: 'jco1@example.com',
    displayName: 'Jco One',
    active: true,
    [ENTERPRISE]: { department: 'Sales' },
  };
  const created = await scim('POST', '/Users', user);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.headers.get('location'), /\/scim\/v2\/Users\/1c0b0c00-0000-4000-8000-000000000001$/);
  const [agent] = await agentsNamed('1c0b0c00-0000-4000-8000-000000000001');
  assert.equal(agent.tenant_id, TENANT);

  const withPath = await scim('PATCH', '/Users/1c0b0c00-0000-4000-8000-000000000001', patch(
    { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Support' }));
  assert.ok([200, 204].includes(withPath.status), JSON.stringify(withPath.body));
  const withoutPath = await scim('PATCH', '/Users/1c0b0c00-0000-4000-8000-000000000001', patch(
    { op: 'replace', value: { displayName: 'Jco Uno', active: 'False' } }));
  assert.ok([200, 204].includes(withoutPath.status), JSON.stringify(withoutPath.body));
  const [patched] = await agentsNamed('1c0b0c00-0000-4000-8000-000000000001');
  assert.deepEqual([patched.department, patched.name, patched.active], ['Support', 'Jco Uno', false]);

  const disabled = await scim('GET', '/Users/1c0b0c00-0000-4000-8000-000000000001');
  assert.equal(disabled.body.active, false);

  const deleted = await scim('DELETE', '/Users/1c0b0c00-0000-4000-8000-000000000001');
  assert.equal(deleted.status, 204);
  assert.equal((await scim('GET', '/Users/1c0b0c00-0000-4000-8000-000000000001')).status, 404);
  assert.deepEqual(await agentsNamed('1c0b0c00-0000-4000-8000-000000000001'), []);
});

test('a group is a shared inbox whose members are added and removed', async () => {
  const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], externalId: '1c0b0c00-0000-4000-8000-000000000002', userName: 'jco2@example.com', displayName: 'Jco Two' };
  assert.equal((await scim('POST', '/Users', user)).status, 201);
  const group = await scim('POST', '/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: GROUP,
    members: [{ value: '1c0b0c00-0000-4000-8000-000000000002' }],
  });
  assert.equal(group.status, 201, JSON.stringify(group.body));
  const added = await scim('GET', `/Groups/${group.body.id}`);
  assert.deepEqual(added.body.members.map((m) => m.value), ['1c0b0c00-0000-4000-8000-000000000002']);
  const removed = await scim('PATCH', `/Groups/${group.body.id}`, patch(
    { op: 'remove', path: 'members[value eq "1c0b0c00-0000-4000-8000-000000000002"]' }));
  assert.ok([200, 204].includes(removed.status), JSON.stringify(removed.body));
  const read = await scim('GET', `/Groups/${group.body.id}`);
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.deepEqual(read.body.members ?? [], []);
});

test('one instance serves every request, with one token and its cost per request', async () => {
  await control('DELETE', 'requests');
  const started = performance.now();
  const rounds = 20;
  for (let i = 0; i < rounds; i += 1) {
    assert.equal((await scim('GET', '/Users?filter=externalId eq "0b0d0000-0000-4000-8000-000000000000"')).status, 200);
  }
  const perRequest = (performance.now() - started) / rounds;
  const requests = await control('GET', 'requests');
  const authenticates = requests.filter((r) => r.route.endsWith('/authenticate')).length;
  // jco serve runs one instance for every request: the token from the first request serves all.
  assert.equal(authenticates, 0);
  assert.equal(requests.length, rounds);
  console.log(`jco: a SCIM GET by filter ${perRequest.toFixed(1)} ms on average over ${rounds}, one API request each, no authenticate`);
});
