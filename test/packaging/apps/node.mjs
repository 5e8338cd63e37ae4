// A Node user's ES module, installed by test/packaging/bundlers.test.ts beside the packed looptree: runs the runtime tests' probe (copied beside it as probe.mjs) on the fixture files named on the command line through looptree and looptree/infer; prints the full entry's result, looptree/infer's, and the files both resolved to, as JSON.

import { readFileSync } from 'node:fs';
import { backendInfo, init, LSTM, parseSafetensors, tensor } from 'looptree';
import * as inference from 'looptree/infer';
import { runProbe } from './probe.mjs';

const [fixtureFile, weightsFile] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(fixtureFile, 'utf8'));
const result = await runProbe({ backendInfo, init, LSTM, parseSafetensors, tensor }, { fixture, weights: readFileSync(weightsFile) });
const inferResult = await runProbe(inference, { fixture, weights: readFileSync(weightsFile) });
console.log(JSON.stringify({ entry: import.meta.resolve('looptree'), inferEntry: import.meta.resolve('looptree/infer'), result, inferResult }));
