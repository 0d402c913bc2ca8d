// The app offline (PWA): after a first visit the service worker has the app shell, so with the
// network off (and the server gone) the app still loads, an existing draft opens and estimates
// work. A new deployment is offered as "Reload to update", never forced: the open page keeps
// its version until the user accepts. The worker never touches cross-origin requests.
//
// A new version whose download fails midway (a file of it answers 500) is never half applied:
// the old version keeps working, offline too, and the update lands once the server recovers.
//
// These tests serve their own copies of the release bundle (DIST_DIR, `dist` by default) on a
// free port, so they can stop the server and deploy a "new version" without disturbing others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, newContext, SANDBOX_URL } from './harness.mjs';
import { storyboardFile, openFile, saveCopy, chooseDraft } from './share-steps.mjs';

const DIST = process.env.DIST_DIR ?? 'dist';

let browser;
let dir;
before(async () => {
  browser = await launch();
  dir = await mkdtemp(join(tmpdir(), 'duanju-offline-'));
  await cp(DIST, dir, { recursive: true });
});
after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Serves `root` on `port` with the project's static server; resolves once it answers. */
async function serve(root, port) {
  const child = spawn(process.execPath, ['scripts/serve-dist.mjs', root, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return child;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the static server did not start');
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
}

/** Deploys a "new version" in `root`: the stylesheet under a new name in every page. Returns
 * the old and the new file names. */
async function deployNewVersion(root, hash) {
  const css = (await readdir(root)).find((f) => f.endsWith('.css'));
  const newCss = css.replace(/-([0-9a-f]+)\.css$/, `-${hash}.css`);
  await rename(join(root, css), join(root, newCss));
  for (const page of ['index.html', 'studio/index.html', 'settings/index.html', 'view/index.html']) {
    try {
      await writeFile(join(root, page), (await readFile(join(root, page), 'utf8')).replaceAll(css, newCss));
    } catch { /* a one-bundle build has no page folders */ }
  }
  return { css, newCss };
}

/** Serves `root` with the project's static server behind a proxy on `port` that counts the
 * requests by path and answers 500 for the paths in `failing`. */
async function serveFlaky(root, port) {
  const innerPort = await freePort();
  const inner = await serve(root, innerPort);
  const hits = new Map();
  const failing = new Set();
  const proxy = createHttpServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failing.has(path)) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('server error');
      return;
    }
    try {
      const upstream = await fetch(`http://127.0.0.1:${innerPort}${req.url}`);
      const headers = {};
      for (const name of ['content-type', 'cache-control']) {
        if (upstream.headers.has(name)) headers[name] = upstream.headers.get(name);
      }
      res.writeHead(upstream.status, headers);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.writeHead(502);
      res.end();
    }
  });
  await new Promise((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  const close = async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await stop(inner);
  };
  return { hits, failing, close };
}

/** What the worker's caches hold: the shell's file list, and whether a staged one is complete. */
async function cacheState(page) {
  return page.evaluate(async () => {
    const list = async (name) => {
      if (!(await caches.has(name))) return null;
      const r = await (await caches.open(name)).match('/__duanju-shell.json');
      return r ? r.json() : null;
    };
    return { shell: await list('duanju-shell'), staged: await list('duanju-shell-staged') };
  });
}

