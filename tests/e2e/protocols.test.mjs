// Connections in a release build against the sandbox: the same storyboard run on an
// OpenAI-protocol connection and on a Messages-protocol one (the ledger equals the sandbox's
// billing on both, and the Messages run goes to /v1/messages); a model id the connection's
// listing lacks is shown in Settings with the proposed match, refused before any request when a
// run starts, and runs once the match is accepted; a bible too short to cache is said so. With
// the sandbox naming its models as OpenRouter does (`model_ids: "openrouter"`), a connection that
// sends catalog names is told which ids to use, refused before any request until it accepts
// them, and then billed for the prefixed id's model. Claude dialogue takes on a Messages
// connection (one call at a time) write the long bible's cache on take 1 and read it on every
// later take, the ledger's reads and writes equal to the sandbox's; a short bible caches
// nothing, which the takes panel says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, sandboxStats, sandboxReset, sandboxConfig, controlHeaders, SANDBOX_KEY, SANDBOX_ROOT,
} from './harness.mjs';
import { gotoStudio, storedLedger } from './connection-steps.mjs';
import { describeCharacter, longBible, openProject, saved, sandboxProject } from './project-steps.mjs';

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

/** The sandbox's request log (`GET /_sandbox/log`): every provider request in arrival order. */
async function sandboxLog() {
  const r = await fetch(`${SANDBOX_ROOT}/_sandbox/log`, { headers: controlHeaders() });
  if (!r.ok) throw new Error(`sandbox log failed: ${r.status}`);
  return r.json();
}

