// Drafts storage and storyboard rendering: the save and load of a 12-episode × 47-shot series
// (564 shots) and the time to render its storyboard, measured in the release build the way a
// user meets them.
//
// The series is `sample_series(12, 47)` of src/domain/project/sample.rs, written here as a
// project file (the same data, field for field) and imported through the Studio's file picker.
// The app records `performance` measures around its own work (see src/ui/studio/projects.rs and src/web/dom.rs):
//   duanju:load    reading and parsing the stored project (Drafts::load), on a fresh page;
//   duanju:render  from the loaded project handed to the editor to the editor in the page, with
//                  every scene in place and the first scenes' cards built (see
//                  src/ui/common/reveal.rs: later scenes are built in slices, one task each);
//   duanju:render-all  from the same start to the last of the 564 cards in the page
//                  (`render_564_shots_all_cards_ms`); the longest task between the click and
//                  then is `render_564_shots_longest_task_ms`;
//   duanju:save    one autosave of the open project (Drafts::save: read, merge, write, commit).
// Each figure is the median of five runs; the load and render runs each start from a reload,
// so nothing is cached in the page. Figures are null when the run could not be made.

const RUNS = 5;
const SAMPLE_MS = 1_767_225_600_000;
const SHOTS_PER_SCENE = 6;

const CAST = [
  ['林晚晴', '被赶出家门的真千金，隐忍而聪明', '清冷，语速慢，尾音轻', '黑长直，素色风衣'],
  ['顾承泽', '顾氏集团总裁，外冷内热', '低沉，克制', '深灰西装，腕表'],
  ['林雪柔', '假千金，表面温柔', '甜美，偶尔尖锐', '粉色连衣裙，珍珠耳环'],
  ['周妈', '林家老保姆，知道当年的真相', '沙哑，慈祥', '围裙，花白短发'],
  ['陈助理', '顾承泽的助理，办事利落', '干脆', '白衬衫，黑框眼镜'],
];
const PLACES = [
  'INT. 林家别墅客厅 - 夜', 'EXT. 顾氏集团大楼门口 - 日', 'INT. 医院走廊 - 夜',
  'INT. 顾承泽办公室 - 日', 'EXT. 雨中街头 - 夜', 'INT. 宴会厅 - 夜',
];
const SIZES = ['特写', '近景', '中景', '全景', '远景'];
const ANGLES = ['平视', '俯拍', '仰拍', '过肩'];
const MOVES = ['固定', '推', '拉', '跟随'];
const TONES = ['隐忍', '震惊', '愤怒', '心疼', '释然'];
const ACTIONS = [
  '推门而入，雨水顺着发梢滴落，目光扫过满屋宾客', '攥紧手中的亲子鉴定报告，指节发白',
  '转身看向窗外，城市灯火映在眼中', '将一杯红酒缓缓倒在对方的裙摆上',
  '快步上前挡在她身前，语气冰冷', '低头看着旧照片，眼泪无声落下',
];
const LINES = [
  '这个家，我回来了。', '当年的事，你最好给我一个解释。', '从今天起，她由我来护着。',
  '你以为换了身份，就能抹掉一切？', '小姐，这些年您受苦了。', '顾总，车已经在楼下等了。',
];

