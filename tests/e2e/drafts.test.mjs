// Projects and drafts as a user meets them in the Studio of a production build: the projects
// list (create, rename, duplicate, delete to the trash and restore, search), shot edits that
// survive a reload and a page closed while the save is pending, keyboard reordering, an import
// that asks before it replaces and refuses a damaged file without touching anything, named
// versions, a full disk shown without losing the edit, two tabs that see each other's edits, a
// tab that turns read-only, and exports without the API key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newContext, open, screenshot, SANDBOX_URL, SANDBOX_KEY, APP_URL } from './harness.mjs';
import { addSandboxConnection, gotoStudio, dumpIndexedDb } from './connection-steps.mjs';
import { sampleProjectFile } from '../../bench/storage.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Waits until the projects list has been read. */
async function listReady(page) {
  await page.waitForSelector('[data-testid="projects"][data-ready="true"]', { timeout: 20000 });
}

/** Opens the Studio in a new page of `ctx`. */
async function studio(ctx) {
  const opened = await open(ctx, '/studio');
  await listReady(opened.page);
  return opened;
}

/** The names in the projects list, in order. */
async function names(page) {
  return page.$$eval('[data-testid="proj-item"] [data-testid="proj-name"]', (els) => els.map((e) => e.textContent));
}

/** The project item called `name`. */
function item(page, name) {
  return page.locator('[data-testid="proj-item"]').filter({
    has: page.locator('[data-testid="proj-name"]', { hasText: new RegExp(`^${name.replace(/[()]/g, '\\$&')}$`) }),
  });
}

/** Waits until the editor shows the project called `name`, every card built. */
async function editorShows(page, name) {
  await page.waitForFunction((n) => {
    const editor = document.querySelector('[data-testid="project-editor"]');
    return editor?.dataset.complete === 'true' && document.querySelector('[data-testid="editor-name"]')?.value === n;
  }, name, { timeout: 20000 });
}

/** Creates a project through the form; the editor opens on it. */
async function createProject(page, name) {
  await page.getByTestId('proj-new-name').fill(name);
  await page.getByTestId('proj-create').click();
  await editorShows(page, name);
  await item(page, name).waitFor();
}

/** Opens the project called `name` from the list. */
async function openProject(page, name) {
  await item(page, name).getByTestId('proj-open').click();
  await editorShows(page, name);
}

/** The number of autosaves this page has finished. */
async function saveCount(page) {
  return page.evaluate(() => performance.getEntriesByName('duanju:save').length);
}

/** Waits for an autosave after `count` and for the indicator to say "saved". */
async function saved(page, count) {
  await page.waitForFunction((n) => performance.getEntriesByName('duanju:save').length > n
    && document.querySelector('[data-testid="save-status"]')?.dataset.state === 'saved', count, { timeout: 10000 });
}

/** Adds an episode, a scene and `shots` shots to the open (empty) project, and waits for the save. */
async function addShots(page, shots) {
  const count = await saveCount(page);
  await page.getByTestId('episode-add').click();
  await page.getByTestId('scene-add').first().click();
  for (let i = 0; i < shots; i++) {
    await page.getByTestId('shot-add').first().click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="shot-card"]').length === n, i + 1);
  }
  await saved(page, count);
}

