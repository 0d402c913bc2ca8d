// The production pipeline in the Studio of a release build, against the sandbox: a Fountain
// script imported into an episode and imported again after edits (no duplicates, shots kept),
// a scene enhanced through the narrative route (streamed, diffed, accepted, still there after a
// reload, recorded in the ledger), a hostile model reply and a hostile script shown as text, and
// an episode's clips generated with a reload in the middle: no job submitted twice (the
// sandbox's video stats), every clip stored and playing from a blob URL, a failed clip retried;
// a project budget that stops the clip it cannot hold.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, screenshot, sandboxStats, sandboxConfig, sandboxReset,
} from './harness.mjs';
import { dumpIndexedDb, storedLedger } from './connection-steps.mjs';
import {
  describeCharacter, longBible, openProject, saved, sandboxProject, storedProject,
} from './project-steps.mjs';

const FIXTURE = new URL('../fixtures/scripts/pipeline_ep1.fountain', import.meta.url);
const HOSTILE = new URL('../fixtures/scripts/hostile.fountain', import.meta.url);

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function sceneIds(page) {
  return page.$$eval('[data-testid="pipe-scene"]', (els) => els.map((e) => e.dataset.id));
}

/** Picks a script file for the import input and waits for its notice. */
async function importFile(page, name, text) {
  const seq = await page.evaluate(() => Number(document.querySelector('[data-testid="script-notice"]')?.dataset.seq ?? 0));
  await page.getByTestId('script-file').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="script-notice"]')?.dataset.seq ?? 0) > n, seq, { timeout: 10000 });
  return page.getByTestId('script-notice');
}

/**
 * Runs `body({ page, problems })` on a new sandbox project `name` with the pipeline fixture
 * and one new shot in each of `scenes`, its clips rendering fast; the sandbox's video settings
 * are reset and the context closed after.
 */
async function withClipsProject(name, scenes, body) {
  await sandboxReset();
  await sandboxConfig({ video: { queued_ms: 200, render_ms: 1500 } });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    await sandboxProject(page, name);
    await importFile(page, 'clips.fountain', await readFile(FIXTURE, 'utf8'));
    for (const scene of scenes) {
      await page.locator(`[data-testid="scene"][data-id="${scene}"] [data-testid="shot-add"]`).click();
    }
    await saved(page);
    assert.equal(await page.getByTestId('clip-row').count(), scenes.length);
    await body({ page, problems });
  } finally {
    await sandboxConfig({}).catch(() => {});
    await ctx.close();
  }
}

