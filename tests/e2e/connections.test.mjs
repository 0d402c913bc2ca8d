// Connections as a user meets them in a production build: it starts with none; the local sandbox
// is added in Settings and tested with a real one-token request; a wrong key gives the
// invalid-key message without echoing the key; base URLs and keys are checked as they are
// typed; and the key never leaks: not into a URL, not into IndexedDB unless "remember" is
// ticked (and removed again when it is unticked), not into any export, and not to another
// site when the base URL is changed to one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, newContext, open, screenshot, sandboxReset, sandboxStats, SANDBOX_URL, SANDBOX_KEY, SANDBOX_ROOT,
} from './harness.mjs';
import {
  addSandboxConnection, gotoStudio, runPrompt, dumpIndexedDb, markStale,
} from './connection-steps.mjs';

/** A key the user pastes for a custom connection; the sandbox does not know it. */
const CUSTOM_KEY = 'sk-custom-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

let browser;
before(async () => {
  browser = await launch();
  await sandboxReset();
});
after(async () => { await browser?.close(); });

/** Clicks "Test connection" and returns the result's kind and text. */
async function testConnection(page) {
  await markStale(page, '[data-testid="conn-test-result"]');
  await page.getByTestId('conn-test').click();
  const result = page.locator('[data-testid="conn-test-result"]:not([data-stale])');
  await result.waitFor({ timeout: 25000 });
  return { kind: await result.getAttribute('data-kind'), text: await result.innerText() };
}

/** Downloads what clicking `testid` offers and returns its text. */
async function download(page, testid) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  return readFile(await file.path(), 'utf8');
}

test('a production build starts with no connection; the sandbox added in Settings tests OK', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await open(ctx, '/settings');
  const header = page.getByTestId('active-connection');
  assert.equal(await header.getAttribute('data-state'), 'none');
  assert.ok(await page.getByTestId('conn-empty').isVisible());

  await addSandboxConnection(page, SANDBOX_URL);
  assert.equal(await header.getAttribute('data-state'), 'ready', 'the header shows the new connection');
  assert.match(await header.innerText(), /本地沙盒/);
  assert.equal(await page.getByTestId('conn-key').getAttribute('type'), 'password', 'the key is masked');
  assert.equal(await page.getByTestId('conn-key').inputValue(), SANDBOX_KEY, 'the sandbox key is prefilled');
  assert.equal(await page.getByTestId('conn-remember').isChecked(), false, 'remembering is opt-in');

  const billedBefore = (await sandboxStats()).billed.requests;
  const { kind, text } = await testConnection(page);
  assert.equal(kind, 'ok');
  assert.match(text, /连接正常.*\d+ ms/);
  assert.equal((await sandboxStats()).billed.requests, billedBefore + 1, 'the test is a real POST');

  await page.getByTestId('lang-switch').click();
  assert.match(await page.getByTestId('conn-test-result').innerText(), /Connection OK.*\d+ ms/);

  // Show / hide the key.
  await page.getByTestId('conn-key-toggle').click();
  assert.equal(await page.getByTestId('conn-key').getAttribute('type'), 'text');
  await page.getByTestId('conn-key-toggle').click();
  assert.equal(await page.getByTestId('conn-key').getAttribute('type'), 'password');
  await screenshot(page, 'connections-ok');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a wrong key gives the invalid-key message, which never contains the key', async () => {
  const ctx = await newContext(browser);
  const { page } = await open(ctx, '/settings');
  await addSandboxConnection(page, SANDBOX_URL);
  const wrong = 'sk-sandbox-WRONG0123456789abcdefWRONG0123';
  await page.getByTestId('conn-key').fill(wrong);
  const { kind, text } = await testConnection(page);
  assert.equal(kind, 'invalid_key');
  assert.match(text, /API 密钥无效/);
  assert.ok(!text.includes(wrong) && !text.includes('WRONG0123'), 'the message does not echo the key');
  assert.ok(await page.getByTestId('conn-test').isEnabled(), 'the test can be run again');

  // The right key works again straight away.
  await page.getByTestId('conn-key').fill(SANDBOX_KEY);
  assert.equal((await testConnection(page)).kind, 'ok');

  // A server that is not there.
  await page.getByTestId('conn-base-url').fill('http://127.0.0.1:9/v1');
  await page.getByTestId('conn-base-url').blur();
  const unreachable = await testConnection(page);
  assert.equal(unreachable.kind, 'unreachable');
  assert.match(unreachable.text, /无法连接到服务器/);
  await ctx.close();
});

