// Code splitting as a user meets it (release build): the first visit downloads the main module
// and not the other pages' code; a page's chunk arrives on its first visit; a chunk that cannot
// be downloaded shows an error in the page's language and a way to retry, and the app goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, open, APP_URL } from './harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CHUNK = /\/(?:split|chunk)_[a-z0-9_]+-[0-9a-f]{16}\.wasm$/;
const STUDIO_CHUNK = /\/split_studio-[0-9a-f]{16}\.wasm$/;
const EDITORS_CHUNK = /\/split_estimate_editors-[0-9a-f]{16}\.wasm$/;

/** The wasm files a page requests (the service worker's own downloads are not the page's). */
function wasmRequests(page) {
  const urls = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) urls.push(path);
  });
  return urls;
}

test('the first visit loads only the main module; a page brings its chunk on its first visit', async () => {
  // No service worker: every download shows up as the page's own request.
  const ctx = await newContext(browser, { serviceWorkers: 'block' });
  const page = await ctx.newPage();
  const wasm = wasmRequests(page);
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(APP_URL + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByTestId('page-estimate').waitFor();

  // index.html lists the chunks for the service worker, and none of them is fetched to start.
  const listed = await page.evaluate(() => document.querySelector('meta[name="duanju-lazy-chunks"]')?.content ?? '');
  const chunks = listed.split(/\s+/).filter(Boolean);
  assert.ok(chunks.some((c) => STUDIO_CHUNK.test(c)), `the Studio chunk is listed: ${listed}`);
  assert.ok(chunks.every((c) => CHUNK.test(c)), `every listed chunk has a content-hashed name: ${listed}`);
  assert.equal(wasm.length, 1, `one wasm module to start: ${wasm.join(', ')}`);
  assert.ok(!CHUNK.test(wasm[0]), 'the one module is the main module');

  // The Estimate page's folded editors come with the first one opened.
  await page.getByTestId('section-profiles').locator('summary').click();
  await page.getByTestId('profile-rate-official-market').waitFor();
  assert.ok(wasm.some((p) => EDITORS_CHUNK.test(p)), `the editors' chunk was fetched when opened: ${wasm.join(', ')}`);
  assert.ok(!wasm.some((p) => STUDIO_CHUNK.test(p)), 'not the Studio chunk');

  await page.locator('header nav a[href="/studio"]').click();
  await page.getByTestId('page-studio').waitFor();
  assert.ok(wasm.some((p) => STUDIO_CHUNK.test(p)), `the Studio chunk was fetched on the visit: ${wasm.join(', ')}`);
  const afterStudio = wasm.length;

  // Back and forth: a loaded page does not download again.
  await page.locator('header nav a[href="/"]').click();
  await page.getByTestId('page-estimate').waitFor();
  await page.locator('header nav a[href="/studio"]').click();
  await page.getByTestId('page-studio').waitFor();
  assert.equal(wasm.length, afterStudio, 'no second download of a loaded page');
  assert.deepEqual(problems, [], 'no page errors');
  await ctx.close();
});

test('a page whose code cannot be downloaded says so, offers a reload, and loads on the next try', async () => {
  const ctx = await newContext(browser, { locale: 'en-US', serviceWorkers: 'block' });
  let blocked = true;
  await ctx.route(STUDIO_CHUNK, (route) => (blocked ? route.abort('internetdisconnected') : route.continue()));
  const { page } = await open(ctx, '/');
  // Something typed on the Estimate page before the failure is still there after it.
  const episodes = page.getByTestId('plan-episodes_per_series');
  await episodes.fill('37');

  await page.locator('header nav a[href="/studio"]').click();
  const failed = page.getByTestId('page-load-failed');
  await failed.waitFor();
  assert.match(await failed.getByRole('alert').textContent(), /could not be downloaded/);
  assert.ok(await failed.getByRole('button', { name: 'Reload' }).isVisible());
  assert.ok(await page.locator('header nav').isVisible(), 'the app goes on: the header still works');

  // The failure is not remembered: once the network is back, visiting the page again loads it.
  blocked = false;
  await page.locator('header nav a[href="/"]').click();
  await page.getByTestId('page-estimate').waitFor();
  assert.equal(await episodes.inputValue(), '37', 'the plan is intact');
  await page.locator('header nav a[href="/studio"]').click();
  await page.getByTestId('page-studio').waitFor();

  // The reload button reloads the page, which then opens normally.
  blocked = true;
  const second = await ctx.newPage();
  await second.goto(APP_URL + '/settings');
  await second.waitForSelector('body[data-ready="true"]');
  await second.locator('header nav a[href="/studio"]').click();
  await second.getByTestId('page-load-failed').waitFor();
  blocked = false;
  await Promise.all([
    second.waitForEvent('load'),
    second.getByTestId('page-load-failed').getByRole('button', { name: 'Reload' }).click(),
  ]);
  await second.getByTestId('page-studio').waitFor();
  await ctx.close();
});
