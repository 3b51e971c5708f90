// Builds a platform package's `dist/`: the smartcomm component transpiled by jco, and the
// code that runs it. Run from the package's folder (`npm run build`), with the component:
//   npm run build -- path/to/smartcomm.wasm
// or SMARTCOMM_WASM set, or the component built by cargo where cargo puts it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const shared = dirname(fileURLToPath(import.meta.url));
const repository = resolve(shared, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repository, 'target');
const wasm = resolve(process.argv[2] ?? process.env.SMARTCOMM_WASM ?? join(targetDir, 'wasm32-wasip2', 'component', 'smartcomm.wasm'));
if (!existsSync(wasm)) {
  console.error(`No component at ${wasm}. Build it with
  cargo build --profile component --target wasm32-wasip2 -p smartcomm
or name it: npm run build -- path/to/smartcomm.wasm`);
  process.exit(1);
}

const dist = resolve('dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'component'), { recursive: true });
// Instantiation mode: the module exports `instantiate(getCoreModule, imports)` and imports
// nothing, so each instance gets a WASI shim with an environment of its own.
execFileSync(
  resolve('node_modules', '.bin', 'jco'),
  ['transpile', wasm, '-o', join(dist, 'component'), '--name', 'smartcomm', '--instantiation', 'async', '--no-typescript', '--quiet'],
  { stdio: 'inherit' },
);
writeFileSync(join(dist, 'component', 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
for (const file of ['component.mjs', 'worker.mjs']) copyFileSync(join(shared, file), join(dist, file));
console.log(`built ${dist} from ${wasm}`);
