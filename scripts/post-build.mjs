// Trunk post_build hook (one hook: Trunk runs hooks of the same stage concurrently).
//
// 1. Release builds only: code splitting (ARCHITECTURE.md, "Bundle size"). build.rs links the
//    release wasm with --emit-relocs and sets cfg(duanju_split), so the lazy pages' loaders
//    (src/ui/app.rs) are wasm-split points. Here the linked module is split with wasm-split-cli
//    into the main module and chunks; the main module goes through wasm-bindgen (keeping the
//    linker's exports, which the chunks import) and every module through wasm-opt -Oz. Trunk's
//    own wasm-bindgen output is replaced, and its wasm-opt is off (data-wasm-opt="0").
//    Chunks and the chunk loader get content-hashed names, so a cached copy can never pair with
//    another build's main module. index.html gets fresh integrity hashes, a modulepreload for the
//    loader (the main module imports it) and the chunks' paths in <meta name="duanju-lazy-chunks">:
//    the page fetches a chunk only when it needs it, and the service worker caches them all
//    at install, so every page opens offline. The JS glue, the loader and the stylesheet are
//    minified (esbuild), and the JS glue's only whitespace-sensitive part, its module specifiers,
//    is rewritten before that.
// 2. Every build: the SHA-256 of each inline <script> goes into the Content-Security-Policy, in
//    place of the INLINE_SCRIPT_HASHES placeholder, so the policy allows exactly the boot script
//    Trunk generated and nothing else.
// 3. Release builds only: the dev-only `connect-src` source `ws://127.0.0.1:*` (Trunk's
//    live-reload socket under `trunk serve`) is taken out of the policy, and the build fails if
//    any ws:/wss: source is left. The http loopback sources stay (ARCHITECTURE.md, "A strict
//    CSP": local models and the local sandbox preset).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) fail('TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
const indexFile = join(dir, 'index.html');
let html = readFileSync(indexFile, 'utf8');

function fail(message) {
  console.error(`post-build: ${message}`);
  process.exit(1);
}

function run(command, args) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The first of these tools found on PATH or in node_modules/.bin. */
function tool(name) {
  const local = join(root, 'node_modules', '.bin', name);
  try {
    execFileSync(name, ['--help'], { stdio: 'ignore' });
    return name;
  } catch {
    if (existsSync(local)) return local;
    fail(`${name} not found: run scripts/setup.sh`);
  }
}

/** esbuild's minifier, from node_modules (scripts/setup.sh installs it). */
function minifier() {
  try {
    return createRequire(join(root, 'package.json'))('esbuild');
  } catch {
    fail('esbuild not found: run scripts/setup.sh');
  }
}

/** Minified code: `loader` is 'js' (an ES module) or 'css'. */
function minified(esbuild, code, loader) {
  return esbuild.transformSync(code, {
    loader,
    minify: true,
    format: loader === 'js' ? 'esm' : undefined,
    // wasm-bindgen lists the loader once per split point under one key; the last one wins, as
    // before minifying, and all of them are the same module.
    logOverride: { 'duplicate-object-key': 'silent' },
  }).code;
}

/** Minifies a staged .js or .css file in place. */
function minify(esbuild, file) {
  const loader = file.endsWith('.css') ? 'css' : 'js';
  writeFileSync(file, minified(esbuild, readFileSync(file, 'utf8'), loader));
}

const sri = (buf) => `sha384-${createHash('sha384').update(buf).digest('base64')}`;
const shortHash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 16);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces every `from` in `text`, failing unless there are exactly `count` of them. */
function replaceExactly(text, from, to, count, what) {
  const parts = text.split(from);
  if (parts.length - 1 !== count) fail(`${what}: expected ${count} × ${JSON.stringify(from)}, found ${parts.length - 1}`);
  return parts.join(to);
}

