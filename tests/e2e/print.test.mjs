// The printable storyboard: printed to PDF by Chromium, it has one page per scene, with the
// frames and every shot field, and nothing of the page around it — from the viewer, and from
// the share panel's "Print" button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, open } from './harness.mjs';
import { storyboardFile, openFile, saveCopy, chooseDraft, pdfPages } from './share-steps.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SCENES = 3;

test('the viewer prints one page per scene', async () => {
  const ctx = await newContext(browser, { locale: 'zh-CN' });
  const { page } = await open(ctx, '/view');
  await openFile(page, storyboardFile());
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.ds-header').isVisible(), false, 'the app header is not printed');
  assert.equal(await page.getByTestId('view-save-copy').isVisible(), false, 'nor the buttons');
  assert.equal(await page.getByTestId('sheet-shot').first().isVisible(), true);
  // Every field of a card is on paper.
  for (const field of ['shot_size', 'camera_angle', 'movement', 'duration_s', 'action', 'dialogue', 'emotional_tone', 'visual_elements', 'characters', 'notes', 'status']) {
    assert.equal(await page.getByTestId('sheet-shot').first().getByTestId(`sheet-field-${field}`).isVisible(), true, field);
  }
  const frame = await page.locator('.ds-frame').first().boundingBox();
  assert.ok(Math.abs(frame.height / frame.width - 16 / 9) < 0.05, `a 9:16 frame (${frame.width}×${frame.height})`);
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  assert.equal(pdfPages(pdf), SCENES);
  await ctx.close();
});

test('the share panel prints the storyboard alone, one page per scene', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page } = await open(ctx, '/view');
  await openFile(page, storyboardFile('Print me'));
  await saveCopy(page);
  await page.goto(new URL('/view', page.url()).href);
  await page.waitForSelector('body[data-ready="true"]');
  await chooseDraft(page, 'Print me');
  // The print dialog itself is the browser's: record the call instead of opening it.
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
  await page.getByTestId('export-print').click();
  await page.waitForFunction(() => window.printed === 1);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByTestId('share-panel').isVisible(), false);
  assert.equal(await page.getByTestId('print-sheet').isVisible(), true);
  assert.equal(await page.getByTestId('print-sheet').getByTestId('sheet-scene').count(), SCENES);
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  assert.equal(pdfPages(pdf), SCENES);
  await ctx.close();
});