test('script in, enhance, clips with a reload in the middle, nothing submitted twice', { timeout: 240000 }, async () => {
  await sandboxReset();
  // Jobs take a few seconds, so the reload lands while they render.
  await sandboxConfig({ video: { queued_ms: 500, render_ms: 10000 } });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const dialogs = [];
  const { page, problems } = await open(ctx, '/settings');
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const NAME = 'Pipeline e2e';
  await sandboxProject(page, NAME);

  // --- Script in: three numbered scenes become e1-s1..e1-s3 in a new episode.
  const fixture = await readFile(FIXTURE, 'utf8');
  let notice = await importFile(page, 'pipeline_ep1.fountain', fixture);
  assert.equal(await notice.getAttribute('data-kind'), 'imported', await notice.textContent());
  assert.deepEqual(await sceneIds(page), ['e1-s1', 'e1-s2', 'e1-s3']);
  // The storyboard below shows the same scenes.
  assert.equal(await page.locator('[data-testid="scene"]').count(), 3);

  // A shot in scene 1, then an edited script: scene 1 changed, a new scene 4; no duplicates.
  await page.locator('[data-testid="scene"][data-id="e1-s1"] [data-testid="shot-add"]').click();
  await saved(page);
  const edited = fixture.replace('你终于舍得开灯了？', '你终于舍得开灯了？我回来了。')
    + '\nEXT. 天台 - 夜 #4#\n\n风很大。[[sandbox:malformed=html]] 林梅站在边缘。\n';
  notice = await importFile(page, 'pipeline_ep1.fountain', edited);
  assert.match(await notice.textContent(), /1 scenes added, 1 updated, 2 unchanged/);
  const ids = await sceneIds(page);
  assert.deepEqual(ids, ['e1-s1', 'e1-s2', 'e1-s3', 'e1-s4']);
  assert.equal(new Set(ids).size, ids.length, 'no duplicated scene');
  assert.equal(await page.locator('[data-testid="scene"][data-id="e1-s1"] [data-testid="shot-card"]').count(), 1, 'the shot is kept');
  await saved(page);
  let stored = await storedProject(page, NAME, (p) => p.episodes[0]?.scenes.length === 4 && /我回来了/.test(p.episodes[0].scenes[0].script_text));
  assert.equal(stored.episodes.length, 1);
  assert.equal(stored.episodes[0].scenes.length, 4);
  assert.match(stored.episodes[0].scenes[0].script_text, /我回来了/);

  // A long bible for 林梅, so the prompts about scene 4 (her scene) can hit the cache.
  await describeCharacter(page, '林梅', longBible('林梅'));

  // --- Enhance scene 2: streamed, diffed, accepted, saved.
  const before2 = stored.episodes[0].scenes[1].script_text;
  await page.locator('[data-testid="pipe-scene"][data-id="e1-s2"] [data-testid="scene-enhance"]').click();
  await page.waitForSelector('[data-testid="enhance-panel"][data-state="done"]', { timeout: 30000 });
  const rewrite = await page.getByTestId('enhance-output').textContent();
  assert.ok(rewrite.length > 0, 'a rewrite arrived');
  assert.notEqual(rewrite, before2);
  const marks = await page.locator('[data-testid="enhance-diff"] ins, [data-testid="enhance-diff"] del').count();
  assert.ok(marks > 0, 'the diff marks changes');
  // The diff gives both texts back.
  const diffNew = await page.$$eval('[data-testid="enhance-diff"] [data-change]', (els) => els.filter((e) => e.dataset.change !== 'removed').map((e) => e.textContent).join(''));
  assert.equal(diffNew, rewrite);
  await page.getByTestId('enhance-accept').click();
  stored = await storedProject(page, NAME, (p) => p.episodes[0].scenes[1].script_text === rewrite);
  assert.equal(stored.episodes[0].scenes[1].script_text, rewrite);
  const ledger = await storedLedger(page);
  const narrative = ledger.filter((e) => e.task === 'narrative');
  assert.equal(narrative.length, 1, 'the enhance call is in the ledger');
  assert.ok(narrative[0].prompt_tokens > 0 && narrative[0].outcome === 'ok');

  // --- A hostile model reply is text: scene 4's note tells the sandbox to answer with markup.
  await page.locator('[data-testid="pipe-scene"][data-id="e1-s4"] [data-testid="scene-enhance"]').click();
  await page.waitForSelector('[data-testid="enhance-panel"][data-state="done"][data-scene="e1-s4"]', { timeout: 30000 });
  const hostileText = await page.getByTestId('enhance-output').textContent();
  assert.match(hostileText, /<img src=x onerror=alert\(1\)>/);
  assert.equal(await page.locator('[data-testid="enhance-panel"] img, [data-testid="enhance-panel"] script').count(), 0);
    await page.getByTestId('enhance-reject').click();
  await page.getByTestId('enhance-panel').waitFor({ state: 'detached' });

  // --- The character bible is a stable prefix: the same scene's prompt again hits the cache,
  // and the cached tokens the sandbox reports are shown.
  await page.locator('[data-testid="pipe-scene"][data-id="e1-s4"] [data-testid="scene-enhance"]').click();
  await page.waitForSelector('[data-testid="enhance-panel"][data-state="done"][data-scene="e1-s4"]', { timeout: 30000 });
  const cached = Number(await page.getByTestId('enhance-usage').getAttribute('data-cached'));
  assert.ok(cached > 0, `cached prompt tokens reported: ${cached}`);
  assert.ok(Number(await page.getByTestId('bible-savings').getAttribute('data-cached')) >= cached);
  const billed = (await sandboxStats()).billed;
  assert.equal(billed.cached_tokens, cached, 'the shown cached tokens are what the sandbox billed as cached');
  await page.getByTestId('enhance-reject').click();

  // --- Clips: three shots (one told to fail), the episode run, a reload in the middle.
  await page.locator('[data-testid="scene"][data-id="e1-s1"] [data-testid="shot-add"]').click();
  await page.locator('[data-testid="scene"][data-id="e1-s2"] [data-testid="shot-add"]').click();
  const failing = page.locator('[data-testid="scene"][data-id="e1-s2"] [data-testid="shot-action"]').first();
  await failing.fill('林梅转身离开 [[sandbox:video=fail]]');
  await failing.blur();
  await saved(page);
  const rows = page.getByTestId('clip-row');
  assert.equal(await rows.count(), 3);
  assert.match(await page.getByTestId('clip-sent').first().textContent(), /^5 s · 1080x1920$/);
  await page.getByTestId('clips-first-poll').fill('0.5');
  await page.getByTestId('clips-first-poll').blur();
    await page.getByTestId('clips-generate').click();
  // Two at a time: the first two shots have their provider ids (stored before polling) and
  // render; the third waits for a free slot. Reload now.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="clip-row"]')];
    return rows.length === 3 && rows.filter((r) => r.dataset.job).length === 2 && rows[2].dataset.status === 'none';
  }, null, { timeout: 20000 });
  const midway = await sandboxStats();
  assert.equal(midway.video.submitted, 2);
  assert.equal(midway.video.completed, 0, 'the reload happens before the jobs finish');
  stored = await storedProject(page, NAME, (p) => p.video_jobs.filter((j) => j.provider_job_id).length === 2);
  assert.equal(stored.video_jobs.filter((j) => j.provider_job_id).length, 2, 'job ids are stored before polling');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    await openProject(page, NAME);
  // Polling of the two sent jobs resumes by itself; Generate sends the third shot only.
  await page.waitForSelector('[data-testid="clips-busy"][data-busy="true"]', { timeout: 20000 });
  await page.getByTestId('clips-generate').click();
  // Two clips finish and play, the failing one fails.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="clip-row"]')];
    return rows.filter((r) => r.dataset.status === 'completed').length === 2
      && rows.filter((r) => r.dataset.status === 'failed').length === 1;
  }, null, { timeout: 60000 });
  let stats = await sandboxStats();
  assert.equal(stats.video.submitted, 3, 'no job submitted again after the reload');
  assert.equal(stats.video.duplicates, 0);
  assert.equal(await page.getByTestId('clips-succeeded').textContent(), '2');
  assert.equal(await page.getByTestId('clips-failed').textContent(), '1');
  assert.match(await page.getByTestId('clips-cost').textContent(), /^\$0\.5/);

  // The failed clip is retried after its shot is fixed: a new job, not a duplicate.
  await failing.fill('林梅转身离开');
  await failing.blur();
  await saved(page);
  await page.locator('[data-testid="clip-row"][data-status="failed"] [data-testid="clip-retry"]').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="clip-row"]')]
    .every((r) => r.dataset.status === 'completed'), null, { timeout: 60000 });
  stats = await sandboxStats();
  assert.equal(stats.video.submitted, 4);
  assert.equal(stats.video.duplicates, 0);
  assert.equal(stats.video.completed, 3);
  // Each finished clip is in the ledger, for this project: 5 s × $0.05 at 1080x1920.
  let videoCalls = [];
  for (let i = 0; i < 50 && videoCalls.length < 3; i += 1) {
    if (i) await page.waitForTimeout(100);
    videoCalls = (await storedLedger(page)).filter((e) => e.task === 'video');
  }
  assert.equal(videoCalls.length, 3);
  assert.ok(videoCalls.every((e) => e.project === stored.id && e.outcome === 'ok' && !e.unpriced), JSON.stringify(videoCalls[0]));
  assert.deepEqual(videoCalls.map((e) => Number(e.cost_usd_units) / 1e12), [250000, 250000, 250000]);

  // Every clip plays from a blob URL out of IndexedDB.
  await page.waitForFunction(() => {
    const videos = [...document.querySelectorAll('[data-testid="clip-video"]')];
    return videos.length === 3 && videos.every((v) => v.src.startsWith('blob:') && (v.readyState > 0 || v.duration > 0));
  }, null, { timeout: 20000 });
  const dump = await dumpIndexedDb(page);
  assert.equal((dump.clips ?? []).length, 3, 'the clips are stored');

  // The enhanced text is still there after the reload.
  stored = await storedProject(page, NAME);
  assert.equal(stored.episodes[0].scenes[1].script_text, rewrite);
  await page.locator('[data-testid="scene"][data-id="e1-s2"] summary').click();
  assert.equal(await page.locator('[data-testid="scene"][data-id="e1-s2"] [data-testid="scene-script"]').inputValue(), rewrite);

  // --- A hostile script file: its markup is text in the page.
  notice = await importFile(page, 'hostile.fountain', await readFile(HOSTILE, 'utf8'));
  assert.equal(await notice.getAttribute('data-kind'), 'imported');
  const headings = await page.$$eval('[data-testid="pipe-scene"] .ds-pipe-scene__heading', (els) => els.map((e) => e.textContent));
  assert.ok(headings.some((h) => h.includes('<SCRIPT>ALERT(1)</SCRIPT>')), headings.join(' | '));
  assert.equal(await page.locator('[data-testid="script-panel"] script, [data-testid="script-panel"] img, [data-testid="project-editor"] iframe').count(), 0);

  await screenshot(page, 'pipeline');
  assert.deepEqual(dialogs, [], 'no script ran');
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await ctx.close();
});

