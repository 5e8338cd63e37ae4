// The worker pool of the threads builds: the same Wasm module instantiated in each worker (worker_threads in
// Node, module Web Workers in browsers) on the one shared memory, started lazily by the first call that can
// use it, and driven through a control block in that memory (assembly/threads.ts, abi.ts ThreadControl): the
// main thread posts a job by bumping a word, workers spin then Atomics.wait on it, and the kernels meet at
// Wasm barriers. Workers never allocate; the main instance's allocator gives them their blocks.
//
// A worker that dies: one that fails or exits between calls is a ThreadError on the next call (the pool learns
// it from the worker's error/exit event). During a call, a worker whose job throws aborts the job (threadAbort:
// every thread leaves its barrier, the call throws ThreadError). A worker whose thread ends during a call (killed,
// process.exit() in it, a crash) is found by the main thread while it waits at a barrier: every WAIT_CHECK_NS
// (assembly/threads.ts) it asks workerGone(), which on Linux (Node, Bun; Deno with --allow-all) checks that each
// worker's OS thread still exists, and aborts the job when one does not. Where no OS thread id can be had (browsers,
// macOS, Windows, Deno without --allow-all) no such check exists and a worker killed during a call still blocks the
// caller. A browser worker that ends between calls is not seen either (browsers have no exit event).
// After any failed job the pool is stopped, and the next call that can use threads starts a new one.

import { Job, ThreadControl, WorkerFault } from '../assembly/abi.js';
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
  words: {
    WORDS: number; SEQUENCE: number; JOB: number; ARGUMENT: number; COUNT: number; READY: number; FAULT: number;
    OS_THREADS: number; LEFT: number;
  };
}

/** What a worker reports: ready, or the error that ended it. */
type WorkerReport = { ready: true } | { error: string };

/**
 * The body of every worker, as source text (the bundler's renaming and keepNames helpers would break a
 * stringified function), so that no extra file has to be found next to the bundle. `listen` hands over the
 * WorkerSetup message, `post` sends a WorkerReport, `osThread` returns this thread's OS thread id (0 where
 * unknown), `exit` ends this thread. The worker instantiates the module on the shared memory, becomes thread
 * `index` (threadInit), records its OS thread id, then waits for jobs: a short spin catches the next job of a
 * busy caller without a futex wake-up, then it sleeps in Atomics.wait on the SEQUENCE word. Job 0 stops it. A
 * job that throws aborts it for every thread (threadAbort) and ends the worker; either way the worker records the
 * job as LEFT, which the main thread awaits after a failed job before it lets memory be reused.
 * The last worker of a job acts out the FAULT word when set (testing only: WorkerFault in abi.ts).
 */
const WORKER_MAIN = `(listen, post, osThread, exit) => listen((setup) => {
  const { module, memory, index, block, control, words } = setup;
  let core;
  try {
    const abort = () => { throw new Error('the looptree Wasm core aborted (an internal invariant failed)'); };
    core = new WebAssembly.Instance(module, { env: { memory, abort, workerGone: () => 0, now: () => performance.now() } }).exports;
    core.threadInit(index, block, control, 1);
  } catch (error) {
    post({ error: 'worker ' + index + ' could not start: ' + error.message });
    return;
  }
  const control32 = new Int32Array(memory.buffer, control, words.WORDS);
  let seen = Atomics.load(control32, words.SEQUENCE);
  Atomics.store(control32, words.OS_THREADS + index, osThread());
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
    // Read before it is cleared: no write to the line the other workers spin on, unless a test set it.
    const fault = index === count - 1 && Atomics.load(control32, words.FAULT) !== ${WorkerFault.NONE} ? Atomics.exchange(control32, words.FAULT, ${WorkerFault.NONE}) : ${WorkerFault.NONE};
    if (fault === ${WorkerFault.EXIT}) return exit();
    try {
      if (fault === ${WorkerFault.THROW}) throw new Error('a fault injected for testing');
      core.runJob(job, Atomics.load(control32, words.ARGUMENT), count);
    } catch (error) {
      core.threadAbort();
      Atomics.store(control32, words.LEFT + index, seen);
      Atomics.notify(control32, words.LEFT + index);
      post({ error: 'worker ' + index + ' failed: ' + error.message });
      return;
    }
    Atomics.store(control32, words.LEFT + index, seen);
    if (fault === ${WorkerFault.EXIT_AFTER}) return exit();
  }
})`;

