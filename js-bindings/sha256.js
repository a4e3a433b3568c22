// SHA-256 (FIPS 180-4) that can be fed piece by piece and whose state can be saved and restored: the model store
// hashes a download while it streams and keeps the running state with each stored chunk, so a resumed download
// goes on from there without reading back what it has. (WebCrypto's digest() takes the whole input at once.)
//
//   const h = new SHA256(); h.update(bytes); ...; h.hex()            // or SHA256.restore(h.save()) later
// FIPS 180-4's constants, computed the way it defines them: the first 32 bits of the fractional parts of the square
// roots (INIT) and cube roots (K) of the first primes (doubles hold them exactly enough; the tests check them).
const K = new Int32Array(64);
const INIT = [];
for (let p = 2, n = 0; n < 64; p++) {
  let prime = true;
  for (let q = 2; q * q <= p; q++) if (p % q === 0) prime = false;
  if (!prime) continue;
  if (n < 8) INIT.push(((Math.sqrt(p) % 1) * 2 ** 32) | 0);
  K[n++] = ((Math.cbrt(p) % 1) * 2 ** 32) | 0;
}
const W = new Int32Array(64);

// Compresses the 64-byte blocks of b[o, end) into h.
function blocks(h, b, o, end) {
  for (; o < end; o += 64) block(h, b, o);
}

// One block per call: V8 optimizes a small hot function sooner and better than one long loop (measured: a third of
// the speed for the first 64 MB when the whole input went through one call).
function block(h, b, o) {
  const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
  for (let i = 0; i < 16; i++) {
    const j = o + i * 4;
    W[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15], y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, k = h7;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    k = g; g = f; f = e; e = (d + t1) | 0;
    d = c; c = bb; bb = a; a = (t1 + t2) | 0;
  }
  h[0] = (h0 + a) | 0; h[1] = (h1 + bb) | 0; h[2] = (h2 + c) | 0; h[3] = (h3 + d) | 0;
  h[4] = (h4 + e) | 0; h[5] = (h5 + f) | 0; h[6] = (h6 + g) | 0; h[7] = (h7 + k) | 0;
}

export class SHA256 {
  constructor() {
    this.h = new Int32Array(INIT);
    this.tail = new Uint8Array(64); // bytes of an unfinished block
    this.nTail = 0;
    this.length = 0; // bytes hashed so far (exact up to 2^53)
  }

  /** Adds bytes (a Uint8Array, an ArrayBuffer or another view). Returns this. */
  update(data) {
    const b = data instanceof Uint8Array ? data
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    let o = 0;
    this.length += b.length;
    if (this.nTail) {
      o = Math.min(64 - this.nTail, b.length);
      this.tail.set(b.subarray(0, o), this.nTail);
      this.nTail += o;
      if (this.nTail < 64) return this;
      blocks(this.h, this.tail, 0, 64);
      this.nTail = 0;
    }
    const end = o + ((b.length - o) & ~63);
    blocks(this.h, b, o, end);
    this.tail.set(b.subarray(end), 0);
    this.nTail = b.length - end;
    return this;
  }

  /** The digest (32 bytes) of everything added; the object is left unchanged and may go on. */
  digest() {
    const c = SHA256.restore(this.save());
    const pad = new Uint8Array(((c.nTail + 8) >> 6 << 6) + 64 - c.nTail);
    pad[0] = 0x80;
    const bits = this.length * 8;
    const dv = new DataView(pad.buffer);
    dv.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
    dv.setUint32(pad.length - 4, bits >>> 0);
    c.update(pad);
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setInt32(i * 4, c.h[i]);
    return out;
  }

  /** The digest as 64 lowercase hex digits. */
  hex() {
    return Array.from(this.digest(), (x) => x.toString(16).padStart(2, '0')).join('');
  }

  /** The running state as plain structured-cloneable data (IndexedDB, postMessage, JSON). */
  save() {
    return { h: Array.from(this.h), length: this.length, tail: Array.from(this.tail.subarray(0, this.nTail)) };
  }

  /** A hasher that continues from a saved state. */
  static restore(s) {
    if (!s || !Array.isArray(s.h) || s.h.length !== 8 || !Array.isArray(s.tail) || s.tail.length > 63 ||
        !Number.isSafeInteger(s.length) || s.length % 64 !== s.tail.length) {
      throw new TypeError('not a saved SHA-256 state');
    }
    const c = new SHA256();
    c.h.set(s.h);
    c.tail.set(s.tail);
    c.nTail = s.tail.length;
    c.length = s.length;
    return c;
  }
}

/** SHA-256 of bytes or of a string's UTF-8, as hex. */
export function sha256Hex(data) {
  return new SHA256().update(typeof data === 'string' ? new TextEncoder().encode(data) : data).hex();
}