test("the seeds' /v1/video/generate shape: a clip made, stored, played and in the ledger", { timeout: 120000 }, async () => {
  await withClipsProject('Generate e2e', ['e1-s1'], async ({ page, problems }) => {

    await page.getByTestId('clips-shape').selectOption('generate');
    await page.getByTestId('clips-first-poll').fill('0.5');
    await page.getByTestId('clips-first-poll').blur();
    await page.getByTestId('clips-generate').click();
    await page.waitForSelector('[data-testid="clip-row"][data-status="completed"]', { timeout: 60000 });

    const stats = await sandboxStats();
    assert.equal(stats.video.by_shape.generate.submitted, 1);
    assert.equal(stats.video.by_shape.openai.submitted, 0, 'nothing went to /v1/videos');
    assert.equal(stats.requests['POST /v1/video/generate'], 1);
    assert.ok(stats.video.by_shape.generate.polls >= 1);
    assert.equal(stats.video.by_shape.generate.downloads, 1);
    // The job id was kept with the shot; the clip plays from IndexedDB.
    const project = await storedProject(page, 'Generate e2e', (p) => p.video_jobs.some((j) => j.status === 'completed'));
    assert.ok(project.video_jobs[0].provider_job_id);
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="clip-video"]');
      return v && v.src.startsWith('blob:') && (v.readyState > 0 || v.duration > 0);
    }, null, { timeout: 20000 });
    let calls = [];
    for (let i = 0; i < 50 && calls.length < 1; i += 1) {
      if (i) await page.waitForTimeout(100);
      calls = (await storedLedger(page)).filter((e) => e.task === 'video');
    }
    assert.equal(calls.length, 1);
    assert.equal(calls[0].project, project.id);
    assert.ok(Number(calls[0].cost_usd_units) > 0);
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  });
});

