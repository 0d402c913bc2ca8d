// The seeds' throttle, reimplemented as the scheduler benchmark's baseline (BENCH.md), plus the
// sandbox helpers the scheduler benchmark shares.
//
// The seed (001, "Rate-limited parallel processing with exponential backoff") runs every prompt
// through an asyncio semaphore of 50; after each request it sleeps 60/450 s plus 0–50 ms of
// jitter (still holding its slot); on a 429 it backs off 2^retry s plus 0–1 s (1 s, 2 s, 4 s) and
// tries again, up to 3 retries; any other error, or a fourth 429, fails the prompt. One deviation:
// the seed retries by calling itself recursively, which acquires a second slot while holding the
// first and can deadlock once 50 tasks are backing off; here the retry reuses the slot it holds.

/** The API key the sandbox accepts by default (`sandbox::DEFAULT_KEY`). */
export const SANDBOX_KEY = 'sk-sandbox-0123456789abcdef0123456789abcdef';
/** Requests per run. */
export const REQUESTS = 300;
/** The sandbox's rate limit during the benchmark. */
export const LIMIT_RPM = 600;
/** The sandbox's latency during the benchmark (300 ± 100 ms). */
export const LATENCY_MS = { min: 200, max: 400 };
/** The model asked, and each reply's token limit. */
export const MODEL = 'deepseek-v3.2';
export const MAX_TOKENS = 16;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The headers of a call to the sandbox's control routes: its control token, from
 * `SANDBOX_CONTROL_TOKEN` (exported by scripts/lib.sh `start_sandbox`). */
export function controlHeaders(extra = {}) {
  const token = process.env.SANDBOX_CONTROL_TOKEN;
  if (!token) throw new Error('SANDBOX_CONTROL_TOKEN is not set: export the token the sandbox printed at start');
  return { 'x-sandbox-control': token, ...extra };
}

/** `POST {root}/_sandbox/config`: replaces the sandbox's whole configuration. */
export async function configureSandbox(sandboxRoot, config) {
  const r = await fetch(`${sandboxRoot}/_sandbox/config`, {
    method: 'POST',
    headers: controlHeaders({ 'content-type': 'application/json' }),
    body: JSON.stringify(config),
  });
  if (!r.ok) throw new Error(`sandbox config failed: ${r.status} ${await r.text()}`);
  return r.json();
}

/** `POST {root}/_sandbox/reset`: zeroes the stats and refills the rate-limit buckets. */
export async function resetSandbox(sandboxRoot) {
  const r = await fetch(`${sandboxRoot}/_sandbox/reset`, { method: 'POST', headers: controlHeaders() });
  if (!r.ok) throw new Error(`sandbox reset failed: ${r.status}`);
  return r.json();
}

/** `GET {root}/_sandbox/stats`: requests, statuses, billed usage and duplicates. */
export async function sandboxStats(sandboxRoot) {
  const r = await fetch(`${sandboxRoot}/_sandbox/stats`, { headers: controlHeaders() });
  if (!r.ok) throw new Error(`sandbox stats failed: ${r.status}`);
  return r.json();
}

/** The request body of prompt `i`: every prompt is distinct, so the sandbox's `duplicates`
 * counts only a prompt billed twice. */
export function chatBody(i) {
  return JSON.stringify({
    model: MODEL,
    max_tokens: MAX_TOKENS,
    messages: [
      { role: 'system', content: 'You are a screenwriter for vertical short dramas.' },
      { role: 'user', content: `第${i + 1}场变体：雨夜天台，女主与霸总对峙。写一句台词。(take ${i + 1})` },
    ],
  });
}

/** Sends one chat completion; resolves to the HTTP status (0 for a network failure). */
export async function sendChat(sandboxRoot, body) {
  try {
    const r = await fetch(`${sandboxRoot}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SANDBOX_KEY}`, 'content-type': 'application/json' },
      body,
    });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

/** A counting semaphore, like `asyncio.Semaphore`. */
function semaphore(slots) {
  const waiting = [];
  return {
    async acquire() {
      if (slots > 0) {
        slots -= 1;
        return;
      }
      await new Promise((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else slots += 1;
    },
  };
}

/**
 * Runs the seeds' throttle over `REQUESTS` distinct prompts against the sandbox (already
 * configured and reset by the caller). Resolves to the wall time in seconds, the 429s received,
 * the prompts that succeeded and those lost.
 */
export async function runBaseline(sandboxRoot, { requests = REQUESTS, concurrency = 50, targetRpm = 450 } = {}) {
  const slots = semaphore(concurrency);
  const minInterval = 60_000 / targetRpm; // 133 ms
  let status429 = 0;
  let succeeded = 0;
  let lost = 0;
  const throttled = async (i) => {
    await slots.acquire();
    try {
      for (let retry = 0; ; retry++) {
        const status = await sendChat(sandboxRoot, chatBody(i));
        if (status === 200) {
          await sleep(minInterval + Math.random() * 50);
          succeeded += 1;
          return;
        }
        if (status === 429) status429 += 1;
        if (status !== 429 || retry >= 3) {
          lost += 1;
          return;
        }
        await sleep(2 ** retry * 1000 + Math.random() * 1000);
      }
    } finally {
      slots.release();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: requests }, (_, i) => throttled(i)));
  const seconds = (performance.now() - start) / 1000;
  return { seconds, status429, succeeded, lost };
}
