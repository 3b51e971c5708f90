// Runs the smartcomm component for a platform node: one instance per execution (of an n8n
// node, of a Node-RED message), configured from the platform's stored connection, in a worker
// thread so that the platform stays responsive while a call waits on the API.
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';

const componentDir = new URL('./component/', import.meta.url);
const coreModules = ['smartcomm.core.wasm', 'smartcomm.core2.wasm', 'smartcomm.core3.wasm'];
let compiled;

/// The core modules, compiled once per process and shared with every worker.
function compiledModules() {
  compiled ??= Promise.all(
    coreModules.map(async (name) => [name, await WebAssembly.compile(await readFile(new URL(name, componentDir)))]),
  ).then(Object.fromEntries);
  return compiled;
}

const DEFAULT_CALL_DEADLINE = 300;
/// How long past its own deadline a call may run before the worker is stopped (the Rust host's
/// margin too).
const DEADLINE_MARGIN_SECONDS = 10;

/**
 * The connection settings a platform stores (n8n's credential, Node-RED's config node), as
 * the component's `SMARTCOMM_*` variables (read by `sync`) and its `client-config` record
 * (for `agents`, `inboxes`, `numbers`). Empty values are left out, so the component's
 * defaults apply.
 */
export function componentSettings(connection) {
  const text = (value) => (value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim());
  const count = (value) => (text(value) === undefined ? undefined : Number(value));
  const settings = {
    SMARTCOMM_CUSTOMER_ID: text(connection.customerId),
    SMARTCOMM_USERNAME: text(connection.username),
    SMARTCOMM_PASSWORD: connection.password ?? '',
    SMARTCOMM_API_URL: text(connection.apiUrl),
    SMARTCOMM_AUTH_URL: text(connection.authUrl),
    SMARTCOMM_CONCURRENCY: text(connection.concurrency),
    SMARTCOMM_CALL_DEADLINE: text(connection.callDeadline),
  };
  const environment = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  const clientConfig = {
    customerId: settings.SMARTCOMM_CUSTOMER_ID ?? '',
    apiUrl: settings.SMARTCOMM_API_URL,
    authUrl: settings.SMARTCOMM_AUTH_URL,
    auth: { tag: 'credentials', val: { username: settings.SMARTCOMM_USERNAME ?? '', password: settings.SMARTCOMM_PASSWORD } },
    concurrency: count(connection.concurrency),
    callDeadline: count(connection.callDeadline),
  };
  return { environment, clientConfig, callDeadline: clientConfig.callDeadline ?? DEFAULT_CALL_DEADLINE };
}

/// A function's own error, or a fault of the instance (a trap, a call stopped past its
/// deadline), as a JavaScript error. `payload` keeps the WIT variant ({ tag, val }).
export class ComponentCallError extends Error {
  constructor(message, payload) {
    super(message);
    this.name = 'ComponentCallError';
    this.payload = payload;
  }
}

/**
 * Opens one component instance with the given connection. `call(face, name, ...args)` calls
 * an export by its jco name (`agents`, `onboardAgents`); the `agents`, `inboxes` and `numbers`
 * functions get the instance's client as their first argument. Close it when done.
 */
export async function openInstance(connection) {
  const { environment, clientConfig, callDeadline } = componentSettings(connection);
  const modules = await compiledModules();
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
    workerData: { environment, clientConfig, modules },
  });
  const pending = new Map();
  let nextId = 0;
  let broken;
  const failAll = (error) => {
    broken ??= error;
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    pending.clear();
  };
  const ready = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => reject(new ComponentCallError('the component stopped before it started')));
    worker.once('message', () => resolve());
  });
  await ready;
  worker.on('error', (e) => failAll(new ComponentCallError(`the component failed: ${e.message}`)));
  worker.on('exit', () => failAll(new ComponentCallError('the component stopped')));
  worker.on('message', ({ id, value, error, fault }) => {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    clearTimeout(call.timer);
    if (fault !== undefined) {
      broken = new ComponentCallError(`the component faulted: ${fault}`);
      call.reject(broken);
      worker.terminate();
    } else if (error !== undefined) {
      call.reject(new ComponentCallError(describeError(error), error));
    } else {
      call.resolve(value);
    }
  });

  return {
    call(face, name, ...args) {
      if (broken) return Promise.reject(broken);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        // The component ends every call at its own deadline; a call still running well past
        // it is stopped from here, with its instance.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new ComponentCallError(`the call ${name} ran ${DEADLINE_MARGIN_SECONDS} s past its deadline of ${callDeadline} s and was stopped`));
          worker.terminate();
        }, (callDeadline + DEADLINE_MARGIN_SECONDS) * 1000);
        pending.set(id, { resolve, reject, timer });
        worker.postMessage({ id, face, name, args });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

