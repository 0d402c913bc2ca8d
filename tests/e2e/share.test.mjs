// Sharing a storyboard and getting it back, as a producer and a director do in two browsers:
// the producer shares a link, the director opens it with no install, saves a copy, edits and
// comments, sends a link back, and the producer merges it field by field (their edits, the
// producer's own later edits and a conflict, all shown); a protected link needs its
// passphrase; a tampered or cut link is refused and the drafts stay as they were. The viewer
// passes an accessibility audit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { launch, newContext, open, screenshot } from './harness.mjs';
import {
  storyboardFile, openFile, saveCopy, chooseDraft, createLink, storedProjects, editStoredShots,
} from './share-steps.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const NAME = '逆袭千金 E2E';

/** The producer's browser with the storyboard in its drafts; returns the page on /view. */
async function producerWithDraft(locale = 'en-US') {
  const ctx = await newContext(browser, { locale });
  const { page, problems } = await open(ctx, '/view');
  await openFile(page, storyboardFile(NAME), 'project.json');
  await saveCopy(page);
  await page.goto(new URL('/view', page.url()).href);
  await page.waitForSelector('body[data-ready="true"]');
  await chooseDraft(page, NAME);
  return { ctx, page, problems };
}

/** The card of the shot at `index` (in scene order). */
function card(page, index) {
  return page.getByTestId('sheet-shot').nth(index);
}

