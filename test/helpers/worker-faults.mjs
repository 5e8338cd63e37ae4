// Test helper (test/worker-death.test.ts): one worker-failure scenario in a Node process of its own, so that a
// regression that hangs is a failed test at its timeout instead of a stuck run. Usage:
//   node worker-faults.mjs <library bundle with the testing hooks> <baseline|relaxed> <fault> <job> <threads>
// fault: 'exit' (the worker's thread ends on taking the job: during the call), 'throw' (its part of the job throws)
// or 'exit-after' (it does its part, then its thread ends: between calls); job: 'forward', 'backward' or 'tree'.
// Runs the job at 1 thread (the reference), injects the fault into the pool of `threads` threads (its last worker
// fails), runs the job again and after,
// and prints a JSON report: the outputs of each call (numbers), the error the failing call threw, what the pool
// knew before it, a bystander model's outputs before and after, heap bytes before and after, backendInfo().

import { readFileSync } from 'node:fs';

const [bundle, simd, fault, job] = process.argv.slice(2);
const threads = Number(process.argv[6]);
const lt = await import(bundle);
const wasm = readFileSync(new URL(`../../dist/looptree-${simd}-threads.wasm`, import.meta.url));
await lt.init({ module: wasm, simd, threads });
await lt.threadsReady();

const random = lt.seededRandom(41);
const values = (count) => Float32Array.from({ length: count }, () => random() * 2 - 1);
lt.manualSeed(5);

/** The job under test as a function returning its outputs as one plain array (forward, gradients, tree states). */
function makeJob() {
  if (job === 'tree') {
    const model = new lt.ChildSumTreeLSTM({ inputSize: 6, hiddenSize: 13 });
    const trees = Array.from({ length: 12 }, (_, b) => lt.Tree.fromParents(Array.from({ length: 4 + (b % 6) }, (_, j) => (j === 0 ? -1 : (j - 1) >> 1))));
    const xs = trees.map((tree) => lt.tensor(values(tree.size * 6), [tree.size, 6]));
    return () => model.forward(trees, xs).h.flatMap((h) => [...h.data]);
  }
  const model = new lt.LSTM({ inputSize: 6, hiddenSize: 12 });
  const x = lt.tensor(values(5 * 8 * 6), [5, 8, 6]);
  if (job === 'forward') return () => [...model.forward(x).output.data];
  const dy = lt.tensor(values(5 * 8 * 12), [5, 8, 12]);
  return () => {
    model.forward(x, { train: true });
    model.zeroGrad();
    const { input } = model.backward({ output: dy });
    return [...input.data, ...Object.values(model.grads()).flatMap((g) => [...g.data])];
  };
}

const run = makeJob();
const bystander = new lt.GRU({ inputSize: 5, hiddenSize: 9 });
const bystanderInput = lt.tensor(values(4 * 6 * 5), [4, 6, 5]);
const runBystander = () => [...bystander.forward(bystanderInput).output.data];

/** Calls `call` and returns its error as { name, code, message }, or null when it returned. */
function errorOf(call) {
  try {
    call();
    return null;
  } catch (error) {
    return { name: error.name, code: error.code, message: error.message };
  }
}

/**
 * Resolves once `ready()` holds (what it awaits comes with a worker's events, which need the event loop), or after
 * 2,000 looks 5 ms apart: the report then shows what did not happen.
 */
async function until(ready) {
  for (let look = 0; look < 2000 && !ready(); look++) await new Promise((resolve) => setTimeout(resolve, 5));
}

lt.setNumThreads(1);
const reference = run();
const bystanderReference = runBystander();
lt.setNumThreads(threads, { everyCall: true });
run(); // the per-call arena at its size for this job, so that the heap compares
const heapBefore = lt.backendInfo().heapBytes;

lt.injectWorkerFault(lt.WORKER_FAULTS[fault]);
const report = { reference, bystanderReference, heapBefore };
if (fault === 'exit-after') {
  report.faultyCall = run(); // the worker does its part: this call is whole
  await until(() => lt.workerPoolFailure() !== null);
  report.failureBeforeCall = lt.workerPoolFailure();
}
report.error = errorOf(run);
report.whileRestarting = run(); // the new pool is starting: one thread
await lt.threadsReady();
report.restarted = run();
report.bystanderAfter = runBystander();
await until(() => lt.backendInfo().heapBytes === heapBefore); // the stopped pool's blocks, freed once its threads end
report.heapAfter = lt.backendInfo().heapBytes;
report.info = lt.backendInfo();
// The restarted pool takes jobs: a fault injected into it fails the next call.
lt.injectWorkerFault(lt.WORKER_FAULTS.throw);
report.restartedPoolProbe = errorOf(run);
console.log(JSON.stringify(report));
