'use strict';
// Node-RED nodes for IntelePeer SmartCommunicator: `smartcomm-connection` holds an account's
// connection (its password in Node-RED's credential store), and `smartcomm` runs one
// operation of the smartcomm component per message, on an instance of its own.
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const runtimeUrl = pathToFileURL(join(__dirname, 'dist', 'component.mjs')).href;

/// Operations that take a list and report every element's outcome at its index.
const BATCHES = {
  onboardAgents: 'agents',
  updateAgents: 'agents',
  offboardAgents: 'agents',
  createInboxes: 'inboxes',
  assignInboxes: 'inboxes',
};

/// Operations called once per element of `msg.payload`, on the message's one instance.
const PER_ITEM = {
  getAgent: (instance, { id, keyId, upn }) => instance.call('agents', 'getAgent', id, keyId, upn).then((agent) => ({ agent })),
  updateAgent: (instance, { id, keyId, changes }) =>
    instance.call('agents', 'updateAgent', id, keyId, changes ?? {}).then((agent) => ({ agent })),
  offboardAgent: (instance, { id, keyId, deprovisionSupervisedInbox }) =>
    instance.call('agents', 'offboardAgent', id, keyId, deprovisionSupervisedInbox).then((detail) => ({ detail })),
};

/// Operations whose answer is the whole result: a list, a plan, a report.
const WHOLE = {
  listAgents: (instance, payload) => instance.call('agents', 'listAgents', payload ?? {}),
  listNumbers: (instance, payload) => instance.call('numbers', 'listNumbers', payload?.status, payload?.digits),
  plan: (instance, payload, options) => instance.call('sync', 'plan', payload, { scope: [], protected: [], ...options }),
  apply: (instance, payload, options) => instance.call('sync', 'apply', payload, { ...options }),
};

const asList = (payload) => (Array.isArray(payload) ? payload : [payload]);
const asIdArgument = (entry) => (typeof entry === 'string' ? { id: entry } : entry);

module.exports = function register(RED) {
  function SmartcommConnection(config) {
    RED.nodes.createNode(this, config);
    this.settings = {
      customerId: config.customerId,
      apiUrl: config.apiUrl,
      authUrl: config.authUrl,
      concurrency: config.concurrency,
      callDeadline: config.callDeadline,
    };
  }
  RED.nodes.registerType('smartcomm-connection', SmartcommConnection, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  function Smartcomm(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const connection = RED.nodes.getNode(config.connection);
    const operation = config.operation;

    node.on('input', async (msg, send, done) => {
      if (!connection) {
        done(new Error('no SmartCommunicator connection is configured'));
        return;
      }
      node.status({ fill: 'blue', shape: 'dot', text: operation });
      let instance;
      try {
        const runtime = await import(runtimeUrl);
        instance = await runtime.openInstance({ ...connection.settings, ...connection.credentials });
        if (BATCHES[operation]) {
          // Every element is tried and reported unless msg.options says otherwise; an element
          // that breaks the API's rules is reported as invalid and the rest are sent.
          const items = asList(msg.payload);
          const options = operation === 'assignInboxes' ? undefined : { continueOnError: true, ...msg.options };
          const results = await runtime.runBatch(instance, BATCHES[operation], operation, items, options, { dropInvalid: true });
          const failed = results.find((r) => r.error);
          if (failed) throw failed.error;
          msg.payload = results.map((r) =>
            r.outcome ? runtime.outcomeJson(r.outcome) : { outcome: 'invalid-input', problems: r.problems },
          );
          const notDone = results.filter((r) => !(r.outcome && runtime.isDone(r.outcome))).length;
          node.status(
            notDone === 0
              ? { fill: 'green', shape: 'dot', text: `${items.length} done` }
              : { fill: 'yellow', shape: 'ring', text: `${items.length - notDone} done, ${notDone} not done` },
          );
        } else if (PER_ITEM[operation]) {
          const arguments_ = asList(msg.payload).map(asIdArgument);
          msg.payload = [];
          for (const argument of arguments_) {
            try {
              msg.payload.push({ outcome: 'succeeded', ...(await PER_ITEM[operation](instance, argument)) });
            } catch (e) {
              if (!e.payload) throw e;
              msg.payload.push({ outcome: 'error', reason: e.payload.tag, error: e.message });
            }
          }
          const notDone = msg.payload.filter((r) => r.outcome !== 'succeeded').length;
          node.status({ fill: notDone === 0 ? 'green' : 'yellow', shape: 'dot', text: `${arguments_.length - notDone} done, ${notDone} not done` });
        } else if (WHOLE[operation]) {
          msg.payload = await WHOLE[operation](instance, msg.payload, msg.options);
          node.status({ fill: 'green', shape: 'dot', text: 'done' });
        } else {
          throw new Error(`unknown operation ${operation}`);
        }
        send(msg);
        done();
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: e.payload?.tag ?? 'failed' });
        // The component's error variant, for a Catch node (which finds the message in msg.error).
        if (e.payload) msg.failure = { reason: e.payload.tag, details: e.payload.val };
        done(e);
      } finally {
        await instance?.close();
      }
    });
  }
  RED.nodes.registerType('smartcomm', Smartcomm);
};
