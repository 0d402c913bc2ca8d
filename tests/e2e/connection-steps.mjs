// Steps the connection, playground and benchmark scripts share: adding the local sandbox
// connection through the Settings page as a user does, running a prompt in the Studio
// playground, and reading everything the app keeps in IndexedDB.

/** Adds a "Local sandbox" connection in Settings, pointed at `sandboxUrl`, and makes it active. */
export async function addSandboxConnection(page, sandboxUrl) {
  if (!page.url().endsWith('/settings')) {
    await page.locator('header nav a[href="/settings"]').click();
    await page.getByTestId('page-settings').waitFor();
  }
  await page.getByTestId('conn-preset').selectOption('local_sandbox');
  await page.getByTestId('conn-add').click();
  const url = page.getByTestId('conn-base-url');
  await url.fill(sandboxUrl);
  await url.blur();
}

/** Goes to the Studio through the header link, so in-memory keys survive. */
export async function gotoStudio(page) {
  await page.locator('header nav a[href="/studio"]').click();
  await page.getByTestId('playground').waitFor();
}

/**
 * Marks the elements matching `selector` as stale, so that waiting for
 * `${selector}:not([data-stale])` waits for the next one the app renders.
 */
export async function markStale(page, selector) {
  await page.$$eval(selector, (elements) => elements.forEach((e) => { e.dataset.stale = '1'; }));
}

/** Starts `prompt` in the playground without waiting for the reply. */
export async function startPrompt(page, prompt, { stream = true } = {}) {
  await page.getByTestId('play-prompt').fill(prompt);
  const box = page.getByTestId('play-stream');
  if ((await box.isChecked()) !== stream) await box.setChecked(stream);
  await markStale(page, '[data-testid="play-usage"]');
  await page.getByTestId('play-run').click();
}

/** Waits until the running call has finished and its usage is shown. */
export async function finished(page, { timeout = 30000 } = {}) {
  await page.waitForSelector('[data-testid="play-usage"]:not([data-stale])', { timeout });
}

/** Runs `prompt` in the playground and waits until the call has finished. */
export async function runPrompt(page, prompt, { stream = true, timeout = 30000 } = {}) {
  await startPrompt(page, prompt, { stream });
  await finished(page, { timeout });
}

/** Every record of every IndexedDB store of the app, as `{ store: [[key, value], …] }`. */
export async function dumpIndexedDb(page) {
  return page.evaluate(async () => {
    const done = (request) => new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const db = await done(indexedDB.open('duanju-studio'));
    const out = {};
    for (const name of db.objectStoreNames) {
      const store = db.transaction(name, 'readonly').objectStore(name);
      const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
      out[name] = keys.map((key, i) => [key, values[i]]);
    }
    db.close();
    return out;
  });
}

/**
 * The projects of a dump, whole: schema 3 keeps each project's record in `projects` (episodes
 * listed without their scenes) and each episode in `project_episodes` under
 * `{project id}\u0001{episode id}`; a schema-2 record holds its episodes inline.
 */
export function projectsOf(dump) {
  const parse = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
  const episodes = new Map((dump.project_episodes ?? []).map(([k, v]) => [k, parse(v)]));
  return (dump.projects ?? []).map(([, v]) => {
    const project = parse(v);
    project.episodes = project.episodes.map((e) => episodes.get(`${project.id}\u0001${e.id}`) ?? e);
    return project;
  });
}

/** The ledger entries the app stored, parsed. */
export async function storedLedger(page) {
  const dump = await dumpIndexedDb(page);
  return (dump.ledger ?? []).map(([, value]) => JSON.parse(value));
}
