// Type declarations for pocketlm (dist/pocketlm.js).

/** Stable error codes: the C core's plm_status names as they are (plm_status_name()), plus JavaScript-side ones.
 * UNSUPPORTED: a valid GGUF with an architecture, tensor type or tokenizer pocketlm does not run (called
 * UNSUPPORTED_TYPE in JavaScript before; that name is gone). BAD_ARG: a wrong argument; the message names it. */
export type PocketLMErrorCode =
  | 'BAD_MODEL' | 'UNSUPPORTED' | 'OUT_OF_MEMORY' | 'IO' | 'BAD_ARG' | 'CONTEXT_FULL' | 'ABORTED'
  | 'NETWORK' | 'UNSUPPORTED_ENVIRONMENT' | 'UNLOADED' | 'INTERNAL'
  // ModelStore
  | 'NOT_FOUND' | 'INTEGRITY' | 'QUOTA_EXCEEDED' | 'INCOMPLETE' | 'UNKNOWN_MODEL';

export class PocketLMError extends Error {
  constructor(code: PocketLMErrorCode, message: string, options?: { cause?: unknown });
  readonly name: 'PocketLMError';
  readonly code: PocketLMErrorCode;
}

/** The WebAssembly builds: one file each; load() picks the best one this engine validates. */
export type Variant = 'scalar' | 'simd' | 'relaxed' | 'mt-simd' | 'mt-relaxed';

export interface Features {
  wasm: boolean;
  simd: boolean;
  /** relaxed SIMD with the standard semantics of the dot products the kernels use */
  relaxedSimd: boolean;
  /** SharedArrayBuffer + wasm threads, and (in browsers) a cross-origin isolated page */
  threads: boolean;
  nestedWorkers: boolean;
}

export type ModelInput =
  | string | URL | Blob | ArrayBuffer | ArrayBufferView | Response | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface LoadProgress {
  loaded: number;
  /** bytes expected in total (0 until known) */
  total: number;
  /** loaded / total, or null while the total is unknown */
  fraction: number | null;
  /** since this phase started (a resumed download counts only what it fetched) */
  bytesPerSecond: number;
  /** 'download' into the store, 'verify' its SHA-256, 'load' into the engine; 'waiting': another tab or Worker is
   * downloading this model, and loaded is what it has stored (every 250 ms, until this download takes over) */
  phase: 'download' | 'verify' | 'load' | 'waiting';
}

/** A model in the ModelStore, as list(), get() and download() give it. */
export interface StoredModel {
  /** stable for a URL: the first 128 bits of the SHA-256 of the absolute URL, as 32 hex digits */
  id: string;
  url: string;
  /** the file name from the URL */
  name: string;
  /** bytes of the whole file; 0 while unknown */
  size: number;
  /** every byte stored and the SHA-256 verified: only complete models load */
  complete: boolean;
  bytesStored: number;
  /** the expected SHA-256 when one was given, else the computed one once complete (64 hex digits) */
  sha256: string | null;
  etag: string | null;
  lastModified: string | null;
  /** ms since the epoch */
  createdAt: number;
  lastUsedAt: number | null;
}

export interface DownloadOptions {
  /** the file's SHA-256 (64 hex digits): a mismatch rejects with INTEGRITY and the model is never complete */
  sha256?: string;
  /** at least every chunk and at most ~10 times a second; phase 'download', then 'verify' ('waiting' first while
   * another tab downloads the same model) */
  onProgress?: (p: LoadProgress) => void;
  /** abort() rejects with ABORTED and keeps what is stored for a later download() */
  signal?: AbortSignal;
  /** bytes per stored chunk: 64 KiB to 64 MiB, default 4 MiB. A resumed download keeps its first chunk size. */
  chunkSize?: number;
}
// A new download is judged from its header (PocketLM.inspect's verdict, default session) while it runs: a model this
// browser cannot run rejects with UNSUPPORTED or OUT_OF_MEMORY and the engine's message within its first MiBs, and
// nothing is kept.

/**
 * Models downloaded once into IndexedDB, resumable and verified, loaded offline chunk by chunk. Browsers only
 * (Node: open() rejects with UNSUPPORTED_ENVIRONMENT). Every method validates its arguments (BAD_ARG).
 */
