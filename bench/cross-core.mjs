// Cross-core round trip: two threads (this one and a worker) bounce a counter through two cache lines of a
// SharedArrayBuffer, 200k times a round, 3 rounds. What a batch-1 step split over threads pays per barrier and per
// exchange of h follows it (bench/NOTES.md, Batch 1 on 2 threads); on these 2-vCPU VMs it moves between ~200 and
// ~850 ns within minutes, so take it right before and after a threads timing.
// Usage: node bench/cross-core.mjs

import { Worker, isMainThread, workerData } from 'node:worker_threads';

const ROUND_TRIPS = 200_000;
// Int32 indices 64 bytes apart: the ping, the pong and the worker's ready flag on lines of their own.
const PING = 0, PONG = 16, READY = 32, STOP = -1;

if (isMainThread) {
  const words = new Int32Array(new SharedArrayBuffer(4 * 48));
  const worker = new Worker(new URL(import.meta.url), { workerData: words.buffer });
  while (Atomics.load(words, READY) === 0);
  const rounds = [];
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 1; i <= ROUND_TRIPS; i++) {
      Atomics.store(words, PING, i);
      while (Atomics.load(words, PONG) !== i);
    }
    rounds.push(((performance.now() - start) / ROUND_TRIPS) * 1e6);
    Atomics.store(words, PING, 0);
    while (Atomics.load(words, PONG) !== 0);
  }
  Atomics.store(words, PING, STOP);
  await new Promise((resolve) => worker.on('exit', resolve));
  console.log(`cross-core round trip: ${rounds.map((ns) => ns.toFixed(0)).join(' / ')} ns`);
} else {
  const words = new Int32Array(workerData);
  Atomics.store(words, READY, 1);
  for (;;) {
    let value;
    while ((value = Atomics.load(words, PING)) === Atomics.load(words, PONG));
    if (value === STOP) break;
    Atomics.store(words, PONG, value);
  }
}
