// Steps the project and pipeline tests share: waiting for the projects list and the editor,
// opening a project by name, waiting for the autosave, reading a stored project.
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
export async function sandboxProject(page, name) {
  await addSandboxConnection(page, SANDBOX_URL);
  await gotoStudio(page);
  await listReady(page);
  await page.getByTestId('proj-new-name').fill(name);
  await page.getByTestId('proj-create').click();
  await editorReady(page);
}
