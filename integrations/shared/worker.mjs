// One instance of the smartcomm component, in a worker thread of its own: the preview2 shim's
// wasi:http is synchronous, so a call blocks the thread that makes it, and running it here
// keeps the platform's event loop (its editor, its webhooks, its other flows) free meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { instantiate } from './component/smartcomm.js';

// The component sees only these variables, never the platform's own environment.
const shim = new WASIShim({ sandbox: { env: workerData.environment, args: ['smartcomm'] } });
const component = await instantiate((name) => workerData.modules[name], shim.getImportObject());
// The functions of `agents`, `inboxes` and `numbers` share this client: one token, and one
// limit on requests in flight, for every call of the instance.
const client = new component.client.Client(workerData.clientConfig);
const takesClient = new Set(['agents', 'inboxes', 'numbers']);

parentPort.on('message', ({ id, face, name, args }) => {
  try {
    const fn = component[face]?.[name];
    if (typeof fn !== 'function') throw new TypeError(`the component has no ${face}.${name}`);
    const value = takesClient.has(face) ? fn(client, ...args) : fn(...args);
    parentPort.postMessage({ id, value });
  } catch (e) {
    if (e && typeof e === 'object' && 'payload' in e) {
      // The function's own error: the WIT `error` or `step-error` variant, { tag, val }.
      parentPort.postMessage({ id, error: e.payload });
    } else {
      // A trap or a host fault: the instance cannot be trusted with another call.
      parentPort.postMessage({ id, fault: String(e?.message ?? e) });
    }
  }
});
parentPort.postMessage({ ready: true });
