// Accessibility audit: axe-core on every page in both languages. Fails on any serious or
// critical violation and prints each one with its target.
import AxeBuilder from '@axe-core/playwright';
import { launch, newContext, APP_URL } from '../e2e/harness.mjs';

// `/studio#storyboard` is the Studio with a project open: an episode, a scene and two shot cards.
const PAGES = (process.env.A11Y_PAGES ?? '/,/studio,/studio#storyboard,/settings,/view').split(',');

/** Creates a project in the Studio and gives it an episode, a scene and two shots. */
async function openStoryboard(page) {
  await page.waitForSelector('[data-testid="projects"][data-ready="true"]', { timeout: 20000 });
  await page.getByTestId('proj-new-name').fill('无障碍检查 a11y');
  await page.getByTestId('proj-create').click();
  await page.getByTestId('episode-add').click();
  await page.getByTestId('scene-add').first().click();
  for (let i = 1; i <= 2; i++) {
    await page.getByTestId('shot-add').first().click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="shot-card"]').length === n, i);
  }
  // The status list as it is while a status is being picked.
  await page.getByTestId('shot-status').first().click();
  await page.getByTestId('shot-status-select').waitFor();
}
const browser = await launch();
let failures = 0;
let pagesFailed = 0;
let audited = 0;
for (const locale of ['zh-CN', 'en-US']) {
  // axe is injected by script evaluation; the audit context bypasses the app's CSP for that.
  const ctx = await newContext(browser, { locale, bypassCSP: true });
  for (const path of PAGES) {
    const page = await ctx.newPage();
    const [route, state] = path.split('#');
    await page.goto(APP_URL + route);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    if (state === 'storyboard') await openStoryboard(page);
    // Audit what a user can open too: every collapsible section expanded.
    await page.$$eval('details', (all) => all.forEach((d) => { d.open = true; }));
    // A folded section's editor is loaded when it is opened (ui::lazy): audit it, not its placeholder.
    await page.waitForFunction(() => !document.querySelector('[data-deferred="loading"]')
      && [...document.querySelectorAll('details')].every((d) => d.children.length > 1), null, { timeout: 20000 });
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    audited += 1;
    if (bad.length) pagesFailed += 1;
    for (const v of bad) {
      failures += 1;
      console.error(`${locale} ${path}: [${v.impact}] ${v.id}: ${v.help}`);
      for (const n of v.nodes.slice(0, 5)) console.error(`    ${n.target.join(' ')}`);
    }
    console.log(`${locale} ${path}: ${result.violations.length} violation(s), ${bad.length} serious/critical`);
    await page.close();
  }
  await ctx.close();
}
await browser.close();
console.log(`a11y: ${audited - pagesFailed} passed, ${pagesFailed} failed`);
process.exit(failures ? 1 : 0);
