// Draws the demo's app icons (demo/icons/icon-192.png, icon-512.png): a speech bubble on a green rounded square,
// rendered with 4x4 supersampling and written by a minimal PNG encoder (Node's zlib; no packages, nothing
// downloaded). The icons are committed; run `node tools/make-icons.mjs` again only to change them.
import fs from 'node:fs';
import zlib from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** rgba: Uint8Array of size*size*4 -> PNG bytes (8-bit RGBA, no filter). */
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// The shape, in unit coordinates (0..1): which colour a point has, or null outside the icon.
const GREEN = [31, 111, 92], WHITE = [246, 244, 239];
const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r), cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
function colour(x, y) {
  // full-bleed square, so the icon also works as "maskable" (the bubble stays inside the safe zone)
  const bubble = inRoundRect(x, y, 0.24, 0.27, 0.76, 0.63, 0.09) ||
    (y >= 0.6 && y <= 0.75 && x >= 0.33 && x <= 0.45 && x - 0.33 <= (0.75 - y) * 0.8);
  if (!bubble) return GREEN;
  for (const dx of [0.38, 0.5, 0.62]) if ((x - dx) ** 2 + (y - 0.45) ** 2 < 0.045 ** 2) return GREEN;
  return WHITE;
}

function draw(size) {
  const rgba = new Uint8Array(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0];
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = colour((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size);
          for (let i = 0; i < 3; i++) acc[i] += c[i];
        }
      }
      const o = (py * size + px) * 4;
      for (let i = 0; i < 3; i++) rgba[o + i] = Math.round(acc[i] / (S * S));
      rgba[o + 3] = 255;
    }
  }
  return png(size, rgba);
}

for (const size of [192, 512]) {
  const file = new URL(`../demo/icons/icon-${size}.png`, import.meta.url);
  fs.writeFileSync(file, draw(size));
  console.log(`${file.pathname}: ${fs.statSync(file).size} bytes`);
}
