// Runtime: instantiates the Wasm core (Node, browsers, workers, edge), picks the SIMD build, and owns
// linear memory: heap blocks, the per-call arena, and views re-derived whenever memory has grown.

import type { Job, WorkerFault } from '../assembly/abi.js';
import { ArgumentError, InitError, OutOfMemoryError, ThreadError } from './errors.js';
import { optionKeys, strictOptions } from './options.js';
import type { CoreExports } from './generated/core.js';
import { coreCount, MAX_THREADS, mayBlock, ThreadPool, threadsUnavailable } from './threads.js';

declare const __NODE__: boolean;
declare const __VERSION__: string;

/** The Wasm core's exports, typed from the build's generated declarations (one source: assembly/index.ts). */
export type Kernels = CoreExports;

/** The two Wasm builds: 'baseline' (SIMD128, every engine with Wasm SIMD) and 'relaxed' (relaxed SIMD's fused multiply-add). */
export type SimdMode = 'relaxed' | 'baseline';

/** The `.wasm` bytes (what the DOM lib calls a BufferSource). */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** Options of `init` and `initSync`. */
export interface InitOptions {
  /** The compiled `.wasm` (required where compiling from bytes is forbidden, e.g. Cloudflare workerd). */
  module?: WebAssembly.Module | WasmBytes;
  /** Which build to load: 'auto' (default) takes relaxed SIMD where the engine has it. */
  simd?: 'auto' | SimdMode;
  /**
   * Threads the batched kernels may run on (like `torch.set_num_threads`; change it later with setNumThreads).
   * Default: the number of cores, at most 8, where shared memory and workers exist; else 1 (Cloudflare workerd,
   * pages that are not cross-origin isolated), and asking for more there runs on 1 (backendInfo() says why).
   * More than one loads the threads build of the core (shared memory); its worker pool starts on the first call
   * that can use it. An integer from 1 to 64.
   */
  threads?: number;
}

interface Backend {
  kernels: Kernels;
  simd: SimdMode;
  requested: 'auto' | SimdMode;
  /** The `module` option of the successful init, if any: passing it again needs no check. */
  source: WebAssembly.Module | WasmBytes | undefined;
  /** The threads build's shared state, or null for a single-thread build. */
  shared: SharedCore | null;
}

/** A threads build: its module (instantiated again in each worker), the main thread's thread block and the lazy pool. */
interface SharedCore {
  module: WebAssembly.Module;
  block: number;
  pool: ThreadPool | null;
}

/** Threads asked for (init, setNumThreads), in use, why fewer when fewer, and whether small calls split too. */
const threadSetting = { requested: 1, active: 1, reason: undefined as string | undefined, everyCall: false };

/** Options of setNumThreads. */
export interface ThreadOptions {
  /**
   * Split every call that can be split, however small, instead of only those big enough to gain from
   * threads (default false). For testing the threaded paths on small inputs: small calls run slower.
   */
  everyCall?: boolean;
}

const THREAD_OPTION_KEYS = optionKeys<ThreadOptions>({ everyCall: true });

let backend: Backend | null = null;
let pending: Promise<void> | null = null;

// The smallest module using f32x4.relaxed_madd: (func (result v128) (relaxed_madd (v128.const 0) ×3)).
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body of 59 bytes, no locals
  0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x0c, ...new Array(16).fill(0),
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd, end
]);

let relaxedSupported: boolean | undefined;

/** Whether this engine accepts relaxed SIMD (checked once, cached). */
export function hasRelaxedSimd(): boolean {
  relaxedSupported ??= WebAssembly.validate(RELAXED_PROBE);
  return relaxedSupported;
}

function chooseSimd(requested: 'auto' | SimdMode): SimdMode {
  if (requested === 'baseline') return 'baseline';
  if (requested === 'relaxed') {
    if (!hasRelaxedSimd()) {
      throw new InitError("init({ simd: 'relaxed' }): this engine does not support relaxed SIMD (WebAssembly.validate rejected it); use simd: 'auto' or 'baseline'");
    }
    return 'relaxed';
  }
  return hasRelaxedSimd() ? 'relaxed' : 'baseline';
}

