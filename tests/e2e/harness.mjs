// Shared by the end-to-end tests: launches Debian's Chromium through playwright-core, opens the
// release build served on 127.0.0.1, and collects page errors and CSP violations so a test can
// assert the console stayed clean.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const APP_URL = process.env.APP_URL ?? 'http://127.0.0.1:18080';
export const SANDBOX_URL = process.env.SANDBOX_URL ?? 'http://127.0.0.1:18787/v1';
export const SANDBOX_KEY = process.env.SANDBOX_KEY ?? 'sk-sandbox-0123456789abcdef0123456789abcdef';
export const SANDBOX_ROOT = SANDBOX_URL.replace(/\/v1$/, '');

/** The headers of a call to the sandbox's control routes (`/_sandbox/*`): the control token the
 * sandbox was started with, from `SANDBOX_CONTROL_TOKEN` (scripts/lib.sh `start_sandbox` exports
 * it). */
export function controlHeaders(extra = {}) {
  const token = process.env.SANDBOX_CONTROL_TOKEN;
  if (!token) throw new Error('SANDBOX_CONTROL_TOKEN is not set: export the token the sandbox printed at start');
  return { 'x-sandbox-control': token, ...extra };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** A fresh context (an empty profile) with the given browser language. */
export async function newContext(browser, { locale = 'zh-CN', ...rest } = {}) {
  return browser.newContext({ locale, viewport: { width: 1280, height: 900 }, ...rest });
}

/** Opens a path and waits for the app's ready marker; returns the page and its problems. */
export async function open(context, path = '/') {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(APP_URL + path);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  return { page, problems };
}

/** The sandbox's request counters. */
export async function sandboxStats() {
  const r = await fetch(`${SANDBOX_ROOT}/_sandbox/stats`, { headers: controlHeaders() });
  if (!r.ok) throw new Error(`sandbox stats failed: ${r.status}`);
  return r.json();
}

export async function sandboxConfig(config) {
  const r = await fetch(`${SANDBOX_ROOT}/_sandbox/config`, {
    method: 'POST', headers: controlHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(config),
  });
  if (!r.ok) throw new Error(`sandbox config failed: ${r.status}`);
  return r.json();
}

export async function sandboxReset() {
  await fetch(`${SANDBOX_ROOT}/_sandbox/reset`, { method: 'POST', headers: controlHeaders() });
  await sandboxConfig({});
}

export async function screenshot(page, name) {
  mkdirSync('target/screenshots', { recursive: true });
  await page.screenshot({ path: `target/screenshots/${name}.png`, fullPage: true });
}