test('storyboard → link → fresh browser → save a copy, edit and comment → link back → merge shows both sides', async () => {
  const producer = await producerWithDraft('en-US');
  const link = await createLink(producer.page);
  assert.match(link, /\/view#ds1\.[A-Za-z0-9_-]+$/);
  const length = Number(await producer.page.getByTestId('share-length').getAttribute('data-length'));
  assert.equal(length, link.length, 'the link length is shown');
  assert.match(await producer.page.getByTestId('share-length').innerText(), new RegExp(`${link.length}`));
  assert.ok(!/sk-|hs_|video_secret_job|clip_ref/.test(Buffer.from(link.split('#')[1].slice(4), 'base64url').toString('latin1')));

  // The director: a fresh browser, no drafts, no key, Chinese UI.
  const directorCtx = await newContext(browser, { locale: 'zh-CN' });
  const director = await directorCtx.newPage();
  const directorProblems = [];
  director.on('pageerror', (e) => directorProblems.push(e.message));
  await director.goto(link);
  await director.waitForSelector('body[data-ready="true"]');
  await director.getByTestId('storyboard-sheet').waitFor();
  assert.equal(await director.getByTestId('view-title').innerText(), NAME);
  assert.equal(await director.getByTestId('sheet-scene').count(), 3);
  assert.equal(await director.getByTestId('sheet-shot').count(), 8);
  assert.equal(await card(director, 0).getByTestId('sheet-field-action').innerText(), '推门而入，雨水顺着发梢滴落');
  assert.equal(await card(director, 0).getByTestId('sheet-field-duration_s').innerText(), '4 秒');
  await saveCopy(director);
  assert.equal((await storedProjects(director)).length, 1, 'the copy is in the director\'s drafts');

  // Edit and comment.
  await director.getByTestId('view-review').click();
  await director.getByTestId('review-author').fill('王导演');
  await card(director, 0).getByTestId('review-edit-toggle').click();
  await card(director, 0).getByTestId('review-field-action').fill('导演改：她停在门口');
  await card(director, 2).getByTestId('review-edit-toggle').click();
  await card(director, 2).getByTestId('review-field-dialogue').fill('导演的台词');
  await card(director, 2).getByTestId('review-field-duration_s').fill('6.5');
  await card(director, 2).getByTestId('review-field-duration_s').press('Tab');
  await card(director, 0).getByTestId('review-comment-text').fill('节奏再快一点');
  await card(director, 0).getByTestId('review-comment-add').click();
  await card(director, 0).getByTestId('shot-comment').waitFor();
  assert.match(await card(director, 0).getByTestId('shot-comment').innerText(), /王导演[\s\S]*节奏再快一点/);
  assert.equal(await card(director, 0).getByTestId('sheet-field-action').innerText(), '导演改：她停在门口');
  assert.match(await director.getByTestId('review-edit-count').innerText(), /^3 处修改 · 1 条新评论$/);
  await screenshot(director, 'share-review');
  await director.getByTestId('review-send').click();
  const back = await director.getByTestId('share-link').inputValue();
  assert.match(back, /\/view#ds1\./);
  assert.deepEqual(directorProblems, []);

  // Meanwhile the producer edited the same storyboard: a note on shot 1B (theirs untouched)
  // and the dialogue of shot 1C (which the director changed too).
  await editStoredShots(producer.page, NAME, [
    { scene: [0, 0], shot: 1, field: 'notes', value: '制片：加一个特写' },
    { scene: [0, 0], shot: 2, field: 'dialogue', value: '制片的台词' },
  ]);

  // The producer opens the link that came back: the merge is offered.
  await producer.page.goto(back);
  await producer.page.waitForSelector('body[data-ready="true"]');
  const merge = producer.page.getByTestId('merge-view');
  await merge.waitFor();
  assert.match(await producer.page.getByTestId('view-kind').innerText(), /Review sent back by 王导演/);
  const applied = merge.getByTestId('merge-applied-row');
  assert.equal(await applied.count(), 2, 'their action and duration edits apply');
  assert.match(await merge.getByTestId('merge-applied').innerText(), /导演改：她停在门口/);
  assert.match(await merge.getByTestId('merge-applied').innerText(), /6\.5 s/);
  assert.match(await merge.getByTestId('merge-kept').innerText(), /制片：加一个特写/, 'the producer\'s own edit stays');
  const conflict = merge.getByTestId('merge-conflict');
  assert.equal(await conflict.count(), 1);
  assert.match(await conflict.innerText(), /Keep mine: 制片的台词/);
  assert.match(await conflict.innerText(), /Take theirs: 导演的台词/);
  assert.match(await conflict.innerText(), /When shared: 你最好给我一个解释。/);
  assert.match(await merge.getByTestId('merge-comments').innerText(), /王导演[\s\S]*节奏再快一点/);
  await screenshot(producer.page, 'share-merge');

  await conflict.getByTestId('merge-take-theirs').check();
  await merge.getByTestId('merge-apply').click();
  await merge.getByTestId('merge-done').waitFor();

  // The merged draft has both sides' edits; the producer's losing line is in the history.
  const [merged] = (await storedProjects(producer.page)).filter((p) => p.name === NAME);
  const shots = merged.episodes[0].scenes[0].shots;
  assert.equal(shots[0].action, '导演改：她停在门口');
  assert.equal(shots[1].notes, '制片：加一个特写');
  assert.equal(shots[2].dialogue, '导演的台词');
  assert.equal(shots[2].duration_s, 6.5);
  assert.ok(merged.history.some((h) => h.shot.dialogue === '制片的台词'), 'the line not chosen is kept in the history');

  // The comment stays with the project, with its author, time and shot.
  await producer.page.goto(new URL('/view', producer.page.url()).href);
  await producer.page.waitForSelector('body[data-ready="true"]');
  await chooseDraft(producer.page, NAME);
  const preview = producer.page.getByTestId('draft-preview');
  assert.equal(await card(preview, 0).getByTestId('sheet-field-action').innerText(), '导演改：她停在门口');
  assert.match(await producer.page.getByTestId('share-comments').innerText(), /\(1\)/);
  await producer.page.getByTestId('share-comments').locator('summary').click();
  assert.match(await producer.page.getByTestId('share-comments').innerText(), /王导演 · .+ · Shot 1A[\s\S]*节奏再快一点/);

  assert.deepEqual(producer.problems, []);
  await directorCtx.close();
  await producer.ctx.close();
});

test('a protected link opens only with its passphrase', async () => {
  const producer = await producerWithDraft('en-US');
  await producer.page.getByTestId('share-scope-project').check();
  const link = await createLink(producer.page, '月光 moon');
  assert.match(link, /\/view#ds1k\./);
  const ctx = await newContext(browser, { locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(link);
  await page.getByTestId('view-passphrase').fill('sun');
  await page.getByTestId('view-unlock').click();
  await page.getByTestId('view-error').waitFor();
  assert.match(await page.getByTestId('view-error').innerText(), /Wrong passphrase/);
  await page.getByTestId('view-passphrase').fill('月光 moon');
  await page.getByTestId('view-unlock').click();
  await page.getByTestId('storyboard-sheet').waitFor();
  assert.equal(await page.getByTestId('sheet-shot').count(), 8);
  await ctx.close();
  await producer.ctx.close();
});

test('a tampered or cut link gives a clear error and changes no draft', async () => {
  const producer = await producerWithDraft('en-US');
  const link = await createLink(producer.page);
  const before = await storedProjects(producer.page);
  const [base, fragment] = link.split('#');
  const at = Math.floor(fragment.length / 2);
  const swapped = fragment[at] === 'A' ? 'B' : 'A';
  const cases = [
    [`${base}#${fragment.slice(0, at)}${swapped}${fragment.slice(at + 1)}`, /damaged|incomplete/],
    [`${base}#${fragment.slice(0, fragment.length - 12)}`, /incomplete/],
    [`${base}#${fragment.slice(0, at)}!${fragment.slice(at + 1)}`, /damaged: character/],
    [`${base}#ds9.${fragment.slice(4)}`, /newer version/],
    [`${base}#hello`, /not a Duanju Studio storyboard link/],
  ];
  for (const [bad, message] of cases) {
    await producer.page.goto(bad);
    await producer.page.waitForSelector('body[data-ready="true"]');
    const error = producer.page.getByTestId('view-error');
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, message, bad);
    assert.match(text, /Your drafts are unchanged\./);
    assert.equal(await producer.page.getByTestId('view-save-copy').count(), 0);
    assert.equal(await producer.page.getByTestId('merge-view').count(), 0);
  }
  assert.deepEqual(await storedProjects(producer.page), before, 'the drafts are as they were');
  await producer.ctx.close();
});

test('the viewer, reading and reviewing, has no serious accessibility problem', async () => {
  for (const locale of ['zh-CN', 'en-US']) {
    const ctx = await newContext(browser, { locale, bypassCSP: true });
    const { page } = await open(ctx, '/view');
    await openFile(page, storyboardFile(NAME));
    await page.getByTestId('view-review').click();
    await card(page, 0).getByTestId('review-edit-toggle').click();
    await page.getByTestId('review-author').fill('A');
    await page.getByTestId('review-send').click();
    await page.getByTestId('share-link').waitFor();
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], locale);

    // The hub with a draft's share panel too.
    await saveCopy(page);
    await page.goto(new URL('/view', page.url()).href);
    await page.waitForSelector('body[data-ready="true"]');
    await chooseDraft(page, NAME);
    await createLink(page);
    const hub = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    const hubBad = hub.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(hubBad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `${locale} hub`);
    await ctx.close();
  }
});
