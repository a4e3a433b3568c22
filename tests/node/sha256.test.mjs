// js-bindings/sha256.js against FIPS 180-4's example vectors (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf") and
// against Node's crypto on random inputs cut at random places, with the state saved and restored between pieces.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SHA256, sha256Hex } from '../../js-bindings/sha256.js';

const NIST = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
];

test('FIPS 180-4 example messages', () => {
  for (const [m, d] of NIST) assert.equal(sha256Hex(m), d, JSON.stringify(m));
});

test('one million "a" (NIST long message), fed one byte, then 1000 bytes at a time', () => {
  const want = 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0';
  const a = new Uint8Array(1000).fill(0x61);
  const h = new SHA256();
  h.update(a.subarray(0, 1));
  h.update(a.subarray(1));
  for (let i = 1; i < 1000; i++) h.update(a);
  assert.equal(h.hex(), want);
});

test('SHA2_Additional: 0x00 x 1000, 0x41 x 1000, 0x55 x 1005', () => {
  assert.equal(sha256Hex(new Uint8Array(1000)), '541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53');
  assert.equal(sha256Hex(new Uint8Array(1000).fill(0x41)), 'c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4');
  assert.equal(sha256Hex(new Uint8Array(1005).fill(0x55)), 'f4d62ddec0f3dd90ea1380fa16a5ff8dc4c54b21740650f24afc4120903552b0');
});

test('every length from 0 to 200 (the padding boundaries 55/56/64) equals node:crypto', () => {
  const b = crypto.randomBytes(200);
  for (let n = 0; n <= 200; n++) {
    assert.equal(sha256Hex(b.subarray(0, n)), crypto.createHash('sha256').update(b.subarray(0, n)).digest('hex'), `n=${n}`);
  }
});

test('random inputs at random split points, state saved and restored between pieces, equal node:crypto', () => {
  for (let round = 0; round < 60; round++) {
    const n = crypto.randomInt(0, round < 50 ? 5000 : 300000);
    const b = crypto.randomBytes(n);
    let h = new SHA256();
    let o = 0;
    while (o < n) {
      const k = Math.min(n - o, crypto.randomInt(0, 3) === 0 ? crypto.randomInt(0, 70) : crypto.randomInt(0, n + 1));
      h.update(b.subarray(o, o + k));
      o += k;
      // what the store keeps with a chunk: structured-cloneable data (JSON here, stricter still)
      if (crypto.randomInt(0, 2)) h = SHA256.restore(JSON.parse(JSON.stringify(h.save())));
    }
    assert.equal(h.hex(), crypto.createHash('sha256').update(b).digest('hex'), `n=${n}`);
  }
});

test('digest() leaves the hasher usable; a bad saved state is refused', () => {
  const h = new SHA256().update(new TextEncoder().encode('ab'));
  h.hex();
  h.update(new TextEncoder().encode('c'));
  assert.equal(h.hex(), NIST[1][1]);
  assert.throws(() => SHA256.restore({ h: [1, 2], length: 0, tail: [] }), TypeError);
  assert.throws(() => SHA256.restore({ ...h.save(), length: 4 }), TypeError);
});

test('throughput (printed)', () => {
  const b = crypto.randomBytes(32 << 20);
  const t0 = performance.now();
  sha256Hex(b);
  const ms = performance.now() - t0;
  console.log(`# sha256.js: ${(32 / (ms / 1000)).toFixed(0)} MB/s in Node (32 MiB in ${ms.toFixed(0)} ms)`);
});