const INIT_OPTION_KEYS = optionKeys<InitOptions>({ module: true, simd: true, threads: true });

function checkOptions(options: InitOptions | undefined, where: string): 'auto' | SimdMode {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InitError(`${where}: expected an options object, got ${options === null ? 'null' : typeof options}`);
  }
  const simd = strictOptions(options, INIT_OPTION_KEYS, where).simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'relaxed' && simd !== 'baseline') {
    throw new InitError(`${where}: simd must be 'auto', 'relaxed' or 'baseline', got ${JSON.stringify(simd)}`);
  }
  if (options?.threads !== undefined) checkThreadCount(options.threads, `${where}: threads`, InitError);
  return simd;
}

function checkThreadCount(value: unknown, what: string, ErrorClass: typeof InitError | typeof ArgumentError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new ErrorClass(`${what} must be an integer from 1 to ${MAX_THREADS}, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

/** The threads init() should use: the option, or by default the cores (at most 8) where threads can run. */
function requestedThreads(options: InitOptions | undefined): number {
  return options?.threads ?? (threadsUnavailable() === null ? Math.min(coreCount(), 8) : 1);
}

/** Records the threads asked for and how many the backend can run, with the reason when fewer. */
function settleThreads(requested: number, shared: boolean, singleBuildReason: string | undefined): void {
  threadSetting.requested = requested;
  threadSetting.active = shared ? requested : 1;
  threadSetting.reason = requested > threadSetting.active ? singleBuildReason : undefined;
}

/**
 * After a successful init, later calls are no-ops (so per-request `initSync({ module })` on the edge is
 * cheap), except a request for the other SIMD build, explicit or by a `module` of the other build, which throws.
 */
function alreadyInitialized(requested: 'auto' | SimdMode, source: WebAssembly.Module | WasmBytes | undefined, where: string): boolean {
  if (!backend) return false;
  if (requested !== 'auto' && requested !== backend.simd) {
    throw new InitError(`looptree is already initialized with the ${backend.simd} build; init() cannot switch to '${requested}' after a successful init`);
  }
  if (source !== undefined && source !== backend.source) {
    const module = compileSync(source);
    if (isThreadsBuild(module)) return true; // instantiating it would take shared memory; the SIMD flavour is checked at init
    const simd = buildOf(instantiate(module));
    if (simd !== backend.simd) {
      throw new InitError(`${where}: module must be the ${backend.simd} build looptree is already initialized with, got the ${simd} build`);
    }
  }
  return true;
}

/** Whether `module` is a threads build: one that imports its (shared) memory. */
function isThreadsBuild(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((entry) => entry.kind === 'memory');
}

// The threads builds' memory: AssemblyScript's initialMemory (asconfig.json) and the 32-bit maximum, shared.
const SHARED_MEMORY = { initial: 2, maximum: 65536, shared: true };

function instantiate(module: WebAssembly.Module, memory?: WebAssembly.Memory): Kernels {
  const imports = {
    env: {
      ...(memory ? { memory } : {}),
      now: () => performance.now(), // a clock for gemmInt8's one-time choice of its dot (assembly/quantized.ts)
      abort(): never {
        throw new InitError('the looptree Wasm core aborted (an internal invariant failed)');
      },
      // The threads builds' barrier asks this when the main thread has waited long (assembly/threads.ts).
      ...(memory ? { workerGone: () => (backend?.shared?.pool?.workerGone() ? 1 : 0) } : {}),
    },
  };
  const instance = new WebAssembly.Instance(module, imports);
  const kernels = instance.exports as unknown as Kernels;
  if (typeof kernels.rnnForward !== 'function' || !(kernels.memory instanceof WebAssembly.Memory)) {
    throw new InitError('the given WebAssembly module is not a looptree core (missing exports rnnForward / memory)');
  }
  return kernels;
}

function compileSync(source: WebAssembly.Module | WasmBytes): WebAssembly.Module {
  if (source instanceof WebAssembly.Module) return source;
  if (!(source instanceof ArrayBuffer) && !ArrayBuffer.isView(source)) {
    throw new InitError(`init(): module must be a WebAssembly.Module or the .wasm bytes, got ${typeof source}`);
  }
  try {
    // WasmBytes is spelled without TypeScript 5.7's ArrayBufferView<ArrayBuffer>, so that older compilers read our types.
    return new WebAssembly.Module(source as BufferSource);
  } catch (error) {
    throw new InitError(`init(): could not compile the given .wasm bytes: ${(error as Error).message}`);
  }
}

function buildOf(kernels: Kernels): SimdMode {
  return kernels.simdFlavor() === 1 ? 'relaxed' : 'baseline';
}

function activate(module: WebAssembly.Module, requested: 'auto' | SimdMode, source: WebAssembly.Module | WasmBytes | undefined, threads: number): void {
  let shared: SharedCore | null = null;
  let kernels: Kernels;
  if (isThreadsBuild(module)) {
    const unavailable = threadsUnavailable();
    if (unavailable !== null) throw new InitError(`init(): module is a threads build, which cannot run here (${unavailable}); pass a single-thread build (looptree-baseline.wasm or looptree-relaxed.wasm)`);
    kernels = instantiate(module, new WebAssembly.Memory(SHARED_MEMORY));
    // The start function (exported, so that workers never run it) sets up the allocator's statics; then this
    // instance becomes thread 0, with its per-thread objects off the static data (each pool gives it a control block).
    (kernels as unknown as { _start(): void })._start();
    const block = kernels.alloc(kernels.threadBlockBytes());
    kernels.threadInit(0, block, 0, mayBlock() ? 1 : 0);
    shared = { module, block, pool: null };
  } else {
    kernels = instantiate(module);
  }
  const simd = buildOf(kernels);
  if (requested !== 'auto' && requested !== simd) {
    throw new InitError(`init(): simd '${requested}' was requested but the given module is the ${simd} build`);
  }
  const reason = threadsUnavailable() ?? (source !== undefined
    ? 'init({ module }) was given a single-thread build (pass looptree-<simd>-threads.wasm for threads)'
    : undefined);
  backend = { kernels, simd, requested, source, shared };
  settleThreads(threads, shared !== null, reason);
}

async function locateModule(simd: SimdMode, threads: boolean): Promise<WebAssembly.Module> {
  const url = new URL(`./looptree-${simd}${threads ? '-threads' : ''}.wasm`, import.meta.url);
  try {
    if (__NODE__) {
      // node:fs is loaded with Node itself: process.getBuiltinModule (Node ≥ 20.16) hands it over at
      // once, where import() first builds its ES module facade (~3 ms of a cold start).
      const fs: typeof import('node:fs') = process.getBuiltinModule?.('node:fs') ?? (await import('node:fs'));
      return await WebAssembly.compile(fs.readFileSync(url));
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (error) {
    throw new InitError(`init(): could not load ${url.href} (${(error as Error).message}); pass init({ module }) with the .wasm imported or fetched yourself`);
  }
}

/**
 * Loads and instantiates the Wasm core; call it once before creating modules (like esbuild-wasm's `initialize`).
 * Idempotent; a failed init can be retried. Without `module`, Node reads the .wasm from the package and browsers
 * fetch it next to this file. Calls made while one is in progress wait for it, then are checked against its build
 * like later calls. Throws (rejects with) InitError when the .wasm cannot be loaded or compiled, is not a looptree
 * core, `simd: 'relaxed'` is asked of an engine without relaxed SIMD, or a later call asks for the other build.
 */
export async function init(opts?: InitOptions): Promise<void> {
  const requested = checkOptions(opts, 'init()');
  while (pending) await pending.catch(() => undefined); // its failure is its caller's; this call then tries itself
  if (alreadyInitialized(requested, opts?.module, 'init()')) {
    if (opts?.threads !== undefined) setNumThreads(opts.threads);
    return;
  }
  pending = (async () => {
    const threads = requestedThreads(opts);
    const module = opts?.module !== undefined
      ? compileSync(opts.module)
      : await locateModule(chooseSimd(requested), threads > 1 && threadsUnavailable() === null);
    activate(module, requested, opts?.module, threads);
  })().finally(() => {
    pending = null;
  });
  return pending;
}

/**
 * Synchronous init for workers and edge runtimes: `module` is required (a Module or the .wasm bytes). Throws
 * InitError without `module`, while an asynchronous init() is in progress, and in init()'s cases.
 */
export function initSync(opts: InitOptions & { module: WebAssembly.Module | WasmBytes }): void {
  const requested = checkOptions(opts, 'initSync()');
  if (opts?.module === undefined) {
    throw new InitError('initSync(): opts.module is required (a WebAssembly.Module or the .wasm bytes)');
  }
  if (alreadyInitialized(requested, opts.module, 'initSync()')) {
    if (opts.threads !== undefined) setNumThreads(opts.threads);
    return;
  }
  if (pending) throw new InitError('initSync(): an asynchronous init() is in progress');
  activate(compileSync(opts.module), requested, opts.module, requestedThreads(opts));
}

/**
 * Which build is running (`simd`: 'relaxed' or 'baseline'), how much linear memory it holds now (`memoryBytes`: it
 * only grows), how much of it looptree's live blocks take (`heapBytes` in `heapBlocks` blocks: parameters, gradients,
 * packed weights, tapes, streams and the per-call arena; a disposed or garbage-collected model's blocks are free
 * again), the package version (`version`), and `threads`: how many threads the batched kernels run on, with
 * `threadsReason` saying why when that is fewer than asked for. Throws InitError before init.
 */
export function backendInfo(): {
  simd: SimdMode; memoryBytes: number; heapBytes: number; heapBlocks: number; version: string; threads: number; threadsReason?: string;
} {
  const { simd, kernels } = current();
  const info = {
    simd, memoryBytes: kernels.memory.buffer.byteLength, heapBytes: liveBytes, heapBlocks: liveBlocks.size, version: __VERSION__,
    threads: threadSetting.active,
  };
  return threadSetting.reason === undefined ? info : { ...info, threadsReason: threadSetting.reason };
}

/**
 * Sets the threads the batched kernels run on from now on (PyTorch: `torch.set_num_threads`), an integer
 * from 1 to 64 (`opts`: ThreadOptions). With the single-thread build (where init() could not use threads) every count runs on 1;
 * backendInfo() says why. Results are bitwise identical for any count. Throws ArgumentError on a bad count,
 * InitError before init.
 */
export function setNumThreads(threads: number, opts?: ThreadOptions): void {
  const { shared } = current();
  checkThreadCount(threads, 'setNumThreads(): threads', ArgumentError);
  const everyCall = strictOptions(opts, THREAD_OPTION_KEYS, 'setNumThreads()').everyCall ?? false;
  if (typeof everyCall !== 'boolean') throw new ArgumentError(`setNumThreads(): everyCall must be a boolean, got ${typeof everyCall}`);
  threadSetting.everyCall = everyCall;
  settleThreads(threads, shared !== null, threadSetting.reason ?? 'looptree was initialized with its single-thread build (init({ threads: 1 }))');
}

/**
 * Starts the worker pool now (it otherwise starts on the first call that can use it; until it is ready, calls
 * run on one thread) and resolves when every worker is ready. Resolves at once without threads.
 * Rejects with ThreadError if a worker cannot start.
 */
export async function threadsReady(): Promise<void> {
  const { shared } = current();
  if (shared === null || threadSetting.active < 2) return;
  await pool(shared).grow(threadSetting.active);
}

function pool(shared: SharedCore): ThreadPool {
  return shared.pool ??= new ThreadPool(shared.module, kernels().memory, kernels(), { allocate: allocBytes, free: freeBytes }, shared.block);
}

/**
 * Runs `job` on `argument` with the threads in use when `worthThreads` (the call is big enough to gain from
 * them) and the pool is ready; otherwise, and with one thread, calls `single()`. Starts the pool lazily.
 * A worker that failed or exited since the last call is a ThreadError here, and so is one whose job throws, or
 * (Linux) whose thread ends, during this call (bindings/threads.ts); after any failed job the pool is stopped
 * and the next call starts a new one.
 */
export function runJob(job: Job, argument: number, worthThreads: boolean, single: () => void): void {
  const { shared } = current();
  const threads = threadSetting.active;
  if (shared === null || threads < 2 || !(worthThreads || threadSetting.everyCall)) return single();
  const workers = pool(shared);
  if (workers.failed !== null) {
    const why = workers.failed;
    stopPool(shared);
    throw new ThreadError(`a looptree worker thread stopped (${why}); the pool restarts on the next call`);
  }
  if (!workers.ready(threads)) {
    workers.grow(threads).catch(() => undefined); // a failure is reported by the next call
    return single();
  }
  try {
    workers.run(job, argument, threads);
  } catch (error) {
    stopPool(shared); // the job's workers have left it and ended (threadAbort)
    throw error;
  }
}

/**
 * Testing only (test/worker-death.test.ts reaches it through this module; the public entry does not export it):
 * the last worker of the next threaded job acts out `fault` (WorkerFault: exit its thread, throw, or exit after
 * its part). Throws InitError without a started pool.
 */
export function injectWorkerFault(fault: WorkerFault): void {
  const workers = current().shared?.pool;
  if (!workers) throw new InitError('injectWorkerFault(): no worker pool has started');
  workers.injectFault(fault);
}

/** Testing only: why the running pool has failed (a worker's error or exit event has arrived), or null. */
export function workerPoolFailure(): string | null {
  return current().shared?.pool?.failed ?? null;
}

function stopPool(shared: SharedCore): void {
  shared.pool?.stop();
  shared.pool = null;
}

function current(): Backend {
  if (!backend) throw new InitError('looptree is not initialized: call `await init()` (or initSync({ module })) first');
  return backend;
}

/** The Wasm exports; throws InitError before init. */
export function kernels(): Kernels {
  return current().kernels;
}

/** Floats of a weight [n, k] packed for gemmPacked (as the core's packedSize, in doubles: no 32-bit wrap). */
export function packedFloats(n: number, k: number): number {
  const width = kernels().panelWidth();
  return Math.ceil(n / width) * width * k;
}

/** n rounded up to a multiple of the packed panel width of the build in use: the floats of a bias gemmPacked reads. */
export function padToPanels(n: number): number {
  const width = kernels().panelWidth();
  return Math.ceil(n / width) * width;
}

// Views on linear memory: re-derived whenever memory.buffer has changed (after memory.grow).
let viewBuffer: ArrayBuffer | null = null;
let f32View = new Float32Array(0);
let i32View = new Int32Array(0);

function refreshViews(): void {
  const buffer = kernels().memory.buffer;
  if (buffer !== viewBuffer) {
    viewBuffer = buffer;
    f32View = new Float32Array(buffer);
    i32View = new Int32Array(buffer);
  }
}

/** A float32 view of all of linear memory, valid until the next call that may grow memory. */
export function heapF32(): Float32Array {
  refreshViews();
  return f32View;
}

/** An int32 view of all of linear memory, valid until the next call that may grow memory. */
export function heapI32(): Int32Array {
  refreshViews();
  return i32View;
}

/** Copies `values` into linear memory at byte offset `ptr`. */
export function writeF32(ptr: number, values: ArrayLike<number>): void {
  heapF32().set(values, ptr >>> 2);
}

/** Copies `count` floats at byte offset `ptr` out into a new JS-owned array. */
export function readF32(ptr: number, count: number): Float32Array {
  return heapF32().slice(ptr >>> 2, (ptr >>> 2) + count);
}

/**
 * Index of the first NaN or ±Infinity in `values`, or −1: checked in Wasm on a copy in the arena, which
 * is fast even in a cold process (a JS loop over a large weight runs interpreted the first time).
 */
export function firstNonFinite(values: Float32Array): number {
  const at = reserveArena(values.length * 4);
  writeF32(at, values);
  return kernels().firstNonFinite(at, values.length);
}

// The live blocks (offset → bytes asked), for backendInfo's heapBytes: what a leak or a failed call would change.
const liveBlocks = new Map<number, number>();
let liveBytes = 0;

/**
 * Allocates a 16-byte aligned heap block (may grow memory). A request that cannot be satisfied throws
 * OutOfMemoryError with nothing written and the allocator as it was: sizes are checked here in JS numbers
 * (checkedBytes), and the one way the allocator can still fail — memory.grow refused by the engine, a trap in
 * TLSF's growMemory before it changes any of its lists — is caught and reported the same way.
 */
export function allocBytes(bytes: number): number {
  const core = kernels();
  const memoryBytes = checkedBytes(bytes);
  let ptr: number;
  try {
    ptr = core.alloc(Math.max(16, bytes)) >>> 0; // an offset past 2³¹ comes back as a negative i32
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    throw new OutOfMemoryError(bytes, memoryBytes, `the engine refused to grow linear memory past ${core.memory.buffer.byteLength} bytes`);
  }
  if (ptr === 0) throw new OutOfMemoryError(bytes, memoryBytes);
  liveBlocks.set(ptr, bytes);
  liveBytes += bytes;
  return ptr;
}

/**
 * Throws OutOfMemoryError unless `bytes` is a size one heap block can have and linear memory could still hold it
 * (returns memory's size now). Checked in JS numbers: a size past 2³² would wrap to 32 bits in Wasm (a small block
 * that the caller then overruns). One block holds less than 1 GiB (the allocator's limit, where it would abort);
 * since every buffer a kernel reads or writes lies in one block, no byte offset inside the core reaches 2³¹.
 */
export function checkedBytes(bytes: number): number {
  const memoryBytes = kernels().memory.buffer.byteLength;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_BLOCK_BYTES) {
    throw new OutOfMemoryError(bytes, memoryBytes, `one block holds at most ${MAX_BLOCK_BYTES} bytes (1 GiB − 64 KiB)`);
  }
  return memoryBytes;
}

/** The largest block looptree asks the allocator for: below TLSF's 2³⁰ bytes, with room for its rounding and headers. */
export const MAX_BLOCK_BYTES = 2 ** 30 - 2 ** 16;

export function freeBytes(ptr: number): void {
  if (backend && ptr !== 0) {
    const bytes = liveBlocks.get(ptr);
    if (bytes === undefined) return; // not a live block: freeing it again would corrupt the allocator's lists
    liveBlocks.delete(ptr);
    liveBytes -= bytes;
    backend.kernels.release(ptr);
  }
}

/**
 * The per-call scratch arena: one heap block, grown (never shrunk) to the largest call so far. A call
 * lays out what it needs with `Layout`, reserves it, and is done with it when it returns.
 */
let arenaPtr = 0;
let arenaBytes = 0;

export function reserveArena(bytes: number): number {
  if (bytes > arenaBytes) {
    freeBytes(arenaPtr);
    arenaPtr = 0;
    arenaBytes = 0;
    const size = Math.max(bytes, 1 << 16);
    arenaPtr = allocBytes(size);
    arenaBytes = size;
  }
  return arenaPtr;
}

/** Byte offsets of the pieces of a block (a call's arena, a module's parameters), each 16-byte aligned. */
export class Layout {
  size = 0;
  /** Reserves `bytes` and returns their offset from the arena start. */
  take(bytes: number): number {
    const offset = this.size;
    this.size += Math.ceil(bytes / 16) * 16; // in doubles: a 32-bit `& ~15` would wrap sizes past 2³¹
    return offset;
  }
}

/**
 * Frees Wasm blocks of objects that were garbage-collected without dispose(). Runtimes without
 * FinalizationRegistry (Cloudflare's workerd) get a guard that does nothing: there only dispose() frees.
 */
export const leakGuard: Pick<FinalizationRegistry<number[]>, 'register' | 'unregister'> = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<number[]>((blocks) => {
    for (const ptr of blocks) freeBytes(ptr);
  })
  : { register: () => undefined, unregister: () => false };
