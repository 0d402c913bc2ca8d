// Shared by the share, print and offline end-to-end tests: a small storyboard as a project file,
// and the steps a user takes on the /view page (open a file, save a copy, share from the drafts).
import { dumpIndexedDb, projectsOf } from './connection-steps.mjs';

/** A shot of the fixture. */
function shot(id, number, action, dialogue, characters) {
  return {
    id, number, shot_size: '近景', camera_angle: '平视', movement: '推', duration_s: 4,
    action, dialogue, emotional_tone: '隐忍', visual_elements: ['雨夜', '冷色调'], characters,
    notes: '竖屏构图', status: 'draft', version: 1, updated_ms: 1, updated_by: 'e2e',
  };
}

/** A series of 2 episodes and 3 scenes (3, 3 and 2 shots) as a project export file. */
export function storyboardFile(name = '逆袭千金 E2E') {
  const scene = (id, heading, shots) => ({ id, heading, synopsis: `${heading} 的冲突`, script_text: '', shots, takes: [], picked_take: null });
  const project = {
    schema_version: 2, id: 'e2e-share-project', name, created_ms: 1, updated_ms: 1, opened_ms: 1, version: 1,
    updated_by: 'e2e', settings: { aspect_ratio: '9:16', style: '冷色调，浅景深' },
    characters: [{ id: 'c1', name: '林晚晴' }, { id: 'c2', name: '顾承泽' }],
    episodes: [
      { id: 'ep1', number: 1, title: '真相', scenes: [
        scene('e1-s1', 'INT. 林家客厅 - 夜', [
          shot('k1', '1A', '推门而入，雨水顺着发梢滴落', '这个家，我回来了。', ['林晚晴']),
          shot('k2', '1B', '攥紧手中的报告', '', ['林晚晴']),
          shot('k3', '1C', '转身看向窗外', '你最好给我一个解释。', ['顾承泽']),
        ]),
        scene('e1-s2', 'EXT. 顾氏大楼 - 日', [
          shot('k4', '2A', '快步上前', '从今天起，她由我来护着。', ['顾承泽']),
          shot('k5', '2B', '低头看着旧照片', '', ['林晚晴']),
          shot('k6', '2C', '车门关上', '', []),
        ]),
      ] },
      { id: 'ep2', number: 2, title: '反击', scenes: [
        scene('e2-s1', 'INT. 宴会厅 - 夜', [
          shot('k7', '1A', '举杯示意', '敬各位。', ['林晚晴']),
          shot('k8', '1B', '全场安静', '', []),
        ]),
      ] },
    ],
    video_jobs: [{ shot_id: 'k1', provider_job_id: 'video_secret_job', status: 'completed', clip_ref: 'k1', cost: 0.25, error: null }],
    history: [], removed_shots: [],
  };
  return JSON.stringify({ format: 'duanju-project', schema_version: 2, project });
}

/** Opens a storyboard file in the viewer through the file picker. */
export async function openFile(page, text, name = 'storyboard.duanju.json') {
  await page.getByTestId('view-file').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  await page.getByTestId('storyboard-sheet').waitFor();
}

/** Saves the storyboard on screen as a new draft. */
export async function saveCopy(page) {
  await page.getByTestId('view-save-copy').click();
  await page.getByTestId('view-saved').waitFor();
}

/** On /view without a link: chooses the draft called `name` and waits for its share panel. */
export async function chooseDraft(page, name) {
  const select = page.getByTestId('drafts-select');
  await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="drafts-select"] option')].some((o) => o.textContent === n), name);
  await select.selectOption({ label: name });
  await page.getByTestId('share-panel').waitFor();
  await page.getByTestId('draft-preview').getByTestId('storyboard-sheet').waitFor();
}

/** Creates the share link in the share panel and returns it. */
export async function createLink(page, passphrase = '') {
  if (passphrase) await page.getByTestId('share-passphrase').fill(passphrase);
  await page.getByTestId('share-create').click();
  const link = page.getByTestId('share-panel').getByTestId('share-link');
  await link.waitFor();
  return link.inputValue();
}

/** The number of pages of a PDF (its `/Type /Page` objects). */
export function pdfPages(pdf) {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-z])/g) ?? []).length;
}

/** The projects stored in this context's IndexedDB, parsed. */
export async function storedProjects(page) {
  return projectsOf(await dumpIndexedDb(page));
}

/**
 * Edits shots of a stored project directly, as the Studio editor of another tab would: each
 * edit is `{ scene: [episode index, scene index], shot: index, field, value }`; the shot's
 * version is bumped as an edit does.
 */
export async function editStoredShots(page, name, edits) {
  await page.evaluate(([n, changes]) => new Promise((resolve, reject) => {
    const open = indexedDB.open('duanju-studio');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(['projects', 'project_episodes'], 'readwrite');
      const projects = tx.objectStore('projects');
      const episodes = tx.objectStore('project_episodes');
      const all = projects.getAll();
      all.onsuccess = () => {
        for (const text of all.result) {
          const project = JSON.parse(text);
          if (project.name !== n) continue;
          // Each touched episode record is read, edited and written back; then the project's
          // record, with a new write name, as the app's own save does.
          const touched = [...new Set(changes.map(({ scene: [e] }) => e))];
          let pending = touched.length;
          for (const e of touched) {
            const key = `${project.id}\u0001${project.episodes[e].id}`;
            const get = episodes.get(key);
            get.onsuccess = () => {
              const episode = JSON.parse(get.result);
              for (const { scene: [ep, s], shot: k, field, value } of changes) {
                if (ep !== e) continue;
                const target = episode.scenes[s].shots[k];
                target[field] = value;
                target.version += 1;
                target.updated_ms = Date.now();
                target.updated_by = 'tab-producer-e2e';
              }
              episodes.put(JSON.stringify(episode), key);
              pending -= 1;
              if (pending === 0) {
                project.updated_ms = Date.now();
                project.write = `tab-producer-e2e-${Date.now()}`;
                projects.put(JSON.stringify(project), project.id);
              }
            };
          }
        }
      };
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    };
  }), [name, edits]);
}
