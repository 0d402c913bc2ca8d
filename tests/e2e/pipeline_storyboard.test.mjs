// Storyboard and dialogue takes in the Studio of a release build, against the sandbox: an
// episode storyboarded in one batch (one scene per item) where scene 2's reply comes wrapped in
// prose (read with a noted repair), scene 3's is cut off (one repair request, then its shots),
// scene 4's is empty (a diagnostic, no shots); the shots are cards and survive a reload;
// storyboarding a scene again asks replace-or-append and replacing does not duplicate; 12 takes
// for a scene side by side, one picked and locked, still locked after a reload; the ledger's
// calls and tokens equal what the sandbox billed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, screenshot, sandboxStats, sandboxReset, sandboxConfig,
} from './harness.mjs';
import { storedLedger } from './connection-steps.mjs';
import {
  describeCharacter, longBible, openProject, saved, sandboxProject, storedProject as stored,
} from './project-steps.mjs';

const FIXTURE = new URL('../fixtures/scripts/pipeline_ep1.fountain', import.meta.url);
const NAME = 'Storyboard e2e';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const cards = (page, scene) => page.locator(`[data-testid="scene"][data-id="${scene}"] [data-testid="shot-card"]`);
const report = (page, scene) => page.locator(`[data-testid="sb-report"][data-scene="${scene}"]`);

async function storyboardIdle(page) {
  await page.waitForSelector('[data-testid="storyboard-panel"][data-state="idle"] [data-testid="sb-report"]', { timeout: 60000 });
}

