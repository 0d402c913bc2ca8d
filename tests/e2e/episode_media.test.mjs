// An episode's media on the Estimate page: keyframes, clips on two video models and dubbing,
// each priced the way its model bills (from the shipped catalog), with the cost per finished
// minute under every profile in $ and ¥. Switching a clip model from per-second to per-clip
// pricing changes it as computed; a retired model is said so; the form survives a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, open } from './harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const perMinute = (page, profile) =>
  page.locator(`[data-testid="media-profile"][data-profile="${profile}"] [data-testid="media-per-minute"]`).innerText();

async function waitPerMinute(page, profile, text) {
  await page.waitForFunction(([p, t]) => {
    const cell = document.querySelector(`[data-testid="media-profile"][data-profile="${p}"] [data-testid="media-per-minute"]`);
    return cell && cell.textContent.includes(t);
  }, [profile, text]);
}

test('an episode plan with frames, clips on two video models and dubbing is priced per finished minute', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/');
  assert.equal(await page.getByTestId('episode-media').count(), 0, 'built when first opened');
  await page.getByTestId('section-episode-media').locator('summary').click();
  await page.getByTestId('media-profiles').waitFor();

  // The starting episode, on the catalog's first current models of each kind:
  // - keyframes: 47 shots × 1 frame × 2 takes = 94 gpt-image-1 portraits at medium quality,
  //   1,584 image tokens × $40/M = $0.06336 each: $5.95584;
  // - 10 shots of 6 s on veo-3.1-fast (per second, $0.10/s at 720p) × 2 takes: $12.00;
  // - 37 shots of 5 s on MiniMax-Hailuo-02 (per clip; it makes 6 or 10 s, so 6 s at 768P,
  //   $0.28) × 2 takes: 74 × $0.28 = $20.72;
  // - 3,000 characters of dialogue on tts-1 at $15/M: $0.045.
  // $38.72084 per episode over 10 × 6 + 37 × 5 = 245 finished seconds: × 60 ÷ 245 = $9.4827/min.
  assert.equal(await page.getByTestId('media-clip-model-0').inputValue(), 'veo-3.1-fast');
  assert.equal(await page.getByTestId('media-clip-model-1').inputValue(), 'MiniMax-Hailuo-02');
  assert.match(await page.getByTestId('media-runtime').innerText(), /245 s/);
  assert.equal(await perMinute(page, 'official-market'), '$9.48 · ¥69.22');
  assert.equal(await perMinute(page, 'holysheep-relay'), '$9.48 · ¥9.48', 'the relay bills ¥1 per $1');
  const hailuo = page.locator('[data-testid="media-line"][data-model="MiniMax-Hailuo-02"]');
  assert.match(await hailuo.innerText(), /made as 6 s/);
  assert.match(await hailuo.innerText(), /\$20\.72/);

  // The Veo shots on Hailuo instead: per clip, 20 × $0.28 = $5.60, so $32.32084 per episode
  // and × 60 ÷ 245 = $7.9153 per finished minute (¥57.78 at ¥7.3).
  const perClip = await page.locator('[data-testid="media-clip-model-0"] option[data-shape="per_clip"]').first().getAttribute('value');
  assert.equal(perClip, 'MiniMax-Hailuo-02');
  await page.getByTestId('media-clip-model-0').selectOption(perClip);
  await waitPerMinute(page, 'official-market', '$7.92');
  assert.equal(await perMinute(page, 'official-market'), '$7.92 · ¥57.78');
  assert.equal(await page.getByTestId('media-clip-resolution-0').inputValue(), '768P');
  // At 1080P Hailuo's 6 s clip is $0.49: 20 × $0.49 = $9.80, $36.52084 ÷ 245 × 60 = $8.9439.
  await page.getByTestId('media-clip-resolution-0').selectOption('1080P');
  await waitPerMinute(page, 'official-market', '$8.94');

  // A half-typed number is refused at once and loses nothing else.
  await page.getByTestId('media-clip-shots-1').fill('3x');
  await page.getByTestId('media-error').waitFor();
  await page.getByTestId('media-clip-shots-1').fill('37');
  await waitPerMinute(page, 'official-market', '$8.94');

  // A retired model is said so where it is chosen.
  await page.getByTestId('media-clip-model-1').selectOption('sora-2');
  const warning = page.getByTestId('media-warning').filter({ hasText: 'sora-2' });
  await warning.waitFor();
  assert.match(await warning.innerText(), /ended this API in 2026-09/);
  await page.getByTestId('media-clip-model-1').selectOption('MiniMax-Hailuo-02');
  await waitPerMinute(page, 'official-market', '$8.94');

  // Nothing is lost on reload.
  await page.reload();
  await page.getByTestId('section-episode-media').locator('summary').click();
  await page.getByTestId('media-profiles').waitFor();
  assert.equal(await page.getByTestId('media-clip-model-0').inputValue(), 'MiniMax-Hailuo-02');
  assert.equal(await page.getByTestId('media-clip-resolution-0').inputValue(), '1080P');
  assert.equal(await perMinute(page, 'official-market'), '$8.94 · ¥65.29');
  assert.deepEqual(problems, []);
  await ctx.close();
});