/** Downloads what clicking `locator` offers: its file name and text. */
async function download(page, locator) {
  const [file] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

/** The shot ids of the cards, in page order. */
async function cardIds(page) {
  return page.$$eval('[data-testid="shot-card"]', (els) => els.map((e) => e.dataset.id));
}

test('projects: create, rename, duplicate, delete to the trash, restore, search; last opened first', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  assert.equal(await page.getByTestId('proj-item').count(), 0);
  assert.ok(await page.getByTestId('proj-empty').isVisible());

  await createProject(page, '逆袭千金');
  await page.getByTestId('proj-new-name').fill('   ');
  await page.getByTestId('proj-create').click();
  assert.match(await page.getByTestId('proj-new-name-error').innerText(), /不能为空/);
  assert.equal(await page.getByTestId('proj-item').count(), 1, 'an empty name creates nothing');

  await createProject(page, '霸总的替身新娘');
  assert.deepEqual(await names(page), ['霸总的替身新娘', '逆袭千金'], 'the last opened comes first');
  await openProject(page, '逆袭千金');
  await page.waitForFunction(() => document.querySelector('[data-testid="proj-item"] [data-testid="proj-name"]')?.textContent === '逆袭千金');
  assert.deepEqual(await names(page), ['逆袭千金', '霸总的替身新娘']);

  // Rename in place: an invalid name is refused with its message, Enter saves a valid one.
  const bride = item(page, '霸总的替身新娘');
  await bride.getByTestId('proj-rename').click();
  await bride.getByTestId('proj-rename-input').fill('');
  assert.match(await bride.getByTestId('proj-rename-error').innerText(), /不能为空/);
  await bride.getByTestId('proj-rename-input').fill('x'.repeat(201));
  assert.match(await bride.getByTestId('proj-rename-error').innerText(), /太长/);
  await bride.getByTestId('proj-rename-input').fill('霸总的契约新娘');
  await bride.getByTestId('proj-rename-input').press('Enter');
  await item(page, '霸总的契约新娘').waitFor();
  assert.deepEqual((await names(page)).sort(), ['逆袭千金', '霸总的契约新娘'].sort());

  // Renaming the open project goes through its editor.
  await item(page, '逆袭千金').getByTestId('proj-rename').click();
  await item(page, '逆袭千金').getByTestId('proj-rename-input').fill('逆袭千金：真假豪门');
  await page.getByTestId('proj-rename-save').click();
  await editorShows(page, '逆袭千金：真假豪门');
  await item(page, '逆袭千金：真假豪门').waitFor();

  await item(page, '霸总的契约新娘').getByTestId('proj-duplicate').click();
  await item(page, '霸总的契约新娘 (副本)').waitFor();
  assert.equal(await page.getByTestId('proj-item').count(), 3);

  // Search: by name, folded for full-width letters; no match says so.
  await page.getByTestId('proj-search').fill('副本');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="proj-item"]').length === 1);
  assert.deepEqual(await names(page), ['霸总的契约新娘 (副本)']);
  await page.getByTestId('proj-search').fill('没有这个项目');
  await page.getByTestId('proj-empty').waitFor();
  assert.match(await page.getByTestId('proj-empty').innerText(), /没有匹配/);
  await page.getByTestId('proj-search').fill('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="proj-item"]').length === 3);

  // Delete asks first, then moves the project to the trash with 30 days left.
  const copy = item(page, '霸总的契约新娘 (副本)');
  await copy.getByTestId('proj-delete').click();
  assert.equal(await page.getByTestId('proj-item').count(), 3, 'the first click only asks');
  await copy.getByTestId('proj-delete').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="proj-item"]').length === 2);
  const trashed = page.getByTestId('proj-trash').getByTestId('proj-trash-item');
  assert.equal(await trashed.count(), 1);
  assert.match(await trashed.innerText(), /霸总的契约新娘 \(副本\)/);
  assert.equal(await trashed.getByTestId('proj-days-left').getAttribute('data-days'), '30');
  assert.match(await trashed.getByTestId('proj-days-left').innerText(), /还剩 30 天/);
  await screenshot(page, 'drafts-projects');

  await trashed.getByTestId('proj-restore').click();
  await item(page, '霸总的契约新娘 (副本)').waitFor();
  assert.equal(await page.getByTestId('proj-trash').getByTestId('proj-trash-item').count(), 0);

  // All of it is in storage: a reload shows the same list.
  await page.reload();
  await listReady(page);
  assert.deepEqual((await names(page)).sort(), ['逆袭千金：真假豪门', '霸总的契约新娘', '霸总的契约新娘 (副本)'].sort());

  await page.getByTestId('lang-switch').click();
  assert.match(await page.getByTestId('proj-trash').innerText(), /Trash \(0\)/);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a shot edit survives a reload; shots reorder with the buttons and with Alt+Arrow keys', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await createProject(page, '重生之我是导演');
  await addShots(page, 3);
  const [first, second, third] = await cardIds(page);
  assert.deepEqual(await page.$$eval('[data-testid="shot-number"]', (els) => els.map((e) => e.textContent)), ['1A', '1B', '1C']);

  const card = page.locator(`[data-testid="shot-card"][data-id="${first}"]`);
  let count = await saveCount(page);
  await card.getByTestId('shot-action').fill('她推开雨夜的大门，全场安静');
  // Typed as a user types: Enter breaks a line in a many-line field, and not in a one-line one.
  await card.getByTestId('shot-dialogue').click();
  await page.keyboard.type('我回来了。');
  await page.keyboard.press('Enter');
  await page.keyboard.type('这一次，谁也别想赶我走。');
  await card.getByTestId('shot-number').click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  assert.equal(await card.getByTestId('shot-number').textContent(), '1A');
  await card.getByTestId('shot-duration').fill('4.5');
  await card.getByTestId('shot-visual-elements').fill('雨夜霓虹，冷色调、 浅景深');
  // The status button opens the list of statuses; picking one closes it again.
  await card.getByTestId('shot-status').click();
  await card.getByTestId('shot-status-select').selectOption('ready');
  await card.getByTestId('shot-status-select').waitFor({ state: 'detached' });
  assert.equal(await card.getByTestId('shot-status').getAttribute('aria-label'), '状态：待生成');
  assert.equal(await page.getByTestId('save-status').getAttribute('data-state'), 'pending');
  assert.match(await page.getByTestId('save-status').innerText(), /未保存/);
  await saved(page, count);
  assert.match(await page.getByTestId('save-status').innerText(), /已保存/);

  // The frame guide takes the project's aspect ratio (9:16 by default).
  const ratio = await card.evaluate((el) => getComputedStyle(el.querySelector('.ds-shot-card__frame')).aspectRatio);
  assert.equal(ratio, '9 / 16');

  // Buttons: move the first shot down.
  count = await saveCount(page);
  await card.getByTestId('shot-move-down').click();
  await page.waitForFunction((id) => document.querySelectorAll('[data-testid="shot-card"]')[1]?.dataset.id === id, first);
  assert.deepEqual(await cardIds(page), [second, first, third]);
  // Keyboard: the third card's handle, Alt+ArrowUp twice, keeps the focus and announces.
  const handle = page.locator(`[data-testid="shot-card"][data-id="${third}"] [data-testid="shot-handle"]`);
  await handle.focus();
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction((id) => document.querySelectorAll('[data-testid="shot-card"]')[1]?.dataset.id === id, third);
  await page.waitForFunction(() => /第 2 位/.test(document.querySelector('[data-testid="shot-announce"]').textContent));
  await page.waitForFunction((id) => document.activeElement?.closest('[data-testid="shot-card"]')?.dataset.id === id, third);
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction((id) => document.querySelectorAll('[data-testid="shot-card"]')[0]?.dataset.id === id, third);
  assert.deepEqual(await cardIds(page), [third, second, first]);
  // The focus comes back on the next frame; a key pressed before then would go to the page.
  await page.waitForFunction((id) => document.activeElement?.closest('[data-testid="shot-card"]')?.dataset.id === id, third);
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction(() => /第一个/.test(document.querySelector('[data-testid="shot-announce"]').textContent));
  await saved(page, count);
  await screenshot(page, 'drafts-storyboard');

  await page.reload();
  await listReady(page);
  await openProject(page, '重生之我是导演');
  assert.deepEqual(await cardIds(page), [third, second, first], 'the order is saved');
  const reloaded = page.locator(`[data-testid="shot-card"][data-id="${first}"]`);
  assert.equal(await reloaded.getByTestId('shot-action').textContent(), '她推开雨夜的大门，全场安静');
  assert.equal(await reloaded.getByTestId('shot-dialogue').textContent(), '我回来了。\n这一次，谁也别想赶我走。');
  assert.equal(await reloaded.getByTestId('shot-duration').textContent(), '4.5');
  assert.equal(await reloaded.getByTestId('shot-visual-elements').textContent(), '雨夜霓虹, 冷色调, 浅景深');
  assert.equal(await reloaded.getByTestId('shot-status').getAttribute('data-value'), 'ready');

  // Delete a shot (asks first); it stays deleted after a reload.
  count = await saveCount(page);
  await reloaded.getByTestId('shot-delete').click();
  await reloaded.getByTestId('shot-delete').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="shot-card"]').length === 2);
  await saved(page, count);
  await page.reload();
  await listReady(page);
  await openProject(page, '重生之我是导演');
  assert.deepEqual(await cardIds(page), [third, second]);
  assert.deepEqual(problems, []);
  await ctx.close();
});

