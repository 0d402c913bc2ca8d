// A static file server for the release bundle (dist/), used by the end-to-end tests and the
// benchmarks: correct MIME types (application/wasm enables streaming compilation), no caching,
// and the single-page-app fallback to index.html for /studio, /settings and /view.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'dist');
const port = Number(process.argv[3] ?? 8080);
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8', '.mp4': 'video/mp4',
};

async function isFile(path) {
  try { return (await stat(path)).isFile(); } catch { return false; }
}

// A file as is; a folder by its index.html (each page's bundle lives in its own folder);
// any other path without an extension falls back to the root page.
async function fileFor(urlPath) {
  const rel = normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, '');
  const candidate = join(root, rel);
  if (!candidate.startsWith(root)) return null;
  if (await isFile(candidate)) return candidate;
  if (await isFile(join(candidate, 'index.html'))) return join(candidate, 'index.html');
  return extname(rel) ? null : join(root, 'index.html');
}

createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const file = await fileFor(path);
  if (!file) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
  const body = await readFile(file);
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log(`App: http://127.0.0.1:${port}/`));
