'use strict';
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
// Resolved from the n8n that loads this node (n8n puts its own modules on NODE_PATH).
const { NodeOperationError } = require('n8n-workflow');
const { properties } = require('./description');

const runtimeUrl = pathToFileURL(join(__dirname, '..', '..', 'dist', 'component.mjs')).href;

/// Node parameters to WIT values: '' and empty lists mean "not given" (`none`).
const text = (value) => (value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim());
const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
const nonEmpty = (values) => (values && values.length > 0 ? values : undefined);

function enabledServices(fields) {
  const services = {};
  for (const name of ['messages', 'supervisedInbox', 'calls', 'sharedInbox']) {
    if (fields[`service_${name}`] !== undefined) services[name] = fields[`service_${name}`];
  }
  return Object.keys(services).length > 0 ? services : undefined;
}

const TEXT_FIELDS = ['upn', 'consistencyId', 'brandName', 'department', 'region', 'state', 'district', 'store', 'city', 'zipCode'];

/// `new-agent` from item `i`'s parameters.
function newAgent(ctx, i) {
  const fields = ctx.getNodeParameter('agentFields', i, {});
  const numbers = ctx.getNodeParameter('numberProvisioning', i, {}).number ?? [];
  const agent = {
    userObjectId: ctx.getNodeParameter('userObjectId', i),
    tenantId: ctx.getNodeParameter('tenantId', i),
    name: ctx.getNodeParameter('name', i),
    roles: nonEmpty(fields.roles),
    numberProvisioning: numbers.map((n) => ({
      type: n.type,
      phoneNumber: n.phoneNumber,
      supervisors: nonEmpty(list(n.supervisorValues)) && { identifier: n.supervisorIdentifier, values: list(n.supervisorValues) },
    })),
    enabledServices: enabledServices(fields),
  };
  for (const name of TEXT_FIELDS) agent[name] = text(fields[name]);
  return agent;
}

/// `agent-changes` from item `i`'s parameters.
function agentChanges(ctx, i) {
  const fields = ctx.getNodeParameter('changes', i, {});
  const numbers = ctx.getNodeParameter('phoneNumbers', i, {}).number ?? [];
  const changes = {
    roles:
      nonEmpty(fields.rolesAssign) || nonEmpty(fields.rolesRemove)
        ? { assign: fields.rolesAssign ?? [], remove: fields.rolesRemove ?? [] }
        : undefined,
    phoneNumbers: nonEmpty(numbers.map((n) => ({ type: n.type, value: n.value }))),
    enabledServices: enabledServices(fields),
    active: fields.active,
  };
  for (const name of ['userObjectId', 'tenantId', 'name', ...TEXT_FIELDS]) changes[name] = text(fields[name]);
  return changes;
}

const selector = (ctx, prefix, i) => ({
  identifier: ctx.getNodeParameter(`${prefix}Identifier`, i),
  values: list(ctx.getNodeParameter(`${prefix}Values`, i)),
});

/**
 * The batch operations: every input item is one element of the function's list, sent in one
 * call, and each item's outcome comes back at its index. `identity` says which item an output
 * is about.
 */