for (const how of ['closing the page', 'navigating away']) {
  test(`an edit made just before ${how} (save still pending) is intact when the project is reopened`, async () => {
    const ctx = await newContext(browser);
    const { page } = await studio(ctx);
    await createProject(page, '闪婚后大佬每天都在掉马');
    await addShots(page, 1);
    const text = `关门前最后一笔修改：${how}`;
    await page.getByTestId('shot-action').fill(text);
    assert.equal(await page.getByTestId('save-status').getAttribute('data-state'), 'pending', 'the debounced save is still pending');
    if (how === 'closing the page') {
      await page.close({ runBeforeUnload: true });
    } else {
      await page.goto('about:blank');
      await page.close();
    }

    const { page: again, problems } = await studio(ctx);
    await openProject(again, '闪婚后大佬每天都在掉马');
    assert.equal(await again.getByTestId('shot-action').textContent(), text);
    assert.deepEqual(problems, []);
    await ctx.close();
  });
}

test('a damaged import shows its error and leaves the projects unchanged', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await createProject(page, '真假千金');
  await addShots(page, 1);
  await createProject(page, '战神归来');
  const before = await names(page);

  const cases = [
    ['truncated.json', '{"format":"duanju-project","schema_version":2,"project":{"id":"p-1","name":"半截', /不完整/],
    ['garbage.json', 'this is { not json', /不是有效的 JSON/],
    ['other.json', '{"hello":"world"}', /不是短剧工作室的项目文件/],
    ['future.json', '{"format":"duanju-project","schema_version":99,"project":{}}', /更新版本/],
    ['bad-field.json', '{"format":"duanju-project","schema_version":2,"project":{"id":"p-2","name":"x","created_ms":0,"updated_ms":0,"episodes":[{"id":"e","number":"one"}]}}', /project\.episodes\[0\]\.number/],
  ];
  for (const [name, text, message] of cases) {
    await page.getByTestId('proj-import').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
    const error = page.getByTestId('proj-import-error');
    await error.waitFor();
    assert.match(await error.innerText(), message, name);
    assert.match(await error.innerText(), /现有数据未改动/);
    assert.deepEqual(await names(page), before, `${name} changed nothing`);
  }
  await screenshot(page, 'drafts-import-error');
  await page.reload();
  await listReady(page);
  assert.deepEqual(await names(page), before, 'nothing was written');
  assert.equal(await page.getByTestId('proj-trash').getByTestId('proj-trash-item').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('import asks before it replaces: a copy, or a replace after confirmation; a backup adds copies', async () => {
  const ctx = await newContext(browser, { acceptDownloads: true });
  const { page, problems } = await studio(ctx);
  await createProject(page, '豪门弃妇的逆袭');
  await addShots(page, 2);
  const { name, text } = await download(page, item(page, '豪门弃妇的逆袭').getByTestId('proj-export'));
  assert.equal(name, 'duanju-豪门弃妇的逆袭.json');
  const file = JSON.parse(text);
  assert.equal(file.format, 'duanju-project');
  assert.equal(file.project.episodes[0].scenes[0].shots.length, 2);

  // Change the project, then import the older file: the user is asked, nothing changes yet.
  let count = await saveCount(page);
  await page.getByTestId('shot-action').first().fill('导出之后的修改');
  await saved(page, count);
  const importFile = () => page.getByTestId('proj-import').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  await importFile();
  await page.getByTestId('proj-import-conflict').waitFor();
  assert.match(await page.getByTestId('proj-import-conflict').innerText(), /已在本工作区中/);
  assert.equal(await page.getByTestId('proj-item').count(), 1);

  await page.getByTestId('proj-import-copy').click();
  await page.getByTestId('proj-notice').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="proj-item"]').length === 2);
  assert.deepEqual(await names(page), ['豪门弃妇的逆袭', '豪门弃妇的逆袭']);
  assert.equal(await page.getByTestId('shot-action').first().textContent(), '导出之后的修改', 'the open project is untouched');

  // Cancel leaves everything as it is.
  await importFile();
  await page.getByTestId('proj-import-cancel').click();
  assert.equal(await page.getByTestId('proj-import-conflict').count(), 0);
  assert.equal(await page.getByTestId('proj-item').count(), 2);

  // Replace takes two clicks, keeps the count, and the open editor shows the file's content.
  await importFile();
  await page.getByTestId('proj-import-replace').click();
  assert.equal(await page.getByTestId('proj-import-conflict').count(), 1, 'the first click only asks');
  await page.getByTestId('proj-import-replace').click();
  await page.getByTestId('proj-notice').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="shot-action"]')?.textContent === '');
  assert.equal(await page.getByTestId('proj-item').count(), 2);
  // The state before the replace is kept as a named version.
  await page.getByTestId('snapshot-item').first().waitFor();
  assert.match(await page.getByTestId('snapshot-item').first().innerText(), /导入替换之前/);

  // A workspace backup is imported as copies.
  const backup = await download(page, page.getByTestId('proj-export-all'));
  assert.match(backup.name, /^duanju-workspace-\d{4}-\d{2}-\d{2}\.json$/);
  assert.equal(JSON.parse(backup.text).projects.length, 2);
  await page.getByTestId('proj-import').setInputFiles({ name: backup.name, mimeType: 'application/json', buffer: Buffer.from(backup.text) });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="proj-item"]').length === 4);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('named versions: take one, change the project, restore it', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await createProject(page, '千金归来');
  await addShots(page, 1);
  let count = await saveCount(page);
  await page.getByTestId('shot-action').fill('第一版动作');
  await saved(page, count);
  await page.getByTestId('snapshot-name').fill('初稿');
  await page.getByTestId('snapshot-create').click();
  await page.getByTestId('snapshot-item').waitFor();
  assert.match(await page.getByTestId('snapshot-item').innerText(), /初稿/);

  count = await saveCount(page);
  await page.getByTestId('shot-action').fill('第二版动作');
  await page.getByTestId('shot-add').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="shot-card"]').length === 2);
  await saved(page, count);

  const first = page.locator('[data-testid="snapshot-item"]').filter({ hasText: '初稿' });
  await first.getByTestId('snapshot-restore').click();
  await first.getByTestId('snapshot-restore').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="shot-card"]').length === 1);
  assert.equal(await page.getByTestId('shot-action').textContent(), '第一版动作');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="snapshot-item"]').length === 2);
  assert.match(await page.getByTestId('snapshot-item').first().innerText(), /恢复「初稿」之前/);

  await page.reload();
  await listReady(page);
  await openProject(page, '千金归来');
  assert.equal(await page.getByTestId('shot-action').textContent(), '第一版动作');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a full disk is shown; the edit stays on screen and is saved once there is room', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await createProject(page, '磁盘已满');
  await addShots(page, 1);
  // The disk fills up: IndexedDB refuses to store projects as a full disk does.
  await page.evaluate(() => {
    const put = IDBObjectStore.prototype.put;
    window.diskFull = true;
    IDBObjectStore.prototype.put = function (...args) {
      if (window.diskFull && this.name === 'projects') {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return put.apply(this, args);
    };
  });
  await page.getByTestId('shot-action').fill('空间不足时写下的动作');
  const status = page.locator('[data-testid="save-status"][data-state="error"]');
  await status.waitFor({ timeout: 10000 });
  assert.match(await status.innerText(), /存储配额已满.*已保存的内容完好/);
  assert.equal(await page.getByTestId('shot-action').textContent(), '空间不足时写下的动作', 'the edit is kept');

  // Room again: retrying saves the edit.
  await page.evaluate(() => { window.diskFull = false; });
  const count = await saveCount(page);
  await page.getByTestId('save-retry').click();
  await saved(page, count);
  await page.reload();
  await listReady(page);
  await openProject(page, '磁盘已满');
  assert.equal(await page.getByTestId('shot-action').textContent(), '空间不足时写下的动作');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('two tabs on the same project show each other\'s edits', async () => {
  const ctx = await newContext(browser);
  const { page: a, problems: problemsA } = await studio(ctx);
  await createProject(a, '双标签页');
  await addShots(a, 2);
  const { page: b, problems: problemsB } = await studio(ctx);
  await openProject(b, '双标签页');

  const [first, second] = await cardIds(a);
  await a.locator(`[data-testid="shot-card"][data-id="${first}"] [data-testid="shot-action"]`).fill('标签页 A 写的动作');
  await b.waitForFunction((id) => document.querySelector(`[data-testid="shot-card"][data-id="${id}"] [data-testid="shot-action"]`)?.textContent === '标签页 A 写的动作', first, { timeout: 5000 });

  await b.locator(`[data-testid="shot-card"][data-id="${second}"] [data-testid="shot-dialogue"]`).fill('标签页 B 写的台词');
  await a.waitForFunction((id) => document.querySelector(`[data-testid="shot-card"][data-id="${id}"] [data-testid="shot-dialogue"]`)?.textContent === '标签页 B 写的台词', second, { timeout: 5000 });

  // A new shot and a header edit travel too.
  await a.getByTestId('shot-add').click();
  await b.waitForFunction(() => document.querySelectorAll('[data-testid="shot-card"]').length === 3, null, { timeout: 5000 });
  await a.getByTestId('char-add').click();
  await a.getByTestId('char-name').fill('林晚晴');
  await b.waitForFunction(() => document.querySelector('[data-testid="char-name"]')?.value === '林晚晴', null, { timeout: 5000 });
  // Both edits are still there on each side.
  assert.equal(await a.locator(`[data-testid="shot-card"][data-id="${first}"] [data-testid="shot-action"]`).textContent(), '标签页 A 写的动作');
  assert.equal(await b.locator(`[data-testid="shot-card"][data-id="${second}"] [data-testid="shot-dialogue"]`).textContent(), '标签页 B 写的台词');
  assert.deepEqual([...problemsA, ...problemsB], []);
  await ctx.close();
});

test('a tab that hears from a newer version turns read-only with a banner', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await createProject(page, '只读测试');
  await addShots(page, 1);
  assert.equal(await page.getByTestId('readonly-banner').count(), 0);
  // What another tab running a newer build posts after a save.
  await page.evaluate(() => {
    const channel = new BroadcastChannel('duanju-drafts');
    channel.postMessage(JSON.stringify({
      project_id: 'p-elsewhere', tab_id: 'tab-newer', schema_version: 99, db_version: 99,
      header_version: 1, shots: [], deleted: false, saved_ms: Date.now(),
    }));
    channel.close();
  });
  const banner = page.getByTestId('readonly-banner');
  await banner.waitFor({ timeout: 5000 });
  assert.match(await banner.innerText(), /另一个标签页运行着更新的版本：请刷新本页/);
  assert.ok(await page.getByTestId('shot-action').isDisabled(), 'editing is disabled');
  assert.ok(await page.getByTestId('shot-add').isDisabled());
  await screenshot(page, 'drafts-readonly');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('exports never contain the API key, even a remembered one', async () => {
  const ctx = await newContext(browser, { acceptDownloads: true });
  const { page, problems } = await open(ctx, '/settings');
  await addSandboxConnection(page, SANDBOX_URL);
  await page.getByTestId('conn-remember').check();
  await gotoStudio(page);
  await listReady(page);
  await createProject(page, '密钥不外泄');
  await addShots(page, 1);
  const dump = JSON.stringify(await dumpIndexedDb(page));
  assert.ok(dump.includes(SANDBOX_KEY), 'the remembered key is on this device');

  const project = await download(page, item(page, '密钥不外泄').getByTestId('proj-export'));
  const backup = await download(page, page.getByTestId('proj-export-all'));
  for (const { name, text } of [project, backup]) {
    assert.ok(text.includes('密钥不外泄'), `${name} holds the project`);
    assert.ok(!text.includes('sk-'), `${name} holds no key`);
    assert.ok(!text.includes(SANDBOX_KEY));
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a 2-episode sample series imports, opens and edits through the cards', async () => {
  const ctx = await newContext(browser);
  const { page, problems } = await studio(ctx);
  await page.getByTestId('proj-import').setInputFiles({
    name: 'sample.json', mimeType: 'application/json', buffer: Buffer.from(sampleProjectFile(2, 47)),
  });
  await page.getByTestId('proj-notice').waitFor();
  // Watch the scenes as the editor builds them: past the first 48 shots a scene waits for its
  // turn (aria-busy, no cards yet), and every one is built in the end.
  await page.evaluate(() => {
    window.__busyScenes = new Set();
    new MutationObserver(() => {
      for (const scene of document.querySelectorAll('[data-testid="scene"][aria-busy="true"]')) {
        if (!scene.querySelector('[data-testid="shot-card"]')) window.__busyScenes.add(scene.dataset.id);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-busy'] });
  });
  await openProject(page, '逆袭千金：真假豪门');
  assert.equal(await page.getByTestId('shot-card').count(), 94);
  assert.equal(await page.getByTestId('char-item').count(), 5);
  const waited = await page.evaluate(() => [...window.__busyScenes]);
  assert.ok(waited.length > 0, 'some scenes of a 94-shot series are built after the first render');
  assert.equal(await page.locator('[data-testid="scene"][aria-busy="true"]').count(), 0);
  assert.ok(!waited.includes(await page.getByTestId('scene').first().getAttribute('data-id')),
    'the first scene comes with the editor');
  // A card of a scene built later is a card like the others: its edit is saved and survives a
  // reload.
  const lastScene = page.locator(`[data-testid="scene"][data-id="${waited[waited.length - 1]}"]`);
  const late = lastScene.getByTestId('shot-card').last();
  const lateId = await late.getAttribute('data-id');
  const before = await saveCount(page);
  await late.getByTestId('shot-action').fill('后建的卡片也能编辑');
  await saved(page, before);
  await page.reload();
  await listReady(page);
  await openProject(page, '逆袭千金：真假豪门');
  assert.equal(await page.locator(`[data-testid="shot-card"][data-id="${lateId}"] [data-testid="shot-action"]`).textContent(),
    '后建的卡片也能编辑');
  // Text from the project is text, never markup.
  const count = await saveCount(page);
  await page.getByTestId('shot-notes').first().fill('<img src=x onerror=alert(1)>');
  await saved(page, count);
  assert.equal(await page.locator('.ds-proj-editor img').count(), 0);
  assert.equal(APP_URL.startsWith('http'), true);
  assert.deepEqual(problems, []);
  await ctx.close();
});