/// A WIT `error` or `step-error` ({ tag, val }) in words: what the component said, never a
/// setting.
export function describeError({ tag, val }) {
  const problems = (list) =>
    list.map((p) => `${p.index === undefined ? '' : `item ${p.index}: `}${p.field}: ${p.message}`).join('; ');
  switch (tag) {
    case 'invalid-input':
    case 'permanent-invalid-input':
      return `invalid input, nothing was sent: ${problems(val)}`;
    case 'permanent-bad-setting':
      return `a connection setting is missing or malformed: ${problems(val)}`;
    case 'unauthorized':
    case 'permanent-unauthorized':
      return `the credentials were refused: ${val}`;
    case 'not-found':
    case 'permanent-not-found':
      return `not found: ${val}`;
    case 'rejected':
    case 'permanent-rejected':
      return `the API refused the request (${val.status}): ${[val.message, ...val.messages, ...val.items.map((i) => `item ${i.index}: ${i.messages.join(', ')}`)].join('; ')}`;
    case 'rate-limited':
      return `the API kept answering 429 (${val.attempts} attempts)`;
    case 'server-error':
      return `the API failed (${val.status} ${val.message}, ${val.attempts} attempts)`;
    case 'timeout':
      return `no answer in time (${val.attempts} attempts): ${val.message}`;
    case 'transport':
      return `the connection failed (${val.attempts} attempts): ${val.message}`;
    case 'unexpected-response':
      return `an answer that could not be read (${val.status}, ${val.contentType ?? 'no content type'})`;
    case 'incomplete':
    case 'incomplete-updates':
      return 'some items failed for a transient reason; running the step again finishes them';
    case 'permanent-too-many-removals':
      return `the plan would remove ${val.removals} agents, more than the ${val.maxRemovals} allowed (${val.inScope} in scope)`;
    case 'permanent-stale-plan':
      return `agents changed since the plan was made, nothing was changed; plan again: ${val.map((s) => `${s.userObjectId}: ${s.reason}`).join('; ')}`;
    case 'incomplete-sync':
      return `some changes failed for a transient reason (${val.summary.failed} failed, ${val.summary.notAttempted} not attempted); applying the same plan again finishes them`;
    default:
      return tag;
  }
}

/// Whether an item of a batch is in the requested state.
export function isDone(outcome) {
  return outcome.tag === 'succeeded' || outcome.tag === 'already-done' || outcome.tag === 'updated';
}

/// An `item-outcome` or `update-outcome` as plain JSON: `outcome` names the case; `detail`
/// says what was found for `already-done`, `messages` why the API refused an item, `error`
/// why its request failed, and `agent` is an update's result.
export function outcomeJson(outcome) {
  switch (outcome.tag) {
    case 'succeeded':
    case 'not-attempted':
      return { outcome: outcome.tag };
    case 'already-done':
      return { outcome: outcome.tag, detail: outcome.val };
    case 'rejected':
      return { outcome: outcome.tag, messages: outcome.val };
    case 'failed':
      return { outcome: outcome.tag, error: describeError(outcome.val), reason: outcome.val.tag };
    case 'updated':
      return outcome.val === undefined ? { outcome: outcome.tag } : { outcome: outcome.tag, agent: outcome.val };
    default:
      return { outcome: outcome.tag };
  }
}

/// Why an item was not done, in one line.
export function notDoneMessage(outcome) {
  switch (outcome.tag) {
    case 'rejected':
      return `refused by the API: ${outcome.val.join('; ')}`;
    case 'failed':
      return `its request failed: ${describeError(outcome.val)}`;
    case 'not-attempted':
      return 'not attempted: an earlier request of the batch failed, or the call reached its deadline';
    default:
      return outcome.tag;
  }
}

/**
 * Runs a batch function (`onboardAgents`, `updateAgents`, `offboardAgents`, `createInboxes`,
 * `assignInboxes`) over `items`, and returns one result per item, at its index:
 * `{ outcome }` (an item-outcome or update-outcome), `{ problems }` (the item breaks the API's
 * rules and was not sent) or `{ error }` (the call failed as a whole).
 *
 * With `dropInvalid`, items the component refuses as invalid input are reported as such and
 * the rest are sent in a second call; without it, one invalid item refuses the whole call, as
 * the component does.
 */
export async function runBatch(instance, face, name, items, options, { dropInvalid }) {
  const results = new Array(items.length);
  let indexes = items.map((_, i) => i);
  while (indexes.length > 0) {
    try {
      const outcomes = await instance.call(face, name, indexes.map((i) => items[i]), options);
      outcomes.forEach((outcome, k) => (results[indexes[k]] = { outcome }));
      return results;
    } catch (e) {
      const problems = e.payload?.tag === 'invalid-input' ? e.payload.val : undefined;
      const itemProblems = problems?.every((p) => p.index !== undefined) ? problems : undefined;
      if (!dropInvalid || !itemProblems || itemProblems.length === 0) {
        for (const i of indexes) results[i] = { error: e };
        return results;
      }
      const refused = new Set(itemProblems.map((p) => indexes[p.index]));
      for (const i of refused) {
        results[i] = {
          problems: itemProblems
            .filter((p) => indexes[p.index] === i)
            .map(({ field, message }) => ({ field, message })),
        };
      }
      indexes = indexes.filter((i) => !refused.has(i));
    }
  }
  return results;
}