export class ModelStore {
  /** IndexedDB database "pocketlm", or options.name. */
  static open(options?: { name?: string }): Promise<ModelStore>;
  /** The id a URL is stored under. */
  static id(url: string | URL): string;
  private constructor();
  readonly name: string;
  /**
   * Downloads url into the store, continues an interrupted download of it (HTTP Range), or finds it complete.
   * Rejects with NETWORK (after 3 retries), NOT_FOUND, BAD_MODEL (not a GGUF), INTEGRITY, QUOTA_EXCEEDED, ABORTED,
   * BAD_ARG. Two tabs downloading one URL take turns (Web Locks): the second finds the model complete.
   */
  download(url: string | URL, options?: DownloadOptions): Promise<StoredModel>;
  /**
   * Copies a File or Blob (from <input type=file>) into the store chunk by chunk, hashing it as it goes; the record
   * is like a download's (url "file:<name>"). Its id hashes name, size, lastModified and the first 64 KiB, so
   * importing the same file again resolves with the copy at once. Not GGUF: BAD_MODEL. abort(): ABORTED, and
   * nothing of the file is kept (as with any failure). QUOTA_EXCEEDED, INTEGRITY (with sha256) as for download().
   */
  import(file: Blob, options?: DownloadOptions): Promise<StoredModel>;
  /** Every model, complete or not, oldest first. */
  list(): Promise<StoredModel[]>;
  get(id: string): Promise<StoredModel | null>;
  /** Removes the record and every chunk; true if there was one. A download of it in progress stops (ABORTED). */
  delete(id: string): Promise<boolean>;
  /** navigator.storage.estimate()'s usage and quota (null where unknown), and the bytes this store holds. */
  estimate(): Promise<{ usage: number | null; quota: number | null; models: number }>;
  /** navigator.storage.persist(): true if the browser will not evict this origin's storage under pressure. */
  persist(): Promise<boolean>;
  /** Deletes least recently used complete models first, then unfinished ones, until the store holds <= keepBytes.
   * Models being downloaded are kept. Resolves with the ids deleted. */
  evict(options: { keepBytes: number }): Promise<string[]>;
}

export interface LoadOptions {
  /**
   * A URL, a ModelStore id, a Blob/File, an ArrayBuffer or a stream of bytes. In browsers an http(s) URL is
   * downloaded into the store first (or found there) and then loaded from it; an id loads from the store with no
   * network at all (UNKNOWN_MODEL, INCOMPLETE otherwise). In Node a string that is not an http(s) URL is a file path.
   */
  model: ModelInput;
  /**
   * Browsers: true (default) keeps URL models in the default ModelStore; false streams the file and keeps nothing;
   * a ModelStore uses that one. Node has no store: URLs stream (true rejects with UNSUPPORTED_ENVIRONMENT).
   */
  cache?: boolean | ModelStore;
  /** 'auto' (default): up to 4, and more than 1 only where threads are available. A browser that twice fails to
   * start the threads (Firefox ESR, rarely) gets a single-threaded engine: `info.threads` says what runs. */
  threads?: number | 'auto';
  /** KV cache size in tokens of the default session; default min(training context, 4096). */
  contextSize?: number;
  /** Prompt tokens per forward pass (default 64). */
  batchSize?: number;
  /** f32 KV cache instead of f16 (llama.cpp's default is f16). */
  kvF32?: boolean;
  /**
   * Exact arithmetic: kernels that reproduce llama.cpp's x86 CPU results bit for bit (reproducible logits on every
   * engine). Default false: the SIMD128 variants trade the last bits for speed (no fused multiply-add in
   * WebAssembly), held to llama.cpp's backend-comparison measures; greedy text may differ after a near-tie.
   */
  exact?: boolean;
  /** 'download' and 'verify' (URL models not yet stored), then 'load' */
  onProgress?: (p: LoadProgress) => void;
  /** Force a variant instead of probing (tests, benchmarks). */
  variant?: Variant;
  signal?: AbortSignal;
  /** Node only: run the engine in a worker thread instead of the calling thread. */
  worker?: boolean;
  /** Where the wasm files and their glue live (default: next to pocketlm.js). */
  wasmBase?: string | URL;
}

/** Every option is checked: a wrong type or range rejects with PocketLMError 'BAD_ARG' naming the option. */
export interface SamplingOptions {
  /** Default (and null or Infinity): until end of generation or the context is full — the same for complete() and
   * chat's max_tokens. An integer >= 0; 0 only evaluates the prompt. */
  maxTokens?: number | null;
  /** Default 0.8; 0 is greedy. */
  temperature?: number;
  /** Default 40; 0 turns it off. */
  topK?: number;
  /** Default 0.95; 1 turns it off. */
  topP?: number;
  /** Default 0.05; 0 turns it off. */
  minP?: number;
  /** Default 1 (off). */
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Tokens the penalties look back on (64). */
  penaltyLastN?: number;
  /** Default (or null): random. An integer >= 0 (a bigint up to 2^64). */
  seed?: number | bigint | null;
  stop?: string | string[];
  /** Reuse the KV cache of the previous request's common prefix (default true). */
  cachePrompt?: boolean;
  /** Add BOS (default: as the model says). */
  bos?: boolean;
  /** Parse control-token text such as "<|im_start|>" in the prompt (default false). */
  special?: boolean;
}

