// Times one runner on one workload in a Node process of its own: bench/workloads.mjs runs its multi-thread runners
// (looptree 2 threads, onnxruntime-web 2 threads) this way, so their worker threads never share a process with the
// 1-thread runners (measured when they did: onnxruntime-node W2 7.5 → 41.8 ms, looptree W5 1.0 → 1.9 ms).
// The parent (timeInOwnProcess) forks this file with the same Node and sends { runner, workload, timing, cpus };
// this process spreads itself over `cpus` before any thread starts, makes the same case (spec.mjs: same seed, same
// weights), prepares and times the runner (timing.mjs) and answers { output, samples } — the parent checks the output
// against its reference like any other runner's — or { unavailable } / { failed } with the reason.

import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUNNERS } from './peers.mjs';
import { ALL_WORKLOADS, makeCase } from './spec.mjs';
import { time } from './timing.mjs';

const THIS_FILE = fileURLToPath(import.meta.url);
const FRESH_WARMUP_MS = 1500;

/**
 * Parent side: times `runner` (a RUNNERS entry) on workload `w` in a fresh process running on `cpus` ("0,1", or
 * undefined: the affinity it inherits). Resolves to the child's answer (see the file's head).
 */
export function timeInOwnProcess(runner, w, timing, cpus) {
  return new Promise((resolve, reject) => {
    const child = fork(THIS_FILE, [], { execArgv: ['--expose-gc'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer;
    child.on('message', (message) => (answer = message));
    child.on('error', reject);
    child.on('exit', (code) => (answer ? resolve(answer) : reject(new Error(`${runner.name} on ${w.id}: its process exited with ${code} before answering`))));
    child.send({ runner: runner.name, workload: w.id, timing, cpus });
  });
}

// Child side: one question, one answer, then exit (a runner's worker threads may keep the process alive).
if (process.send && process.argv[1] === THIS_FILE) {
  process.once('message', async ({ runner: name, workload, timing, cpus }) => {
    if (cpus) {
      const spread = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { encoding: 'utf8' });
      if (spread.status !== 0) throw new Error(`taskset -a -p failed: ${spread.stderr}`);
    }
    const runner = RUNNERS.find((r) => r.name === name);
    const w = ALL_WORKLOADS.find((x) => x.id === workload);
    let answer;
    let lib;
    try {
      lib = await runner.load();
    } catch (error) {
      answer = { unavailable: error.message };
    }
    if (!answer) {
      try {
        const c = makeCase(w);
        const prepared = await runner.prepare(lib, w, c, runner.offline?.(w, c));
        const entry = { prepared };
        // A fresh process starts with every Wasm function in Liftoff, where the parent's runners meet code that
        // earlier workloads already tiered up; with both cores computing, V8's background compiles wait their turn,
        // so warm up for at least FRESH_WARMUP_MS (a --quick run's 300 ms left W8 at 2 threads 69.5 ms against
        // 59.3 once warm).
        await time([entry], { ...timing, warmupMs: Math.max(timing.warmupMs, FRESH_WARMUP_MS) });
        answer = { output: prepared.output, samples: entry.samples };
        await prepared.dispose?.();
      } catch (error) {
        answer = { failed: error.message };
      }
    }
    process.send(answer, () => process.exit(0));
  });
}
