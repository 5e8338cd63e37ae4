// Run by test/runtimes/js-runtimes.test.ts inside a consumer project where looptree is installed (Node, Deno, Bun):
// imports the package BY NAME — the full entry and looptree/infer — runs the probe's PyTorch fixture through each
// with the SIMD build named on the command line, and prints both results and infer's export names as JSON.

import { readFileSync } from 'node:fs';
import * as full from 'looptree';
import * as infer from 'looptree/infer';
import { runProbe } from './probe.js';

const [simd] = globalThis.Deno?.args ?? process.argv.slice(2);
const fixture = JSON.parse(readFileSync(new URL('./case.json', import.meta.url), 'utf8'));
const weights = readFileSync(new URL('./case.safetensors', import.meta.url));

const results = {};
for (const [name, library] of [['looptree', full], ['looptree/infer', infer]]) {
  results[name] = await runProbe(library, { init: { simd }, fixture, weights });
}
console.log(JSON.stringify({ results, inferExports: Object.keys(infer), fullExports: Object.keys(full) }));
