// The Studio playground and ledger against the sandbox, in one browser profile: a streamed reply
// grows on screen; cancel stops it and leaves the panel usable; every error kind the sandbox can
// inject shows its message and the next run succeeds; and the ledger is never below what the
// sandbox (billing like a real provider) reports it billed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, screenshot, sandboxConfig, sandboxReset, sandboxStats, SANDBOX_URL,
} from './harness.mjs';
import {
  addSandboxConnection, gotoStudio, runPrompt, startPrompt, finished, storedLedger,
} from './connection-steps.mjs';

let browser;
let ctx;
let page;
let problems;
before(async () => {
  await sandboxReset();
  browser = await launch();
  ctx = await newContext(browser);
  ({ page, problems } = await open(ctx, '/studio'));
  // Without a connection the playground says so instead of sending anything.
  await page.getByTestId('play-prompt').fill('hello');
  await page.getByTestId('play-run').click();
  assert.equal(await page.getByTestId('play-error').getAttribute('data-kind'), 'no_connection');
  await addSandboxConnection(page, SANDBOX_URL);
  await gotoStudio(page);
});
after(async () => {
  await sandboxConfig({}).catch(() => {});
  await browser?.close();
});

/** The number shown in a token figure ("1,234" → 1234). */
const count = async (testid) => Number((await page.getByTestId(testid).innerText()).replace(/[^\d]/g, ''));

test('a streamed reply appears progressively, as text, then its usage and cost', async () => {
  await sandboxConfig({ stream_chunk_delay_ms: 20 });
  // Sample the output's length from inside the page at every animation frame while it streams.
  await page.evaluate(() => {
    const output = document.querySelector('[data-testid="play-output"]');
    window.__lengths = [];
    const sample = () => {
      window.__lengths.push(output.textContent.length);
      if (window.__sampling) requestAnimationFrame(sample);
    };
    window.__sampling = true;
    requestAnimationFrame(sample);
  });
  await runPrompt(page, '[[sandbox:tokens=200]] 霸总短剧开场，写一段旁白。');
  const lengths = await page.evaluate(() => { window.__sampling = false; return window.__lengths; });
  const final = (await page.getByTestId('play-output').textContent()).length;
  const intermediate = new Set(lengths.filter((n) => n > 0 && n < final));
  assert.ok(intermediate.size >= 3, `saw ${intermediate.size} intermediate lengths before ${final}`);
  assert.ok(final >= 100, `the whole reply arrived (${final} characters)`);
  assert.equal(await page.locator('[data-testid="play-output"] *').count(), 0, 'the reply is text, not HTML');

  assert.equal(await page.getByTestId('play-error').count(), 0);
  assert.equal(await count('play-completion-tokens'), 200);
  assert.ok((await count('play-prompt-tokens')) > 0);
  assert.match(await page.getByTestId('play-latency').innerText(), /^\d[\d,]* ms$/);
  assert.match(await page.getByTestId('play-first-token').innerText(), /^\d[\d,]* ms$/);
  assert.match(await page.getByTestId('play-cost-usd').innerText(), /^\$0\.\d+$/);
  assert.match(await page.getByTestId('play-cost-cny').innerText(), /^¥0\.\d+$/);
  assert.equal(await page.getByTestId('play-usage').getAttribute('data-estimated'), 'false');
  await screenshot(page, 'playground-streamed');
});

test('a whole (non-streamed) reply works too', async () => {
  await runPrompt(page, '[[sandbox:tokens=30]] 台词', { stream: false });
  assert.equal(await page.getByTestId('play-error').count(), 0);
  assert.equal(await count('play-completion-tokens'), 30);
  assert.ok((await page.getByTestId('play-output').textContent()).length >= 10);
  await page.getByTestId('play-stream').check();
});

test('cancel stops a stream mid-way and the panel stays usable', async () => {
  await sandboxConfig({ stream_chunk_delay_ms: 30 });
  await startPrompt(page, '[[sandbox:tokens=400]] 长一点的旁白');
  await page.waitForFunction(() => document.querySelector('[data-testid="play-output"]').textContent.length > 20);
  assert.ok(await page.getByTestId('play-run').isDisabled(), 'Run is disabled while running');
  await page.getByTestId('play-cancel').click();
  await finished(page);
  assert.equal(await page.getByTestId('play-error').getAttribute('data-kind'), 'cancelled');
  assert.match(await page.getByTestId('play-error').innerText(), /请求已取消/);
  assert.equal(await page.getByTestId('play-usage').getAttribute('data-estimated'), 'true', 'partial usage is estimated');
  assert.ok(await page.getByTestId('play-run').isEnabled());
  assert.ok(await page.getByTestId('play-cancel').isDisabled());
  const cut = (await page.getByTestId('play-output').textContent()).length;
  assert.ok(cut > 0, 'what arrived stays on screen');

  await sandboxConfig({ stream_chunk_delay_ms: 1 });
  await runPrompt(page, '[[sandbox:tokens=40]] 再来一次');
  assert.equal(await page.getByTestId('play-error').count(), 0, 'the next run succeeds');
  assert.equal(await count('play-completion-tokens'), 40);
});

