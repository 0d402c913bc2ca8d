// Shared by the SDK conformance tier (tests/sdk/*.test.mjs): the official `openai` and
// `@anthropic-ai/sdk` clients are pointed at the running sandbox (SANDBOX_URL, the key of
// tests/e2e/harness.mjs) to check our side of the wire against the reference implementations.
// The control routes need SANDBOX_CONTROL_TOKEN, as for the end-to-end tests.
import assert from 'node:assert/strict';
import { sandboxConfig, sandboxReset, sandboxStats } from '../e2e/harness.mjs';

export { SANDBOX_KEY, SANDBOX_ROOT, SANDBOX_URL } from '../e2e/harness.mjs';
export { sandboxConfig, sandboxStats };

/** Empties the sandbox's statistics and caches, then sets `config` (unpaced streams by default). */
export async function fresh(config = {}) {
  await sandboxReset();
  await sandboxConfig({ stream_chunk_delay_ms: 0, ...config });
}

/** Leaves the sandbox as the next tier expects it: empty statistics, the default configuration. */
export async function restore() {
  await sandboxReset();
}

/** Polls the statistics until `check(stats)` holds (5 s at most) and returns them. */
export async function statsWhen(check, what = 'the expected statistics') {
  const deadline = Date.now() + 5000;
  for (;;) {
    const stats = await sandboxStats();
    if (check(stats)) return stats;
    if (Date.now() > deadline) assert.fail(`never got ${what}: ${JSON.stringify(stats.billed)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `requests` generations are billed and settled, and returns `billed`. */
export async function billed(requests) {
  const stats = await statsWhen(
    (s) => s.billed.requests === requests && s.billed.incomplete === 0,
    `${requests} billed requests`,
  );
  return stats.billed;
}

/** A text of `tokens` sandbox tokens (each "abcd " is one token under the sandbox rule). */
export function longText(tokens, word = 'abcd') {
  return `${word} `.repeat(tokens);
}
