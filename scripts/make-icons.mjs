// Writes the app icons (public/icon-192.png, icon-512.png, icon-maskable-512.png) from the
// shapes of public/icon.svg: a red rounded square, a white 9:16 phone frame, a red play mark.
// Plain node (zlib for the PNG deflate), 4×4 supersampling for smooth edges.
// Run: node scripts/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const RED = [0xb3, 0x26, 0x1e];
const WHITE = [0xff, 0xff, 0xff];

function inRoundRect(x, y, [rx, ry, w, h, r]) {
  if (x < rx || y < ry || x > rx + w || y > ry + h) return false;
  const cx = Math.min(Math.max(x, rx + r), rx + w - r);
  const cy = Math.min(Math.max(y, ry + r), ry + h - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function inTriangle(x, y, [[ax, ay], [bx, by], [cx, cy]]) {
  const s = (px, py, qx, qy, rx, ry) => (px - rx) * (qy - ry) - (qx - rx) * (py - ry);
  const d1 = s(x, y, ax, ay, bx, by);
  const d2 = s(x, y, bx, by, cx, cy);
  const d3 = s(x, y, cx, cy, ax, ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

/** The colour (RGBA) at a point of the 512-unit design; `maskable` fills the whole square. */
function colourAt(x, y, maskable) {
  const scale = maskable ? 0.8 : 1; // the maskable icon keeps its mark inside the safe zone
  const u = (x - 256) / scale + 256;
  const v = (y - 256) / scale + 256;
  const background = maskable || inRoundRect(x, y, [0, 0, 512, 512, 96]);
  if (!background) return [0, 0, 0, 0];
  if (inTriangle(u, v, [[224, 192], [320, 256], [224, 320]])) return [...RED, 255];
  if (inRoundRect(u, v, [160, 64, 192, 384, 32])) return [...WHITE, 255];
  return [...RED, 255];
}

function crc32(buf) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function png(size, maskable) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const n = 4;
  for (let py = 0; py < size; py++) {
    raw[py * (size * 4 + 1)] = 0;
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = ((px + (sx + 0.5) / n) * 512) / size;
          const y = ((py + (sy + 0.5) / n) * 512) / size;
          const c = colourAt(x, y, maskable);
          for (let i = 0; i < 3; i++) sum[i] += c[i] * c[3];
          sum[3] += c[3];
        }
      }
      const at = py * (size * 4 + 1) + 1 + px * 4;
      const alpha = sum[3] / (n * n);
      for (let i = 0; i < 3; i++) raw[at + i] = sum[3] ? Math.round(sum[i] / sum[3]) : 0;
      raw[at + 3] = Math.round(alpha);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

writeFileSync('public/icon-192.png', png(192, false));
writeFileSync('public/icon-512.png', png(512, false));
writeFileSync('public/icon-maskable-512.png', png(512, true));
console.log('icons written: public/icon-192.png, icon-512.png, icon-maskable-512.png');
