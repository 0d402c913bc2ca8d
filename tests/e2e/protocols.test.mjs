// Connections in a release build against the sandbox: the same storyboard run on an
// OpenAI-protocol connection and on a Messages-protocol one (the ledger equals the sandbox's
// billing on both, and the Messages run goes to /v1/messages); a model id the connection's
// listing lacks is shown in Settings with the proposed match, refused before any request when a
// run starts, and runs once the match is accepted; a bible too short to cache is said so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newContext, open, sandboxStats, sandboxReset, sandboxConfig } from './harness.mjs';
import { gotoStudio, storedLedger } from './connection-steps.mjs';
import { openProject, saved, sandboxProject } from './project-steps.mjs';

const FIXTURE = new URL('../fixtures/scripts/pipeline_ep1.fountain', import.meta.url);

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function toSettings(page) {
  await page.locator('header nav a[href="/settings"]').click();
  await page.getByTestId('page-settings').waitFor();
}

async function importScript(page) {
  const fixture = await readFile(FIXTURE, 'utf8');
  await page.getByTestId('script-file').setInputFiles({ name: 'p.fountain', mimeType: 'text/plain', buffer: Buffer.from(fixture) });
  await page.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
  await saved(page);
}

async function storyboardEpisode(page) {
  await page.getByTestId('sb-run-episode').click();
  await page.waitForSelector('[data-testid="storyboard-panel"][data-state="idle"] [data-testid="sb-report"]', { timeout: 60000 });
  const states = await page.$$eval('[data-testid="sb-report"]', (els) => els.map((e) => e.dataset.state));
  assert.ok(states.length > 0 && states.every((s) => s === 'done'), `every scene storyboarded: ${states}`);
}

for (const protocol of ['openai_chat', 'anthropic_messages']) {
  test(`a storyboard run on a ${protocol} connection: ledger = sandbox billing`, { timeout: 180000 }, async () => {
    await sandboxReset();
    await sandboxConfig({ stream_chunk_delay_ms: 0 });
    const ctx = await newContext(browser, { locale: 'en-US' });
    const { page, problems } = await open(ctx, '/settings');
    try {
      await sandboxProject(page, `Protocol ${protocol}`);
      await toSettings(page);
      await page.getByTestId('conn-protocol').selectOption(protocol);
      await page.waitForFunction((want) => document.querySelector('[data-testid="conn-protocol"]')?.value === want, protocol);
      await gotoStudio(page);
      await openProject(page, `Protocol ${protocol}`);
      await importScript(page);
      await storyboardEpisode(page);

      const stats = await sandboxStats();
      const path = protocol === 'openai_chat' ? 'POST /v1/chat/completions' : 'POST /v1/messages';
      const other = protocol === 'openai_chat' ? 'POST /v1/messages' : 'POST /v1/chat/completions';
      assert.ok(stats.requests[path] > 0, `the run went to ${path}: ${JSON.stringify(stats.requests)}`);
      assert.equal(stats.requests[other], undefined, `nothing went to ${other}`);
      const ledger = (await storedLedger(page)).filter((e) => e.task === 'storyboard');
      const sum = (k) => ledger.reduce((n, e) => n + e[k], 0);
      assert.equal(ledger.length, stats.billed.requests);
      assert.equal(sum('prompt_tokens'), stats.billed.prompt_tokens);
      assert.equal(sum('completion_tokens'), stats.billed.completion_tokens);
      assert.equal(sum('cached_tokens'), stats.billed.cached_tokens);
      assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
    } finally {
      await ctx.close();
    }
  });
}

test('a model the listing lacks is shown with its match, refused before any request, and runs once accepted', { timeout: 180000 }, async () => {
  await sandboxReset();
  await sandboxConfig({ stream_chunk_delay_ms: 0 });
  const ctx = await newContext(browser, { locale: 'zh-CN' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    await sandboxProject(page, 'Model ids e2e');
    await toSettings(page);
    // An OpenRouter-style id for the storyboard's model, which this provider does not list.
    const row = page.locator('[data-testid="conn-model-row"][data-model="gemini-2.5-flash"] [data-testid="conn-model-id"]');
    await row.fill('google/gemini-2.5-flash');
    await row.blur();
    await page.getByTestId('conn-list-models').click();
    await page.waitForSelector('[data-testid="conn-listing-count"]:has-text("个模型")');
    const missing = page.locator('[data-testid="conn-missing-model"][data-model="gemini-2.5-flash"]');
    await missing.waitFor();
    assert.match(await missing.innerText(), /google\/gemini-2\.5-flash/);

    // A run started now is refused before anything is sent.
    await gotoStudio(page);
    await openProject(page, 'Model ids e2e');
    await importScript(page);
    await sandboxReset();
    await page.getByTestId('sb-run-episode').click();
    const refused = page.locator('[data-testid="sb-problem"]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /gemini-2\.5-flash/);
    const before = await sandboxStats();
    assert.equal(before.requests['POST /v1/chat/completions'], undefined, 'no request was sent');

    // The proposed match, accepted in Settings: the run goes.
    await toSettings(page);
    await page.locator('[data-testid="conn-missing-model"][data-model="gemini-2.5-flash"] [data-testid="conn-accept-model"]').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="conn-missing-model"]'));
    assert.equal(await row.inputValue(), 'gemini-2.5-flash');
    await gotoStudio(page);
    await openProject(page, 'Model ids e2e');
    await storyboardEpisode(page);
    // Scenes 2 and 3 share 陈总's bible, a name only: far under the 1,024 tokens a provider
    // caches, which the panel says.
    const notice = page.locator('[data-testid="sb-cache-notice"]');
    await notice.waitFor();
    assert.equal(await notice.getAttribute('data-needed-tokens'), '1024');
    assert.ok(Number(await notice.getAttribute('data-prefix-tokens')) < 1024);
    assert.match(await notice.innerText(), /1,024/);
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  } finally {
    await ctx.close();
  }
});