test('base URLs are validated and normalized; odd keys get a warning, not a block', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page } = await open(ctx, '/settings');
  await page.getByTestId('conn-preset').selectOption('holy_sheep');
  await page.getByTestId('conn-add').click();
  const url = page.getByTestId('conn-base-url');
  assert.equal(await url.inputValue(), 'https://api.holysheep.ai/v1');

  await url.fill('ftp://example.com');
  assert.match(await page.getByTestId('conn-base-url-error').innerText(), /must start with https:\/\//);
  assert.equal(await url.getAttribute('aria-invalid'), 'true');
  assert.match(await page.getByTestId('conn-item').locator('.ds-conn-item__url').innerText(), /api\.holysheep\.ai/,
    'the last valid URL stays in use');
  await url.fill('https://relay.example.com/v1?key=abc');
  assert.match(await page.getByTestId('conn-base-url-error').innerText(), /never put a key in a URL/);

  await url.fill('  HTTPS://Relay.Example.com/v1/chat/completions  ');
  await url.blur(); // a base URL is stored when its field is left
  assert.equal(await page.getByTestId('conn-base-url-error').count(), 0);
  assert.match(await page.getByTestId('conn-base-url-warning').innerText(), /Removed the trailing \/chat\/completions/);
  assert.equal(await page.getByTestId('conn-item').locator('.ds-conn-item__url').innerText(),
    'https://relay.example.com/v1', 'the normalized URL is stored');
  await url.fill('http://relay.example.com/v1');
  assert.match(await page.getByTestId('conn-base-url-warning').innerText(), /unencrypted/);

  // The relay's keys start with hs_ and have at least 32 characters: others are warned about.
  const key = page.getByTestId('conn-key');
  await key.fill('sk-abc');
  assert.match(await page.getByTestId('conn-key-hint').innerText(), /usually start with hs_ .* at least 32/);
  assert.ok(await page.getByTestId('conn-test').isEnabled(), 'a warning does not block');
  await key.fill('hs_0123456789abcdef0123456789abcdef');
  assert.equal(await page.getByTestId('conn-key-hint').count(), 0);
  await key.fill('Bearer hs_0123456789abcdef0123456789abcdef');
  assert.match(await page.getByTestId('conn-key-hint').innerText(), /without "Bearer "/);

  // The profile list comes from the price book; the relay preset defaults to the relay profile.
  assert.equal(await page.getByTestId('conn-profile').inputValue(), 'holysheep-relay');
  await page.getByTestId('conn-profile').selectOption('official-market');
  assert.equal(await page.getByTestId('conn-profile').inputValue(), 'official-market');

  // Deleting asks first.
  await page.getByTestId('conn-delete').click();
  assert.equal(await page.getByTestId('conn-item').count(), 1);
  await page.getByTestId('conn-delete').click();
  assert.equal(await page.getByTestId('conn-item').count(), 0);
  assert.equal(await page.getByTestId('active-connection').getAttribute('data-state'), 'none');
  await ctx.close();
});

test('the key appears in no URL, in IndexedDB only when remembered, and in no export', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await open(ctx, '/settings');
  const urls = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) urls.push(frame.url()); });
  page.on('request', (request) => urls.push(request.url()));
  const secrets = [SANDBOX_KEY, CUSTOM_KEY];
  const leaks = (text) => secrets.filter((key) => text.includes(key));

  // The sandbox connection, used for real calls.
  await addSandboxConnection(page, SANDBOX_URL);
  assert.equal((await testConnection(page)).kind, 'ok');
  // A custom connection with a pasted key.
  await page.getByTestId('conn-preset').selectOption('custom');
  await page.getByTestId('conn-add').click();
  await page.getByTestId('conn-base-url').fill(SANDBOX_URL);
  await page.getByTestId('conn-base-url').blur();
  await page.getByTestId('conn-key').fill(CUSTOM_KEY);
  assert.equal((await testConnection(page)).kind, 'invalid_key');

  // Calls in the playground with the sandbox connection, then every page.
  await page.getByTestId('conn-pick').first().check();
  await gotoStudio(page);
  await runPrompt(page, '[[sandbox:tokens=20]] 开场白');
  assert.equal(await page.getByTestId('play-error').count(), 0);
  for (const path of ['/', '/studio', '/settings']) {
    await page.locator(`header nav a[href="${path}"]`).click();
    urls.push(page.url());
  }
  await page.locator('header nav a[href="/"]').click();
  await page.getByTestId('page-estimate').waitFor();
  urls.push(page.url());

  // Nothing stored holds a key while "remember" is off.
  let stored = JSON.stringify(await dumpIndexedDb(page));
  assert.ok(stored.includes('connections'), 'the connections are stored');
  assert.deepEqual(leaks(stored), [], 'no key in IndexedDB');

  // Exports: the estimate's plan and CSV, the ledger's CSV.
  const exports = [await download(page, 'plan-export'), await download(page, 'export-csv')];
  await gotoStudio(page);
  const ledgerCsv = await download(page, 'ledger-export');
  assert.match(ledgerCsv, /connection_test/, 'the ledger export holds the calls');
  exports.push(ledgerCsv);
  for (const text of exports) assert.deepEqual(leaks(text), [], 'no key in an export');

  // Remembering the custom key stores it, in the keys record only, and it survives a reload.
  await page.locator('header nav a[href="/settings"]').click();
  await page.locator('[data-testid="conn-item"]', { hasText: '自定义' }).getByTestId('conn-pick').check();
  await page.getByTestId('conn-remember').check();
  assert.ok(await page.getByTestId('conn-remember-warning').isVisible());
  assert.match(await page.getByTestId('conn-remember-warning').innerText(), /未加密/);
  await page.waitForFunction(async () => {
    const db = await new Promise((r) => { const q = indexedDB.open('duanju-studio'); q.onsuccess = () => r(q.result); });
    const value = await new Promise((r) => { const q = db.transaction('kv').objectStore('kv').get('keys'); q.onsuccess = () => r(q.result); });
    db.close();
    return value != null;
  });
  const dump = await dumpIndexedDb(page);
  const holders = Object.entries(dump).flatMap(([store, records]) =>
    records.filter(([, value]) => leaks(String(value)).length).map(([key]) => `${store}/${key}`));
  assert.deepEqual(holders, ['kv/keys'], 'only the keys record holds a key');
  assert.deepEqual(leaks(JSON.stringify(dump)), [CUSTOM_KEY], 'only the remembered key is stored');

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('[data-testid="conn-item"]', { hasText: '自定义' }).getByTestId('conn-pick').check();
  assert.equal(await page.getByTestId('conn-key').inputValue(), CUSTOM_KEY, 'a remembered key survives a reload');

  // Unticking deletes it.
  await page.getByTestId('conn-remember').uncheck();
  await page.waitForFunction(async () => {
    const db = await new Promise((r) => { const q = indexedDB.open('duanju-studio'); q.onsuccess = () => r(q.result); });
    const value = await new Promise((r) => { const q = db.transaction('kv').objectStore('kv').get('keys'); q.onsuccess = () => r(q.result); });
    db.close();
    return value === undefined;
  });
  stored = JSON.stringify(await dumpIndexedDb(page));
  assert.deepEqual(leaks(stored), [], 'the key is gone once "remember" is off');

  // A key kept only in memory is gone after a reload.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('[data-testid="conn-item"]', { hasText: '自定义' }).getByTestId('conn-pick').check();
  assert.equal(await page.getByTestId('conn-key').inputValue(), '');
  assert.equal(await page.getByTestId('active-connection').getAttribute('data-state'), 'no-key');

  urls.push(page.url());
  assert.ok(urls.length > 5);
  for (const url of urls) assert.deepEqual(leaks(decodeURIComponent(url)), [], `no key in ${url}`);
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
  await ctx.close();
});

