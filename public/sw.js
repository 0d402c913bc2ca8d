// Duanju Studio's service worker: the app shell offline, and updates offered, never forced.
//
// The shell is each page's index.html and the same-origin code and styles it names (the hashed
// .js, .wasm and .css Trunk writes, and in a release build the wasm chunks and their loader,
// which scripts/post-build.mjs names there); icons and the manifest are cached when first
// fetched. The app is one page today, served at / (PAGES also covers a build that would give a
// page a folder of its own; pages the build lacks are skipped). At install the worker fetches
// every page's index.html and caches the shell they list, so the app opens with the network
// off, and estimates and drafts (IndexedDB) keep working.
//
// Navigations are answered from the cache at once; the worker then fetches index.html in the
// background. When it names other assets than the cached shell (a new version was deployed),
// the new shell is downloaded into a staging cache and the pages are told ("update-ready"):
// they show "Reload to update" and switch only when the user says so ("apply-update"). A page
// that is open keeps the version it started with.
//
// The shell in use is never touched by a download. A staged shell counts only once its list is
// written, after every file of it; a download that fails midway (a 500, the network gone, the
// worker stopped) leaves a staging cache without a list, which is never applied and is dropped.
// Applying copies the staged files into the shell, its pages last, then the list, and only then
// removes what the old version alone needed: whatever stops the copy, the old pages and every
// file they name are still there, so the old version keeps working, offline too.
//
// Only same-origin GET requests are ever answered or cached. Cross-origin requests (the model
// API, video downloads) and every other method pass through untouched.
'use strict';

const SHELL = 'duanju-shell';
const STAGED = 'duanju-shell-staged';
const INDEX = '/index.html';
// The pages' folders (today only / exists; the others fall back to it and are skipped).
const PAGES = ['/', '/studio/', '/settings/', '/view/'];
const LIST = '/__duanju-shell.json';
// What the worker caches: the code and styles every page needs are downloaded at install;
// other assets (icons, the manifest) are kept the first time the page fetches them.
const SHELL_ASSET = /\.(?:js|wasm|css)$/;
const ASSET = /\.(?:js|wasm|css|svg|png|webmanifest|ico)$/;
// A download that takes longer than this fails the install (it is tried again later).
const FETCH_TIMEOUT_MS = 120000;

/** The same-origin code and style paths an index.html names (and the chunks it lists). */
function assetsOf(html, base) {
  const paths = new Set();
  const add = (ref) => {
    let url;
    try {
      url = new URL(ref, base);
    } catch {
      return; // Not a path: ignored.
    }
    if (url.origin === self.location.origin && SHELL_ASSET.test(url.pathname)) paths.add(url.pathname);
  };
  const refs = /(?:href|src)\s*=\s*["']([^"']+)["']|["'](\/[^"'\s]+\.(?:js|wasm|css))["']/g;
  for (const m of html.matchAll(refs)) add(m[1] ?? m[2]);
  // A release build's wasm chunks (loaded by the page when first needed; scripts/post-build.mjs).
  const chunks = html.match(/<meta name="duanju-lazy-chunks" content="([^"]*)"/)?.[1] ?? '';
  for (const path of chunks.split(/\s+/)) if (path) add(path);
  return paths;
}

