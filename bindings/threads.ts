// The worker pool of the threads builds: the same Wasm module instantiated in each worker (worker_threads in
// Node, module Web Workers in browsers) on the one shared memory, started lazily by the first call that can
// use it, and driven through a control block in that memory (assembly/threads.ts, abi.ts ThreadControl): the
// main thread posts a job by bumping a word, workers spin then Atomics.wait on it, and the kernels meet at
// Wasm barriers. Workers never allocate; the main instance's allocator gives them their blocks.

import { Job, ThreadControl } from '../assembly/abi.js';
import { ThreadError } from './errors.js';
import type { CoreExports } from './generated/core.js';

declare const __NODE__: boolean;

/** The most threads init() and setNumThreads() accept. */
export const MAX_THREADS = 64;

/** What a worker needs to become thread `index`: posted once, right after it starts. */
interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
  block: number;
  control: number;
  words: { WORDS: number; SEQUENCE: number; JOB: number; ARGUMENT: number; COUNT: number; READY: number };
}

/** What a worker reports: ready, or the error that ended it. */
type WorkerReport = { ready: true } | { error: string };

/**
 * The body of every worker, as source text (the bundler's renaming and keepNames helpers would break a
 * stringified function), so that no extra file has to be found next to the bundle. `listen` hands over the
 * WorkerSetup message, `post` sends a WorkerReport. The worker instantiates the module on the shared memory,
 * becomes thread `index` (threadInit), then waits for jobs: a short spin catches the next job of a busy
 * caller without a futex wake-up, then it sleeps in Atomics.wait on the SEQUENCE word. Job 0 stops it.
 */
const WORKER_MAIN = `(listen, post) => listen((setup) => {
  const { module, memory, index, block, control, words } = setup;
  let core;
  try {
    const abort = () => { throw new Error('the looptree Wasm core aborted (an internal invariant failed)'); };
    core = new WebAssembly.Instance(module, { env: { memory, abort, now: () => performance.now() } }).exports;
    core.threadInit(index, block, control, 1);
  } catch (error) {
    post({ error: 'worker ' + index + ' could not start: ' + error.message });
    return;
  }
  const control32 = new Int32Array(memory.buffer, control, words.WORDS);
  let seen = Atomics.load(control32, words.SEQUENCE);
  Atomics.add(control32, words.READY, 1);
  post({ ready: true });
  for (;;) {
    for (let spin = 0; spin < 20000 && Atomics.load(control32, words.SEQUENCE) === seen; spin++);
    while (Atomics.load(control32, words.SEQUENCE) === seen) Atomics.wait(control32, words.SEQUENCE, seen);
    seen = Atomics.load(control32, words.SEQUENCE);
    const job = Atomics.load(control32, words.JOB);
    if (job === 0) return;
    const count = Atomics.load(control32, words.COUNT);
    if (index >= count) continue;
    try {
      core.runJob(job, Atomics.load(control32, words.ARGUMENT), count);
    } catch (error) {
      core.threadAbort();
      post({ error: 'worker ' + index + ' failed: ' + error.message });
      return;
    }
  }
})`;

/** The two kinds of worker this pool starts: Node's worker_threads and the Web Worker. */
interface PoolWorker {
  terminate(): void;
}

type NodeWorkers = typeof import('node:worker_threads');

function startWorker(setup: WorkerSetup, onReport: (report: WorkerReport) => void, onExit: (why: string) => void): PoolWorker {
  if (__NODE__) {
    const { Worker } = process.getBuiltinModule('node:worker_threads') as NodeWorkers;
    const source = `const { parentPort } = process.getBuiltinModule('node:worker_threads');
(${WORKER_MAIN})((handler) => parentPort.once('message', handler), (report) => parentPort.postMessage(report));`;
    const worker = new Worker(source, { eval: true });
    worker.on('message', (report: WorkerReport) => {
      // Once ready, an idle pool never keeps the process alive (while starting, threadsReady() awaits it).
      worker.unref();
      onReport(report);
    });
    worker.on('error', (error) => onExit(`worker ${setup.index} failed: ${error.message}`));
    worker.on('exit', (code) => onExit(`worker ${setup.index} exited (code ${code})`));
    worker.postMessage(setup);
    return worker;
  }
  const source = `(${WORKER_MAIN})((handler) => { self.onmessage = (event) => handler(event.data); }, (report) => self.postMessage(report));`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module', name: `looptree-${setup.index}` });
  URL.revokeObjectURL(url);
  worker.onmessage = (event: MessageEvent<WorkerReport>) => onReport(event.data);
  worker.onerror = (event: ErrorEvent) => onExit(`worker ${setup.index} failed: ${event.message}`);
  worker.postMessage(setup);
  return worker;
}

/**
 * A persistent pool of workers on the threads build's shared memory. `run` executes a job on the main thread
 * and the ready workers together, or returns false (the caller then runs the single-thread kernel).
 */
