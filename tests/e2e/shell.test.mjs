// The app shell as a user meets it: every page opens, navigation works, the language switch
// changes the text and is remembered, the production build starts with no connection, and the
// Content-Security-Policy holds with no violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, open, screenshot, APP_URL } from './harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('every route renders its page and the header', async () => {
  const ctx = await newContext(browser);
  for (const [path, id] of [['/', 'page-estimate'], ['/studio', 'page-studio'], ['/settings', 'page-settings'], ['/view', 'page-view']]) {
    const { page, problems } = await open(ctx, path);
    assert.ok(await page.getByTestId(id).isVisible(), `${path} shows ${id}`);
    assert.ok(await page.locator('header nav').isVisible());
    assert.deepEqual(problems, [], `${path} logged no errors`);
    await page.close();
  }
  const { page } = await open(ctx, '/no-such-page');
  assert.ok(await page.getByTestId('not-found').isVisible());
  await ctx.close();
});

test('navigation by clicking the header links', async () => {
  const ctx = await newContext(browser);
  const { page } = await open(ctx, '/');
  await page.locator('header nav a[href="/studio"]').click();
  await page.getByTestId('page-studio').waitFor();
  assert.equal(new URL(page.url()).pathname, '/studio');
  assert.equal(await page.locator('header nav a[href="/studio"]').getAttribute('aria-current'), 'page');
  await page.locator('header nav a[href="/settings"]').click();
  await page.getByTestId('page-settings').waitFor();
  await ctx.close();
});

test('Chinese by default for a Chinese browser, English for an English one, and the choice is remembered', async () => {
  const zh = await newContext(browser, { locale: 'zh-CN' });
  let { page } = await open(zh, '/');
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  assert.match(await page.locator('header nav').innerText(), /成本估算/);
  await screenshot(page, 'shell-zh');
  await page.getByTestId('lang-switch').click();
  assert.match(await page.locator('header nav').innerText(), /Estimate/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.locator('header nav').innerText(), /Estimate/, 'the choice survives a reload');
  await screenshot(page, 'shell-en');
  await zh.close();

  const en = await newContext(browser, { locale: 'en-US' });
  ({ page } = await open(en, '/'));
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(await page.locator('header nav').innerText(), /Studio/);
  await en.close();
});

test('a production build starts with no connection and points to Settings', async () => {
  const ctx = await newContext(browser);
  const { page } = await open(ctx, '/studio');
  const conn = page.getByTestId('active-connection');
  assert.match(await conn.innerText(), /未连接/);
  await conn.click();
  await page.getByTestId('page-settings').waitFor();
  await ctx.close();
});

test('the Content-Security-Policy is strict and the app runs under it', async () => {
  const res = await fetch(APP_URL + '/');
  const html = await res.text();
  const csp = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/)?.[1];
  assert.ok(csp, 'index.html carries a CSP');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /object-src 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.match(csp, /connect-src[^;]*https:/);
  // The loopback sources stay in release (local models, the local sandbox preset); the dev
  // server's live-reload socket does not (scripts/post-build.mjs).
  assert.match(csp, /connect-src[^;]*http:\/\/127\.0\.0\.1:\*/);
  assert.match(csp, /connect-src[^;]*http:\/\/localhost:\*/);
  assert.doesNotMatch(csp, /(?:^|\s)wss?:/, 'no WebSocket source in the release build');

  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(APP_URL + '/');
  await page.waitForSelector('body[data-ready="true"]');
  // An injected inline script must be refused by the policy.
  const injected = await page.evaluate(() => new Promise((resolve) => {
    window.__injected = false;
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
    setTimeout(() => resolve(window.__injected), 50);
  }));
  assert.equal(injected, false, 'inline script injected at run time is blocked');
  assert.ok(violations.some((v) => /script/i.test(v)), 'the blocked script was reported as a CSP violation');
  assert.equal(violations.length, 1, `only the injected script was refused: ${violations.join('\n')}`);
  await ctx.close();
});
