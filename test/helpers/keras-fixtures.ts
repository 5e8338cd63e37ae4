// Test helper: reads the TF.js layers fixtures of test/fixtures/keras (model.json, weights.bin, io.json per case).

import { readFileSync, readdirSync } from 'node:fs';
import { fixtureDir, type FixtureTensor, type Tolerance } from './fixtures.js';

export interface KerasFixture {
  name: string;
  model: any;
  weights: Uint8Array;
  inputs: { input: FixtureTensor };
  /** One entry per model output, in the model's output order. */
  outputs: Record<string, FixtureTensor>;
  tolerance: Tolerance;
}

export function listKerasFixtures(): string[] {
  return readdirSync(fixtureDir('keras'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

export function loadKerasFixture(name: string): KerasFixture {
  const dir = `${fixtureDir('keras')}${name}/`;
  const io = JSON.parse(readFileSync(`${dir}io.json`, 'utf8'));
  return {
    name,
    model: JSON.parse(readFileSync(`${dir}${io.model}`, 'utf8')),
    weights: new Uint8Array(readFileSync(`${dir}${io.weights}`)),
    inputs: io.inputs,
    outputs: io.outputs,
    tolerance: io.tolerance,
  };
}