export interface CompleteOptions extends SamplingOptions {
  /**
   * Stops the request: during generation within one token, during the prompt within one batch (batchSize tokens),
   * and within one layer when the engine's memory is shared (threaded variants). The call then resolves (it does not
   * reject) with finishReason 'abort' and what was produced so far; the session stays usable and keeps the prompt
   * tokens that were evaluated. chat.completions does the same (finish_reason 'abort').
   */
  signal?: AbortSignal;
  /** Each piece of text as it is generated (complete UTF-8 characters only). token is null for a final flush. */
  onToken?: (text: string, token: number | null) => void;
}

/** complete()'s timings, camelCase as the rest of its result. */
export interface Timings {
  /** prompt tokens evaluated (those not reused from the session's cache) */
  promptN: number;
  promptMs: number;
  /** tokens generated; predictedMs runs from the end of the prompt to the last token (llama-server's count) */
  predictedN: number;
  predictedMs: number;
  /** the engine's WebAssembly memory in bytes after the request: memory only grows, so this is its peak so far */
  wasmMemoryBytes: number;
}

/** chat.completions' timings: llama-server's snake_case names, as the rest of an OpenAI-shaped response. */
export interface ChatTimings {
  prompt_n: number;
  prompt_ms: number;
  predicted_n: number;
  predicted_ms: number;
}

export interface CompletionResult {
  text: string;
  /** generated token ids (without the end-of-generation token) */
  tokens: number[];
  finishReason: 'length' | 'stop' | 'abort';
  timings: Timings;
  promptTokens: number;
  /** chat template family used (chat requests) */
  template: string | null;
}

export interface ModelInfo {
  arch: string;
  nVocab: number; nCtxTrain: number; nEmbd: number; nLayer: number; nHead: number; nHeadKv: number; nFf: number;
  hasWeights: boolean;
  bos: number;
  eos: number;
  weightBytes: number;
  /** the chat template family the model's template was recognized as */
  chatTemplate: string | null;
  /** KV cache size of the default session */
  contextSize?: number;
  /** plm_version() of the wasm core: the same as PocketLM.version */
  version: string;
  name: string;
  size: number;
  loadMs: number;
  variant: Variant;
  threads: number;
  /** the kernel backend inside the variant: 'wasm128', 'wasm-relaxed', 'scalar'; with exact: 'wasm128-exact',
   * 'wasm-relaxed-exact' (the scalar variant is always exact) */
  backend: string;
  /** whether the model was loaded with { exact: true } */
  exact: boolean;
  features: Features;
}

// ---- OpenAI-shaped chat ----
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string | Array<{ type: 'text'; text: string }> | null;
}

export interface ChatCompletionCreateParams {
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  /** default (or null): until end of generation or the context is full, as complete()'s maxTokens */
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  seed?: number;
  stop?: string | string[];
  frequency_penalty?: number;
  presence_penalty?: number;
  repeat_penalty?: number;
  n?: 1;
  signal?: AbortSignal;
}

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string; refusal: null };
    logprobs: null;
    /** 'abort': the signal stopped it; content is what was generated until then (not an OpenAI value) */
    finish_reason: 'stop' | 'length' | 'abort';
  }>;
  usage: ChatCompletionUsage;
  timings: ChatTimings;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: Array<{
    index: 0;
    delta: { role?: 'assistant'; content?: string };
    logprobs: null;
    finish_reason: 'stop' | 'length' | 'abort' | null;
  }>;
  usage?: ChatCompletionUsage;
  timings?: ChatTimings;
}

/** Streamed response: iterate it (or `await` it first). Breaking out of the loop stops generation. An abort (the
 * signal, or controller.abort()) ends the iteration normally with a last chunk whose finish_reason is 'abort', as
 * complete() resolves with finishReason 'abort'. Bad arguments make the iteration throw PocketLMError 'BAD_ARG'. */
export interface ChatCompletionStream extends AsyncIterable<ChatCompletionChunk>,
  PromiseLike<AsyncIterable<ChatCompletionChunk> & { controller: AbortController }> {
  controller: AbortController;
}

