// "Ours" for the scheduler benchmark (BENCH.md `scheduler`): the real app in Chromium (the
// release build served at APP_URL) runs a 300-prompt batch through the Studio's batch panel,
// exactly as a user does — the wasm batch engine (src/domain/batch) driven by the executor in
// src/web/batch_exec.rs — against the already configured and reset sandbox.
//
// `oursInBrowser(browser, appUrl, sandboxUrl)` returns the `ours(sandboxRoot, { faults })`
// function `schedulerBench` expects: it resolves to `{ seconds, lost }`, where `seconds` runs
// from pressing Start (so it includes storing the 300 items and taking the batch's lock) to the
// end of the last answer (the batch view's `data-last-answer-ms`, from the ledger entries: the
// page repaints at most every 200 ms, so its finished status would add up to that), and `lost`
// counts the items not done.

import { addSandboxConnection, gotoStudio } from '../tests/e2e/connection-steps.mjs';
import { LIMIT_RPM, MAX_TOKENS, REQUESTS } from './scheduler_baseline.mjs';

/** Prompt `i`, distinct per item as in the baseline, asking the sandbox for MAX_TOKENS tokens. */
export const ourPrompt = (i) =>
  `[[sandbox:tokens=${MAX_TOKENS}]] 第${i + 1}场变体：雨夜天台，女主与霸总对峙。写一句台词。(take ${i + 1})`;

export function oursInBrowser(browser, appUrl, sandboxUrl) {
  return async function ours(_sandboxRoot, { requests = REQUESTS, calibrated = false } = {}) {
    const ctx = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await ctx.newPage();
      await page.goto(`${appUrl}/settings`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
      await addSandboxConnection(page, sandboxUrl);
      await gotoStudio(page);
      await page.getByTestId('batch-prompts').fill(Array.from({ length: requests }, (_, i) => ourPrompt(i)).join('\n'));
      await page.getByTestId('batch-rpm').fill(String(LIMIT_RPM));
      await page.getByTestId('batch-quote').waitFor();
      const started = Date.now();
      await page.getByTestId('batch-start').click();
      await page.waitForFunction(() => {
        const status = document.querySelector('[data-testid="batch-view"]')?.dataset.status;
        return status === 'finished' || status === 'stopped' || status === 'cancelled';
      }, null, { timeout: 600000, polling: 50 });
      const view = page.getByTestId('batch-view');
      const lastAnswer = Number(await view.getAttribute('data-last-answer-ms'));
      const firstSend = Number(await view.getAttribute('data-first-send-ms'));
      const seconds = (lastAnswer - started) / 1000;
      const done = Number(await page.getByTestId('batch-count-done').innerText());
      // The quote's input-token estimate against the billed prompt tokens (issue 5).
      const reconcile = page.getByTestId('batch-reconcile');
      await reconcile.waitFor({ timeout: 10000 });
      const tenths = await reconcile.getAttribute('data-input-error-tenths');
      const quotedInput = Number(await reconcile.getAttribute('data-quoted-input'));
      const billedInput = Number(await reconcile.getAttribute('data-billed-input'));
      // Then a second, smaller batch of new prompts in the same page: its quote uses what the
      // first batch's billed usage taught the estimate.
      let calibratedTenths = null;
      if (calibrated) {
        await page.getByTestId('batch-prompts').fill(Array.from({ length: 30 }, (_, i) => ourPrompt(1000 + i)).join('\n'));
        await page.getByTestId('batch-quote').waitFor();
        await page.getByTestId('batch-start').click();
        const second = page.locator('[data-testid="batch-reconcile"][data-quoted-requests="30"]');
        await second.waitFor({ timeout: 120000 });
        calibratedTenths = await second.getAttribute('data-input-error-tenths');
      }
      return {
        quote_input_error_calibrated_percent: calibratedTenths == null ? null : Number(calibratedTenths) / 10,
        seconds,
        lost: requests - done,
        done,
        start_overhead_s: (firstSend - started) / 1000,
        quote_input_error_percent: tenths == null ? null : Number(tenths) / 10,
        quoted_input_tokens: quotedInput,
        billed_input_tokens: billedInput,
      };
    } finally {
      await ctx.close();
    }
  };
}

// `node bench/scheduler_ours.mjs` runs the scheduler benchmark (baseline and ours) alone,
// against APP_URL and SANDBOX_URL, and prints its figures.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { launch, APP_URL, SANDBOX_URL } = await import('../tests/e2e/harness.mjs');
  const { schedulerBench } = await import('./scheduler.mjs');
  const browser = await launch();
  try {
    const ours = oursInBrowser(browser, APP_URL, SANDBOX_URL);
    const result = await schedulerBench(SANDBOX_URL.replace(/\/v1$/, ''), { ours });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await browser.close();
  }
}