const BATCHES = {
  onboardAgents: {
    face: 'agents',
    item: newAgent,
    options: (ctx, continueOnError) => ({ continueOnError, reassignInbox: ctx.getNodeParameter('onboardOptions', 0, {}).reassignInbox }),
    identity: (agent) => ({ userObjectId: agent.userObjectId }),
  },
  updateAgents: {
    face: 'agents',
    item: (ctx, i) => ({
      target: { identifier: ctx.getNodeParameter('targetIdentifier', i), value: ctx.getNodeParameter('targetValue', i) },
      updates: agentChanges(ctx, i),
    }),
    options: (ctx, continueOnError) => ({ continueOnError }),
    identity: (update) => ({ identifier: update.target.identifier, value: update.target.value }),
  },
  offboardAgents: {
    face: 'agents',
    item: (ctx, i) => selector(ctx, 'agents', i),
    options: (ctx, continueOnError) => ({
      continueOnError,
      deprovisionSupervisedInbox: ctx.getNodeParameter('deprovisionSupervisedInbox', 0, false) || undefined,
    }),
    identity: (agents) => ({ identifier: agents.identifier, values: agents.values }),
  },
  createInboxes: {
    face: 'inboxes',
    item: (ctx, i) => {
      const owner = text(ctx.getNodeParameter('ownerValue', i, ''));
      return {
        name: ctx.getNodeParameter('inboxName', i),
        type: ctx.getNodeParameter('inboxType', i),
        phoneNumber: ctx.getNodeParameter('inboxPhoneNumber', i),
        owner: owner && { identifier: ctx.getNodeParameter('ownerIdentifier', i), value: owner },
        users: selector(ctx, 'users', i),
      };
    },
    options: (ctx, continueOnError) => ({ continueOnError }),
    identity: (inbox) => ({ name: inbox.name, phoneNumber: inbox.phoneNumber }),
  },
  assignInboxes: {
    face: 'inboxes',
    item: (ctx, i) => ({
      inbox: {
        type: ctx.getNodeParameter('inboxType', i),
        identifier: ctx.getNodeParameter('inboxIdentifier', i),
        value: ctx.getNodeParameter('inboxValue', i),
      },
      agents: selector(ctx, 'assignees', i),
      operation: ctx.getNodeParameter('assignment', i),
    }),
    // assign-inboxes takes no options: each assignment is tried on its own.
    options: undefined,
    identity: (assignment) => ({ inbox: assignment.inbox.value, operation: assignment.operation, agents: assignment.agents.values }),
  },
};

/**
 * The operations called once per input item, on the execution's one instance (one token for
 * all of them). Each returns the item's output JSON, or a list of them.
 */
const PER_ITEM = {
  getAgent: (ctx, instance, i) =>
    instance.call('agents', 'getAgent', ctx.getNodeParameter('id', i), ctx.getNodeParameter('keyId', i), text(ctx.getNodeParameter('upn', i, ''))),
  listAgents: (ctx, instance, i) => {
    const filter = ctx.getNodeParameter('filter', i, {});
    return instance.call('agents', 'listAgents', {
      userObjectId: text(filter.userObjectId),
      tenantId: text(filter.tenantId),
      consistencyId: text(filter.consistencyId),
      phoneNumber: text(filter.phoneNumber),
      upn: text(filter.upn),
    });
  },
  updateAgent: (ctx, instance, i) =>
    instance.call('agents', 'updateAgent', ctx.getNodeParameter('id', i), ctx.getNodeParameter('keyId', i), agentChanges(ctx, i)),
  offboardAgent: async (ctx, instance, i) => {
    const id = ctx.getNodeParameter('id', i);
    const detail = await instance.call(
      'agents',
      'offboardAgent',
      id,
      ctx.getNodeParameter('keyId', i),
      ctx.getNodeParameter('deprovisionSupervisedInbox', i, false) || undefined,
    );
    return { id, outcome: 'offboarded', detail };
  },
  listNumbers: (ctx, instance, i) =>
    instance.call('numbers', 'listNumbers', text(ctx.getNodeParameter('status', i, '')), text(ctx.getNodeParameter('digits', i, ''))),
  apply: (ctx, instance, i) => {
    let plan = ctx.getNodeParameter('plan', i);
    if (typeof plan === 'string') plan = JSON.parse(plan);
    return instance.call('sync', 'apply', plan, { continueOnError: !ctx.getNodeParameter('stopAtFirstRefusal', i, false) });
  },
};

/// What n8n's error output gets for an item that was not done: `error` names what happened
/// (`rejected`, `invalid-input`, `failed`, `not-attempted`, or the error's case such as
/// `not-found`), `message` says it in words. n8n routes an item of exactly these two fields to
/// the error output and adds the input item's fields to it; an item carrying an error object
/// would keep only the message.
function errorItem(i, error, message) {
  return { json: { error, message }, pairedItem: { item: i } };
}

class SmartCommunicator {
  constructor() {
    this.description = {
      displayName: 'SmartCommunicator',
      name: 'smartCommunicator',
      icon: 'file:smartcomm.svg',
      group: ['output'],
      version: 1,
      subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
      description: 'Onboard, update and offboard IntelePeer SmartCommunicator agents, inboxes and numbers, and sync a roster',
      defaults: { name: 'SmartCommunicator' },
      usableAsTool: true,
      inputs: ['main'],
      outputs: ['main'],
      credentials: [{ name: 'smartCommunicatorApi', required: true }],
      properties,
    };
  }