test("a project budget caps clips: the clip it cannot hold is not sent, and goes once the budget is raised", { timeout: 120000 }, async () => {
  await withClipsProject('Clip budget e2e', ['e1-s1', 'e1-s2', 'e1-s3'], async ({ page, problems }) => {
    // Each clip is 5 s × $0.05 = $0.25: $0.60 holds two, not three.
    await page.getByTestId('editor-budget').fill('0.6');
    await saved(page);
    await page.getByTestId('clips-first-poll').fill('0.5');
    await page.getByTestId('clips-first-poll').blur();
    await page.getByTestId('clips-generate').click();
    const error = page.getByTestId('clips-error');
    await error.waitFor({ timeout: 30000 });
    // The third shot is checked once a worker's first clip is billed ($0.25 spent): the other
    // clip is still in progress ($0.35 left, $0.25 to bill) or done too ($0.10 left).
    assert.match(await error.textContent(), /(\$0\.35 is left of the project's budget, the work in progress \(clips, batch requests\) may still bill \$0\.25|\$0\.10 is left of the project's budget, the work in progress \(clips, batch requests\) may still bill \$0\.00)/);
    assert.match(await error.textContent(), /the next clip costs \$0\.25/);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="clip-row"]')]
      .filter((r) => r.dataset.status === 'completed').length === 2, null, { timeout: 60000 });
    await page.waitForSelector('[data-testid="clips-busy"][data-busy="false"]', { timeout: 20000 });
    let stats = await sandboxStats();
    assert.equal(stats.video.submitted, 2, 'the third clip was not sent');
    const third = page.locator('[data-testid="clip-row"]').nth(2);
    assert.equal(await third.getAttribute('data-status'), 'none');
    // Spend stays under the cap.
    const spent = (await storedLedger(page)).filter((e) => e.task === 'video')
      .reduce((sum, e) => sum + Number(e.cost_usd_units) / 1e18, 0);
    assert.ok(spent <= 0.6 + 1e-9, `spent ${spent}`);

    // Raised: the third clip goes, once; the message is gone.
    await page.getByTestId('editor-budget').fill('5');
    await saved(page);
    await page.getByTestId('clips-generate').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="clip-row"]')]
      .every((r) => r.dataset.status === 'completed'), null, { timeout: 60000 });
    assert.equal(await error.count(), 0);
    stats = await sandboxStats();
    assert.equal(stats.video.submitted, 3);
    assert.equal(stats.video.duplicates, 0);
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  });
});

