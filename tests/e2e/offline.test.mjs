// The app offline (PWA): after a first visit the service worker has the app shell, so with the
// network off (and the server gone) the app still loads, an existing draft opens and estimates
// work. A new deployment is offered as "Reload to update", never forced: the open page keeps
// its version until the user accepts. The worker never touches cross-origin requests.
//
// This test serves its own copy of the release bundle (DIST_DIR, `dist` by default) on a free
// port, so it can stop the server and deploy a "new version" without disturbing other tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  const css = (await readdir(dir)).find((f) => f.endsWith('.css'));
  const newCss = css.replace(/-([0-9a-f]+)\.css$/, '-0000000000000000.css');
  await rename(join(dir, css), join(dir, newCss));
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  await writeFile(join(dir, 'index.html'), html.replaceAll(css, newCss));
  for (const sub of ['studio', 'settings', 'view']) {
    try {
      const page = join(dir, sub, 'index.html');
      await writeFile(page, (await readFile(page, 'utf8')).replaceAll(css, newCss));
    } catch { /* a one-bundle build has no page folders */ }
  }
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
