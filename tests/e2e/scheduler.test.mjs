// The page-wide scheduler in a release build, against the sandbox: two panels of one project (a
// storyboard run and a clips run) running at once on one connection never send faster than the
// connection's rpm, and a storyboard run holds the connection's tpm. Both are checked in the
// sandbox's request log (`GET /_sandbox/log`), which times each request when it ARRIVED.
//
// The bounds come from the app's limiter (src/domain/batch/limiter.rs): GCRA pacing with a burst
// allowance of 500 ms of quota, at most ⌈rpm / 60⌉ requests (⌈tpm / 60⌉ tokens) in any sliding
// 1 s window, at most rpm requests (tpm tokens) in any sliding 60 s window. The log times
// arrivals, not sends, so every window below is shortened by JITTER_MS: two requests sent 1 s apart
// may arrive a few milliseconds closer together.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, sandboxConfig, sandboxReset, SANDBOX_KEY, SANDBOX_ROOT, controlHeaders,
} from './harness.mjs';
import { gotoStudio } from './connection-steps.mjs';
import { openProject, saved, sandboxProject } from './project-steps.mjs';

const FIXTURE = new URL('../fixtures/scripts/pipeline_ep1.fountain', import.meta.url);

/** How much closer together two requests may arrive than they were sent (localhost: about 10 ms
 * seen; the rest is margin for a loaded machine). */
const JITTER_MS = 100;
/** The limiter's default burst allowance (LimiterConfig::burst_ms). */
const BURST_MS = 500;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The sandbox's request log. */
async function sandboxLog() {
  const r = await fetch(`${SANDBOX_ROOT}/_sandbox/log`, { headers: controlHeaders() });
  if (!r.ok) throw new Error(`sandbox log failed: ${r.status}`);
  return r.json();
}

/** The key as the sandbox log shows it (billing::redact_key). */
const redacted = (key) => `${key.startsWith('sk-') ? 'sk-' : ''}…${key.length >= 12 ? key.slice(-4) : ''}`;

/** The provider calls the connection's gate paces: chat and Messages calls, video submits and
 * status polls (not model listings, nor clip downloads). */
const GATED = /^(POST \/v1\/chat\/completions|POST \/v1\/messages|POST \/v1\/videos|GET \/v1\/videos\/[^/]+|POST \/v1\/video\/generate|GET \/v1\/video\/(status|generate)\/[^/]+)$/;
const isChat = (e) => e.path === '/v1/chat/completions' || e.path === '/v1/messages';

/** The most entries of `entries` (sorted by at_ms) in any window [t, t + ms), with their total
 * `weight`, and where that window starts. */
function busiestWindow(entries, ms, weight = () => 1) {
  let best = { count: 0, weight: 0, at: entries[0]?.at_ms ?? 0 };
  let start = 0;
  let sum = 0;
  for (let end = 0; end < entries.length; end++) {
    sum += weight(entries[end]);
    while (entries[end].at_ms - entries[start].at_ms >= ms) sum -= weight(entries[start++]);
    if (sum > best.weight || (sum === best.weight && end - start + 1 > best.count)) {
      best = { count: end - start + 1, weight: sum, at: entries[start].at_ms };
    }
  }
  return best;
}

/** Prints the requests of each second from the first, chat and video apart. */
function perSecondTable(entries, label) {
  if (entries.length === 0) return;
  const t0 = entries[0].at_ms;
  const rows = new Map();
  for (const e of entries) {
    const s = Math.floor((e.at_ms - t0) / 1000);
    const row = rows.get(s) ?? { chat: 0, video: 0, tokens: 0 };
    if (isChat(e)) row.chat += 1; else row.video += 1;
    row.tokens += e.tokens ?? 0;
    rows.set(s, row);
  }
  const last = Math.floor((entries.at(-1).at_ms - t0) / 1000);
  const lines = [`${label}: requests per second from the first (${entries.length} in ${last + 1} s)`, '   s  chat video  total  tokens'];
  for (let s = 0; s <= last; s++) {
    const r = rows.get(s) ?? { chat: 0, video: 0, tokens: 0 };
    lines.push(`${String(s).padStart(4)} ${String(r.chat).padStart(5)} ${String(r.video).padStart(5)} ${String(r.chat + r.video).padStart(6)} ${String(r.tokens).padStart(7)}`);
  }
  console.log(lines.join('\n'));
}

