// Streaming smoothness: the largest gap between animation frames while a 2,000-token reply
// streams into the Studio playground. A gap over ~50 ms is a visible stutter. The figure is the
// median of three runs in one fresh profile; it is null if the run could not be made.
import { addSandboxConnection, gotoStudio, startPrompt, finished } from '../tests/e2e/connection-steps.mjs';
import { controlHeaders } from './scheduler_baseline.mjs';

const RUNS = 3;
const PROMPT = '[[sandbox:tokens=2000]] 写一集霸总短剧的完整剧本初稿。';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function configure(sandboxRoot, config) {
  const r = await fetch(`${sandboxRoot}/_sandbox/config`, {
    method: 'POST', headers: controlHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(config),
  });
  if (!r.ok) throw new Error(`sandbox config failed: ${r.status}`);
}

/** Measures one streamed reply: the largest gap between requestAnimationFrame callbacks. */
async function oneRun(page) {
  await page.evaluate(() => {
    const probe = { max: 0, last: null, frames: 0, on: true };
    window.__frameProbe = probe;
    const tick = (now) => {
      if (probe.last !== null) probe.max = Math.max(probe.max, now - probe.last);
      probe.last = now;
      probe.frames += 1;
      if (probe.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await startPrompt(page, PROMPT);
  await finished(page, { timeout: 120000 });
  const probe = await page.evaluate(() => { window.__frameProbe.on = false; return window.__frameProbe; });
  const error = await page.getByTestId('play-error').count();
  const tokens = Number((await page.getByTestId('play-completion-tokens').innerText()).replace(/[^\d]/g, ''));
  if (error || tokens !== 2000) throw new Error(`the reply did not complete (${tokens} tokens)`);
  return probe.max;
}

/**
 * In a fresh browser context: adds the sandbox connection through Settings, sets a 5 ms delay
 * between stream chunks, and streams a 2,000-token reply in the playground while a rAF loop
 * records the largest gap between frames.
 */
export async function streamBench(browser, appUrl, sandboxUrl) {
  const sandboxRoot = sandboxUrl.replace(/\/v1\/?$/, '');
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  try {
    await configure(sandboxRoot, { stream_chunk_delay_ms: 5 });
    const page = await context.newPage();
    await page.goto(`${appUrl}/settings`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    await addSandboxConnection(page, sandboxUrl);
    await gotoStudio(page);
    const gaps = [];
    for (let i = 0; i < RUNS; i++) gaps.push(await oneRun(page));
    return { stream_2000_tokens_max_frame_gap_ms: Math.round(median(gaps) * 10) / 10 };
  } catch (error) {
    console.error(`stream benchmark: ${error.message}`);
    return { stream_2000_tokens_max_frame_gap_ms: null };
  } finally {
    await configure(sandboxRoot, {}).catch(() => {});
    await context.close();
  }
}