/** The two kinds of worker this pool starts: Node's worker_threads and the Web Worker. */
interface PoolWorker {
  terminate(): void;
}

type NodeWorkers = typeof import('node:worker_threads');

/**
 * Starts worker `setup.index`. `onFailure` hears why it failed or exited; `onEnd` that its thread has ended
 * (Node's exit event: from then on it touches no memory; a browser tells no such thing).
 */
function startWorker(setup: WorkerSetup, onReport: (report: WorkerReport) => void, onFailure: (why: string) => void, onEnd: () => void): PoolWorker {
  if (__NODE__) {
    const { Worker } = process.getBuiltinModule('node:worker_threads') as NodeWorkers;
    // The OS thread id from /proc/thread-self (Linux), kept only if the main thread's check (workerGone) can see it.
    const source = `const { parentPort } = process.getBuiltinModule('node:worker_threads');
const fs = process.getBuiltinModule('node:fs');
const osThread = () => {
  try {
    const id = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    return id > 0 && fs.existsSync('/proc/self/task/' + id) ? id : 0;
  } catch {
    return 0;
  }
};
(${WORKER_MAIN})((handler) => parentPort.once('message', handler), (report) => parentPort.postMessage(report), osThread, () => process.exit(1));`;
    const worker = new Worker(source, { eval: true });
    worker.on('message', (report: WorkerReport) => {
      // Once ready, an idle pool never keeps the process alive (while starting, threadsReady() awaits it).
      worker.unref();
      onReport(report);
    });
    worker.on('error', (error) => onFailure(`worker ${setup.index} failed: ${error.message}`));
    worker.on('exit', (code) => {
      onFailure(`worker ${setup.index} exited (code ${code})`);
      onEnd();
    });
    worker.postMessage(setup);
    return worker;
  }
  const source = `(${WORKER_MAIN})((handler) => { self.onmessage = (event) => handler(event.data); }, (report) => self.postMessage(report), () => 0, () => self.close());`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module', name: `looptree-${setup.index}` });
  URL.revokeObjectURL(url);
  worker.onmessage = (event: MessageEvent<WorkerReport>) => onReport(event.data);
  worker.onerror = (event: ErrorEvent) => onFailure(`worker ${setup.index} failed: ${event.message}`);
  worker.postMessage(setup);
  return worker;
}

/** How long (ms) the main thread waits at a time for the workers of a failed job to leave it. */
const WAIT_CHECK_MS = 100;

/** What the pool needs of the main instance's allocator. */
interface Allocator {
  allocate(bytes: number): number;
  free(pointer: number): void;
}

/**
 * A persistent pool of workers on the threads build's shared memory, with a control block of its own (so that
 * the workers of a stopped pool, until their threads end, can never take a job of the next). `run` executes a job
 * on the main thread and the ready workers together.
 */
