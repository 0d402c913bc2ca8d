// Measures the initial-load bundle in dist/ (wasm + js + css), raw and brotli-compressed, and
// optionally checks it against a budget: `node scripts/bundle-size.mjs --budget 250000`.
// With --json it prints the figures as JSON (the benchmark uses that).
import { readdirSync, readFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dir = 'dist';
const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const sizes = { wasm_raw: 0, wasm_br: 0, js_br: 0, css_br: 0, total_br: 0 };
for (const name of readdirSync(dir)) {
  const ext = extname(name);
  if (!['.wasm', '.js', '.css'].includes(ext)) continue;
  const buf = readFileSync(join(dir, name));
  const b = br(buf);
  if (ext === '.wasm') { sizes.wasm_raw += buf.length; sizes.wasm_br += b; }
  if (ext === '.js') sizes.js_br += b;
  if (ext === '.css') sizes.css_br += b;
}
sizes.total_br = sizes.wasm_br + sizes.js_br + sizes.css_br;
const args = process.argv.slice(2);
if (args.includes('--json')) { console.log(JSON.stringify(sizes)); process.exit(0); }
console.log(`wasm ${sizes.wasm_raw} B raw, ${sizes.wasm_br} B br; js ${sizes.js_br} B br; css ${sizes.css_br} B br; total ${sizes.total_br} B br`);
const i = args.indexOf('--budget');
if (i >= 0) {
  const budget = Number(args[i + 1]);
  if (sizes.wasm_br === 0) { console.error('no wasm in dist/: run trunk build --release first'); process.exit(1); }
  if (sizes.total_br > budget) { console.error(`over budget: ${sizes.total_br} B > ${budget} B brotli`); process.exit(1); }
  console.log(`within budget: ${sizes.total_br} B <= ${budget} B brotli`);
}
