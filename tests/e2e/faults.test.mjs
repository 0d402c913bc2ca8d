// The fault matrix (issue 17): the sandbox in billing-real mode bills a request once generation
// starts, whether or not the app reads the reply. For each fault it injects, a batch of 20
// items and a playground call run through the release build, and the sandbox's own figures
// must show that nothing was paid twice and nothing was lost:
//
// - requests billed = answers applied + items and calls shown as "outcome unknown";
// - no request body billed twice without the consent click (duplicates 0), and with it exactly
//   one more per resent item;
// - nothing lost: every item is done or waits, unknown, for the user (none failed);
// - the ledger's tokens are at least what the sandbox billed (unknown attempts count at their
//   worst case, flagged).
//
// The matrix is printed as a table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, sandboxConfig } from './harness.mjs';
import { FAULTS, runFault, table } from './fault-matrix.mjs';

let browser;
const rows = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await sandboxConfig({}).catch(() => {});
  await browser?.close();
  if (rows.length > 0) console.log(`\nFault matrix (billing-real sandbox)\n${table(rows)}\n`);
});

for (const fault of FAULTS) {
  test(`${fault.name}: billed = applied + unknown, no duplicate, nothing lost`, async (t) => {
    const consent = fault.name === 'stream_error_event';
    const row = await runFault(browser, fault, { consent });
    rows.push(row);
    t.diagnostic(JSON.stringify(row));
    assert.equal(row.billed, row.applied + row.unknown, 'every billed request was applied or shown as unknown');
    assert.equal(row.batch_billed, row.batch_applied + row.batch_unknown, 'the batch alone');
    assert.equal(row.duplicates, 0, 'nothing was billed twice without consent');
    assert.equal(row.failed, 0, `nothing was lost: ${row.failures.join('; ')}`);
    assert.equal(row.batch_applied + row.batch_unknown, 20);
    assert.ok(row.ledger_tokens >= row.billed_tokens,
      `the ledger (${row.ledger_tokens} tokens) is never below the bill (${row.billed_tokens})`);
    assert.equal(row.ledger_worst_case, row.unknown, 'each unknown attempt is in the ledger at its worst case');
    if (fault.expect === 'unknown') {
      assert.ok(row.batch_unknown > 0, 'the fault hit some items');
      assert.equal(row.playground, 'unknown', 'the playground says the outcome is unknown');
      assert.equal(row.playground_billed, 1);
    } else {
      assert.equal(row.batch_unknown, 0, 'nothing was generated, so the app retried by itself');
      assert.equal(row.batch_applied, 20);
    }
    if (consent) {
      assert.ok(row.after_consent, 'the consent was exercised');
      assert.equal(row.after_consent.done, 20, 'after consent every item is done');
      assert.equal(row.after_consent.duplicates, row.batch_unknown, 'consent paid once more per resent item');
    }
    // Chromium logs each failed response and dropped connection itself ("Failed to load
    // resource…", "net::ERR_…"); anything else (a panic, a CSP violation) is a defect.
    const own = row.problems.filter((p) => !/Failed to load resource|net::ERR_/.test(p));
    assert.deepEqual(own, []);
  });
}