  async execute() {
    const items = this.getInputData();
    const operation = this.getNodeParameter('operation', 0);
    const continueOnFail = this.continueOnFail();
    const credentials = await this.getCredentials('smartCommunicatorApi');
    const runtime = await import(runtimeUrl);
    // One instance for the whole execution: its client keeps one token and one limit on
    // requests in flight across every item.
    const instance = await runtime.openInstance(credentials);
    try {
      if (BATCHES[operation]) return [await runBatch(this, runtime, instance, items, operation, continueOnFail)];
      if (operation === 'plan') return [await runPlan(this, runtime, instance, items, continueOnFail)];
      return [await runPerItem(this, instance, items, PER_ITEM[operation], continueOnFail)];
    } finally {
      await instance.close();
    }
  }
}

async function runBatch(ctx, runtime, instance, items, operation, continueOnFail) {
  const batch = BATCHES[operation];
  const args = items.map((_, i) => batch.item(ctx, i));
  // With "continue on fail" every item is tried and reported (the API's continueOnError);
  // without it, the batch stops at the first refusal, and so does the node.
  const options = batch.options?.(ctx, continueOnFail);
  const results = await runtime.runBatch(instance, batch.face, operation, args, options, { dropInvalid: continueOnFail });
  const output = [];
  for (const [i, result] of results.entries()) {
    const identity = batch.identity(args[i]);
    if (result.outcome && runtime.isDone(result.outcome)) {
      output.push({ json: { ...identity, ...runtime.outcomeJson(result.outcome) }, pairedItem: { item: i } });
      continue;
    }
    const [error, message] = result.outcome
      ? [result.outcome.tag, runtime.notDoneMessage(result.outcome)]
      : result.problems
        ? ['invalid-input', `invalid input, not sent: ${result.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`]
        : [result.error.payload?.tag ?? 'failed', result.error.message];
    if (!continueOnFail) {
      const refused = results.filter((r) => !(r.outcome && runtime.isDone(r.outcome))).length;
      throw new NodeOperationError(ctx.getNode(), `${refused} of ${items.length} items were not done; item ${i}: ${message}`, {
        itemIndex: i,
        description: 'Items before it may have been applied: running the node again converges (they come back already-done).',
      });
    }
    output.push(errorItem(i, error, message));
  }
  return output;
}

/// A sync plan takes every input item as one roster row and outputs one item: the plan. A bad
/// row refuses the whole plan: leaving it out would make its agent look absent.
async function runPlan(ctx, runtime, instance, items, continueOnFail) {
  const desired = items.map((_, i) => {
    const active = ctx.getNodeParameter('desiredActive', i, '');
    return {
      agent: newAgent(ctx, i),
      active: active === '' ? undefined : active === 'true',
      sharedInboxes: ctx.getNodeParameter('manageSharedInboxes', i, false) ? list(ctx.getNodeParameter('sharedInboxes', i, '')) : undefined,
    };
  });
  const given = ctx.getNodeParameter('planOptions', 0, {});
  const options = {
    absent: given.absent,
    scope: given.scope?.match ?? [],
    maxRemovals: given.maxRemovals,
    protected: list(given.protected),
  };
  const pairedItem = items.map((_, i) => ({ item: i }));
  try {
    return [{ json: await instance.call('sync', 'plan', desired, options), pairedItem }];
  } catch (e) {
    if (!continueOnFail) throw new NodeOperationError(ctx.getNode(), e.message);
    return [{ ...errorItem(0, e.payload?.tag ?? 'failed', e.message), pairedItem }];
  }
}

async function runPerItem(ctx, instance, items, call, continueOnFail) {
  const output = [];
  for (let i = 0; i < items.length; i++) {
    try {
      const result = await call(ctx, instance, i);
      for (const json of Array.isArray(result) ? result : [result]) output.push({ json, pairedItem: { item: i } });
    } catch (e) {
      if (!continueOnFail) throw new NodeOperationError(ctx.getNode(), e.message, { itemIndex: i });
      output.push(errorItem(i, e.payload?.tag ?? 'failed', e.message));
    }
  }
  return output;
}

module.exports = { SmartCommunicator };
