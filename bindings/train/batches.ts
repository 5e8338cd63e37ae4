// Batching for Sequential: samples (axis 0) and steps (axis 1) of batch-first tensors, padded-step gathering,
// and seeded shuffling. Shapes: N samples, T steps.

import { random } from '../random.js';
import { Tensor, shapeSize } from '../tensor.js';

/** Rows `indices` of the first axis. */
export function takeSamples(t: Tensor, indices: ArrayLike<number>): Tensor {
  const rowSize = shapeSize(t.shape.slice(1));
  const out = new Float32Array(indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) out.set(t.data.subarray(indices[i] * rowSize, (indices[i] + 1) * rowSize), i * rowSize);
  return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
}

/** Steps [from, to) of the second axis of [N, T, ...]. */
export function takeSteps(t: Tensor, from: number, to: number): Tensor {
  const [N, T] = t.shape;
  const stepSize = shapeSize(t.shape.slice(2));
  const out = new Float32Array(N * (to - from) * stepSize);
  for (let n = 0; n < N; n++) out.set(t.data.subarray((n * T + from) * stepSize, (n * T + to) * stepSize), n * (to - from) * stepSize);
  return new Tensor(out, [N, to - from, ...t.shape.slice(2)]);
}

/** Flat (n·T + t) indices of the steps t < lengths[n] of [N, T, ...]. */
export function validSteps(lengths: Int32Array, T: number): Int32Array {
  const total = lengths.reduce((sum, length) => sum + length, 0);
  const steps = new Int32Array(total);
  let at = 0;
  lengths.forEach((length, n) => {
    for (let t = 0; t < length; t++) steps[at++] = n * T + t;
  });
  return steps;
}

/** [N, T, ...rest] at the given flat steps → [M, ...rest]. */
export function gatherSteps(t: Tensor, steps: Int32Array): Tensor {
  const flat = new Tensor(t.data, [t.shape[0] * t.shape[1], ...t.shape.slice(2)]);
  return takeSamples(flat, steps);
}

/** The inverse of gatherSteps for gradients: zeros at the padded steps. */
export function scatterSteps(rows: Tensor, steps: Int32Array, shape: readonly number[]): Tensor {
  const stepSize = shapeSize(shape.slice(2));
  const out = new Float32Array(shapeSize(shape));
  steps.forEach((step, i) => out.set(rows.data.subarray(i * stepSize, (i + 1) * stepSize), step * stepSize));
  return new Tensor(out, shape);
}

/** A Fisher–Yates permutation of 0..n−1 from the generator seeded by manualSeed(). */
export function permutation(n: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export const range = (from: number, to: number): Int32Array => Int32Array.from({ length: to - from }, (_, i) => from + i);

/** Samples with their targets and optional lengths, aligned on the first axis. */
export interface Dataset {
  x: Tensor;
  y: Tensor;
  lengths?: Int32Array;
  size: number;
}

export function takeDataset(data: Dataset, indices: ArrayLike<number>): Dataset {
  return {
    x: takeSamples(data.x, indices),
    y: takeSamples(data.y, indices),
    lengths: data.lengths && Int32Array.from(indices, (i) => data.lengths![i]),
    size: indices.length,
  };
}

/** Steps [from, from + steps) of a batch's x and y (the last chunk may be shorter). */
export function timeChunk(batch: Dataset, from: number, steps: number): Dataset {
  const to = Math.min(from + steps, batch.x.shape[1]);
  return { x: takeSteps(batch.x, from, to), y: takeSteps(batch.y, from, to), size: batch.size };
}