test('cancelling an enhance mid-stream keeps the scene text and records the partial call', { timeout: 120000 }, async () => {
  await sandboxReset();
  // A slow stream: the rewrite is still arriving when Cancel is pressed.
  await sandboxConfig({ stream_chunk_delay_ms: 150 });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    await sandboxProject(page, 'Cancel enhance e2e');
    await importFile(page, 'c.fountain', await readFile(FIXTURE, 'utf8'));
    await saved(page);
    const before = (await storedProject(page, 'Cancel enhance e2e')).episodes[0].scenes[1].script_text;

    await page.locator('[data-testid="pipe-scene"][data-id="e1-s2"] [data-testid="scene-enhance"]').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="enhance-output"]')?.textContent ?? '').length > 0, null, { timeout: 20000 });
    assert.equal(await page.getByTestId('enhance-panel').getAttribute('data-state'), 'running');
    await page.getByTestId('enhance-cancel').click();
    await page.waitForSelector('[data-testid="enhance-panel"][data-state="stopped"]', { timeout: 10000 });
    const error = page.getByTestId('enhance-error');
    assert.equal(await error.getAttribute('data-kind'), 'cancelled');
    assert.equal(await page.getByTestId('enhance-accept').isDisabled(), true, 'a cut rewrite cannot be accepted');
    const partial = await page.getByTestId('enhance-output').textContent();
    await page.getByTestId('enhance-reject').click();

    // The scene's text is what it was; the stopped call is in the ledger with what arrived,
    // flagged as estimated.
    await saved(page);
    const after = (await storedProject(page, 'Cancel enhance e2e')).episodes[0].scenes[1].script_text;
    assert.equal(after, before);
    assert.notEqual(after, partial);
    const calls = (await storedLedger(page)).filter((e) => e.task === 'narrative');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].outcome, 'cancelled');
    assert.equal(calls[0].estimated, true);
    assert.ok(calls[0].completion_tokens > 0, 'what arrived is counted');
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  } finally {
    await sandboxConfig({}).catch(() => {});
    await ctx.close();
  }
});