test('storyboard an episode with malformed replies, 12 takes picked and locked, ledger = sandbox billing', { timeout: 240000 }, async () => {
  await sandboxReset();
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  await sandboxProject(page, NAME);

  // Four scenes; the sandbox directives in scenes 2–4 break their storyboard replies.
  const fixture = (await readFile(FIXTURE, 'utf8'))
    .replace('外卖员陈总站在雨里', '外卖员陈总站在雨里 [[sandbox:malformed=prose]]')
    .replace('全场起立。', '全场起立。[[sandbox:malformed=truncated]]')
    + '\nEXT. 天台 - 夜 #4#\n\n风很大。[[sandbox:malformed=empty]] 林梅站在边缘。\n'
    + '\nEXT. 码头 - 夜 #5#\n\n货轮鸣笛。[[sandbox:malformed=invalid_shot]] 陈总独自等人。\n';
  await page.getByTestId('script-file').setInputFiles({ name: 'sb.fountain', mimeType: 'text/plain', buffer: Buffer.from(fixture) });
  await page.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
  await saved(page);
  const sbScenes = await page.$$eval('[data-testid="sb-scene"]', (els) => els.map((e) => e.dataset.id));
  assert.deepEqual(sbScenes, ['e1-s1', 'e1-s2', 'e1-s3', 'e1-s4', 'e1-s5']);

  // A long bible for 林梅 (scenes 1 and 4), so their prompts and the takes can hit the cache.
  await describeCharacter(page, '林梅', longBible('林梅'));

  // --- The whole episode in one batch.
  await page.getByTestId('sb-run-episode').click();
  await storyboardIdle(page);
  const states = await page.$$eval('[data-testid="sb-report"]', (els) => els.map((e) => [e.dataset.scene, e.dataset.state, e.dataset.repaired, Number(e.dataset.added), e.dataset.repairs]));
  const byScene = Object.fromEntries(states.map(([s, ...rest]) => [s, rest]));
  // Scene 1: clean. Scene 2: prose around the JSON, repaired by the reader (and said so).
  assert.equal(byScene['e1-s1'][0], 'done');
  assert.equal(byScene['e1-s1'][1], 'false');
  assert.equal(byScene['e1-s2'][0], 'done');
  assert.match(byScene['e1-s2'][3], /\bprose\b/);
  assert.match(await report(page, 'e1-s2').getByTestId('sb-repairs').textContent(), /Ignored the text around the JSON/);
  // Scene 3: cut off, repaired by exactly one follow-up request, visibly.
  assert.equal(byScene['e1-s3'][0], 'done');
  assert.equal(byScene['e1-s3'][1], 'true', 'scene 3 was read from the repair reply');
  assert.match(await report(page, 'e1-s3').getByTestId('sb-report-summary').textContent(), /after one repair request for a cut-off reply/);
  // Scene 4: empty content is a diagnostic shown as text, and no shots.
  assert.equal(byScene['e1-s4'][0], 'failed');
  const diag = report(page, 'e1-s4').getByTestId('sb-diagnostic');
  assert.equal(await diag.getAttribute('data-kind'), 'empty');
  assert.match(await diag.textContent(), /empty content/);
  for (const scene of ['e1-s1', 'e1-s2', 'e1-s3']) {
    const added = byScene[scene][2];
    assert.ok(added >= 4 && added <= 8, `${scene}: ${added} shots`);
    assert.equal(await cards(page, scene).count(), added, `${scene}: the shots are cards`);
  }
  assert.equal(await cards(page, 'e1-s4').count(), 0);
  // Scene 5: its second shot lacks its action; the others are kept and that one is marked.
  assert.equal(byScene['e1-s5'][0], 'done');
  assert.equal(await report(page, 'e1-s5').getAttribute('data-invalid'), '1');
  const invalid = report(page, 'e1-s5').getByTestId('sb-invalid-shot');
  assert.equal(await invalid.getAttribute('data-index'), '1');
  assert.match(await invalid.textContent(), /^Shot #2 is invalid: .*action_description/);
  assert.ok(byScene['e1-s5'][2] >= 3 && byScene['e1-s5'][2] <= 7, `e1-s5: ${byScene['e1-s5'][2]} shots`);
  assert.equal(await cards(page, 'e1-s5').count(), byScene['e1-s5'][2]);
  // Five storyboard calls and one repair: six requests.
  let stats = await sandboxStats();
  assert.equal(stats.billed.requests, 6);
  const counts = Object.fromEntries(['e1-s1', 'e1-s2', 'e1-s3'].map((s) => [s, byScene[s][2]]));
  // A shot's action is the model's text (scene 1, first shot).
  const action = await page.locator('[data-testid="scene"][data-id="e1-s1"] [data-testid="shot-action"]').first().textContent();
  assert.ok(action.length > 0);
  await saved(page);
  await stored(page, NAME, (p) => p.episodes[0].scenes[2].shots.length === counts['e1-s3']);

  // --- Again for scene 1: the app asks; replacing keeps the count (no silent duplicates).
  await page.locator('[data-testid="sb-scene"][data-id="e1-s1"] [data-testid="sb-scene-run"]').click();
  await page.getByTestId('sb-ask').waitFor();
  assert.equal(stats.billed.requests, (await sandboxStats()).billed.requests, 'nothing sent before the answer');
  await page.getByTestId('sb-replace').click();
  await page.waitForSelector('[data-testid="sb-report"][data-scene="e1-s1"][data-state="done"]', { timeout: 60000 });
  const again = Number(await report(page, 'e1-s1').getAttribute('data-added'));
  assert.equal(await cards(page, 'e1-s1').count(), again, 'replaced, not appended');
  counts['e1-s1'] = again;
  await saved(page);

  // --- Shots survive a reload.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await openProject(page, NAME);
  for (const [scene, n] of Object.entries(counts)) {
    assert.equal(await cards(page, scene).count(), n, `${scene} after the reload`);
  }

  // --- 12 takes for scene 1, side by side.
  await page.getByTestId('takes-scene').selectOption('e1-s1');
  assert.equal(await page.getByTestId('takes-count').inputValue(), '12');
  await page.getByTestId('takes-run').click();
  await page.waitForSelector('[data-testid="takes-panel"][data-state="idle"] [data-testid="takes-cost"]', { timeout: 60000 });
  const cost = page.getByTestId('takes-cost');
  assert.equal(await cost.getAttribute('data-accepted'), '12');
  assert.match(await cost.textContent(), /12 requested, 12 accepted\. Batch cost \$[\d.]+ · ¥[\d.]+; per accepted take \$[\d.]+ · ¥[\d.]+/);
  const takeCards = page.getByTestId('take-card');
  assert.equal(await takeCards.count(), 12);
  assert.ok((await takeCards.first().getByTestId('take-dialogue').textContent()).length > 0);
  // The batch's cost is the ledger's for these calls.
  let ledger = await storedLedger(page);
  const takeCalls = ledger.filter((e) => e.task === 'dialogue_emotion' && e.outcome === 'ok');
  assert.equal(takeCalls.length, 12);
  const takeMicros = takeCalls.reduce((s, e) => s + Number(e.cost_usd_units), 0) / 1e12;
  assert.ok(Math.abs(Number(await cost.getAttribute('data-usd-micros')) - takeMicros) <= 1, `${takeMicros}`);

  // Pick the third: it locks, and no other take can be picked until it is unlocked.
  await takeCards.nth(2).getByTestId('take-pick').click();
  await page.waitForSelector('[data-testid="takes-grid"][data-locked="true"]');
  const pickedId = await takeCards.nth(2).getAttribute('data-id');
  assert.equal(await takeCards.nth(2).getAttribute('data-locked'), 'true');
  assert.equal(await page.locator('[data-testid="take-pick"]:not([disabled])').count(), 0);
  await saved(page);
  const project = await stored(page, NAME, (p) => p.episodes[0].scenes[0].picked_take === pickedId);
  assert.equal(project.episodes[0].scenes[0].picked_take, pickedId);
  assert.ok(project.episodes[0].scenes[0].takes.find((t) => t.id === pickedId).locked);

  // --- The pick is locked after a reload.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await openProject(page, NAME);
  await page.getByTestId('takes-scene').selectOption('e1-s1');
  await page.waitForSelector('[data-testid="takes-grid"][data-locked="true"]');
  assert.equal(await takeCards.count(), 12);
  const locked = page.locator('[data-testid="take-card"][data-locked="true"]');
  assert.equal(await locked.count(), 1);
  assert.equal(await locked.getAttribute('data-id'), pickedId);
  assert.equal(await page.locator('[data-testid="take-pick"]:not([disabled])').count(), 0);
  // Unlocking is explicit; then another take can be picked.
  await locked.getByTestId('take-unlock').click();
  await page.waitForSelector('[data-testid="takes-grid"][data-locked="false"]');
  await takeCards.nth(5).getByTestId('take-pick').click();
  await page.waitForSelector('[data-testid="take-card"][data-locked="true"]');
  assert.equal(await takeCards.nth(5).getAttribute('data-locked'), 'true');

  // --- The ledger equals the sandbox's billing for all these calls.
  stats = await sandboxStats();
  ledger = (await storedLedger(page)).filter((e) => e.outcome === 'ok');
  const sum = (k) => ledger.reduce((s, e) => s + e[k], 0);
  assert.equal(ledger.length, stats.billed.requests);
  assert.equal(ledger.length, 6 + 1 + 12);
  assert.equal(sum('prompt_tokens'), stats.billed.prompt_tokens);
  assert.equal(sum('completion_tokens'), stats.billed.completion_tokens);
  assert.equal(sum('cached_tokens'), stats.billed.cached_tokens);
  assert.ok(stats.billed.cached_tokens > 0, 'the bible prefix hit the cache');
  const shown = Number((await page.getByTestId('ledger-total-tokens').textContent()).replace(/\D/g, ''));
  assert.equal(shown, stats.billed.total_tokens, 'the ledger view shows the billed tokens');
  assert.equal(Number((await page.getByTestId('ledger-total-calls').textContent()).replace(/\D/g, '')), (await storedLedger(page)).length);

  await screenshot(page, 'pipeline-storyboard');
  assert.equal(await page.locator('[data-testid="storyboard-panel"] script, [data-testid="takes-panel"] script').count(), 0);
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await ctx.close();
});

test('a project budget stops its storyboard batch before the cap; raising it and resuming finishes', { timeout: 120000 }, async () => {
  await sandboxReset();
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  await sandboxProject(page, 'Budget e2e');
  await page.getByTestId('script-file').setInputFiles({ name: 'b.fountain', mimeType: 'text/plain', buffer: await readFile(FIXTURE) });
  await page.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
  const scenes = await page.locator('[data-testid="sb-scene"]').count();
  assert.ok(scenes >= 2);

  // Not an amount: said next to the field, and nothing is stored.
  const budget = page.getByTestId('editor-budget');
  const left = page.getByTestId('editor-budget-left');
  await budget.fill('ten dollars');
  assert.equal(await budget.getAttribute('aria-invalid'), 'true');
  assert.match(await left.textContent(), /not an amount/);
  // A cap below one request's worst case.
  await budget.fill('0.0001');
  assert.equal(await budget.getAttribute('aria-invalid'), null);
  assert.match(await left.textContent(), /left of \$/);
  await saved(page);
  const capped = await stored(page, 'Budget e2e', (p) => p.settings.budget?.amount === 0.0001);
  assert.equal(capped.settings.budget.currency, 'USD');

  await page.getByTestId('sb-run-episode').click();
  const stopped = page.getByTestId('sb-stopped');
  await stopped.waitFor({ timeout: 20000 });
  assert.equal(await stopped.getAttribute('data-kind'), 'budget_reached');
  assert.match(await stopped.textContent(), /left of the project's budget.*Raise the project's budget/s);
  assert.equal((await sandboxStats()).billed.requests, 0, 'nothing was sent past the cap');

  // Raised: the running batch gets the new remainder, and Resume finishes it.
  await budget.fill('5');
  assert.match(await left.textContent(), /\$5 left of \$5 /);
  await page.getByTestId('batch-resume').click();
  await page.waitForSelector('[data-testid="storyboard-panel"][data-state="idle"] [data-testid="sb-report"][data-state="done"]', { timeout: 60000 });
  assert.equal(await stopped.count(), 0);
  assert.equal((await sandboxStats()).billed.requests, scenes);
  // The spend shows against the cap, and the cap survives a reload.
  await page.waitForFunction(() => !/\$5 left/.test(document.querySelector('[data-testid="editor-budget-left"]').textContent));
  await saved(page);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await openProject(page, 'Budget e2e');
  assert.equal(await page.getByTestId('editor-budget').inputValue(), '5');
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await ctx.close();
});

test('a reload in the middle of a storyboard run: the resumed batch lands each reply once, in its scene', { timeout: 180000 }, async () => {
  await sandboxReset();
  // Replies take 1.5 s (streamed at once after it) and the connection's rate is set to 60 rpm
  // (one a second): the reload finds some scenes done, one in flight and the rest queued.
  await sandboxConfig({ latency_ms: { min: 1500, max: 1500 }, stream_chunk_delay_ms: 0 });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    await sandboxProject(page, 'Reload storyboard e2e', { rpm: 60 });
    const extra = [4, 5, 6].map((n) => `\nEXT. 街角 ${n} - 夜 #${n}#\n\n林梅在雨里奔跑，第${n}次回头。\n`).join('');
    const fixture = (await readFile(FIXTURE, 'utf8')) + extra;
    await page.getByTestId('script-file').setInputFiles({ name: 'r.fountain', mimeType: 'text/plain', buffer: Buffer.from(fixture) });
    await page.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
    const scenes = await page.$$eval('[data-testid="sb-scene"]', (els) => els.map((e) => e.dataset.id));
    assert.equal(scenes.length, 6);
    await saved(page);

    await page.getByTestId('sb-run-episode').click();
    await page.waitForSelector('[data-testid="sb-report"][data-state="done"]', { timeout: 30000 });
    const before = {};
    for (const scene of scenes) before[scene] = await cards(page, scene).count();
    assert.ok(Object.values(before).some((n) => n > 0), 'some shots landed before the reload');
    assert.ok(await page.locator('[data-testid="sb-report"][data-state="running"]').count() > 0, 'the run is not over');
    await saved(page);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    await openProject(page, 'Reload storyboard e2e');

    // The panel takes its batch back: one report per scene, and the shots that were there are
    // not added again.
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="sb-report"]').length === n, scenes.length, { timeout: 20000 });
    for (const scene of scenes) {
      if (before[scene] > 0) assert.equal(await cards(page, scene).count(), before[scene], `${scene}: not added twice`);
    }
    // The queued scenes run; a request that was in flight at the reload waits for the user
    // (resending could pay twice): here the user marks it failed.
    const view = page.getByTestId('batch-view');
    await page.waitForFunction(() => {
      const n = (s) => Number(document.querySelector(`[data-testid="batch-count-${s}"]`)?.textContent);
      return n('queued') === 0 && n('running') === 0;
    }, null, { timeout: 60000 });
    const unknown = Number(await page.getByTestId('batch-count-unknown').textContent());
    assert.ok(unknown <= 2, `only what was in flight at the reload is unknown (${unknown})`);
    if (unknown > 0) {
      await page.getByTestId('batch-mark-unknown-failed').click();
    }
    await page.waitForSelector('[data-testid="storyboard-panel"][data-state="idle"]', { timeout: 30000 });
    assert.equal(await view.getAttribute('data-status'), 'finished');

    const reports = await page.$$eval('[data-testid="sb-report"]', (els) => els.map((e) => [e.dataset.scene, e.dataset.state, Number(e.dataset.added)]));
    let done = 0;
    for (const [scene, state, added] of reports) {
      if (state === 'done') {
        done += 1;
        assert.equal(await cards(page, scene).count(), added, `${scene}: its reply's shots, once`);
      } else {
        assert.equal(state, 'failed');
        assert.equal(await cards(page, scene).count(), 0);
      }
    }
    assert.equal(done, scenes.length - unknown, 'every scene but those in flight at the reload is done');
    const stats = await sandboxStats();
    assert.equal(stats.duplicates, 0, 'no request was paid twice');
    await saved(page);
    const project = await stored(page, 'Reload storyboard e2e', (p) => (p.applied_runs ?? []).length === done);
    assert.equal(project.applied_runs.length, done);
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  } finally {
    await sandboxConfig({}).catch(() => {});
    await ctx.close();
  }
});
