// Child process of bench/size.mjs: bench/cold-start-user.mjs's cold start through require() of the CommonJS entry
// (dist/index.cjs or dist/infer.cjs); prints each phase's ms and the first outputs as JSON.
// Usage: node bench/cold-start-user.cjs <entry file> <weights.safetensors>

const { readFileSync } = require('node:fs');

const [entry, weights] = process.argv.slice(2);
const x = Float32Array.from({ length: 100 * 64 }, (_, i) => Math.sin(i * 0.37)); // W1's input [T100, B1, I64]

(async () => {
  const cpuAtStart = globalThis.process?.cpuUsage?.();
  const marks = [performance.now()];
  const lt = require(entry);
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
})();
