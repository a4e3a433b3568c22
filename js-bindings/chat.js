// OpenAI-shaped chat completions over a PocketLM session: `chat.completions.create({ messages, stream, ... })`
// returns a ChatCompletion, or with `stream: true` an async iterable of ChatCompletionChunk objects. The prompt is
// the conversation rendered with the model's own chat template (C: plm_chat_apply); the session's KV cache keeps the
// rendered prefix, so each turn evaluates only what is new.
import { PocketLMError } from './errors.js';
import { checkMessages, checkOptions, checkArg } from './args.js';

/** finish_reason: OpenAI's 'stop' and 'length', and 'abort' when the request's signal stopped it (as complete()). */
const FINISH = { stop: 'stop', length: 'length', abort: 'abort' };

function randomId() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return 'chatcmpl-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** OpenAI request fields (plus llama.cpp's top_k, min_p, repeat_penalty) to PocketLM sampling options. */
export function chatParams(p) {
  checkArg('params', p, 'object');
  checkMessages('params.messages', p.messages);
  checkOptions('params', p, {
    max_tokens: 'maxTokens', max_completion_tokens: 'maxTokens', temperature: 'nonNegative', top_p: 'unit',
    top_k: 'count', min_p: 'unit', seed: 'seed', stop: 'stop', frequency_penalty: 'finite',
    presence_penalty: 'finite', repeat_penalty: 'penalty', stream: 'boolean', signal: 'signal',
  });
  if (p.n !== undefined && p.n !== 1) throw new PocketLMError('BAD_ARG', `params.n must be 1 (one choice), got ${p.n}`);
  const max = p.max_completion_tokens ?? p.max_tokens;
  return {
    maxTokens: max === undefined ? null : max,
    temperature: p.temperature, topP: p.top_p, topK: p.top_k, minP: p.min_p, seed: p.seed, stop: p.stop,
    frequencyPenalty: p.frequency_penalty, presencePenalty: p.presence_penalty, repeatPenalty: p.repeat_penalty,
  };
}

/** llama-server's names for the timings, as the rest of a chat response is OpenAI's snake_case. */
function timingsOf(r) {
  const t = r.timings;
  return { prompt_n: t.promptN, prompt_ms: t.promptMs, predicted_n: t.predictedN, predicted_ms: t.predictedMs };
}

function usageOf(r) {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.tokens.length, total_tokens: r.promptTokens + r.tokens.length };
}

/**
 * @param {{ run: (messages, params, signal, onToken) => Promise<object>, model: string }} target
 *   run() performs the completion on a session and calls onToken(text, token) while it streams.
 */
export function createChat(target) {
  const completions = {
    create(params, options = {}) {
      let sp;
      try {
        sp = chatParams(params);
        checkOptions('options', options, { signal: 'signal' });
      } catch (e) { // bad arguments reject, as every other entry point: the promise, or the stream's iteration
        return params && params.stream === true ? failedStream(e) : Promise.reject(e);
      }
      const signal = options.signal || params.signal;
      const id = randomId();
      const created = Math.floor(Date.now() / 1000);
      const base = { id, created, model: target.model, system_fingerprint: null };
      if (!params.stream) {
        return target.run(params.messages, sp, signal, null).then((r) => {
          return {
            ...base, object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null,
              finish_reason: FINISH[r.finishReason] }],
            usage: usageOf(r), timings: timingsOf(r),
          };
        });
      }
      return new ChatStream(target, params, sp, signal, base);
    },
  };
  return { completions };
}

/** A stream whose iteration (and `await`) rejects with err. */
function failedStream(err) {
  const fail = () => Promise.reject(err);
  return {
    controller: new AbortController(),
    [Symbol.asyncIterator]() { return { next: fail, return: async () => ({ value: undefined, done: true }) }; },
    then(resolve, reject) { return fail().then(resolve, reject); },
  };
}

const chunk = (base, delta, finish) => ({
  ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});

/**
 * The streaming response: `for await (const chunk of stream)`. Generation starts at once and chunks queue up until
 * read. Leaving the loop early (break, return, throw) stops the generation. `await`ing the stream gives a plain
 * async iterable (so both `for await (c of create())` and `for await (c of await create())` work, as with the
 * OpenAI SDK). `controller.abort()` stops it too.
 */
export class ChatStream {
  constructor(target, params, sp, signal, base) {
    this.controller = new AbortController();
    const ctl = this.controller;
    if (signal) {
      if (signal.aborted) ctl.abort();
      else signal.addEventListener('abort', () => ctl.abort(), { once: true });
    }
    this.queue = [];
    this.waiter = null;
    this.done = false;
    this.error = null;
    this.push(chunk(base, { role: 'assistant', content: '' }, null));
    const includeUsage = !!(params.stream_options && params.stream_options.include_usage);
    target.run(params.messages, sp, ctl.signal, (text) => {
      if (text) this.push(chunk(base, { content: text }, null));
    }).then((r) => {
      const last = chunk(base, {}, FINISH[r.finishReason]);
      last.timings = timingsOf(r);
      this.push(last);
      if (includeUsage) this.push({ ...base, object: 'chat.completion.chunk', choices: [], usage: usageOf(r) });
      this.finish(null);
    }).catch((e) => this.finish(e));
  }

  push(c) {
    this.queue.push(c);
    this.wake();
  }

  finish(err) {
    if (this.closed) return;
    this.done = true;
    this.error = err;
    this.wake();
  }

  wake() {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }

  async next() {
    for (;;) {
      if (this.queue.length) return { value: this.queue.shift(), done: false };
      if (this.done) {
        if (this.error) {
          const e = this.error;
          this.error = null;
          throw e;
        }
        return { value: undefined, done: true };
      }
      await new Promise((r) => { this.waiter = r; });
    }
  }

  async return() {
    if (!this.done) this.controller.abort();
    this.closed = true;
    this.queue.length = 0;
    this.done = true;
    this.error = null;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() {
    return { next: () => this.next(), return: () => this.return(), [Symbol.asyncIterator]() { return this; } };
  }

  // Thenable for `await create({stream: true})`: resolves to a non-thenable view of this stream.
  then(resolve, reject) {
    const view = { controller: this.controller, [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return Promise.resolve(view).then(resolve, reject);
  }
}