test('an OpenRouter-style listing: the proposed vendor/model id, refused before any request, runs and bills once accepted', { timeout: 180000 }, async () => {
  // The sandbox lists and accepts `google/gemini-2.5-flash`, not `gemini-2.5-flash`.
  const OPENROUTER = { stream_chunk_delay_ms: 0, model_ids: 'openrouter' };
  await sandboxReset();
  await sandboxConfig(OPENROUTER);
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    await sandboxProject(page, 'OpenRouter ids e2e');
    await toSettings(page);
    // The connection sends the catalog name, as the Local sandbox preset does.
    const row = page.locator('[data-testid="conn-model-row"][data-model="gemini-2.5-flash"] [data-testid="conn-model-id"]');
    assert.equal(await row.inputValue(), 'gemini-2.5-flash');
    await page.getByTestId('conn-list-models').click();
    const listed = (await (await fetch(`${SANDBOX_ROOT}/v1/models`, {
      headers: { authorization: `Bearer ${SANDBOX_KEY}` },
    })).json()).data.map((m) => m.id);
    assert.ok(listed.includes('google/gemini-2.5-flash') && !listed.includes('gemini-2.5-flash'), `${listed}`);
    // As OpenRouter does, it answers the bare catalog name with model_not_found.
    const bare = await fetch(`${SANDBOX_ROOT}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SANDBOX_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(bare.status, 404);
    assert.equal((await bare.json()).error.code, 'model_not_found');
    await page.waitForSelector(`[data-testid="conn-listing-count"]:has-text("The provider lists ${listed.length} models.")`);
    const missing = page.locator('[data-testid="conn-missing-model"][data-model="gemini-2.5-flash"]');
    await missing.waitFor();
    assert.match(await missing.innerText(), /gemini-2\.5-flash/);
    const accept = missing.getByTestId('conn-accept-model');
    assert.equal((await accept.innerText()).trim(), 'Use google/gemini-2.5-flash');
    // Every model the routes use is missing under its catalog name, each with its vendor/ id.
    const proposals = await page.$$eval('[data-testid="conn-missing-model"]', (els) => Object.fromEntries(
      els.map((e) => [e.dataset.model, e.querySelector('[data-testid="conn-accept-model"]')?.textContent.trim()])));
    assert.equal(proposals['deepseek-v3.2'], 'Use deepseek/deepseek-v3.2');
    assert.equal(proposals['claude-sonnet-4.5'], 'Use anthropic/claude-sonnet-4.5');
    assert.equal(proposals['gpt-4.1'], 'Use openai/gpt-4.1');

    // A run started before the proposal is accepted is refused before anything is sent.
    await gotoStudio(page);
    await openProject(page, 'OpenRouter ids e2e');
    await importScript(page);
    await sandboxReset();
    await sandboxConfig(OPENROUTER);
    await page.getByTestId('sb-run-episode').click();
    const refused = page.locator('[data-testid="sb-problem"]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /gemini-2\.5-flash/);
    assert.match(await refused.innerText(), /google\/gemini-2\.5-flash/, 'the refusal names the id to use');
    await page.waitForTimeout(500);
    const before = await sandboxStats();
    assert.deepEqual(before.requests, {}, 'no request at all was sent');
    assert.equal(before.billed.requests, 0);

    // The proposal, accepted in Settings: the run goes, under the prefixed id.
    await toSettings(page);
    await accept.click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="conn-missing-model"][data-model="gemini-2.5-flash"]'));
    assert.equal(await row.inputValue(), 'google/gemini-2.5-flash');
    await gotoStudio(page);
    await openProject(page, 'OpenRouter ids e2e');
    await storyboardEpisode(page);

    const stats = await sandboxStats();
    const log = await sandboxLog();
    const posts = log.requests.filter((r) => r.method === 'POST');
    assert.ok(posts.length > 0);
    assert.ok(posts.every((r) => r.path === '/v1/chat/completions' && r.model === 'google/gemini-2.5-flash' && r.status === 200),
      `every call sent the prefixed id and was answered: ${JSON.stringify(posts.map((r) => [r.model, r.status]))}`);
    assert.equal(stats.requests['POST /v1/chat/completions'], posts.length);
    // Billed as the prefixed id's model, and nothing else.
    assert.deepEqual(Object.keys(stats.billed.by_model), ['gemini-2.5-flash']);
    assert.equal(stats.billed.by_model['gemini-2.5-flash'].requests, posts.length);
    // The ledger (under the catalog name, which the prices know) = the sandbox's billing.
    const ledger = (await storedLedger(page)).filter((e) => e.task === 'storyboard');
    assert.ok(ledger.every((e) => e.model === 'gemini-2.5-flash' && e.outcome === 'ok' && !e.estimated), JSON.stringify(ledger.map((e) => [e.model, e.outcome])));
    const sum = (k) => ledger.reduce((n, e) => n + e[k], 0);
    assert.equal(ledger.length, stats.billed.requests);
    assert.equal(sum('prompt_tokens'), stats.billed.prompt_tokens);
    assert.equal(sum('completion_tokens'), stats.billed.completion_tokens);
    assert.equal(sum('cached_tokens'), stats.billed.cached_tokens);
    assert.ok(ledger.every((e) => e.cost_usd_units > 0 && !e.unpriced), 'priced as the catalog model');
    // Each reply stated its cost (usage.cost, at Gemini 2.5 Flash's $0.30 / $0.03 cached / $2.50
    // per million): the stated cost is the ledger's, and ours is kept beside it.
    for (const e of ledger) {
      const stated = ((e.prompt_tokens - e.cached_tokens) * 0.30 + e.cached_tokens * 0.03 + e.completion_tokens * 2.50) / 1e6;
      assert.ok(Math.abs(Number(e.cost_usd_units) / 1e18 - stated) <= stated * 1e-9, `${e.cost_usd_units} vs ${stated}`);
      assert.ok(e.computed_usd_units !== undefined && e.computed_usd_units !== null, 'the computed cost is kept');
    }
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  } finally {
    await ctx.close();
  }
});

/** Runs `count` dialogue takes for the scene `scene` and waits for the run's summary. */
async function runTakes(page, scene, count) {
  await page.getByTestId('takes-scene').selectOption(scene);
  await page.getByTestId('takes-count').fill(String(count));
  await page.getByTestId('takes-run').click();
  await page.waitForSelector('[data-testid="takes-panel"][data-state="idle"] [data-testid="takes-cost"]', { timeout: 60000 });
  assert.equal(await page.getByTestId('takes-cost').getAttribute('data-accepted'), String(count));
}

for (const bible of ['long', 'short']) {
  test(`Claude takes on a Messages connection, ${bible} bible: cache writes and reads per take, ledger = sandbox billing`, { timeout: 180000 }, async () => {
    const TAKES = 4;
    await sandboxReset();
    await sandboxConfig({ stream_chunk_delay_ms: 0 });
    const ctx = await newContext(browser, { locale: 'en-US' });
    const { page, problems } = await open(ctx, '/settings');
    const name = `Claude takes ${bible}`;
    try {
      await sandboxProject(page, name);
      await toSettings(page);
      await page.getByTestId('conn-protocol').selectOption('anthropic_messages');
      await page.waitForFunction(() => document.querySelector('[data-testid="conn-protocol"]')?.value === 'anthropic_messages');
      await gotoStudio(page);
      await openProject(page, name);
      await importScript(page);
      // Scene 1 is 林梅's and 继母's: the scene's prefix carries their bible.
      if (bible === 'long') await describeCharacter(page, '林梅', longBible('林梅'));
      await runTakes(page, 'e1-s1', TAKES);

      const stats = await sandboxStats();
      assert.equal(stats.requests['POST /v1/messages'], TAKES, `the takes went to /v1/messages: ${JSON.stringify(stats.requests)}`);
      assert.equal(stats.requests['POST /v1/chat/completions'], undefined);
      // The default dialogue_emotion route: Claude.
      assert.deepEqual(Object.keys(stats.billed.by_model), ['claude-sonnet-4.5']);
      const takes = (await storedLedger(page))
        .filter((e) => e.task === 'dialogue_emotion')
        .sort((a, b) => a.at_ms - b.at_ms);
      assert.equal(takes.length, TAKES);
      // At the connection's default concurrency, take 1 goes alone and the others once it has
      // been answered: Anthropic's cache entry is readable only after the first response has
      // begun, so takes sent together would each write the bible instead of reading it.
      const [firstTake, ...laterTakes] = takes;
      for (const later of laterTakes) {
        assert.ok(later.at_ms >= firstTake.at_ms + firstTake.latency_ms - 1,
          `take sent after take 1 ended: ${JSON.stringify(takes.map((e) => [e.at_ms, e.latency_ms]))}`);
      }
      const together = laterTakes.filter((e) => e.at_ms < laterTakes[0].at_ms + laterTakes[0].latency_ms);
      assert.ok(together.length > 1, `takes 2+ are sent together, not one by one: ${JSON.stringify(takes.map((e) => [e.at_ms, e.latency_ms]))}`);
      assert.ok(takes.every((e) => e.model === 'claude-sonnet-4.5' && e.outcome === 'ok' && !e.estimated));
      const sum = (k) => takes.reduce((n, e) => n + e[k], 0);
      assert.equal(sum('prompt_tokens'), stats.billed.prompt_tokens);
      assert.equal(sum('completion_tokens'), stats.billed.completion_tokens);
      assert.equal(sum('cached_tokens'), stats.billed.cached_tokens, 'cache reads: ledger = sandbox');
      assert.equal(sum('cache_write_tokens'), stats.billed.cache_creation_tokens, 'cache writes: ledger = sandbox');
      const notice = page.getByTestId('takes-cache-notice');
      const shape = takes.map((e) => [e.cached_tokens, e.cache_write_tokens]);
      if (bible === 'long') {
        // Take 1 writes the bible's prefix; every later take reads it whole.
        const [first, ...rest] = takes;
        assert.ok(first.cache_write_tokens >= 1024 && first.cached_tokens === 0, `take 1: ${JSON.stringify(shape)}`);
        for (const later of rest) {
          assert.ok(later.cached_tokens > 0, `takes 2+ read the cache: ${JSON.stringify(shape)}`);
          assert.equal(later.cached_tokens, first.cache_write_tokens, `the whole written prefix is read: ${JSON.stringify(shape)}`);
          assert.equal(later.cache_write_tokens, 0);
        }
        assert.ok(stats.billed.cached_tokens > 0);
        assert.equal(await notice.count(), 0, 'no cache notice with a long bible');
      } else {
        // Under Claude's 1,024-token minimum: nothing cached, nothing written, and said so.
        assert.ok(takes.every((e) => e.cached_tokens === 0 && e.cache_write_tokens === 0), JSON.stringify(shape));
        assert.equal(stats.billed.cached_tokens, 0);
        assert.equal(stats.billed.cache_creation_tokens, 0);
        await notice.waitFor();
        assert.equal(await notice.getAttribute('data-needed-tokens'), '1024');
        assert.ok(Number(await notice.getAttribute('data-prefix-tokens')) < 1024);
        assert.match(await notice.innerText(), /1,024/);
      }
      assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
    } finally {
      await ctx.close();
    }
  });
}
