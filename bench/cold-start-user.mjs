// Child process of bench/size.mjs: a user's cold start in this fresh process (Node, Deno or Bun), ESM: import the
// entry → init → new LSTM(64→128) → loadStateDict(parseSafetensors(readFileSync(file))) → first W1 forward (T100, B1);
// prints each phase's ms and the first outputs as JSON. bench/cold-start-user.cjs is the same through require().
// Usage: node bench/cold-start-user.mjs <entry file (dist/index.js or dist/infer.js)> <weights.safetensors>

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [entry, weights] = (globalThis.Deno?.args ?? process.argv.slice(2));
const x = Float32Array.from({ length: 100 * 64 }, (_, i) => Math.sin(i * 0.37)); // W1's input [T100, B1, I64]

// CPU time of all threads (V8 compiles Wasm and JS on helper threads) where the runtime reports it: steadier than the
// wall clock on a loaded machine, and the phases' CPU shows what background compilation (e.g. Wasm tier-up) costs.
const cpuNow = globalThis.process?.cpuUsage ? () => ((c) => (c.user + c.system) / 1000)(process.cpuUsage()) : undefined;
// Fresh pages first touched (minor page faults): each costs this machine's kernel µs (bench/cold-floor.mjs).
const faultsNow = globalThis.process?.resourceUsage ? () => process.resourceUsage().minorPageFault : undefined;
const faultsBefore = faultsNow?.();
const marks = [performance.now()];
const cpuMarks = [cpuNow?.()];
const mark = () => { marks.push(performance.now()); cpuMarks.push(cpuNow?.()); };
const lt = await import(pathToFileURL(entry).href);
mark();
await lt.init();
mark();
const lstm = new lt.LSTM({ inputSize: 64, hiddenSize: 128 });
mark();
lstm.loadStateDict(lt.parseSafetensors(readFileSync(weights)));
mark();
const { output } = lstm.forward(lt.tensor(x, [100, 1, 64]));
mark();

const phases = ['import', 'init', 'construct', 'load', 'forward'];
console.log(JSON.stringify({
  ms: marks.at(-1) - marks[0],
  cpuMs: cpuNow && cpuMarks.at(-1) - cpuMarks[0],
  pageFaults: faultsNow && faultsNow() - faultsBefore,
  phases: Object.fromEntries(phases.map((name, i) => [name, marks[i + 1] - marks[i]])),
  cpuPhases: cpuNow && Object.fromEntries(phases.map((name, i) => [name, cpuMarks[i + 1] - cpuMarks[i]])),
  first: Array.from(output.data.subarray(0, 4)),
}));