/** The log's gated requests made with the app's key, in arrival order, and the rest. */
async function connectionRequests() {
  const log = await sandboxLog();
  assert.equal(log.dropped, 0, 'the log kept every request');
  const mine = log.requests.filter((e) => e.key === redacted(SANDBOX_KEY));
  const gated = mine.filter((e) => GATED.test(`${e.method} ${e.path}`) && !e.path.endsWith('/content'));
  const other = mine.filter((e) => !gated.includes(e));
  for (let i = 1; i < gated.length; i++) assert.ok(gated[i].at_ms >= gated[i - 1].at_ms, 'the log is in arrival order');
  return { all: log.requests, gated, other };
}

/** Sets a limit field of the active connection in Settings (API and limits). */
async function setLimit(page, testid, value) {
  const field = page.getByTestId(testid);
  await field.fill(String(value));
  await field.blur();
  await page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.value === want, [testid, String(value)]);
}

async function toSettings(page) {
  await page.locator('header nav a[href="/settings"]').click();
  await page.getByTestId('page-settings').waitFor();
}

/** The fixture's three scenes and `extra` more, each a line of action. */
async function script(extra) {
  let text = await readFile(FIXTURE, 'utf8');
  const places = ['天台', '码头', '医院走廊', '地下车库', '花园', '酒店大堂', '电梯', '街角'];
  for (let i = 0; i < extra; i++) {
    text += `\nEXT. ${places[i % places.length]} - 夜 #${4 + i}#\n\n林梅独自走过，风吹乱了她的头发。陈总远远看着她。\n`;
  }
  return text;
}