test('after a first visit the app opens offline, a draft opens and estimates work', async () => {
  const port = await freePort();
  const app = `http://127.0.0.1:${port}`;
  let server = await serve(dir, port);
  const ctx = await newContext(browser, { locale: 'en-US' });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${app}/view`);
  await ready(page);
  await page.waitForSelector('body[data-offline-ready="true"]', { timeout: 30000 });
  await openFile(page, storyboardFile('Offline series'));
  await saveCopy(page);

  // The network goes away, and so does the server.
  await ctx.setOffline(true);
  await stop(server);
  await page.goto(`${app}/view`);
  await ready(page);
  await chooseDraft(page, 'Offline series');
  assert.equal(await page.getByTestId('draft-preview').getByTestId('sheet-shot').count(), 8);

  await page.goto(`${app}/`);
  await ready(page);
  await page.getByTestId('page-estimate').waitFor();
  assert.match(await page.getByTestId('total-usd-holysheep-relay').innerText(), /^\$[\d,]+\.\d\d$/);

  // The worker leaves cross-origin requests alone: offline, they fail as the network does.
  const crossOrigin = await page.evaluate(async (url) => {
    try { await fetch(`${url}/models`); return 'answered'; } catch { return 'network error'; }
  }, SANDBOX_URL);
  assert.equal(crossOrigin, 'network error');
  const cached = await page.evaluate(async () => {
    const keys = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) keys.push(new URL(request.url).origin);
    }
    return [...new Set(keys)];
  });
  assert.deepEqual(cached, [app], 'only this origin is cached');

  // A new version is deployed: the page is offered the update and keeps its version until asked.
  await ctx.setOffline(false);
  const { css, newCss } = await deployNewVersion(dir, '0000000000000000');
  server = await serve(dir, port);
  await page.goto(`${app}/`);
  await ready(page);
  await page.getByTestId('update-banner').waitFor({ timeout: 30000 });
  const stylesheet = () => page.evaluate(() => document.querySelector('link[rel="stylesheet"]').getAttribute('href'));
  assert.equal(await stylesheet(), `/${css}`, 'still the running version');
  await page.getByTestId('update-reload').click();
  await page.waitForFunction((name) => document.querySelector('link[rel="stylesheet"]')?.getAttribute('href') === `/${name}`, newCss, { timeout: 20000 });
  await ready(page);
  await page.getByTestId('page-estimate').waitFor();
  assert.equal(await page.getByTestId('update-banner').count(), 0);

  assert.deepEqual(problems, []);
  await ctx.close();
  await stop(server);
});

test('a new version that fails to download midway leaves the old one working, offline too', async () => {
  const root = await mkdtemp(join(tmpdir(), 'duanju-offline-flaky-'));
  await cp(DIST, root, { recursive: true });
  const port = await freePort();
  const app = `http://127.0.0.1:${port}`;
  let server = await serveFlaky(root, port);
  const ctx = await newContext(browser, { locale: 'en-US' });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const stylesheet = () => page.evaluate(() => document.querySelector('link[rel="stylesheet"]').getAttribute('href'));
  try {
    await page.goto(`${app}/`);
    await ready(page);
    await page.waitForSelector('body[data-offline-ready="true"]', { timeout: 30000 });
    const before = await cacheState(page);
    assert.ok(before.shell?.length > 2, 'the first visit cached the shell');

    // A new version is deployed, and one of its files answers 500 while the worker downloads it.
    const { css, newCss } = await deployNewVersion(root, '1111111111111111');
    server.failing.add(`/${newCss}`);
    await page.goto(`${app}/`);
    await ready(page);
    for (let i = 0; i < 100 && !server.hits.get(`/${newCss}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(server.hits.get(`/${newCss}`) > 0, 'the worker tried to download the new version');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.getByTestId('update-banner').count(), 0, 'a failed download offers no update');
    const after = await cacheState(page);
    assert.deepEqual(after.shell, before.shell, 'the shell in use is untouched');
    assert.equal(after.staged, null, 'no staged shell counts as complete');

    // A staging cache left half written (here by hand: a page without its files, no list) is
    // never applied, even when asked to.
    await page.evaluate(async () => {
      const staged = await caches.open('duanju-shell-staged');
      await staged.put('/index.html', new Response('<!doctype html><title>half</title>', { headers: { 'content-type': 'text/html' } }));
    });
    const reloaded = page.waitForEvent('load');
    await page.evaluate(() => navigator.serviceWorker.controller.postMessage({ type: 'apply-update' }));
    await reloaded;
    await ready(page);
    assert.equal(await stylesheet(), `/${css}`, 'still the old version');

    // Offline, with the server gone: the old version opens and works.
    await ctx.setOffline(true);
    await server.close();
    await page.goto(`${app}/`);
    await ready(page);
    await page.getByTestId('page-estimate').waitFor();
    assert.equal(await stylesheet(), `/${css}`);
    assert.match(await page.getByTestId('total-usd-holysheep-relay').innerText(), /^\$[\d,]+\.\d\d$/);
    await page.goto(`${app}/studio`);
    await ready(page);
    await page.getByTestId('page-studio').waitFor();

    // The server recovers: the update downloads whole, is offered, and applies.
    await ctx.setOffline(false);
    server = await serveFlaky(root, port);
    await page.goto(`${app}/`);
    await ready(page);
    await page.getByTestId('update-banner').waitFor({ timeout: 30000 });
    assert.equal(await stylesheet(), `/${css}`, 'still the running version');
    await page.getByTestId('update-reload').click();
    await page.waitForFunction((name) => document.querySelector('link[rel="stylesheet"]')?.getAttribute('href') === `/${name}`, newCss, { timeout: 20000 });
    await ready(page);
    const applied = await cacheState(page);
    assert.ok(applied.shell.includes(`/${newCss}`) && !applied.shell.includes(`/${css}`));
    assert.equal(applied.staged, null);
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
    await server.close().catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
});