function sampleScene(episode, index, shotCount) {
  const fountain = `${index + 1}`;
  const id = `sample-e${episode}-s${fountain}`;
  const heading = PLACES[(episode + index) % PLACES.length];
  const who = (k) => CAST[(episode + index + k) % CAST.length][0];
  const scriptText = `${heading} #${fountain}#\n\n${who(0)}看着${who(1)}，沉默片刻。\n\n${who(0)}\n`
    + `${LINES[index % LINES.length]}\n\n${who(1)}\n(冷笑)\n${LINES[(index + 1) % LINES.length]}\n`;
  const takes = [0, 1, 2].map((t) => ({
    id: `${id}-t${t + 1}`,
    dialogue: `${LINES[(index + t) % LINES.length]}（第${t + 1}版）`,
    stage_direction: ACTIONS[(index + t) % ACTIONS.length],
    emotional_tone: TONES[(index + t) % TONES.length],
    model: 'claude-sonnet-4.5',
    cost: 0.0018,
    locked: t === 1,
  }));
  const shots = Array.from({ length: shotCount }, (_, k) => {
    const n = episode + index + k;
    return {
      id: `${id}-k${k + 1}`,
      number: `${index + 1}${String.fromCharCode(65 + k)}`,
      shot_size: SIZES[n % SIZES.length],
      camera_angle: ANGLES[n % ANGLES.length],
      movement: MOVES[n % MOVES.length],
      duration_s: [3, 5, 4, 6][n % 4],
      action: `${who(k)}${ACTIONS[n % ACTIONS.length]}`,
      dialogue: k % 2 === 0 ? LINES[n % LINES.length] : '',
      emotional_tone: TONES[n % TONES.length],
      visual_elements: ['雨夜霓虹', '冷色调', '浅景深'],
      characters: [who(k), who(k + 1)],
      notes: `竖屏 9:16，人物居中偏上；参考第${episode}集风格`,
      status: episode === 1 ? 'done' : 'draft',
      version: 1,
      updated_ms: SAMPLE_MS,
      updated_by: 'sample',
    };
  });
  return {
    id, heading, synopsis: `${who(0)}与${who(1)}在${heading}对峙`, script_text: scriptText,
    shots, takes, picked_take: `${id}-t2`,
  };
}

function sampleEpisode(number, shotCount) {
  const scenes = [];
  for (let s = 0; s * SHOTS_PER_SCENE < shotCount; s++) {
    scenes.push(sampleScene(number, s, Math.min(SHOTS_PER_SCENE, shotCount - s * SHOTS_PER_SCENE)));
  }
  return { id: `sample-ep${number}`, number, title: `第${number}集：真相浮出水面`, scenes };
}

/** `sample_series(episodes, shotsPerEpisode)` of the domain, as a project. */
export function sampleSeries(episodes = 12, shotsPerEpisode = 47) {
  const videoJobs = [];
  const list = [];
  for (let e = 1; e <= episodes; e++) {
    const episode = sampleEpisode(e, shotsPerEpisode);
    if (e === 1) {
      for (const shot of episode.scenes.flatMap((s) => s.shots)) {
        videoJobs.push({
          shot_id: shot.id, provider_job_id: `video_${shot.id}`, status: 'completed',
          clip_ref: shot.id, cost: 0.25, error: null,
        });
      }
    }
    list.push(episode);
  }
  return {
    schema_version: 2,
    id: 'sample-series',
    name: '逆袭千金：真假豪门',
    created_ms: SAMPLE_MS,
    updated_ms: SAMPLE_MS,
    opened_ms: SAMPLE_MS,
    version: 1,
    updated_by: 'sample',
    deleted_ms: null,
    settings: { aspect_ratio: '9:16', style: '电影感冷色调，浅景深，竖屏构图', budget: null, routes_override: null },
    characters: CAST.map(([name, description, voice, look], i) => ({
      id: `c${i + 1}`, name, description, voice, look, reference_notes: `参考图 ${i + 1}：正面、侧面、全身`,
    })),
    episodes: list,
    video_jobs: videoJobs,
    history: [],
    removed_shots: [],
  };
}

