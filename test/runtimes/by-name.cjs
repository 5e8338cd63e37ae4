// by-name.mjs through require(): run by test/runtimes/js-runtimes.test.ts in a consumer project (Node, Bun), it
// requires looptree and looptree/infer by name (their CommonJS builds), runs the probe's PyTorch fixture through each
// with the SIMD build named on the command line, and prints both results and infer's export names as JSON.

const { readFileSync } = require('node:fs');
const path = require('node:path');
const full = require('looptree');
const infer = require('looptree/infer');

const [simd] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(path.join(__dirname, 'case.json'), 'utf8'));
const weights = readFileSync(path.join(__dirname, 'case.safetensors'));

(async () => {
  const { runProbe } = await import('./probe.js'); // the shared probe is an ES module
  const results = {};
  for (const [name, library] of [['looptree', full], ['looptree/infer', infer]]) {
    results[name] = await runProbe(library, { init: { simd }, fixture, weights });
  }
  console.log(JSON.stringify({ results, inferExports: Object.keys(infer), fullExports: Object.keys(full) }));
})();