const FAULTS = [
  // [sandbox fault, error kind, zh-CN message, retryable]
  ['rate_limit', 'rate_limited', /限流（429）/, true],
  ['insufficient_quota', 'insufficient_quota', /余额或额度不足/, false],
  ['server_500', 'server_error', /服务商内部错误（500）/, true],
  // A broken event inside the stream: the reply had begun, so its outcome is unknown.
  ['malformed_json', 'stream_error', /回复进行到一半时服务商报错/, true],
  ['stream_cut', 'stream_cut', /输出在中途断开/, true],
];

for (const [fault, kind, message, retryable] of FAULTS) {
  test(`${fault}: its message, and the next run succeeds`, async () => {
    await sandboxConfig({ stream_chunk_delay_ms: 1, faults: { [fault]: 1.0 } });
    await runPrompt(page, '[[sandbox:tokens=60]] 测试错误');
    const error = page.getByTestId('play-error');
    assert.equal(await error.getAttribute('data-kind'), kind);
    assert.match(await error.innerText(), message);
    assert.equal(await page.getByTestId('play-retry-hint').count(), retryable ? 1 : 0);
    if (fault === 'rate_limit') {
      assert.match(await page.getByTestId('play-retry-hint').innerText(), /\d+ 秒后/);
    }
    if (fault === 'stream_cut') {
      assert.equal(await page.getByTestId('play-usage').getAttribute('data-estimated'), 'true');
      assert.ok((await page.getByTestId('play-output').textContent()).length > 0);
    }
    assert.ok(await page.getByTestId('play-run').isEnabled(), 'Run is enabled again');
    assert.ok(await page.getByTestId('play-cancel').isDisabled());

    await page.getByTestId('lang-switch').click();
    assert.doesNotMatch(await error.innerText(), /[\u4e00-\u9fff]/, 'the message follows the language');
    await page.getByTestId('lang-switch').click();

    await sandboxConfig({ stream_chunk_delay_ms: 1 });
    await runPrompt(page, '[[sandbox:tokens=25]] 恢复');
    assert.equal(await page.getByTestId('play-error').count(), 0, 'the run after the fault succeeds');
    assert.equal(await count('play-completion-tokens'), 25);
  });
}

test('the ledger is never below what the sandbox billed', async () => {
  const entries = await storedLedger(page);
  const billed = (await sandboxStats()).billed;
  // The sandbox bills like a real provider: a cancelled, cut or broken reply was billed for what
  // it generated. The ledger has every complete call at its billed usage and every call of
  // unknown outcome at its worst case.
  const complete = entries.filter((e) => e.outcome === 'ok' && !e.estimated);
  const unknown = entries.filter((e) => e.worst_case);
  assert.equal(complete.length + unknown.length, billed.requests,
    'each billed request is a complete call or one of unknown outcome');
  const tokens = (list) => list.reduce((total, e) => total + e.prompt_tokens + e.completion_tokens, 0);
  assert.ok(tokens(entries) >= billed.total_tokens, `ledger ${tokens(entries)} ≥ billed ${billed.total_tokens}`);
  assert.ok(tokens(complete) <= billed.total_tokens);
  // Failed calls are recorded too; unknown outcomes are flagged worst case (and estimated).
  assert.ok(entries.some((e) => e.outcome === 'cancelled' && e.worst_case && e.estimated));
  assert.ok(entries.some((e) => e.outcome === 'stream_cut' && e.worst_case));
  assert.ok(entries.some((e) => e.outcome === 'rate_limited' && e.total_tokens === 0 && !e.worst_case));

  // The page shows the same figures.
  const all = entries.reduce((total, e) => total + e.total_tokens, 0);
  assert.equal(await count('ledger-total-calls'), entries.length);
  assert.equal(await count('ledger-total-tokens'), all);
  assert.match(await page.getByTestId('ledger-total-usd').innerText(), /^\$\d/);
  assert.match(await page.getByTestId('ledger-total-cny').innerText(), /^¥\d/);
  assert.equal(await page.getByTestId('ledger-entry').count(), entries.length);
  assert.equal(await page.getByTestId('ledger-entry').first().getAttribute('data-outcome'), 'ok', 'the latest call comes first');

  // Totals by model, then by task.
  await page.getByTestId('ledger-grouping').selectOption('model');
  assert.equal(await page.getByTestId('ledger-group').count(), 1);
  assert.equal(await page.getByTestId('ledger-group').getAttribute('data-key'), 'deepseek-v3.2');
  await page.getByTestId('ledger-grouping').selectOption('task');
  assert.equal(await page.getByTestId('ledger-group').getAttribute('data-key'), 'script_draft');

  // The ledger survives a reload, and its CSV has one row per call.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="ledger-entry"]').length === n, entries.length);
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ledger-export').click()]);
  const csv = (await readFile(await file.path(), 'utf8')).replace(/^\uFEFF/, '');
  assert.equal(csv.trim().split('\r\n').length, entries.length + 1);
  await screenshot(page, 'playground-ledger');

  // Clearing asks first.
  await page.getByTestId('ledger-clear').click();
  assert.equal(await count('ledger-total-calls'), entries.length);
  await page.getByTestId('ledger-clear').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="ledger-total-calls"]').textContent === '0');
  assert.deepEqual(await storedLedger(page), []);
  assert.deepEqual(problems.filter((p) => !/status of (429|500)/.test(p)), []);
});
