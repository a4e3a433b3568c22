// Model files for the ModelStore tests, served the awkward ways real servers and networks behave: with or without
// Range, with or without an ETag, cut after N bytes, failing the next requests, throttled. Mounted beside the static
// server (same origin as the test pages, as IndexedDB and fetch want) and driven from the test itself:
//
//   const files = modelServer();  startBrowser(ROOT, { handle: files.handle })
//   files.serve('/dl/a.gguf', { file, range: true, etag: '"v1"', rate: 4e6 })   // rate: bytes per second
//   files.set('/dl/a.gguf', { cutAfter: 600000 })   // the next response stops after that many bytes, then its socket dies
//   files.set('/dl/a.gguf', { failNext: 2 })        // the next 2 answers break right after their headers
//   files.set('/dl/a.gguf', { cutAfter: N, failAfterCut: 4 })   // and the 4 requests after the cut one too
//   files.set('/dl/a.gguf', { holdAfter: 600000 }) // the next response stalls after that many bytes until the client
//                                                   // goes away (an abort that must land mid-transfer), 30 s at most
//   files.set('/dl/a.gguf', { noLength: true })     // no Content-Length (chunked), so the size is unknown up front
//   files.set('/dl/a.gguf', { cors: true, headers })  // readable from other origins; extra response headers
//   files.bytes('/dl/a.gguf'), files.requests('/dl/a.gguf')   // body bytes sent; [{ range, ifRange, status, broken?, sent }]
import fs from 'node:fs';

export function modelServer() {
  const routes = new Map();
  const stats = new Map();
  const stat = (p) => stats.get(p) || stats.set(p, { bytes: 0, requests: [] }).get(p);

  function handle(req, res, headers) {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const r = routes.get(p);
    if (!r) return false;
    const s = stat(p);
    const log = { range: req.headers.range || null, ifRange: req.headers['if-range'] || null, status: 0 };
    Object.defineProperty(log, 'sent', { value: 0, writable: true }); // body bytes of this answer (not compared)
    s.requests.push(log);
    // failNext: an answer that breaks right after its headers (a socket closed before any answer would be retried by
    // the browser itself, unseen)
    const broken = r.failNext > 0;
    if (broken) { r.failNext--; log.broken = true; }
    const data = r.data;
    const h = { ...headers, 'Content-Type': r.type || 'application/octet-stream', ...r.headers };
    if (r.cors) h['Access-Control-Allow-Origin'] = '*'; // and nothing exposed: Content-Range, ETag stay unreadable
    if (r.etag) h.ETag = r.etag;
    if (r.lastModified) h['Last-Modified'] = r.lastModified;
    if (r.range) h['Accept-Ranges'] = 'bytes';
    let start = 0, end = data.length, status = r.status || 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    const ifRange = req.headers['if-range'];
    const validatorOk = !ifRange || ifRange === r.etag || ifRange === r.lastModified;
    if (status === 200 && r.range && m && validatorOk) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]) + 1, data.length) : data.length;
      if (start >= data.length) {
        log.status = 416;
        res.writeHead(416, { ...h, 'Content-Range': `bytes */${data.length}` }).end();
        return true;
      }
      status = 206;
      h['Content-Range'] = `bytes ${start}-${end - 1}/${data.length}`;
    }
    if (!r.noLength) h['Content-Length'] = end - start; // noLength: a chunked response, the size unknown up front
    log.status = status;
    res.writeHead(status, h);
    let cut = broken ? 0 : r.cutAfter === undefined ? Infinity : r.cutAfter;
    if (!broken && cut !== Infinity) { r.failNext = r.failAfterCut || 0; r.cutAfter = r.failAfterCut = undefined; }
    let hold = broken || r.holdAfter === undefined ? Infinity : r.holdAfter;
    r.holdAfter = undefined;
    const piece = 64 << 10;
    let o = start;
    const next = () => {
      if (o >= end) { res.end(); return; }
      // a cut: what was sent arrives (the reader has had time for it), then the connection dies
      if (cut <= 0) { res.flushHeaders(); setTimeout(() => res.socket.destroy(), 250); return; }
      if (hold <= 0) { res.flushHeaders(); setTimeout(() => res.socket.destroy(), 30000).unref(); return; }
      const n = Math.min(piece, end - o, cut, hold);
      const ok = res.write(data.subarray(o, o + n));
      o += n;
      cut -= n;
      hold -= n;
      s.bytes += n;
      log.sent += n;
      const go = () => (r.rate ? setTimeout(next, (n / r.rate) * 1000) : setImmediate(next));
      if (ok) go(); else res.once('drain', go);
    };
    res.on('close', () => { o = end; cut = 0; });
    next();
    return true;
  }

  return {
    handle,
    /** Serves a file (or bytes) at path with these options (see above), counters reset. */
    serve(path, { file, data, ...o }) {
      routes.set(path, { data: data || fs.readFileSync(file), range: true, etag: null, ...o });
      stats.delete(path);
    },
    set(path, o) { Object.assign(routes.get(path), o); },
    bytes: (path) => stat(path).bytes,
    requests: (path) => stat(path).requests,
    reset(path) { stats.delete(path); },
  };
}
