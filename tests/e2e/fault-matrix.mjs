// The fault matrix, shared by the end-to-end test (tests/e2e/faults.test.mjs) and the benchmark
// (bench/run.mjs, key `faults`): for each fault the sandbox can inject in billing-real mode, a
// batch of 20 items in the Studio and one playground call, both through the release build in
// Chromium, checked against what the sandbox billed.
//
// Per fault it measures: `billed` (requests the sandbox billed: generation had started),
// `applied` (answers the app used: items done, the playground's reply), `unknown` (items and
// calls the app shows as "outcome unknown": never resent without the user's consent), `failed`
// (given up: must be 0, nothing is lost), `duplicates` (a request body billed twice: must be 0
// without the consent click), and the ledger's tokens against the billed tokens.
import { newContext, open, sandboxConfig, sandboxReset, sandboxStats, SANDBOX_URL } from './harness.mjs';
import { addSandboxConnection, gotoStudio, startPrompt, finished, storedLedger } from './connection-steps.mjs';

/** The share of requests a fault hits in the batch (the playground call always meets it). */
const RATE = 0.2;

/** What every row starts from: fast streams, long hangs (longer than the app's time limits, so
 * the app's own timer ends them), short rate-limit waits. */
const BASE = {
  stream_chunk_delay_ms: 1,
  seed: 7,
  hang_ms: 120000,
  try_again_in_s: 2,
  retry_after_date_s: 2,
};

// [name, sandbox config, expected class]. `unknown`: the provider may have generated and billed
// (the app must not resend by itself); `retried`: nothing was generated (the app retries).
export const FAULTS = [
  ['timeout_after_generation', 'unknown'],
  ['body_dropped', 'unknown'],
  ['reset_mid_stream', 'unknown'],
  ['stall_mid_stream', 'unknown'],
  ['stream_error_event', 'unknown'],
  ['stream_cut', 'unknown'],
  ['malformed_json', 'unknown'],
  ['bad_gateway_html', 'retried'],
  ['gateway_timeout_html', 'retried'],
  ['relay_error_200', 'retried'],
  ['retry_after_date', 'retried'],
  ['request_timeout', 'retried'],
  ['try_again_message', 'retried'],
  ['rate_limit_headers_hidden', 'retried'],
].map(([name, expect]) => ({
  name,
  expect,
  batch: name === 'rate_limit_headers_hidden'
    ? { ...BASE, expose_rate_limit_headers: false, rpm: 60 }
    : { ...BASE, faults: { [name]: RATE } },
  playground: name === 'rate_limit_headers_hidden'
    ? { ...BASE, expose_rate_limit_headers: false }
    : { ...BASE, faults: { [name]: 1.0 } },
}));

const count = async (page, name) => Number(await page.getByTestId(`batch-count-${name}`).innerText());

async function until(page, predicate, { timeout = 180000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await predicate(page)) return;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until nothing is queued, waiting or in flight. */
const drained = (page, what) => until(page, async (p) => (await count(p, 'queued')) === 0
  && (await count(p, 'running')) === 0, { what });

const tokens = (entries) => entries.reduce((sum, e) => sum + e.prompt_tokens + e.completion_tokens, 0);

/** Runs one row: a fresh profile, a 20-item batch under `fault.batch`, then one playground call
 * under `fault.playground`. `consent` also presses "resend" for the unknown items afterwards
 * (with faults off) and reports the duplicates that consent paid for. */
export async function runFault(browser, fault, { consent = false } = {}) {
  const ctx = await newContext(browser, { locale: 'en-US' });
  try {
    const { page, problems } = await open(ctx, '/settings');
    await addSandboxConnection(page, SANDBOX_URL);
    await gotoStudio(page);
    await page.getByTestId('batch-panel').waitFor();
    await page.getByTestId('play-timeout').selectOption('15000');
    const ledgerBefore = (await storedLedger(page)).length;
    await sandboxReset();
    await sandboxConfig(fault.batch);

    // The batch.
    const prompts = Array.from({ length: 20 }, (_, i) => `[[sandbox:tokens=20]] ${fault.name} 第${i + 1}场`);
    await page.getByTestId('batch-prompts').fill(prompts.join('\n'));
    await page.getByTestId('batch-rpm').fill('600');
    await page.getByTestId('batch-quote').waitFor();
    await page.getByTestId('batch-start').click();
    await page.getByTestId('batch-view').waitFor();
    await drained(page, `the ${fault.name} batch to drain`);
    const batch = {
      done: await count(page, 'done'),
      unknown: await count(page, 'unknown'),
      failed: await count(page, 'failed'),
    };
    // What a failed item says (none should fail: reported to make a failure readable).
    const failures = await page.$$eval('[data-testid="batch-item"][data-state="failed"]',
      (rows) => rows.map((r) => `${r.dataset.itemId} (${r.dataset.sends} sends): ${r.innerText}`));
    const afterBatch = await sandboxStats();

    // The playground call.
    await sandboxConfig(fault.playground);
    await startPrompt(page, `[[sandbox:tokens=20]] ${fault.name} playground`);
    await finished(page, { timeout: 60000 });
    const error = page.getByTestId('play-error');
    const failedCall = (await error.count()) > 0;
    const unknownCall = failedCall && (await error.getAttribute('data-outcome-unknown')) === 'true';
    const stats = await sandboxStats();
    const entries = (await storedLedger(page)).slice(ledgerBefore);

    const row = {
      fault: fault.name,
      expect: fault.expect,
      billed: stats.billed.requests,
      applied: batch.done + (failedCall ? 0 : 1),
      unknown: batch.unknown + (unknownCall ? 1 : 0),
      failed: batch.failed,
      failures,
      duplicates: stats.duplicates,
      batch_billed: afterBatch.billed.requests,
      batch_applied: batch.done,
      batch_unknown: batch.unknown,
      playground_billed: stats.billed.requests - afterBatch.billed.requests,
      playground: failedCall ? (unknownCall ? 'unknown' : 'error') : 'applied',
      billed_tokens: stats.billed.total_tokens,
      ledger_tokens: tokens(entries),
      ledger_worst_case: entries.filter((e) => e.worst_case).length,
      problems,
    };

    if (consent && batch.unknown > 0) {
      // The consent click: the unknown items are sent again, each paid a second time.
      await sandboxConfig(BASE);
      await page.getByTestId('batch-resend-unknown').click();
      await until(page, async (p) => (await count(p, 'unknown')) === 0 && (await count(p, 'running')) === 0
        && (await count(p, 'queued')) === 0,
        { what: 'the resent items to finish' });
      row.after_consent = {
        done: await count(page, 'done'),
        duplicates: (await sandboxStats()).duplicates,
      };
    }
    return row;
  } finally {
    await ctx.close();
  }
}

/** The matrix as a text table. */
export function table(rows) {
  const columns = ['fault', 'expect', 'billed', 'applied', 'unknown', 'failed', 'duplicates',
    'playground', 'billed_tokens', 'ledger_tokens'];
  const cells = [columns, ...rows.map((r) => columns.map((c) => String(r[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}
