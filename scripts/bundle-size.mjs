// Measures the bundle in dist/, raw and brotli-compressed (quality 11).
//
// The initial load is what index.html makes the browser fetch before the app can start: the
// stylesheet, the modulepreloaded JS (the wasm-bindgen glue and, in a split build, the chunk
// loader) and the preloaded main wasm module. The wasm chunks of a split build (code loaded when
// first needed; ARCHITECTURE.md, "Bundle size") are listed in <meta name="duanju-lazy-chunks">
// and are not needed to start. They are reported apart, as `lazy_br`. The service
// worker is part of neither. Every .js/.wasm/.css in dist/ must be one or the other, so a file
// the page loads some other way cannot go uncounted.
//
// `--budget N` fails when the initial load is above N bytes brotli; `--target N` reports the gap
// to the product's target without failing; `--json` prints the figures (the benchmark).
import { readdirSync, readFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dir = 'dist';
const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const fail = (message) => { console.error(`bundle-size: ${message}`); process.exit(1); };

let html;
try {
  html = readFileSync(join(dir, 'index.html'), 'utf8');
} catch {
  fail('no dist/index.html: run trunk build --release first');
}
const initialNames = new Set();
const lazyNames = new Set();
for (const [tag] of html.matchAll(/<link\b[^>]*>/g)) {
  const rel = tag.match(/\brel="([^"]+)"/)?.[1];
  const href = tag.match(/\bhref="([^"]+)"/)?.[1];
  if (!rel || !href || href.includes('/public/')) continue;
  const name = href.split('/').pop();
  if (['stylesheet', 'modulepreload', 'preload'].includes(rel)) initialNames.add(name);
}
for (const path of html.match(/<meta name="duanju-lazy-chunks" content="([^"]*)"/)?.[1].split(/\s+/) ?? []) {
  if (path) lazyNames.add(path.split('/').pop());
}

const sizes = { wasm_raw: 0, wasm_br: 0, js_br: 0, css_br: 0, total_br: 0, lazy_raw: 0, lazy_br: 0, lazy_files: 0 };
for (const name of readdirSync(dir)) {
  const ext = extname(name);
  if (!['.wasm', '.js', '.css'].includes(ext) || name === 'sw.js') continue;
  const buf = readFileSync(join(dir, name));
  const b = br(buf);
  if (lazyNames.has(name)) {
    sizes.lazy_raw += buf.length;
    sizes.lazy_br += b;
    sizes.lazy_files += 1;
    continue;
  }
  if (!initialNames.has(name)) fail(`${name} is in dist/ but index.html neither loads it nor lists it as a chunk`);
  if (ext === '.wasm') { sizes.wasm_raw += buf.length; sizes.wasm_br += b; }
  if (ext === '.js') sizes.js_br += b;
  if (ext === '.css') sizes.css_br += b;
}
sizes.total_br = sizes.wasm_br + sizes.js_br + sizes.css_br;
const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : null; };
if (args.includes('--json')) { console.log(JSON.stringify(sizes)); process.exit(0); }
console.log(`initial load: wasm ${sizes.wasm_raw} B raw, ${sizes.wasm_br} B br; js ${sizes.js_br} B br; css ${sizes.css_br} B br; total ${sizes.total_br} B br`);
console.log(`loaded on demand: ${sizes.lazy_files} wasm chunk(s), ${sizes.lazy_raw} B raw, ${sizes.lazy_br} B br`);
const target = option('--target');
if (target !== null) {
  const gap = sizes.total_br - target;
  console.log(gap > 0 ? `target ${target} B brotli: over by ${gap} B (not met)` : `target ${target} B brotli: met`);
}
const budget = option('--budget');
if (budget !== null) {
  if (sizes.wasm_br === 0) fail('no wasm in the initial load: run trunk build --release first');
  const ok = sizes.total_br <= budget;
  if (!ok) console.error(`over budget: ${sizes.total_br} B > ${budget} B brotli`);
  console.log(`bundle: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  process.exit(ok ? 0 : 1);
}
