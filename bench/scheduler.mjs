// Scheduler benchmark (BENCH.md `scheduler`): 300 chat completions against the sandbox set to
// 600 rpm and 300 ± 100 ms latency. The ideal is 300 / 600 min = 30 s; `ceiling_ratio` is
// ideal_s / measured_s.
//
// It measures the baseline (the seeds' throttle, see scheduler_baseline.mjs) and, when given
// `ours`, our scheduler: the Rust/wasm batch engine in src/domain/batch driven by the executor in
// src/web/batch_exec.rs, run in Chromium through the Studio's batch panel
// (scheduler_ours.mjs, wired in run.mjs):
//
//   const ours = oursInBrowser(browser, APP_URL, SANDBOX_URL);
//   Object.assign(results, { scheduler: await schedulerBench(sandboxRoot, { ours }) });
//
// `ours(sandboxRoot, { faults })` runs the 300-request batch in the app against the already
// configured and reset sandbox and resolves to `{ seconds, lost }` (items not done). The 429 and
// duplicate counts are read from `/_sandbox/stats` here.

import {
  LATENCY_MS,
  LIMIT_RPM,
  REQUESTS,
  configureSandbox,
  resetSandbox,
  runBaseline,
  sandboxStats,
} from './scheduler_baseline.mjs';

/** The sandbox configuration of the clean runs. The app streams its batch calls and the
 * baseline does not: generation is instant (no per-token delay) so that both are measured on
 * their pacing alone, with the same `latency_ms` before the first byte. */
export const SCHEDULER_CONFIG = { rpm: LIMIT_RPM, latency_ms: LATENCY_MS, stream_chunk_delay_ms: 0 };
/** The share of injected 500s in the fault run. */
export const FAULTS_5XX_RATE = 0.2;

const round = (x, d = 2) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Reconfigures and resets the sandbox so each run starts with full buckets and zero stats. */
async function freshSandbox(sandboxRoot, config) {
  await configureSandbox(sandboxRoot, config);
  await resetSandbox(sandboxRoot);
}

/**
 * Runs the scheduler benchmark against the sandbox at `sandboxRoot` (no `/v1`). `runs` repeats
 * each measurement and keeps the median. Without `ours`, the `ours_*` and fault figures are null.
 */
export async function schedulerBench(sandboxRoot, { ours = null, runs = 1 } = {}) {
  const idealS = (REQUESTS / LIMIT_RPM) * 60;
  const result = {
    requests: REQUESTS,
    limit_rpm: LIMIT_RPM,
    ideal_s: idealS,
    ours_s: null,
    ours_ceiling_ratio: null,
    ours_429: null,
    ours_duplicates: null,
    baseline_s: null,
    baseline_ceiling_ratio: null,
    baseline_429: null,
    // Not a BENCH.md key: the seed's throttle gives up on a prompt after its third retry, so its
    // time is for fewer than 300 answers. Kept beside its ratio so the comparison stays honest.
    baseline_lost: null,
    faults_5xx_rate: FAULTS_5XX_RATE,
    faults_lost_items: null,
  };

  const baseline = [];
  for (let i = 0; i < runs; i++) {
    await freshSandbox(sandboxRoot, SCHEDULER_CONFIG);
    const run = await runBaseline(sandboxRoot);
    const stats = await sandboxStats(sandboxRoot);
    baseline.push({ ...run, status429: stats.status?.['429'] ?? run.status429 });
  }
  const baselineS = median(baseline.map((r) => r.seconds));
  Object.assign(result, {
    baseline_s: round(baselineS),
    baseline_ceiling_ratio: round(idealS / baselineS, 3),
    baseline_429: median(baseline.map((r) => r.status429)),
    baseline_lost: median(baseline.map((r) => r.lost)),
    // Not BENCH.md keys: answers delivered per second (what a producer waits for). The baseline
    // can end sooner than the ideal only by overshooting the limit and dropping prompts.
    baseline_answers_per_s: round((REQUESTS - median(baseline.map((r) => r.lost))) / baselineS, 3),
  });

  if (ours) {
    const clean = [];
    for (let i = 0; i < runs; i++) {
      await freshSandbox(sandboxRoot, SCHEDULER_CONFIG);
      const run = await ours(sandboxRoot, { faults: null, calibrated: i === 0 });
      const stats = await sandboxStats(sandboxRoot);
      clean.push({ ...run, status429: stats.status?.['429'] ?? 0, duplicates: stats.duplicates ?? 0 });
    }
    const oursS = median(clean.map((r) => r.seconds));
    Object.assign(result, {
      ours_s: round(oursS),
      ours_ceiling_ratio: round(idealS / oursS, 3),
      ours_429: median(clean.map((r) => r.status429)),
      ours_duplicates: Math.max(...clean.map((r) => r.duplicates)),
      ours_answers_per_s: round((REQUESTS - median(clean.map((r) => r.lost))) / oursS, 3),
      // The quote's input-token error against billed prompt tokens, (quoted − billed) / billed.
      ours_quote_input_error_percent: median(clean.map((r) => r.quote_input_error_percent)),
      // The same after one batch taught the estimate the provider's counts (Calibration).
      ours_quote_input_error_calibrated_percent: clean[0].quote_input_error_calibrated_percent,
      ours_quoted_input_tokens: clean[0].quoted_input_tokens,
      ours_billed_input_tokens: clean[0].billed_input_tokens,
    });
    const faults = { server_500: FAULTS_5XX_RATE };
    await freshSandbox(sandboxRoot, { ...SCHEDULER_CONFIG, faults });
    const faulty = await ours(sandboxRoot, { faults });
    result.faults_lost_items = faulty.lost;
  }
  return result;
}

// `node bench/scheduler.mjs [sandbox root]` runs the benchmark alone and prints its figures.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = (process.argv[2] ?? process.env.SANDBOX_URL ?? 'http://127.0.0.1:8787').replace(/\/v1\/?$/, '');
  console.log(JSON.stringify(await schedulerBench(root), null, 2));
}