export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly readyPromises: Promise<void>[] = [];
  private failure: string | null = null;
  private readonly control32: Int32Array;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly core: CoreExports,
    private readonly control: number,
    private readonly allocate: (bytes: number) => number,
  ) {
    this.control32 = new Int32Array(memory.buffer, control, ThreadControl.WORDS);
  }

  /** Workers started (ready or not). */
  get size(): number {
    return this.workers.length;
  }

  /** Starts workers until there are `threads − 1`; resolves when all of them are ready. */
  grow(threads: number): Promise<void> {
    while (this.workers.length < threads - 1 && this.failure === null) {
      const index = this.workers.length + 1;
      const setup: WorkerSetup = {
        module: this.module, memory: this.memory, index, block: this.allocate(this.core.threadBlockBytes()), control: this.control,
        words: { WORDS: ThreadControl.WORDS, SEQUENCE: ThreadControl.SEQUENCE, JOB: ThreadControl.JOB, ARGUMENT: ThreadControl.ARGUMENT, COUNT: ThreadControl.COUNT, READY: ThreadControl.READY },
      };
      this.readyPromises.push(new Promise<void>((resolve, reject) => {
        const worker = startWorker(setup, (report) => {
          if ('ready' in report) resolve();
          else this.fail(report.error, reject);
        }, (why) => this.fail(why, reject));
        this.workers.push(worker);
      }));
    }
    return Promise.all(this.readyPromises.slice(0, threads - 1)).then(() => undefined);
  }

  private fail(why: string, reject: (error: Error) => void): void {
    this.failure ??= why;
    reject(new ThreadError(why));
  }

  /** Whether `threads − 1` workers are ready to take a job now. */
  ready(threads: number): boolean {
    return this.workers.length >= threads - 1 && Atomics.load(this.control32, ThreadControl.READY) >= threads - 1;
  }

  /** Why the pool cannot run jobs any more (a worker failed or exited), or null. */
  get failed(): string | null {
    return this.failure;
  }

  /** Runs `job` on `argument` with `threads` threads (this one included); the workers must be ready. */
  run(job: Job, argument: number, threads: number): void {
    const control = this.control32;
    Atomics.store(control, ThreadControl.JOB, job);
    Atomics.store(control, ThreadControl.ARGUMENT, argument);
    Atomics.store(control, ThreadControl.COUNT, threads);
    Atomics.add(control, ThreadControl.SEQUENCE, 1);
    Atomics.notify(control, ThreadControl.SEQUENCE);
    try {
      this.core.runJob(job, argument, threads);
    } catch (error) {
      if (Atomics.load(control, ThreadControl.ABORT) !== 0) {
        throw new ThreadError(`a looptree worker thread failed during the call${this.failure ? ` (${this.failure})` : ''}; the pool was stopped and restarts on the next call`);
      }
      throw error;
    }
  }

  /** Stops every worker (they leave their wait on the stop job, or are terminated) and resets the control words. */
  stop(): void {
    const control = this.control32;
    Atomics.store(control, ThreadControl.JOB, 0);
    Atomics.add(control, ThreadControl.SEQUENCE, 1);
    Atomics.notify(control, ThreadControl.SEQUENCE);
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
    this.readyPromises.length = 0;
    control.fill(0);
  }
}

/**
 * Whether this runtime can run threads, or why not: shared memory (SharedArrayBuffer; in browsers only on a
 * cross-origin isolated page) and workers (worker_threads in Node, Worker elsewhere).
 */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer !== 'function') {
    return typeof crossOriginIsolated === 'boolean' && !crossOriginIsolated
      ? 'SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)'
      : 'SharedArrayBuffer is unavailable in this runtime';
  }
  if (typeof crossOriginIsolated === 'boolean' && !crossOriginIsolated) {
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so Wasm memory cannot be shared';
  }
  if (__NODE__) {
    // Every Node with process.getBuiltinModule (≥ 20.16) has worker_threads; loading it here would cost a cold
    // start ~6 ms (it pulls in node:stream), so the pool loads it when it starts, on the first call that splits.
    return typeof process.getBuiltinModule === 'function' ? null : 'node:worker_threads cannot be loaded synchronously (process.getBuiltinModule needs Node ≥ 20.16)';
  }
  return typeof Worker === 'function' && typeof Blob === 'function' ? null : 'this runtime has no Worker';
}

/** Logical cores of this machine (navigator.hardwareConcurrency, Node's availableParallelism), at least 1. */
export function coreCount(): number {
  if (__NODE__) {
    const os = process.getBuiltinModule?.('node:os') as typeof import('node:os') | undefined;
    return Math.max(1, os?.availableParallelism?.() ?? os?.cpus().length ?? 1);
  }
  return Math.max(1, (typeof navigator === 'object' && navigator.hardwareConcurrency) || 1);
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
export function mayBlock(): boolean {
  if (__NODE__) return true;
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';
}
