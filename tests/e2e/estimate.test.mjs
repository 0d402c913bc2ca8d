// The Estimate page as a producer uses it: edit the plan and an exchange rate and watch both
// currencies change; a bad value is refused at the field; the plan survives a reload, travels
// in the URL to a fresh browser, and a tampered link is reported without touching the drafts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, open, APP_URL } from './harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const RELAY = 'holysheep-relay';
const OFFICIAL = 'official-market';

async function totals(page, id) {
  return {
    usd: await page.getByTestId(`total-usd-${id}`).innerText(),
    cny: await page.getByTestId(`total-cny-${id}`).innerText(),
  };
}

async function fill(page, testid, value) {
  const input = page.getByTestId(testid);
  await input.fill(value);
}

test('editing the plan and an exchange rate changes the totals in both currencies; the plan is kept', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/');

  // The seeds' inventory: 15 studios × 20 episodes of script, character and dialogue tokens.
  assert.deepEqual(await totals(page, RELAY), { usd: '$2,410.80', cny: '¥2,410.80' });
  assert.deepEqual(await totals(page, OFFICIAL), { usd: '$2,410.80', cny: '¥17,598.84' });
  assert.match(await page.getByTestId(`saving-${RELAY}`).innerText(), /¥15,188\.04/);

  // Twice the episodes: twice the spend, in $ and in ¥.
  await fill(page, 'plan-episodes_per_series', '40');
  await page.getByText('$4,821.60').first().waitFor();
  assert.deepEqual(await totals(page, RELAY), { usd: '$4,821.60', cny: '¥4,821.60' });
  assert.deepEqual(await totals(page, OFFICIAL), { usd: '$4,821.60', cny: '¥35,197.68' });

  // A bad value: an inline message at the field, and the last valid estimate stays.
  for (const bad of ['-5', 'abc', '', '99999999999']) {
    await fill(page, 'plan-studios', bad);
    const field = page.locator('.ds-field--invalid', { has: page.getByTestId('plan-studios') });
    await field.locator('.ds-field__error').waitFor();
    assert.ok((await field.locator('.ds-field__error').innerText()).length > 3, `message for ${JSON.stringify(bad)}`);
    assert.deepEqual(await totals(page, RELAY), { usd: '$4,821.60', cny: '¥4,821.60' });
  }
  await fill(page, 'plan-studios', '15');
  assert.equal(await page.locator('.ds-field--invalid').count(), 0);

  // The exchange rate of the official profile: ¥7.3 → ¥7.0 per $.
  await page.getByTestId('section-profiles').locator('summary').click();
  await fill(page, `profile-rate-${OFFICIAL}`, '7');
  await page.getByText('¥33,751.20').first().waitFor();
  assert.deepEqual(await totals(page, OFFICIAL), { usd: '$4,821.60', cny: '¥33,751.20' });
  await fill(page, `profile-rate-${OFFICIAL}`, '-1');
  assert.equal(await page.locator('.ds-field--invalid').count(), 1, 'a negative rate is refused at its field');
  assert.deepEqual(await totals(page, OFFICIAL), { usd: '$4,821.60', cny: '¥33,751.20' });
  await fill(page, `profile-rate-${OFFICIAL}`, '7');

  const link = page.url();
  assert.match(link, /#v1\./, 'the plan is in the URL fragment');
  assert.doesNotMatch(link, /sk-|hs_/, 'no key in the link');

  // Reload without the fragment: the plan and the rate come back from IndexedDB.
  await page.waitForTimeout(400);
  await page.goto(APP_URL + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.getByText('$4,821.60').first().waitFor();
  assert.equal(await page.getByTestId('plan-episodes_per_series').inputValue(), '40');
  await page.getByText('¥33,751.20').first().waitFor();
  assert.deepEqual(problems, []);

  // The link opens the same plan in a fresh browser (its own price book: default ¥7.3).
  const fresh = await newContext(browser, { locale: 'zh-CN' });
  const other = await fresh.newPage();
  await other.goto(link);
  await other.waitForSelector('body[data-ready="true"]');
  assert.equal(await other.getByTestId('plan-episodes_per_series').inputValue(), '40');
  assert.deepEqual(await totals(other, RELAY), { usd: '$4,821.60', cny: '¥4,821.60' });
  assert.deepEqual(await totals(other, OFFICIAL), { usd: '$4,821.60', cny: '¥35,197.68' });
  await fresh.close();
  await ctx.close();
});

test('a tampered link is reported and the saved plan is untouched', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  let { page } = await open(ctx, '/');
  await fill(page, 'plan-episodes_per_series', '30');
  await page.getByText('$3,616.20').first().waitFor();
  const good = page.url();
  await page.waitForTimeout(400);

  const [base, fragment] = good.split('#');
  const flipped = fragment.slice(0, 20) + (fragment[20] === 'A' ? 'B' : 'A') + fragment.slice(21);
  for (const bad of [flipped, fragment.slice(0, fragment.length - 9), 'v1.%%%%', 'not-a-plan']) {
    await page.goto(`${base}#${bad}`);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByTestId('plan-link-error').waitFor();
    // The saved plan is shown instead, unchanged.
    await page.getByText('$3,616.20').first().waitFor();
    assert.equal(await page.getByTestId('plan-episodes_per_series').inputValue(), '30');
  }
  await ctx.close();
});

test('the seed corrections, the price matrix and CSV export are offered', async () => {
  const ctx = await newContext(browser, { locale: 'en-US', acceptDownloads: true });
  const { page } = await open(ctx, '/');
  // Both tables are built (in the release build, downloaded) when their section is opened.
  assert.equal(await page.getByTestId('seed-corrections-table').count(), 0);
  await page.getByTestId('seed-corrections').locator('summary').click();
  await page.getByTestId('seed-corrections-table').waitFor();
  const text = await page.getByTestId('seed-corrections').innerText();
  assert.match(text, /\$423\.40/);
  assert.match(text, /\$777\.10/);
  assert.match(text, /\$9,259\.90/);
  // The inventory's "$18,400 a month" beside its own lines' $2,410.80, and S7's double count.
  assert.match(text, /\$18,400\.00[\s\S]*\$2,410\.80/);
  assert.match(text, /\$10,037\.00[\s\S]*\$9,501\.00/);
  assert.match(text, /\$8,723\.90/);

  assert.equal(await page.getByTestId('price-matrix').count(), 0);
  await page.getByTestId('section-price-matrix').locator('summary').click();
  const matrix = page.getByTestId('price-matrix');
  await matrix.waitFor();
  const row = matrix.locator('tr', { hasText: 'official-market' }).filter({ hasText: 'claude-sonnet-4.5' });
  assert.match(await row.innerText(), /\$15\.00 · ¥109\.50/, 'output price per million tokens, in $ and ¥');
  // It follows the plan, and stays open while the plan is edited.
  const rows = await matrix.locator('tbody tr').count();
  await fill(page, 'plan-episodes_per_series', '40');
  await page.getByText('$4,821.60').first().waitFor();
  assert.equal(await page.getByTestId('section-price-matrix').getAttribute('open'), '');
  assert.equal(await matrix.locator('tbody tr').count(), rows);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const path = await download.path();
  const csv = (await import('node:fs')).readFileSync(path, 'utf8');
  // The export is of the plan as edited above: twice the seeds' episodes.
  assert.match(csv, /HolySheep relay,Total,,0,0,900000000,0,4821\.60,4821\.60/);
  await ctx.close();
});
