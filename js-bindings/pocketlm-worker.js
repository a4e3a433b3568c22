// The engine's Worker: a browser module Worker, or a Node worker thread (PocketLM.load({ worker: true })).
// All it does is carry messages between PocketLM and the engine (engine.js).
import { EngineHost } from './engine.js';

if (typeof self === 'object' && typeof self.postMessage === 'function' && typeof process === 'undefined') {
  const host = new EngineHost((msg, transfer) => self.postMessage(msg, transfer || []));
  self.onmessage = (e) => host.handle(e.data);
} else {
  const { parentPort } = await import('node:worker_threads');
  const host = new EngineHost((msg, transfer) => parentPort.postMessage(msg, transfer || []));
  parentPort.on('message', (msg) => host.handle(msg));
}
