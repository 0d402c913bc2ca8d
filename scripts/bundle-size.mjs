// Measures the initial load in dist/ (wasm + js + css; the service worker is not part of it),
// raw and brotli-compressed. `--budget N` fails above N bytes brotli; `--target N` reports the
// gap to the product's target without failing; `--json` prints the figures (the benchmark).
import { readdirSync, readFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dir = 'dist';
const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const sizes = { wasm_raw: 0, wasm_br: 0, js_br: 0, css_br: 0, total_br: 0 };
for (const name of readdirSync(dir)) {
  const ext = extname(name);
  if (!['.wasm', '.js', '.css'].includes(ext) || name === 'sw.js') continue;
  const buf = readFileSync(join(dir, name));
  const b = br(buf);
  if (ext === '.wasm') { sizes.wasm_raw += buf.length; sizes.wasm_br += b; }
  if (ext === '.js') sizes.js_br += b;
  if (ext === '.css') sizes.css_br += b;
}
sizes.total_br = sizes.wasm_br + sizes.js_br + sizes.css_br;
const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : null; };
if (args.includes('--json')) { console.log(JSON.stringify(sizes)); process.exit(0); }
console.log(`wasm ${sizes.wasm_raw} B raw, ${sizes.wasm_br} B br; js ${sizes.js_br} B br; css ${sizes.css_br} B br; total ${sizes.total_br} B br`);
const target = option('--target');
if (target !== null) {
  const gap = sizes.total_br - target;
  console.log(gap > 0 ? `target ${target} B brotli: over by ${gap} B (not met)` : `target ${target} B brotli: met`);
}
const budget = option('--budget');
if (budget !== null) {
  if (sizes.wasm_br === 0) { console.error('no wasm in dist/: run trunk build --release first'); process.exit(1); }
  const ok = sizes.total_br <= budget;
  if (!ok) console.error(`over budget: ${sizes.total_br} B > ${budget} B brotli`);
  console.log(`bundle: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  process.exit(ok ? 0 : 1);
}
