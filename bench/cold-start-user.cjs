// Child process of bench/size.mjs: bench/cold-start-user.mjs's cold start through require() of the CommonJS entry
// (dist/index.cjs or dist/infer.cjs); prints each phase's ms and the first outputs as JSON.
// Usage: node bench/cold-start-user.cjs <entry file> <weights.safetensors>

const { readFileSync } = require('node:fs');

const [entry, weights] = process.argv.slice(2);
const x = Float32Array.from({ length: 100 * 64 }, (_, i) => Math.sin(i * 0.37)); // W1's input [T100, B1, I64]

(async () => {
  // CPU time of all threads, as in cold-start-user.mjs.
  const cpuNow = () => ((c) => (c.user + c.system) / 1000)(process.cpuUsage());
  const faultsBefore = process.resourceUsage?.().minorPageFault; // fresh pages first touched, as in cold-start-user.mjs
  const marks = [performance.now()];
  const cpuMarks = [cpuNow()];
  const mark = () => { marks.push(performance.now()); cpuMarks.push(cpuNow()); };
  const lt = require(entry);
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
    cpuMs: cpuMarks.at(-1) - cpuMarks[0],
    pageFaults: process.resourceUsage && process.resourceUsage().minorPageFault - faultsBefore,
    phases: Object.fromEntries(phases.map((name, i) => [name, marks[i + 1] - marks[i]])),
    cpuPhases: Object.fromEntries(phases.map((name, i) => [name, cpuMarks[i + 1] - cpuMarks[i]])),
    first: Array.from(output.data.subarray(0, 4)),
  }));
})();
