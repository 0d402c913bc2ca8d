// Steps the project and pipeline tests share: waiting for the projects list and the editor,
// opening a project by name, waiting for the autosave, reading a stored project, and a long
// character description written into the cast (so the sandbox's prompt caching applies).
import assert from 'node:assert/strict';
import { addSandboxConnection, dumpIndexedDb, gotoStudio, projectsOf } from './connection-steps.mjs';
import { SANDBOX_URL } from './harness.mjs';

export async function listReady(page) {
  await page.waitForSelector('[data-testid="projects"][data-ready="true"]', { timeout: 20000 });
}

export async function editorReady(page) {
  await page.waitForSelector('[data-testid="project-editor"][data-complete="true"]', { timeout: 20000 });
}

/** Opens the project called `name` from the list. */
export async function openProject(page, name) {
  await listReady(page);
  await page.locator('[data-testid="proj-item"]').filter({
    has: page.locator('[data-testid="proj-name"]', { hasText: name }),
  }).getByTestId('proj-open').click();
  await editorReady(page);
}

/** Waits for the autosave indicator to say "saved". */
export async function saved(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="save-status"]')?.dataset.state === 'saved', null, { timeout: 10000 });
}

/** The stored copy of the project called `name`, once `ready(project)` holds (5 s at most). */
export async function storedProject(page, name, ready = () => true) {
  let found;
  for (let i = 0; i < 50; i++) {
    const dump = await dumpIndexedDb(page);
    const projects = projectsOf(dump);
    found = projects.find((p) => p.name === name);
    if (found && ready(found)) return found;
    await page.waitForTimeout(100);
  }
  return found;
}

/** From the Settings page: adds the sandbox connection, opens the Studio and creates the
 * project `name`, open in the editor. */
export async function sandboxProject(page, name, { rpm } = {}) {
  await addSandboxConnection(page, SANDBOX_URL);
  if (rpm !== undefined) {
    // The connection's rate (Settings → API and limits): every run on it is paced by it.
    const field = page.getByTestId('conn-rpm');
    await field.fill(String(rpm));
    await field.blur();
    await page.waitForFunction((want) => document.querySelector('[data-testid="conn-rpm"]')?.value === want, String(rpm));
  }
  await gotoStudio(page);
  await listReady(page);
  await page.getByTestId('proj-new-name').fill(name);
  await page.getByTestId('proj-create').click();
  await editorReady(page);
}

/** Tokens under the sandbox's rule: a run of ASCII letters and digits costs ceil(len / 4), any
 * other non-space character 1 (sandbox/src/tokens.rs). */
export const sandboxTokens = (text) => (text.match(/[A-Za-z0-9]+|\S/gu) ?? [])
  .reduce((n, t) => n + (/^[A-Za-z0-9]/.test(t) ? Math.ceil(t.length / 4) : 1), 0);

/** A character-bible entry for `name` of at least 1,100 sandbox tokens: OpenAI (and the sandbox)
 * cache only prompts of 1,024 tokens or more, matched in 128-token steps, so a short bible never
 * hits. (No word the sandbox reads as a request for a reply shape.) */
export function longBible(name) {
  const facts = [
    'grew up above a tailor shop in the old town and still mends her own coats',
    'wears her late mother\'s jade bracelet on the left wrist and never takes it off',
    'speaks softly, with long pauses, and smiles when she is most angry',
    'knows every clerk of the family firm by name and remembers who lied to her',
    'was sent abroad at sixteen and came back fluent in three languages',
    'keeps the old family ledger hidden inside a hollow book on her desk',
  ];
  let text = '';
  for (let i = 0; sandboxTokens(text) < 1100; i++) text += `Note ${i + 1}: ${name} ${facts[i % facts.length]}. `;
  return text.trim();
}

/** Writes `text` as the description of the cast member `name` (added by the script import). */
export async function describeCharacter(page, name, text) {
  const names = await page.$$eval('[data-testid="char-item"] [data-testid="char-name"]', (els) => els.map((e) => e.value.trim()));
  assert.ok(names.includes(name), `${name} is in the cast: ${names}`);
  await page.getByTestId('char-item').nth(names.indexOf(name)).getByTestId('char-description').fill(text);
  await saved(page);
}