/** The sample series as an export file (`duanju-project`, schema 2). */
export function sampleProjectFile(episodes = 12, shotsPerEpisode = 47) {
  return JSON.stringify({ format: 'duanju-project', schema_version: 2, project: sampleSeries(episodes, shotsPerEpisode) }, null, 2);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const round = (x) => (x == null ? null : Math.round(x * 10) / 10);

/** Opens the Studio and waits until the projects list is read. */
async function studio(page, appUrl) {
  await page.goto(`${appUrl}/studio`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForSelector('[data-testid="projects"][data-ready="true"]', { timeout: 20000 });
}

/** The duration of the latest `performance` measure called `name`. */
async function lastMeasure(page, name) {
  return page.evaluate((n) => {
    const entries = performance.getEntriesByName(n, 'measure');
    return entries.length ? entries[entries.length - 1].duration : null;
  }, name);
}

/**
 * In a fresh context: imports the 564-shot sample series, then five times reloads the Studio
 * and opens it (load and render), then makes five shot edits and times each autosave.
 * Returns `{ storage: { series_shots, save_ms, load_ms }, render_564_shots_ms }`; the
 * click-to-cards wall time is also logged.
 */
export async function storageBench(browser, appUrl) {
  const empty = { storage: { series_shots: 564, save_ms: null, load_ms: null }, render_564_shots_ms: null,
    render_564_shots_all_cards_ms: null, render_564_shots_longest_task_ms: null };
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await studio(page, appUrl);
    await page.getByTestId('proj-import').setInputFiles({
      name: 'sample-series.json', mimeType: 'application/json', buffer: Buffer.from(sampleProjectFile(12, 47)),
    });
    await page.getByTestId('proj-notice').waitFor({ timeout: 20000 });
    const item = page.locator('[data-testid="proj-item"]').filter({ hasText: '逆袭千金：真假豪门' }).first();
    await item.waitFor();
    const id = await item.getAttribute('data-id');

    const loads = []; const renders = []; const rendersAll = []; const longest = []; const walls = [];
    for (let i = 0; i < RUNS; i++) {
      await studio(page, appUrl);
      // The longest task from the click to the complete storyboard: how long input waits.
      await page.evaluate(() => {
        window.__longestTask = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            window.__longestTask = Math.max(window.__longestTask, entry.duration);
          }
        }).observe({ type: 'longtask' });
      });
      const wallStart = await page.evaluate(() => performance.now());
      await page.locator(`[data-testid="proj-item"][data-id="${id}"] [data-testid="proj-open"]`).click();
      const wallEnd = await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="shot-card"]').length === 564
          && document.querySelector('[data-testid="project-editor"]')?.dataset.complete === 'true'
          && performance.now(),
        null, { timeout: 30000, polling: 'raf' },
      );
      walls.push((await wallEnd.jsonValue()) - wallStart);
      loads.push(await lastMeasure(page, 'duanju:load'));
      renders.push(await lastMeasure(page, 'duanju:render'));
      rendersAll.push(await lastMeasure(page, 'duanju:render-all'));
      longest.push(await page.evaluate(() => window.__longestTask));
      // Let the "opened" record finish before the next reload.
      await page.waitForTimeout(300);
    }

    const saves = [];
    const cards = page.locator('[data-testid="shot-card"]');
    for (let i = 0; i < RUNS; i++) {
      const before = await page.evaluate(() => performance.getEntriesByName('duanju:save').length);
      await cards.nth(100 + i * 50).getByTestId('shot-action').fill(`基准测试的修改 ${i}`);
      await page.waitForFunction(
        (n) => performance.getEntriesByName('duanju:save').length > n
          && document.querySelector('[data-testid="save-status"]').dataset.state === 'saved',
        before, { timeout: 20000 },
      );
      saves.push(await lastMeasure(page, 'duanju:save'));
    }
    console.error(`storage benchmark: click to 564 cards ${round(median(walls))} ms (runs ${walls.map(round).join(', ')}); `
      + `load ${loads.map(round).join(', ')}; render ${renders.map(round).join(', ')}; `
      + `all cards ${rendersAll.map(round).join(', ')}; longest task ${longest.map(round).join(', ')}; `
      + `save ${saves.map(round).join(', ')}`);
    return {
      storage: { series_shots: 564, save_ms: round(median(saves)), load_ms: round(median(loads)) },
      render_564_shots_ms: round(median(renders)),
      render_564_shots_all_cards_ms: round(median(rendersAll)),
      render_564_shots_longest_task_ms: round(median(longest)),
    };
  } catch (error) {
    console.error(`storage benchmark: ${error.message}`);
    return empty;
  } finally {
    await context.close();
  }
}
