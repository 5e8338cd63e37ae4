// Child process of bench/size.mjs: a user's cold start in this fresh process (Node, Deno or Bun), ESM: import the
// entry → init → new LSTM(64→128) → loadStateDict(parseSafetensors(readFileSync(file))) → first W1 forward (T100, B1);
// prints each phase's ms and the first outputs as JSON. bench/cold-start-user.cjs is the same through require().
// Usage: node bench/cold-start-user.mjs <entry file (dist/index.js or dist/infer.js)> <weights.safetensors>

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [entry, weights] = (globalThis.Deno?.args ?? process.argv.slice(2));
const x = Float32Array.from({ length: 100 * 64 }, (_, i) => Math.sin(i * 0.37)); // W1's input [T100, B1, I64]

const cpuAtStart = globalThis.process?.cpuUsage?.();
const marks = [performance.now()];
const lt = await import(pathToFileURL(entry).href);
marks.push(performance.now());
await lt.init();
marks.push(performance.now());
const lstm = new lt.LSTM({ inputSize: 64, hiddenSize: 128 });
marks.push(performance.now());
lstm.loadStateDict(lt.parseSafetensors(readFileSync(weights)));
marks.push(performance.now());
const { output } = lstm.forward(lt.tensor(x, [100, 1, 64]));
marks.push(performance.now());

const phases = ['import', 'init', 'construct', 'load', 'forward'];
console.log(JSON.stringify({
  ms: marks.at(-1) - marks[0],
  // CPU time of all threads (V8 compiles on helper threads), where the runtime reports it: less noisy than the wall on a loaded machine.
  cpuMs: cpuAtStart && ((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpuAtStart)),
  phases: Object.fromEntries(phases.map((name, i) => [name, marks[i + 1] - marks[i]])),
  first: Array.from(output.data.subarray(0, 4)),
}));