export interface Chat {
  completions: {
    create(params: ChatCompletionCreateParams & { stream: true }, options?: { signal?: AbortSignal }): ChatCompletionStream;
    create(params: ChatCompletionCreateParams & { stream?: false }, options?: { signal?: AbortSignal }): Promise<ChatCompletion>;
    create(params: ChatCompletionCreateParams, options?: { signal?: AbortSignal }): ChatCompletionStream | Promise<ChatCompletion>;
  };
}

/** An independent conversation (its own KV cache) over a loaded model. */
export class Session {
  readonly id: number;
  readonly contextSize: number;
  readonly chat: Chat;
  complete(prompt: string | number[] | Int32Array, options?: CompleteOptions): Promise<CompletionResult>;
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export interface InspectOptions {
  /** The session the memory figures are for (as load's): context (default: min(training context, 4096)),
   * batch (64), f32 KV cache (false). */
  contextSize?: number;
  batchSize?: number;
  kvF32?: boolean;
  /** Bytes the model may take, when the page knows less than wasm32's 4 GiB is available. */
  memoryLimit?: number;
  signal?: AbortSignal;
  /** A store id is read from this ModelStore setting (as load's); a URL is never downloaded into the store. */
  cache?: boolean | ModelStore;
  wasmBase?: string | URL;
}

/** What PocketLM.inspect() learns from a GGUF header. Numbers are bytes unless named otherwise. */
export interface ModelFacts {
  /** Whether this browser can run it: the engine's own verdict on the header (architecture, weight types, shapes)
   * and the memory it needs against what wasm32 leaves and this browser will grow a memory to. */
  supported: boolean;
  /** 'OK', or why not: 'UNSUPPORTED' (architecture, weight type) or 'OUT_OF_MEMORY'. */
  status: 'OK' | 'UNSUPPORTED' | 'OUT_OF_MEMORY';
  /** The engine's message when not supported (with the numbers for OUT_OF_MEMORY), else null. */
  reason: string | null;
  architecture: string | null;
  /** general.name */
  name: string | null;
  /** Weights in all tensors (elements). */
  parameters: number;
  tensors: number;
  /** Per GGUF type name ('Q4_K', 'F32', ...): how many tensors, how many bytes. */
  types: Record<string, { tensors: number; bytes: number }>;
  /** Training context (<arch>.context_length), null when absent. */
  contextLength: number | null;
  /** tokenizer.chat_template as stored (Jinja text), null when absent. */
  chatTemplate: string | null;
  headerBytes: number;
  /** The file's size: from the server or Blob when known, else where its tensor data ends. */
  fileBytes: number;
  /** What a load and one session take, as the C allocator computes it (plm_model_memory); null when the header is
   * refused before its hyper-parameters are known (an unsupported architecture). */
  memory: { contextSize: number; weights: number; model: number; kvCache: number; scratch: number; total: number } | null;
  /** Bytes read to learn all this. */
  bytesRead: number;
}

export class PocketLM {
  static load(options: LoadOptions): Promise<PocketLM>;
  /** Facts about a model from its GGUF header alone: a URL is read with HTTP Range requests (or, from a server that
   * ignores Range, its body only as far as the header goes); Blobs, buffers, streams, store ids and Node paths only
   * that far too. Rejects with BAD_MODEL for a file that is not a sound GGUF, NOT_FOUND / NETWORK for a URL that
   * cannot be read; an unrunnable model resolves with supported: false and the reason. */
  static inspect(model: ModelInput, options?: InspectOptions): Promise<ModelFacts>;
  static features(): Features;
  static chooseVariant(options?: { variant?: Variant; threads?: number | 'auto' }):
    Promise<{ variant: Variant; threads: number; features: Features }>;
  /** The package's version (package.json), equal to the wasm core's plm_version() (info.version). */
  static readonly version: string;
  static readonly variants: Variant[];

  private constructor();
  readonly info: ModelInfo;
  readonly chat: Chat;
  complete(prompt: string | number[] | Int32Array, options?: CompleteOptions): Promise<CompletionResult>;
  createSession(options?: { contextSize?: number; batchSize?: number; kvF32?: boolean }): Promise<Session>;
  tokenize(text: string, options?: { bos?: boolean; special?: boolean }): Promise<number[]>;
  detokenize(ids: Iterable<number>): Promise<string>;
  applyChatTemplate(messages: ChatMessage[]): Promise<{ text: string; family: string | null }>;
  /** Metadata and tensor table, as the CLI's `pocketlm info`. */
  modelInfo(): Promise<Record<string, unknown>>;
  unload(): Promise<void>;
}

export default PocketLM;