export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly readyPromises: Promise<void>[] = [];
  /** The blocks this pool allocated: its control block and each worker's thread block. */
  private readonly blocks: number[] = [];
  /** Workers whose thread has ended (Node's exit event). */
  private ended = 0;
  private stopped = false;
  private failure: string | null = null;
  private readonly control: number;
  private readonly control32: Int32Array;

  /** Makes the main instance thread 0 of a new pool (its thread objects go to `mainBlock`); starts no worker yet. */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly core: CoreExports,
    private readonly allocator: Allocator,
    mainBlock: number,
  ) {
    this.control = allocator.allocate(ThreadControl.WORDS * 4);
    this.blocks.push(this.control);
    this.control32 = new Int32Array(memory.buffer, this.control, ThreadControl.WORDS);
    this.control32.fill(0);
    core.threadInit(0, mainBlock, this.control, mayBlock() ? 1 : 0);
  }

  /** Starts workers until there are `threads − 1`; resolves when all of them are ready. */
  grow(threads: number): Promise<void> {
    while (this.workers.length < threads - 1 && this.failure === null) {
      const index = this.workers.length + 1;
      const block = this.allocator.allocate(this.core.threadBlockBytes());
      this.blocks.push(block);
      const setup: WorkerSetup = {
        module: this.module, memory: this.memory, index, block, control: this.control,
        words: {
          WORDS: ThreadControl.WORDS, SEQUENCE: ThreadControl.SEQUENCE, JOB: ThreadControl.JOB, ARGUMENT: ThreadControl.ARGUMENT,
          COUNT: ThreadControl.COUNT, READY: ThreadControl.READY, FAULT: ThreadControl.FAULT,
          OS_THREADS: ThreadControl.OS_THREADS, LEFT: ThreadControl.LEFT,
        },
      };
      this.readyPromises.push(new Promise<void>((resolve, reject) => {
        const worker = startWorker(setup, (report) => {
          if ('ready' in report) resolve();
          else this.fail(report.error, reject);
        }, (why) => this.fail(why, reject), () => {
          this.ended++;
          this.releaseWhenEnded();
        });
        this.workers.push(worker);
      }));
    }
    return Promise.all(this.readyPromises.slice(0, threads - 1)).then(() => undefined);
  }

  private fail(why: string, reject: (error: Error) => void): void {
    this.failure ??= why;
    reject(new ThreadError(why));
  }

  /** Whether `threads − 1` workers are ready to take a job now (every worker started so far, so none misses it). */
  ready(threads: number): boolean {
    return this.workers.length >= threads - 1 && Atomics.load(this.control32, ThreadControl.READY) >= this.workers.length;
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
    const sequence = Atomics.add(control, ThreadControl.SEQUENCE, 1) + 1;
    Atomics.notify(control, ThreadControl.SEQUENCE);
    try {
      this.core.runJob(job, argument, threads);
    } catch (error) {
      // 1 + the first thread that failed: a worker whose part threw, or this one, having found a worker gone.
      const aborted = Atomics.load(control, ThreadControl.ABORT);
      this.core.threadAbort(); // the workers leave the job at their next barrier; so does this instance
      this.awaitWorkersLeaving(threads, sequence);
      if (aborted !== 0) {
        const why = aborted > 1 ? `worker ${aborted - 1}'s part of the job threw` : this.failure;
        throw new ThreadError(`a looptree worker thread failed during the call (${why}); the pool was stopped and restarts on the next call`);
      }
      throw error;
    }
  }

  /**
   * After failed job `sequence`: waits until every worker of it whose thread still exists has left it (LEFT), so
   * that none writes to memory once the call has thrown. Those that have not yet reached a barrier leave at the next.
   */
  private awaitWorkersLeaving(threads: number, sequence: number): void {
    const control = this.control32;
    const block = mayBlock();
    for (let index = 1; index < threads; index++) {
      for (;;) {
        const left = Atomics.load(control, ThreadControl.LEFT + index);
        if (left === sequence || this.threadEnded(index)) break;
        if (block) Atomics.wait(control, ThreadControl.LEFT + index, left, WAIT_CHECK_MS);
      }
    }
  }

  /**
   * Called by the main instance (Wasm import `workerGone`) when it has waited WAIT_CHECK_NS at a barrier: whether
   * a worker of the running job has gone (its OS thread has ended; known on Linux only). Records why.
   */
  workerGone(): boolean {
    const threads = Atomics.load(this.control32, ThreadControl.COUNT);
    for (let index = 1; index < threads; index++) {
      if (this.threadEnded(index)) {
        this.failure ??= `worker ${index}'s thread ended during the call`;
        return true;
      }
    }
    return false;
  }

  /** Whether worker `index`'s OS thread has ended: its /proc/self/task entry is gone (Linux); false where unknown. */
  private threadEnded(index: number): boolean {
    if (!__NODE__) return false;
    const thread = Atomics.load(this.control32, ThreadControl.OS_THREADS + index);
    return thread > 0 && !(process.getBuiltinModule('node:fs') as typeof import('node:fs')).existsSync(`/proc/self/task/${thread}`);
  }

  /**
   * Testing only (runtime.ts injectWorkerFault): the last worker of the next job acts out `fault` (WorkerFault).
   */
  injectFault(fault: WorkerFault): void {
    Atomics.store(this.control32, ThreadControl.FAULT, fault);
  }

  /**
   * Stops every worker (they leave their wait on the stop job, or are terminated). The pool's blocks are freed once
   * every worker's thread has ended (Node); a browser never says so, and there they stay allocated.
   */
  stop(): void {
    const control = this.control32;
    Atomics.store(control, ThreadControl.JOB, 0);
    Atomics.add(control, ThreadControl.SEQUENCE, 1);
    Atomics.notify(control, ThreadControl.SEQUENCE);
    for (const worker of this.workers) worker.terminate();
    this.stopped = true;
    this.releaseWhenEnded();
  }

  private releaseWhenEnded(): void {
    if (!this.stopped || this.ended < this.workers.length) return;
    for (const block of this.blocks.splice(0)) this.allocator.free(block);
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
