// Runs every benchmark and writes target/bench/results.json. Figures are medians over repeated
// runs in this one invocation. A benchmark never fails: a missing piece is reported as null.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { cpus, arch } from 'node:os';
import { launch, APP_URL } from '../tests/e2e/harness.mjs';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const round = (x, d = 1) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

const results = { machine: `${cpus().length} cores, ${arch() === 'x64' ? 'x86_64' : arch()}` };

// Bundle: the initial load, brotli-compressed.
results.bundle = JSON.parse(execFileSync('node', ['scripts/bundle-size.mjs', '--json']).toString());

const browser = await launch();

// Cold start: navigation start → body[data-ready], cache disabled, fresh profile each time.
{
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(APP_URL + '/');
    await page.waitForSelector('body[data-ready="true"]');
    // The app records when it became interactive, in ms since navigation start.
    runs.push(Number(await page.evaluate(() => document.body.dataset.readyMs)));
    await ctx.close();
  }
  results.cold_start_ms = round(median(runs));
}

// Native benchmarks printed by the release examples (each prints one JSON object).
function nativeBench(example) {
  const bin = `target/release/examples/${example}`;
  if (!existsSync(bin)) return null;
  return JSON.parse(execFileSync(bin).toString());
}
const est = nativeBench('bench_estimate');
results.estimate_200_series_us = est ? round(est.median_us, 2) : null;
// Parsing 2 MiB of hostile Fountain (the import cap; the slowest of its patterns), then with the
// scene list an import makes.
const fountain = nativeBench('bench_fountain');
results.fountain_hostile_2mib_ms = fountain ? round(fountain.max_ms) : null;
results.fountain_hostile_2mib_scenes_ms = fountain ? round(fountain.max_scenes_ms) : null;

// Streaming: the largest gap between animation frames while a 2,000-token reply streams in.
try {
  const { streamBench } = await import('./stream.mjs');
  Object.assign(results, await streamBench(browser, APP_URL, process.env.SANDBOX_URL));
} catch (e) {
  console.error(`stream benchmark unavailable: ${e.message}`);
  results.stream_2000_tokens_max_frame_gap_ms = null;
}

// Storage and rendering of a 12-episode × 47-shot series.
try {
  const { storageBench } = await import('./storage.mjs');
  Object.assign(results, await storageBench(browser, APP_URL));
} catch (e) {
  console.error(`storage benchmark unavailable: ${e.message}`);
  results.storage = null;
  results.render_564_shots_ms = null;
  results.render_564_shots_all_cards_ms = null;
  results.render_564_shots_longest_task_ms = null;
}

// Scheduler: the seeds' throttle as the baseline, and ours: the app's batch panel in Chromium
// (the wasm batch engine and its executor), both against the same sandbox settings.
try {
  const { schedulerBench } = await import('./scheduler.mjs');
  const { oursInBrowser } = await import('./scheduler_ours.mjs');
  const ours = oursInBrowser(browser, APP_URL, process.env.SANDBOX_URL);
  results.scheduler = await schedulerBench(process.env.SANDBOX_URL.replace(/\/v1$/, ''), { ours });
} catch (e) {
  console.error(`scheduler benchmark unavailable: ${e.message}`);
  results.scheduler = null;
}

// Faults (issue 17): the fault matrix of tests/e2e/faults.test.mjs against the billing-real
// sandbox: per fault, requests billed, answers applied, outcomes shown unknown, duplicates.
try {
  const { FAULTS, runFault } = await import('../tests/e2e/fault-matrix.mjs');
  results.faults = {};
  for (const fault of FAULTS) {
    const row = await runFault(browser, fault);
    results.faults[fault.name] = {
      billed: row.billed, applied: row.applied, unknown: row.unknown, duplicates: row.duplicates,
      failed: row.failed, billed_tokens: row.billed_tokens, ledger_tokens: row.ledger_tokens,
    };
  }
} catch (e) {
  console.error(`fault matrix unavailable: ${e.message}`);
  results.faults = null;
}

await browser.close();
mkdirSync('target/bench', { recursive: true });
writeFileSync('target/bench/results.json', JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify(results, null, 2));
