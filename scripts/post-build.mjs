// Trunk post_build hook: puts the SHA-256 of each inline <script> of the staged index.html
// into the Content-Security-Policy meta tag, replacing the INLINE_SCRIPT_HASHES placeholder.
// The policy therefore allows exactly the boot script Trunk generated and nothing else.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('csp-hash: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}
const file = join(dir, 'index.html');
const html = readFileSync(file, 'utf8');
const hashes = [];
for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
  hashes.push(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
}
if (!html.includes('INLINE_SCRIPT_HASHES')) {
  console.error('csp-hash: index.html has no INLINE_SCRIPT_HASHES placeholder in its CSP');
  process.exit(1);
}
writeFileSync(file, html.replace('INLINE_SCRIPT_HASHES', hashes.join(' ')));
console.log(`csp-hash: ${hashes.length} inline script hash(es) written`);
