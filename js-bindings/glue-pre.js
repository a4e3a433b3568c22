// Prepended (--pre-js) inside Emscripten's module factory. Emscripten 3.1.6 writes its Node support as CommonJS
// (`require`, `__dirname`), but its EXPORT_ES6 output is an ES module, where neither exists. PocketLM hands the glue
// a `require` made by node:module's createRequire (Module.plmRequire); a pthread worker under Node gets the one
// its CommonJS worker script put on the global object. In browsers neither is ever called.
var require = Module['plmRequire'] || globalThis['require'];
var __dirname = '';