/** Every page's index.html as deployed now (pages the build lacks are left out). */
async function fetchPages() {
  const pages = [];
  for (const page of PAGES) {
    const index = `${page}index.html`;
    const response = await fetch(index, { cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    // A page folder this build does not have falls back to the root page: not a page of its own.
    if (!response.ok) continue;
    const html = await response.clone().text();
    if (page !== '/' && pages.some((p) => p.html === html)) continue;
    pages.push({ index, html, response });
  }
  if (!pages.length) throw new Error('no page');
  return pages;
}

/** The shell of some pages: their index.html files and the assets they name, sorted. */
function shellOf(pages) {
  const paths = new Set();
  for (const { index, html } of pages) {
    paths.add(index);
    for (const p of assetsOf(html, new URL(index, self.location.origin))) paths.add(p);
  }
  return [...paths].sort();
}

/** Downloads a whole shell into `name` (all or nothing) and returns its list. */
async function download(name, pages) {
  const paths = shellOf(pages);
  const indexes = new Set(pages.map((p) => p.index));
  const cache = await caches.open(name);
  // Each response is stored as soon as it arrives: a response whose body is not read holds its
  // connection, and with more assets than the browser's connections per host (a split build
  // has a dozen) waiting for all of them first never finishes. The list, written last, is what
  // makes the cache complete.
  await Promise.all(
    paths.filter((p) => !indexes.has(p)).map(async (p) => {
      const r = await fetch(p, { cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!r.ok) throw new Error(`${p}: ${r.status}`);
      await cache.put(p, r);
    }),
  );
  for (const { index, response } of pages) await cache.put(index, response);
  await cache.put(LIST, new Response(JSON.stringify(paths), { headers: { 'content-type': 'application/json' } }));
  return paths;
}

async function listOf(name) {
  const cache = await caches.open(name);
  const r = await cache.match(LIST);
  return r ? r.json() : null;
}

async function broadcast(message) {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const page of pages) page.postMessage(message);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // A worker replacing an older one reuses its shell; the first one downloads it.
    if (!(await listOf(SHELL))) {
      await caches.delete(SHELL);
      await download(SHELL, await fetchPages());
    }
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

let checking = null;

/** Looks for a newer deployment; stages it and tells the pages. */
function checkForUpdate() {
  checking ??= (async () => {
    try {
      const pages = await fetchPages();
      const fresh = shellOf(pages);
      const current = await listOf(SHELL);
      const staged = await listOf(STAGED);
      const same = (a, b) => a && JSON.stringify(a) === JSON.stringify(b);
      if (same(fresh, current)) {
        if (staged) await caches.delete(STAGED);
        return;
      }
      if (!same(fresh, staged)) {
        await caches.delete(STAGED);
        await download(STAGED, pages);
      }
      await broadcast({ type: 'update-ready' });
    } catch {
      // Offline or a failed download: the shell in use is untouched; a partial staging cache
      // (no list) is dropped, and the next navigation tries again.
      if (!(await listOf(STAGED).catch(() => null))) await caches.delete(STAGED).catch(() => false);
    } finally {
      checking = null;
    }
  })();
  return checking;
}

const isPage = (path) => path.endsWith('/index.html');

/**
 * Makes the staged shell the current one, if it is complete (its list, written last, is there):
 * the new files are added to the shell, its pages replaced after them, the list written, and
 * only then are the files of the old version that the new one does not name removed. Until the
 * pages are replaced the old ones are served with every file they name; after, the new ones
 * are. Returns whether a shell was applied.
 */
async function applyUpdate() {
  if (checking) await checking; // A download in progress writes the staging cache.
  const paths = await listOf(STAGED);
  if (!paths) return false;
  const staged = await caches.open(STAGED);
  const files = new Map();
  for (const path of paths) {
    const response = await staged.match(path);
    if (!response) return false; // Not the shell its list names: never applied.
    files.set(path, response);
  }
  const shell = await caches.open(SHELL);
  for (const path of paths.filter((p) => !isPage(p))) await shell.put(path, files.get(path));
  for (const path of paths.filter(isPage)) await shell.put(path, files.get(path));
  await shell.put(LIST, new Response(JSON.stringify(paths), { headers: { 'content-type': 'application/json' } }));
  const kept = new Set(paths);
  for (const request of await shell.keys()) {
    const path = new URL(request.url).pathname;
    if (!kept.has(path) && (SHELL_ASSET.test(path) || isPage(path))) await shell.delete(request);
  }
  await caches.delete(STAGED);
  return true;
}

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  if (type === 'check') {
    event.waitUntil((async () => {
      if (await listOf(STAGED)) event.source?.postMessage({ type: 'update-ready' });
      else await checkForUpdate();
    })());
  } else if (type === 'apply-update') {
    event.waitUntil((async () => {
      try {
        await applyUpdate();
      } catch {
        // Storage full or the like: the old shell is whole (see above); the page reloads into it.
      }
      event.source?.postMessage({ type: 'update-applied' });
    })());
  } else if (type === 'skip-waiting') {
    self.skipWaiting();
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  // A navigation to a route of the app (a path without a file extension) gets the shell.
  if (request.mode === 'navigate' && !/\.[a-z0-9]+$/i.test(url.pathname)) {
    event.respondWith((async () => {
      // The page's own folder first (/view → /view/index.html), then the root page.
      const path = url.pathname.replace(/\/+$/, '');
      const cached =
        (path && (await caches.match(`${path}/index.html`, { cacheName: SHELL }))) ||
        (await caches.match(INDEX, { cacheName: SHELL }));
      if (cached) {
        event.waitUntil(checkForUpdate());
        return cached;
      }
      return fetch(request);
    })());
    return;
  }

  if (!ASSET.test(url.pathname) || url.pathname === '/sw.js') return;
  event.respondWith((async () => {
    const cached = await caches.match(url.pathname, { cacheName: SHELL });
    if (cached) return cached;
    const response = await fetch(request);
    // An asset the shell list missed (say an icon) is kept for next time.
    if (response.ok && response.type === 'basic') {
      const cache = await caches.open(SHELL);
      await cache.put(url.pathname, response.clone());
    }
    return response;
  })());
});