async function importScript(page, text) {
  await page.getByTestId('script-file').setInputFiles({ name: 'sched.fountain', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForSelector('[data-testid="script-notice"][data-kind="imported"]', { timeout: 10000 });
  await saved(page);
}

async function storyboardIdle(page, timeout) {
  await page.waitForSelector('[data-testid="storyboard-panel"][data-state="idle"] [data-testid="sb-report"]', { timeout });
}

/** The storyboard reports' states, by scene. */
async function reportStates(page) {
  return page.$$eval('[data-testid="sb-report"]', (els) => els.map((e) => `${e.dataset.scene}:${e.dataset.state}`));
}

test('a storyboard run and a clips run at once on one connection stay within its rpm', { timeout: 150000 }, async () => {
  const RPM = 120;
  const perSecond = Math.ceil(RPM / 60);
  const interval = 60000 / RPM;
  await sandboxReset();
  // The sandbox enforces the same rpm (a token bucket of one second of quota), so a client
  // that bursts is answered 429; clips render for a while, so their polls overlap the storyboard.
  await sandboxConfig({ rpm: RPM, stream_chunk_delay_ms: 0, video: { queued_ms: 300, render_ms: 6000 } });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    const NAME = 'Scheduler rpm e2e';
    await sandboxProject(page, NAME, { rpm: RPM });
    // Up to 6 calls in flight (the default), so only the rate holds the runs back.
    await toSettings(page);
    await setLimit(page, 'conn-concurrency', 6);
    await gotoStudio(page);
    await openProject(page, NAME);
    await importScript(page, await script(9));
    const scenes = await page.$$eval('[data-testid="sb-scene"]', (els) => els.map((e) => e.dataset.id));
    assert.equal(scenes.length, 12);
    // Shots for clips in four scenes (the storyboard appends to them).
    for (const scene of scenes.slice(0, 4)) {
      await page.locator(`[data-testid="scene"][data-id="${scene}"] [data-testid="shot-add"]`).click();
    }
    await saved(page);
    assert.equal(await page.getByTestId('clip-row').count(), 4);
    // The storyboard adds shots (and clip rows) next to these; the clips run sends these four.
    const clipIds = await page.$$eval('[data-testid="clip-row"]', (els) => els.map((e) => e.dataset.id));
    await page.getByTestId('clips-first-poll').fill('0.5');
    await page.getByTestId('clips-first-poll').blur();

    // Both panels at once: the clips run, then the whole episode's storyboard (appending).
    const started = Date.now();
    await page.getByTestId('clips-generate').click();
    await page.getByTestId('sb-run-episode').click();
    await page.getByTestId('sb-ask').waitFor();
    await page.getByTestId('sb-append').click();
    await page.waitForSelector('[data-testid="clips-busy"][data-busy="true"]', { timeout: 10000 });
    // Both are under way together: the storyboard is running while clips are busy.
    await page.waitForSelector('[data-testid="storyboard-panel"]:not([data-state="idle"])', { timeout: 10000 });

    await storyboardIdle(page, 90000);
    await page.waitForFunction((ids) => {
      const rows = [...document.querySelectorAll('[data-testid="clip-row"]')].filter((r) => ids.includes(r.dataset.id));
      return rows.length === 4 && rows.every((r) => r.dataset.status === 'completed' || r.dataset.status === 'failed');
    }, clipIds, { timeout: 60000 }).catch(async (e) => {
      const rows = await page.$$eval('[data-testid="clip-row"]', (els) => els.map((r) => `${r.dataset.id}:${r.dataset.status}:${r.dataset.job ?? ''}:${r.textContent.slice(0, 80)}`));
      const { all } = await connectionRequests();
      const paths = {};
      for (const x of all) {
        const line = `${x.method} ${x.path.replace(/\/video_[^/]+/, '/ID')} ${x.status}`;
        paths[line] = (paths[line] ?? 0) + 1;
      }
      const error = await page.getByTestId('clips-error').textContent().catch(() => '');
      throw new Error(`clips did not finish: ${e.message}\nrows ${JSON.stringify(rows, null, 1)}\nclips-error ${error}\nlog ${JSON.stringify(paths, null, 1)}`);
    });
    console.log(`both runs done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const states = await reportStates(page);
    assert.equal(states.length, 12, `a report per scene: ${states}`);
    assert.ok(states.every((s) => s.endsWith(':done')), `every scene storyboarded: ${states}`);
    const clipStates = await page.$$eval('[data-testid="clip-row"]', (els, ids) => els.filter((e) => ids.includes(e.dataset.id)).map((e) => e.dataset.status), clipIds);
    assert.deepEqual(clipStates, ['completed', 'completed', 'completed', 'completed']);

    const { all, gated, other } = await connectionRequests();
    perSecondTable(gated, `rpm ${RPM}`);
    const chat = gated.filter(isChat);
    const video = gated.filter((e) => !isChat(e));
    console.log(`gated: ${chat.length} chat, ${video.length} video; not gated: ${other.map((e) => `${e.method} ${e.path}`).join(', ') || 'none'}`);
    assert.ok(chat.length >= 12, `a storyboard call per scene: ${chat.length}`);
    assert.ok(video.filter((e) => e.method === 'POST').length === 4, 'four clips submitted');
    // The two panels overlapped: video calls were made between the first and last chat call.
    const overlap = video.filter((e) => e.at_ms > chat[0].at_ms && e.at_ms < chat.at(-1).at_ms).length;
    assert.ok(overlap >= 2, `the runs overlapped: ${overlap} video calls during the storyboard`);

    // No 429 from the sandbox's own rpm (it limits chat calls; video calls are not limited).
    const refused = all.filter((e) => e.status === 429);
    assert.equal(refused.length, 0, `the sandbox answered 429 ${refused.length} times: ${JSON.stringify(refused.slice(0, 3))}`);

    // Per second: at most ⌈rpm/60⌉ in any sliding second (less the jitter).
    const second = busiestWindow(gated, 1000 - JITTER_MS);
    // For the record: the tightest spacing of ⌈rpm/60⌉ + 1 calls (at most a second, sent).
    let tightest = Infinity;
    for (let k = perSecond; k < gated.length; k++) tightest = Math.min(tightest, gated[k].at_ms - gated[k - perSecond].at_ms);
    console.log(`busiest ${1000 - JITTER_MS} ms: ${second.count} calls; ${perSecond + 1} consecutive calls span at least ${tightest} ms`);
    const rate = [];
    if (second.count > perSecond) rate.push(`${second.count} requests within ${1000 - JITTER_MS} ms from +${second.at - gated[0].at_ms} ms (at most ${perSecond})`);
    // (At most rpm in a sliding minute could not fail here: the run sends fewer than rpm calls.
    // The pacing check below bounds every stretch of the run instead, a minute included.)
    // Pacing (GCRA): n + 1 requests span at least n intervals less the burst, over any stretch.
    let worst = { slack: Infinity };
    for (let j = 0; j < gated.length; j++) {
      for (let k = j + 1; k < gated.length; k++) {
        const slack = (gated[k].at_ms - gated[j].at_ms) - ((k - j) * interval - BURST_MS - JITTER_MS);
        if (slack < worst.slack) worst = { slack, j, k };
      }
    }
    if (worst.slack < 0) {
      const span = gated[worst.k].at_ms - gated[worst.j].at_ms;
      rate.push(`requests ${worst.j}..${worst.k} span ${span} ms, less than ${worst.k - worst.j} × ${interval} ms − ${BURST_MS} ms burst − ${JITTER_MS} ms jitter`);
    }
    // The whole run: 36 calls or so need about (n − 1) × interval.
    const elapsed = gated.at(-1).at_ms - gated[0].at_ms;
    console.log(`${gated.length} calls in ${elapsed} ms; paced, they need at least ${(gated.length - 1) * interval - BURST_MS} ms`);
    assert.deepEqual(rate, [], 'the connection\'s rpm held over both panels');
    assert.deepEqual(problems, []);
  } finally {
    await sandboxConfig({}).catch(() => {});
    await ctx.close();
  }
});

test('a storyboard run holds the connection\'s tpm', { timeout: 120000 }, async () => {
  // Each storyboard call costs its prompt plus max_tokens (1,500) against the tpm, about 1,730
  // tokens here (the log's `tokens`; the app's estimate of these prompts is within a few tokens of
  // the sandbox's count). A tpm of 7,500 fits four calls a minute, not five: GCRA pacing alone
  // would send the fifth about 53 s after the first (4 × 13.8 s − the 0.5 s burst), so the
  // minute window must hold it until the first call is a minute old.
  const TPM = 7500;
  await sandboxReset();
  await sandboxConfig({ stream_chunk_delay_ms: 0 });
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  try {
    const NAME = 'Scheduler tpm e2e';
    await sandboxProject(page, NAME);
    await toSettings(page);
    await setLimit(page, 'conn-tpm', TPM);
    await gotoStudio(page);
    await openProject(page, NAME);
    await importScript(page, await script(2));
    const started = Date.now();
    await page.getByTestId('sb-run-episode').click();
    await storyboardIdle(page, 120000);
    console.log(`storyboard done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const states = await reportStates(page);
    assert.ok(states.length === 5 && states.every((s) => s.endsWith(':done')), `every scene storyboarded: ${states}`);

    const { gated } = await connectionRequests();
    perSecondTable(gated, `tpm ${TPM}`);
    const chat = gated.filter(isChat);
    assert.equal(chat.length, gated.length);
    assert.ok(chat.length >= 5, `${chat.length} calls`);
    assert.ok(chat.every((e) => e.tokens > 1500), `every call is charged its prompt and max_tokens: ${chat.map((e) => e.tokens)}`);
    const total = chat.reduce((n, e) => n + e.tokens, 0);
    assert.ok(total > TPM, `the run needs more than a minute's tokens (${total} > ${TPM}), so the minute window binds`);
    // Per minute: the tokens of any sliding minute fit the tpm.
    const minute = busiestWindow(chat, 60000 - JITTER_MS, (e) => e.tokens);
    assert.ok(minute.weight <= TPM, `${minute.weight} tokens in ${minute.count} calls within a minute from +${minute.at - chat[0].at_ms} ms (at most ${TPM})`);
    // Per second: each call is larger than a second's allowance (⌈tpm/60⌉), so it leaves only into
    // an empty second.
    assert.ok(chat.every((e) => e.tokens > Math.ceil(TPM / 60)));
    const second = busiestWindow(chat, 1000 - JITTER_MS);
    assert.equal(second.count, 1, `${second.count} calls within a second`);
    // Pacing: call k + 1 leaves no sooner than call k's tokens at tpm/60 000 per ms, less the
    // burst (500 ms of quota).
    for (let k = 1; k < chat.length; k++) {
      const gap = chat[k].at_ms - chat[k - 1].at_ms;
      const due = (chat[k - 1].tokens * 60000) / TPM - BURST_MS - JITTER_MS;
      assert.ok(gap >= due * 0.9, `call ${k} came ${gap} ms after the previous (${chat[k - 1].tokens} tokens due ${Math.round(due)} ms)`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await sandboxConfig({}).catch(() => {});
    await ctx.close();
  }
});
