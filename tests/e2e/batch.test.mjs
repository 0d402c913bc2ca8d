// Batches in the Studio against the sandbox: a batch of 30 prompts at a low rate limit survives
// a reload in the middle (in-flight items become "outcome unknown" and are not resent without
// consent; the rest resumes by itself) and ends with no duplicate paid request; a sandbox that
// answers insufficient_quota stops the batch with a clear message and nothing more is sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newContext, open, screenshot, sandboxConfig, sandboxReset, sandboxStats, SANDBOX_URL,
} from './harness.mjs';
import { addSandboxConnection, gotoStudio } from './connection-steps.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await sandboxConfig({}).catch(() => {});
  await browser?.close();
});

const CHAT = 'POST /v1/chat/completions';

/** The number in a count cell. */
const count = async (page, name) => Number(await page.getByTestId(`batch-count-${name}`).innerText());

/** Waits until `predicate(page)` holds, polling. */
async function until(page, predicate, { timeout = 60000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await predicate(page)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A Studio page with the sandbox connection active, in a fresh profile. */
async function studio(locale = 'en-US') {
  const ctx = await newContext(browser, { locale });
  const { page, problems } = await open(ctx, '/settings');
  await addSandboxConnection(page, SANDBOX_URL);
  await gotoStudio(page);
  await page.getByTestId('batch-panel').waitFor();
  return { ctx, page, problems };
}

/** Fills the batch form, checks the quote, presses Start; returns the chat requests the sandbox
 * had seen before (adding the connection may have tested it). */
async function startBatch(page, prompts, rpm) {
  const before = (await sandboxStats()).requests[CHAT] ?? 0;
  await page.getByTestId('batch-prompts').fill(prompts.join('\n'));
  await page.getByTestId('batch-rpm').fill(String(rpm));
  // The quote is shown before anything starts.
  await page.getByTestId('batch-quote').waitFor();
  assert.equal(Number(await page.getByTestId('batch-quote-requests').innerText()), prompts.length);
  assert.match(await page.getByTestId('batch-quote-usd').innerText(), /^\$\d/);
  assert.match(await page.getByTestId('batch-quote-cny').innerText(), /^¥\d/);
  await page.waitForTimeout(300);
  assert.equal((await sandboxStats()).requests[CHAT] ?? 0, before, 'nothing sent before Start');
  await page.getByTestId('batch-start').click();
  await page.getByTestId('batch-view').waitFor();
  return before;
}

test('a reload mid-batch resumes it, leaves in-flight items to the user, and never pays twice', async (t) => {
  await sandboxReset();
  await sandboxConfig({ rpm: 120, latency_ms: { min: 300, max: 700 } });
  const { ctx, page, problems } = await studio();
  const prompts = Array.from({ length: 30 }, (_, i) => `[[sandbox:tokens=20]] 第${i + 1}场 台词 take ${i + 1}`);
  await startBatch(page, prompts, 120);

  // Reload while the batch runs, with requests in flight if possible.
  await until(page, async (p) => (await count(p, 'done')) >= 6 && (await count(p, 'running')) > 0,
    { what: 'six items done and one in flight' });
  const doneBefore = await count(page, 'done');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByTestId('batch-view').waitFor();
  const unknown = await count(page, 'unknown');
  assert.ok(unknown <= 6, `at most the concurrency was in flight (${unknown})`);
  assert.ok((await count(page, 'done')) >= doneBefore, 'the answered items are still done');

  // The rest resumes by itself; the unknown items wait for the user.
  await until(page, async (p) => (await count(p, 'queued')) === 0 && (await count(p, 'running')) === 0,
    { what: 'the resumed batch to drain', timeout: 90000 });
  assert.equal(await count(page, 'unknown'), unknown, 'unknown items were not resent');
  const sends = await page.$$eval('[data-testid="batch-item"]', (rows) => rows.map((r) => Number(r.dataset.sends)));
  assert.equal(sends.length, 30);
  assert.ok(sends.every((n) => n >= 1), 'every item was sent');
  if (unknown > 0) {
    assert.match(await page.getByTestId('batch-unknown').innerText(), /paid again/);
    await page.getByTestId('batch-mark-unknown-failed').click();
    // The batch may already show "finished" (unknown is a final state): wait for the marking.
    await until(page, async (p) => (await count(p, 'unknown')) === 0, { what: 'unknown items marked failed' });
  }
  await until(page, async (p) => (await p.getByTestId('batch-view').getAttribute('data-status')) === 'finished',
    { what: 'the batch to finish' });

  const done = await count(page, 'done');
  const failed = await count(page, 'failed');
  assert.equal(done + failed, 30);
  assert.equal(failed, unknown, 'only the items of unknown outcome are not done');
  const stats = await sandboxStats();
  assert.equal(stats.duplicates, 0, 'no request was paid twice');
  const billed = stats.billed.requests;
  t.diagnostic(`done before reload ${doneBefore}, unknown after ${unknown}, done ${done}, billed ${billed}`);
  // Every done item was billed once; an unknown one may or may not have been.
  assert.ok(billed >= done && billed <= done + unknown, `billed ${billed}, done ${done}, unknown ${unknown}`);
  // The reconciliation counts the calls the ledger recorded for this batch.
  const reconcile = page.getByTestId('batch-reconcile');
  await reconcile.waitFor();
  assert.equal(Number(await reconcile.getAttribute('data-billed-calls')) >= done, true);
  assert.match(await reconcile.innerText(), /Input-token estimate error/);
  // Replies are text nodes, not HTML.
  assert.equal(await page.locator('[data-testid="batch-item"] td.ds-batch-output *').count(), 0);
  await screenshot(page, 'batch-after-reload');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('insufficient_quota stops the batch with a clear message and nothing more is sent', async () => {
  await sandboxReset();
  await sandboxConfig({ faults: { insufficient_quota: 1.0 } });
  const { ctx, page } = await studio('zh-CN');
  const prompts = Array.from({ length: 20 }, (_, i) => `[[sandbox:tokens=10]] 镜头 ${i + 1}`);
  const before = await startBatch(page, prompts, 600);
  const stopped = page.getByTestId('batch-stopped');
  await stopped.waitFor({ timeout: 20000 });
  assert.equal(await stopped.getAttribute('data-kind'), 'insufficient_quota');
  assert.match(await stopped.innerText(), /余额或额度不足/);
  assert.equal(await page.getByTestId('batch-view').getAttribute('data-status'), 'stopped');
  // Let anything in flight land, then check that nothing else leaves.
  await page.waitForTimeout(1000);
  const sent = (await sandboxStats()).requests[CHAT] - before;
  assert.ok(sent >= 1 && sent <= 6, `stopped after the first answers (${sent} sent)`);
  await page.waitForTimeout(2000);
  assert.equal((await sandboxStats()).requests[CHAT] - before, sent, 'no request after the stop');
  assert.equal(await count(page, 'done'), 0);
  assert.ok((await count(page, 'queued')) >= 20 - sent, 'the unsent items stay queued');
  // In English too.
  await page.getByTestId('lang-switch').click();
  assert.match(await stopped.innerText(), /out of credit or quota \(insufficient_quota\).*Resume/s);
  await screenshot(page, 'batch-insufficient-quota');
  await ctx.close();
});

test('a second tab does not run the batch but shows its progress live', async () => {
  await sandboxReset();
  await sandboxConfig({ rpm: 120, latency_ms: { min: 100, max: 300 } });
  const { ctx, page } = await studio();
  const prompts = Array.from({ length: 20 }, (_, i) => `[[sandbox:tokens=10]] 分镜 ${i + 1} 第二个标签页`);
  await startBatch(page, prompts, 120);
  await until(page, async (p) => (await count(p, 'done')) >= 2, { what: 'two items done' });

  const other = await ctx.newPage();
  await other.goto(page.url());
  await other.waitForSelector('body[data-ready="true"]');
  const remote = other.getByTestId('batch-remote');
  await remote.waitFor({ timeout: 10000 });
  const done = async () => Number((await remote.innerText()).match(/(\d+)\/20/)[1]);
  const first = await done();
  await until(other, async () => (await done()) > first, { what: 'the other tab to see progress' });
  assert.equal(await other.getByTestId('batch-view').count(), 0, 'the second tab does not run the batch');

  await until(page, async (p) => (await p.getByTestId('batch-view').getAttribute('data-status')) === 'finished',
    { what: 'the batch to finish' });
  assert.equal(await count(page, 'done'), 20);
  const stats = await sandboxStats();
  assert.equal(stats.billed.requests, 20, 'each item billed once, by one tab');
  assert.equal(stats.duplicates, 0);
  await ctx.close();
});
