// The SmartCommunicator node in the real Node-RED runtime (node-red-node-test-helper), against
// the emulator: a batch onboarded with one item refused, read back, assigned to an inbox, and
// offboarded. SMARTCOMM_NODE names the installed package's node file; SMARTCOMM_* point at the
// emulator, whose account already holds the shared inbox +15550100010.
const assert = require('node:assert/strict');
const helper = require('node-red-node-test-helper');
const smartcomm = require(process.env.SMARTCOMM_NODE);

helper.init(require.resolve('node-red'));

const env = process.env;
const connection = { id: 'conn', type: 'smartcomm-connection', customerId: env.SMARTCOMM_CUSTOMER_ID, apiUrl: env.SMARTCOMM_API_URL, authUrl: env.SMARTCOMM_AUTH_URL, concurrency: 4, callDeadline: 60 };
const credentials = { conn: { username: env.SMARTCOMM_USERNAME, password: env.SMARTCOMM_PASSWORD } };

/// Loads a flow of one SmartCommunicator node with `operation`, sends `payload` (and
/// `options`) to it, and resolves with the message it sends, or rejects with what it reports
/// as an error.
async function run(operation, payload, options) {
  const flow = [
    connection,
    { id: 'op', type: 'smartcomm', connection: 'conn', operation, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(smartcomm, flow, credentials);
  try {
    const node = helper.getNode('op');
    const answer = new Promise((resolve, reject) => {
      helper.getNode('out').on('input', resolve);
      node.on('call:error', (call) => reject(call.args[0]));
    });
    node.receive({ payload, options });
    return await answer;
  } finally {
    await helper.unload();
  }
}

const agent = (id, phone) => ({
  userObjectId: id,
  tenantId: 'contoso',
  name: `Agent ${id}`,
  upn: `${id}@contoso.example`,
  numberProvisioning: [{ type: 'messaging', phoneNumber: phone }],
});

describe('the smartcomm node in Node-RED', function () {
  this.timeout(60000);

  before(() => helper.startServer());
  after(() => helper.stopServer());

  it('onboards a batch, reporting the refused items at their index, and the rest go on', async () => {
    const msg = await run('onboardAgents', [
      agent('ada', '+15550100000'),
      agent('grace', '+15550100001'),
      agent('alan', '+15559999999'),
      agent('edsger', '555-0100'),
    ]);
    assert.deepEqual(msg.payload.map((o) => o.outcome), ['succeeded', 'succeeded', 'rejected', 'invalid-input']);
    assert.match(msg.payload[2].messages.join(' '), /\+15559999999 is not registered/);
    assert.equal(msg.payload[3].problems[0].field, 'number_provisioning[0].phone_number');
  });

  it('reads the agents back', async () => {
    const msg = await run('getAgent', ['ada', { id: 'grace@contoso.example', keyId: 'upn' }, 'alan']);
    assert.deepEqual(msg.payload.map((o) => o.outcome), ['succeeded', 'succeeded', 'error']);
    assert.deepEqual(msg.payload[0].agent.phoneNumbers, [{ type: 'messaging', value: '+15550100000' }]);
    assert.equal(msg.payload[1].agent.userObjectId, 'grace');
    assert.equal(msg.payload[2].reason, 'not-found');
  });

  it('assigns them to the shared inbox', async () => {
    const inbox = { type: 'shared', identifier: 'phone-number', value: '+15550100010' };
    const msg = await run('assignInboxes', [
      { inbox, agents: { identifier: 'user-object-id', values: ['ada'] }, operation: 'add' },
      { inbox, agents: { identifier: 'user-object-id', values: ['grace'] }, operation: 'add' },
    ]);
    assert.deepEqual(msg.payload.map((o) => o.outcome), ['succeeded', 'succeeded']);
    const listed = await run('listAgents', { tenantId: 'contoso' });
    const grace = listed.payload.find((a) => a.userObjectId === 'grace');
    assert.deepEqual(grace.sharedInboxes.map((i) => i.phoneNumber), ['+15550100010']);
  });

  it('offboards them, and a repeat converges', async () => {
    const selectors = [{ identifier: 'user-object-id', values: ['ada'] }, { identifier: 'user-object-id', values: ['grace'] }];
    const first = await run('offboardAgents', selectors, { deprovisionSupervisedInbox: true });
    assert.deepEqual(first.payload.map((o) => o.outcome), ['succeeded', 'succeeded']);
    const again = await run('offboardAgents', selectors, { deprovisionSupervisedInbox: true });
    assert.deepEqual(again.payload.map((o) => o.outcome), ['already-done', 'already-done']);
  });

  it('reports a call refused as a whole as an error, with the component reason', async () => {
    await assert.rejects(run('plan', [{ agent: agent('x', '555') }]), (e) => {
      assert.match(String(e), /invalid input, nothing was sent/);
      return true;
    });
  });
});
