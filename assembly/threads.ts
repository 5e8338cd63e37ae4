// Threads (the threads builds: shared memory, atomics): which thread this instance is, its own scratch, the
// barrier the parallel kernels meet at, and the job dispatcher every thread of the pool calls
// (bindings/threads.ts). Each worker instantiates the same module on the one shared memory but never runs
// the start function (it is exported, and only the main instance calls it): nothing here allocates, and a
// worker's per-thread objects live in a block the main thread allocated for it (threadInit). In the
// single-thread builds threadIndex stays 0, threadCount 1, and barrier() is empty.

import { Job, ThreadControl } from './abi';
import { placeCellVariant } from './cell-variant';
import { placeGemmScratch } from './gemm';
import { placeSequenceScratch, rnnBackward, rnnForward } from './sequence';
import { treeForward } from './tree';

/** This instance's thread: 0 on the main thread. */
export let threadIndex: i32 = 0;
/** Threads taking part in the running job (1 outside runJob). */
export let threadCount: i32 = 1;
/** The control block (ThreadControl words), shared by all threads; 0 until threadInit. */
let control: usize = 0;
/** False on a browser's main thread, where waiting blocks are forbidden: it only spins. */
let mayWait: bool = true;

// Spins this many times before waiting at a barrier: most barriers of a balanced split are met within a
// few microseconds, and a futex wait + wake costs tens.
const SPIN_LIMIT: i32 = 1 << 14;
// The main thread waits at a barrier this long (ns) at a time; after each such wait it asks the bindings whether a
// worker of the job is gone. A check, never a deadline: a slow thread only costs more checks.
const WAIT_CHECK_NS: i64 = 100_000_000;

/**
 * Whether the OS thread of a worker taking part in the job has ended (bindings/threads.ts ThreadPool.workerGone:
 * Linux, Node): 1 makes the main thread abort the job instead of waiting for that worker forever.
 */
@external("env", "workerGone")
declare function workerGone(): i32;

@inline function word(index: i32): usize {
  return control + (<usize>index << 2);
}

/** Bytes of one thread's block: the per-thread objects of every kernel (threadInit places them). */
export function threadBlockBytes(): usize {
  return placeGemmScratch(0, false) + placeCellVariant(0, false) + placeSequenceScratch(0, false);
}

/**
 * Makes this instance thread `index` of the pool: its per-thread objects go into `block`
 * (threadBlockBytes, from the main allocator), and it meets the others through `controlBlock`.
 * `canWait` is 0 on a browser's main thread.
 */
export function threadInit(index: i32, block: usize, controlBlock: usize, canWait: i32): void {
  threadIndex = index;
  control = controlBlock;
  mayWait = canWait != 0;
  let at = block;
  at += placeGemmScratch(at, true);
  at += placeCellVariant(at, true);
  placeSequenceScratch(at, true);
}

/** Runs `job` on `argument` as thread `threadIndex` of `count`; every thread of the job calls it. */
export function runJob(job: i32, argument: usize, count: i32): void {
  threadCount = count;
  if (job == Job.RNN_FORWARD) rnnForward(argument);
  else if (job == Job.RNN_BACKWARD) rnnBackward(argument);
  else if (job == Job.TREE_FORWARD) treeForward(argument);
  threadCount = 1;
}

/**
 * Waits until all threadCount threads have arrived (a spin, then a wait on the generation word). Traps
 * when a thread has failed (ABORT), so that no thread waits forever for one that never comes. The main
 * thread waits WAIT_CHECK_NS at a time and aborts the job when a worker's thread has gone (workerGone).
 */
export function barrier(): void {
  if (!ASC_FEATURE_THREADS || threadCount <= 1) return;
  if (ASC_FEATURE_THREADS) {
    const generation = atomic.load<i32>(word(ThreadControl.GENERATION));
    if (atomic.add<i32>(word(ThreadControl.ARRIVED), 1) == threadCount - 1) {
      atomic.store<i32>(word(ThreadControl.ARRIVED), 0);
      atomic.store<i32>(word(ThreadControl.GENERATION), generation + 1);
      if (atomic.load<i32>(word(ThreadControl.WAITING)) != 0) atomic.notify(word(ThreadControl.GENERATION), -1);
      return;
    }
    let spins = 0;
    while (atomic.load<i32>(word(ThreadControl.GENERATION)) == generation) {
      if (atomic.load<i32>(word(ThreadControl.ABORT)) != 0) unreachable();
      if (spins < SPIN_LIMIT || !mayWait) {
        spins++;
      } else {
        // Counted before the generation is read again, so that the last arrival either is seen here or sees us.
        atomic.add<i32>(word(ThreadControl.WAITING), 1);
        const woken = atomic.wait<i32>(word(ThreadControl.GENERATION), generation, threadIndex == 0 ? WAIT_CHECK_NS : -1);
        atomic.sub<i32>(word(ThreadControl.WAITING), 1);
        if (woken == AtomicWaitResult.TIMED_OUT && workerGone() != 0) threadAbort();
      }
    }
    if (atomic.load<i32>(word(ThreadControl.ABORT)) != 0) unreachable();
  }
}

/**
 * Marks the job failed and wakes every thread waiting at a barrier (they then trap); this thread leaves the job.
 * The generation moves too, so that a thread between its last look at ABORT and its wait does not sleep through
 * the wake-up. Called by the thread that failed (its catch in bindings/threads.ts) or found a worker gone.
 */
export function threadAbort(): void {
  if (ASC_FEATURE_THREADS) {
    threadCount = 1;
    atomic.cmpxchg<i32>(word(ThreadControl.ABORT), 0, threadIndex + 1); // the first to fail is the one to blame
    atomic.add<i32>(word(ThreadControl.GENERATION), 1);
    atomic.notify(word(ThreadControl.GENERATION), -1);
  }
}

/**
 * The rows [start, end) of `total` that member `member` of `members` takes: contiguous, and cut at
 * multiples of `align` (the GEMM's row block), so every row runs through the same micro-kernel as with one
 * thread and results are bitwise identical for any thread count.
 */
@inline export function rowsStart(total: i32, member: i32, members: i32, align: i32): i32 {
  if (member >= members) return total;
  return (<i32>((<i64>total * member) / members) / align) * align;
}
