// Child process of bench/size.mjs: times one runner in this fresh process, from importing its library to its first W1 result, and prints { ms } as JSON.
// Usage: node bench/cold-start.mjs <runner name>

import { RUNNERS } from './peers.mjs';
import { WORKLOADS, makeCase } from './spec.mjs';

const runner = RUNNERS.find((r) => r.name === process.argv[2]);
if (!runner) throw new Error(`unknown runner ${process.argv[2]}`);
const w = WORKLOADS.find((x) => x.id === 'W1');
const c = makeCase(w);
const offline = runner.offline?.(w, c);

const start = performance.now();
const lib = await runner.load();
await runner.prepare(lib, w, c, offline);
console.log(JSON.stringify({ ms: performance.now() - start }));