function split() {
  const js = readdirSync(dir).find((name) => /^duanju-studio-[0-9a-f]+\.js$/.test(name));
  if (!js) fail('no duanju-studio-<hash>.js in the staging dir');
  const stem = js.slice(0, -'.js'.length);
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
  const linked = join(targetDir, 'wasm32-unknown-unknown', 'release', 'duanju-studio.wasm');
  if (!existsSync(linked)) fail(`${linked} not found`);

  const work = mkdtempSync(join(tmpdir(), 'duanju-split-'));
  try {
    run(tool('wasm-split-cli'), [linked, work, '--out-name', stem]);
    const pieces = readdirSync(work).filter((name) => /^(?:split|chunk)_[a-z0-9_]+\.wasm$/.test(name));
    if (pieces.length === 0) fail('wasm-split made no chunks: is cfg(duanju_split) set (build.rs)?');
    run(tool('wasm-bindgen'), [
      '--target', 'web', '--keep-lld-exports', '--no-demangle', '--no-typescript',
      '--out-name', stem, '--out-dir', dir, join(work, `${stem}.wasm`),
    ]);
    const wasmOpt = tool('wasm-opt');
    const mainWasm = join(dir, `${stem}_bg.wasm`);
    run(wasmOpt, ['-Oz', mainWasm, '-o', mainWasm]);

    // Chunks: optimised, then named by content; the loader is told their new names.
    let loader = readFileSync(join(work, '__wasm_split.js'), 'utf8');
    const chunkNames = [];
    for (const piece of pieces.sort()) {
      const optimised = join(work, `opt-${piece}`);
      run(wasmOpt, ['-Oz', join(work, piece), '-o', optimised]);
      const bytes = readFileSync(optimised);
      const name = `${piece.slice(0, -'.wasm'.length)}-${shortHash(bytes)}.wasm`;
      writeFileSync(join(dir, name), bytes);
      loader = replaceExactly(loader, `"./${piece}"`, `"./${name}"`, 1, '__wasm_split.js');
      chunkNames.push(name);
    }
    const esbuild = minifier();
    loader = minified(esbuild, loader, 'js');
    const loaderName = `__wasm_split-${shortHash(loader)}.js`;
    writeFileSync(join(dir, loaderName), loader);

    // The main JS imports the loader once per split point; only the module specifiers change
    // (the keys of the wasm imports object stay "./__wasm_split.js", the name the wasm uses).
    const mainJs = join(dir, js);
    const glue = readFileSync(mainJs, 'utf8').split(' from "./__wasm_split.js"');
    if (glue.length < 2) fail(`${js} does not import __wasm_split.js`);
    writeFileSync(mainJs, glue.join(` from "./${loaderName}"`));
    minify(esbuild, mainJs);
    const css = readdirSync(dir).filter((name) => name.endsWith('.css'));
    for (const file of css) minify(esbuild, join(dir, file));

    // index.html: integrity of the replaced files, then the loader and the chunks.
    for (const file of [js, `${stem}_bg.wasm`, ...css]) {
      const link = new RegExp(`(<link[^>]*href="([^"]*/)${escape(file)}"[^>]*integrity=")[^"]*(")`);
      if (!link.test(html)) fail(`index.html has no link with integrity for ${file}`);
      html = html.replace(link, `$1${sri(readFileSync(join(dir, file)))}$3`);
    }
    const base = html.match(new RegExp(`href="([^"]*/)${escape(js)}"`))[1];
    const links = [
      `<link rel="modulepreload" href="${base}${loaderName}" crossorigin="anonymous" integrity="${sri(loader)}">`,
      `<meta name="duanju-lazy-chunks" content="${chunkNames.map((name) => base + name).join(' ')}">`,
    ];
    html = replaceExactly(html, '</head>', `${links.join('\n')}\n</head>`, 1, 'index.html');
    console.log(`post-build: split into the main module and ${chunkNames.length} chunk(s): ${chunkNames.join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function cspHashes() {
  const hashes = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
    hashes.push(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  if (!html.includes('INLINE_SCRIPT_HASHES')) fail('index.html has no INLINE_SCRIPT_HASHES placeholder in its CSP');
  html = html.replace('INLINE_SCRIPT_HASHES', hashes.join(' '));
  console.log(`post-build: ${hashes.length} inline script hash(es) written`);
}

/** Release builds: the CSP's connect-src without the dev server's live-reload socket. */
function releaseConnectSources() {
  const policy = /(http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")/;
  const csp = html.match(policy)?.[2];
  if (!csp) fail('index.html has no Content-Security-Policy');
  const directives = csp.split(';').map((d) => d.trim()).filter(Boolean).map((directive) => {
    const [name, ...sources] = directive.split(/\s+/);
    if (name !== 'connect-src') return directive;
    return [name, ...sources.filter((source) => source !== 'ws://127.0.0.1:*')].join(' ');
  });
  const released = directives.join('; ');
  if (/(?:^|\s)wss?:/.test(released)) fail(`a WebSocket source is left in the release CSP: ${released}`);
  html = html.replace(policy, (_, head, __, tail) => `${head}${released}${tail}`);
  console.log('post-build: release CSP without the live-reload connect-src source');
}

if (process.env.TRUNK_PROFILE === 'release') {
  split();
  releaseConnectSources();
}
cspHashes();
writeFileSync(indexFile, html);
