// Two tabs of one browser on the same settings and the same budget (issue 17, part 3):
// - editing connections: a tab that missed another tab's notice (stale) adds a connection and
//   renames one; its write is merged into what is stored, so the connection the other tab added
//   (and the key it remembered) survive, both tabs show everything, and so does a reload; what
//   goes over the broadcast channel is only the record's name, never a key;
// - spending one budget: two tabs each start a storyboard batch of one project with a small
//   budget; the first tab's claim holds what the budget allows, the second stops with the budget
//   message before sending anything, and what the sandbox billed never exceeds the budget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, screenshot, sandboxConfig, sandboxReset, sandboxStats, SANDBOX_URL, SANDBOX_KEY,
} from './harness.mjs';
import { addSandboxConnection, dumpIndexedDb, gotoStudio, storedLedger } from './connection-steps.mjs';
import { editorReady, listReady, openProject, saved, sandboxProject } from './project-steps.mjs';

const FIXTURE = new URL('../fixtures/scripts/pipeline_ep1.fountain', import.meta.url);
/** A key pasted for a custom connection and remembered on the device. */
const CUSTOM_KEY = 'sk-custom-tabs-0123456789abcdef0123456789';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await sandboxConfig({}).catch(() => {});
  await browser?.close();
});

/** Waits until `predicate()` holds, polling. */
async function until(predicate, { timeout = 20000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs in every page of the context: records what the page posts on any broadcast channel, and,
 * in a page opened with `?hold-notices`, holds back the settings notices it receives until
 * `window.__releaseNotices()`, as a tab that has not heard yet (a stale tab).
 */
function tabSpies() {
  window.__posted = [];
  const Real = window.BroadcastChannel;
  const post = Real.prototype.postMessage;
  Real.prototype.postMessage = function (data) {
    window.__posted.push([this.name, String(data)]);
    return post.call(this, data);
  };
  const held = [];
  window.__holding = new URLSearchParams(location.search).has('hold-notices');
  window.__releaseNotices = () => {
    window.__holding = false;
    held.splice(0).forEach((deliver) => deliver());
  };
  const onmessage = Object.getOwnPropertyDescriptor(Real.prototype, 'onmessage');
  Object.defineProperty(Real.prototype, 'onmessage', {
    configurable: true,
    get() { return onmessage.get.call(this); },
    set(handler) {
      const channel = this;
      onmessage.set.call(this, handler && function (event) {
        if (window.__holding && channel.name === 'duanju-settings') held.push(() => handler.call(channel, event));
        else handler.call(channel, event);
      });
    },
  });
}

/** The names shown in the connections list, in order. */
const listed = (page) => page.$$eval('[data-testid="conn-item-name"]', (els) => els.map((e) => e.textContent));
/** The key status shown for the connection called `name`. */
const keyStatus = (page, name) => page.locator('[data-testid="conn-item"]', { hasText: name }).getByTestId('conn-item-key').innerText();

test('two tabs editing connections: a stale tab\'s edits are merged, nothing is lost, no key is broadcast', async () => {
  const ctx = await newContext(browser);
  await ctx.addInitScript(tabSpies);
  const { page: a, problems: problemsA } = await open(ctx, '/settings');
  // Z: the sandbox connection, there before tab B opens.
  await addSandboxConnection(a, SANDBOX_URL);
  await until(async () => (await listed(a)).length === 1, { what: 'Z in tab A' });
  const z = (await listed(a))[0];

  // Tab B opens now; from here on it hears no settings notice until released: stale.
  const { page: b, problems: problemsB } = await open(ctx, '/settings?hold-notices');
  await until(async () => (await listed(b)).length === 1, { what: 'Z in tab B' });

  // Tab A adds X, a custom connection whose key it remembers on this device.
  await a.getByTestId('conn-preset').selectOption('custom');
  await a.getByTestId('conn-add').click();
  await a.getByTestId('conn-name').fill('连接 X');
  await a.getByTestId('conn-base-url').fill('https://x.example.com/v1');
  await a.getByTestId('conn-base-url').blur();
  await a.getByTestId('conn-key').fill(CUSTOM_KEY);
  await a.getByTestId('conn-remember').check();
  await until(async () => {
    const kv = Object.fromEntries((await dumpIndexedDb(a)).kv ?? []);
    return kv.keys && JSON.parse(kv.keys)[JSON.parse(kv.connections).find((c) => c.name === '连接 X')?.id] === CUSTOM_KEY;
  }, { what: 'X and its key stored' });
  assert.deepEqual(await listed(b), [z], 'tab B has not heard of X');

  // Stale tab B adds Y and renames Z.
  await b.getByTestId('conn-preset').selectOption('deep_seek');
  await b.getByTestId('conn-add').click();
  await b.getByTestId('conn-name').fill('连接 Y');
  await b.locator('[data-testid="conn-item"]', { hasText: z }).getByTestId('conn-pick').check();
  await b.getByTestId('conn-name').fill('Z 改名');

  const expected = ['Z 改名', '连接 X', '连接 Y'];
  // B's writes merged what A stored: B shows X (and holds X's remembered key, read from
  // storage); A heard B's notices and shows Y and the new name.
  await until(async () => JSON.stringify(await listed(b)) === JSON.stringify(expected), { what: 'tab B to show X, Y and the rename' });
  await until(async () => JSON.stringify(await listed(a)) === JSON.stringify(expected), { what: 'tab A to show Y and the rename' });
  assert.match(await keyStatus(b, '连接 X'), /密钥已记在本机/, 'the remembered key came to B through storage');
  await b.evaluate(() => window.__releaseNotices());
  await b.waitForTimeout(500);
  assert.deepEqual(await listed(b), expected);

  // Only the names of records went over the channel: no key, no connection.
  const posted = [...await a.evaluate(() => window.__posted), ...await b.evaluate(() => window.__posted)];
  const settings = posted.filter(([name]) => name === 'duanju-settings');
  assert.ok(settings.length >= 2, `settings notices were posted (${settings.length})`);
  for (const [, data] of posted) {
    assert.ok(!data.includes(CUSTOM_KEY) && !data.includes(SANDBOX_KEY) && !data.includes('sk-'), `no key in ${data}`);
  }
  for (const [, data] of settings) assert.match(data, /^"(connections|price_book)"$/);

  // What is stored, and what a reload of each tab shows.
  const kv = Object.fromEntries((await dumpIndexedDb(a)).kv);
  const stored = JSON.parse(kv.connections);
  assert.deepEqual(stored.map((c) => c.name), expected);
  assert.equal(JSON.parse(kv.keys)[stored[1].id], CUSTOM_KEY, 'X keeps its remembered key');
  await screenshot(b, 'tabs-connections');
  for (const page of [a, b]) {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await until(async () => JSON.stringify(await listed(page)) === JSON.stringify(expected), { what: 'the list after a reload' });
    assert.match(await keyStatus(page, '连接 X'), /密钥已记在本机/);
  }

  assert.deepEqual([...problemsA, ...problemsB], []);
  await ctx.close();
});

test('two tabs editing the price book: each edit stays, and both tabs show both', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  await ctx.addInitScript(tabSpies);
  const { page: a, problems } = await open(ctx, '/');
  const { page: b } = await open(ctx, '/?hold-notices');
  for (const page of [a, b]) await page.getByTestId('section-profiles').locator('summary').click();
  const official = 'official-market';
  const market = 'relay-market';
  // Tab A: the official profile's rate. Stale tab B: another profile's markup.
  await a.getByTestId(`profile-rate-${official}`).fill('7');
  await until(async () => {
    const kv = Object.fromEntries((await dumpIndexedDb(a)).kv ?? []);
    return kv.price_book && JSON.parse(kv.price_book).profiles.find((p) => p.id === official).cny_per_usd === 7;
  }, { what: 'the rate stored' });
  assert.equal(await b.getByTestId(`profile-rate-${official}`).inputValue(), '7.3', 'tab B has not heard');
  await b.getByTestId(`profile-markup-${market}`).fill('5');

  // B's write kept A's rate (and B shows it); A heard B and shows the markup.
  await until(async () => (await b.getByTestId(`profile-rate-${official}`).inputValue()) === '7', { what: 'tab B to show the rate' });
  await until(async () => (await a.getByTestId(`profile-markup-${market}`).inputValue()) === '5', { what: 'tab A to show the markup' });
  const kv = Object.fromEntries((await dumpIndexedDb(a)).kv);
  const profiles = JSON.parse(kv.price_book).profiles;
  assert.equal(profiles.find((p) => p.id === official).cny_per_usd, 7);
  assert.equal(profiles.find((p) => p.id === market).markup_percent, 5);
  assert.deepEqual(problems, []);
  await ctx.close();
});

/** The number in a batch count cell. */
const count = async (page, name) => Number(await page.getByTestId(`batch-count-${name}`).innerText());

test('two tabs spending one budget: the second stops with the budget message, billing stays within it', { timeout: 180000 }, async (t) => {
  await sandboxReset();
  // Replies take a while, so the first tab's batch is still running when the second starts.
  await sandboxConfig({ latency_ms: { min: 1200, max: 1200 } });
  const name = 'Two tabs budget e2e';
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page: a, problems } = await open(ctx, '/settings');
  await sandboxProject(a, name);
  const scenes = [4, 5, 6, 7, 8].map((n) => `\nEXT. 街角 ${n} - 夜 #${n}#\n\n林梅在雨里奔跑，第${n}次回头。\n`).join('');
  const fixture = (await readFile(FIXTURE, 'utf8')) + scenes;
  await a.getByTestId('script-file').setInputFiles({ name: 't.fountain', mimeType: 'text/plain', buffer: Buffer.from(fixture) });
  await a.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
  assert.equal(await a.locator('[data-testid="sb-scene"]').count(), 8);
  // Room for a few storyboard requests at their worst case, not for the whole episode.
  const budget = 0.012;
  await a.getByTestId('editor-budget').fill(String(budget));
  await saved(a);

  // Tab B opens the same project.
  const { page: b } = await open(ctx, '/studio');
  await listReady(b);
  await openProject(b, name);
  await editorReady(b);
  assert.equal(await b.getByTestId('editor-budget').inputValue(), String(budget));

  // Tab A starts; once its requests are out, tab B starts the same episode.
  await a.getByTestId('sb-run-episode').click();
  await a.getByTestId('batch-view').waitFor();
  await until(async () => (await count(a, 'running')) + (await count(a, 'done')) > 0, { what: 'tab A sending' });
  await b.getByTestId('sb-run-episode').click();

  // B stops at once, with the budget message, and sends nothing.
  const stopped = b.getByTestId('sb-stopped');
  await stopped.waitFor({ timeout: 20000 });
  assert.equal(await stopped.getAttribute('data-kind'), 'budget_reached');
  assert.match(await stopped.textContent(), /left of the project's budget.*Raise the project's budget/s);
  await b.getByTestId('batch-view').waitFor();
  assert.equal(await count(b, 'running') + await count(b, 'done'), 0, 'tab B sent nothing');

  // A runs until the budget holds no further request (or it is done).
  await until(async () => {
    const status = await a.getByTestId('batch-view').getAttribute('data-status');
    return ['stopped', 'finished'].includes(status) && (await count(a, 'running')) === 0;
  }, { timeout: 120000, what: 'tab A to stop or finish' });
  const done = await count(a, 'done');
  assert.ok(done >= 1, 'tab A spent the budget');

  // What was billed never passed the budget: the ledger holds every billed token (never fewer),
  // and its spend for the project is within the cap.
  await a.waitForTimeout(500);
  const stats = await sandboxStats();
  const ledger = await storedLedger(a);
  const tokens = ledger.reduce((sum, e) => sum + e.prompt_tokens + e.completion_tokens, 0);
  const spent = ledger.reduce((sum, e) => sum + BigInt(e.cost_usd_units), 0n);
  const cap = BigInt(Math.round(budget * 1e6)) * 1_000_000_000_000n;
  t.diagnostic(`A done ${done}; billed ${stats.billed.requests} requests, ${stats.billed.total_tokens} tokens; ledger ${ledger.length} entries, $${Number(spent) / 1e18}`);
  assert.ok(stats.billed.requests >= done);
  assert.ok(tokens >= stats.billed.total_tokens, `ledger ${tokens} tokens ≥ billed ${stats.billed.total_tokens}`);
  assert.ok(spent <= cap, `spent ${spent} ≤ budget ${cap} (10⁻¹⁸ $)`);
  assert.ok(stats.billed.requests < 16, 'the two tabs did not both run their episode');
  await screenshot(b, 'tabs-budget');
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await ctx.close();
});