/** Waits until the remembered-keys record is there (`present`) or gone. */
async function keysRecord(page, present) {
  await page.waitForFunction(async (present) => {
    const db = await new Promise((r) => { const q = indexedDB.open('duanju-studio'); q.onsuccess = () => r(q.result); });
    const value = await new Promise((r) => { const q = db.transaction('kv').objectStore('kv').get('keys'); q.onsuccess = () => r(q.result); });
    db.close();
    return (value !== undefined) === present;
  }, present);
}

test('a base URL on another site clears the key and asks for it again; a new path keeps it', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  const { page, problems } = await open(ctx, '/settings');
  await page.getByTestId('conn-preset').selectOption('custom');
  await page.getByTestId('conn-add').click();
  const url = page.getByTestId('conn-base-url');
  const key = page.getByTestId('conn-key');
  const listed = page.getByTestId('conn-item').locator('.ds-conn-item__url');
  await url.fill(SANDBOX_URL);
  await url.blur();
  await key.fill(CUSTOM_KEY);
  assert.equal(await key.getAttribute('autocomplete'), 'new-password');
  await page.getByTestId('conn-remember').check();
  await keysRecord(page, true);

  // Another path on the same origin (with a trailing slash) keeps the key.
  await url.fill(`${SANDBOX_ROOT}/v2/`);
  await url.blur();
  assert.equal(await listed.innerText(), `${SANDBOX_ROOT}/v2`);
  assert.equal(await key.inputValue(), CUSTOM_KEY, 'a path change keeps the key');
  assert.equal(await page.getByTestId('conn-key-dropped').count(), 0);

  // Typing stores nothing: `https://a` parses, but only leaving the field commits it.
  await url.fill('https://a');
  assert.equal(await listed.innerText(), `${SANDBOX_ROOT}/v2`, 'a keystroke is not committed');
  await url.fill('https://relay.example.com/v1');
  assert.equal(await key.inputValue(), CUSTOM_KEY);

  // Leaving the field moves the connection to another site: the key is cleared, not sent.
  await url.blur();
  assert.equal(await listed.innerText(), 'https://relay.example.com/v1');
  assert.equal(await key.inputValue(), '', 'the key does not follow the URL to another site');
  assert.match(await page.getByTestId('conn-key-dropped').innerText(), /another site.*paste the key/);
  assert.equal(await page.getByTestId('conn-item-key').innerText(), 'no key');
  assert.equal(await page.getByTestId('active-connection').getAttribute('data-state'), 'no-key');
  await keysRecord(page, false);
  assert.ok(!JSON.stringify(await dumpIndexedDb(page)).includes(CUSTOM_KEY), 'the remembered copy is gone');
  await page.getByTestId('lang-switch').click();
  assert.match(await page.getByTestId('conn-key-dropped').innerText(), /另一个网站.*重新粘贴密钥/);

  // Pasting a key for the new site answers the request.
  await key.fill(CUSTOM_KEY);
  assert.equal(await page.getByTestId('conn-key-dropped').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});
