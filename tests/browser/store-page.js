// Page for the ModelStore tests: the package's exports on window, for functions the tests evaluate here.
import { PocketLM, ModelStore, PocketLMError } from '../../dist/pocketlm.js';

Object.assign(window, { PocketLM, ModelStore, PocketLMError });
// An error as plain data for the test (Playwright cannot carry PocketLMError's fields).
window.caught = (e) => ({ name: e && e.name, code: e && e.code, message: String(e && e.message) });
document.getElementById('status').textContent = 'ready';
// fn(store) with a fresh ModelStore; a rejection comes back as { error: { name, code, message } }.
window.withStore = async (fn) => {
  const store = await ModelStore.open();
  try {
    return await fn(store);
  } catch (e) {
    return { error: window.caught(e) };
  }
};
