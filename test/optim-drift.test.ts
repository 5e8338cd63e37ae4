// Adam and AdamW over 2,000 steps on fixed gradients against PyTorch's update in float64 with float32 state:
// the moments m and v accumulated by the kernel stay within float32 rounding of the reference's, not off by a
// coefficient error repeated every step (1 − β2 taken in float32 from float32 β2 = 0.999 is 1.3e-5 off).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, AdamW, Linear, init, tensor, type Parameter } from '../dist/index.js';
import { expectClose } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';

const STEPS = 2000;
const LR = 1e-3;
const BETAS: [number, number] = [0.9, 0.999];
const EPS = 1e-8;
const WEIGHT_DECAY = 0.01;
// The bound on the last update's relative error. m and v contract (β < 1), so their error stays at the few
// float32 roundings of the last steps (~1e-7 relative) and the update u = stepSize·m / (√v / √(1 − β2^t) + eps)
// with them, plus its own few roundings; a float32 1 − β2 puts v 1.3e-5 off and u 6.5e-6 off.
const UPDATE_RELATIVE = 1e-6;

interface Moments { m: Float64Array; v: Float64Array }

/**
 * One step of torch.optim.Adam / AdamW (PyTorch 1.13, single tensor) from the kernel's current p: every
 * coefficient and all arithmetic in float64, m and v stored as float32. Returns the new p, unrounded.
 */
function referenceStep(p: ArrayLike<number>, grad: ArrayLike<number>, { m, v }: Moments, step: number, decoupled: boolean): Float64Array {
  const [beta1, beta2] = BETAS;
  const stepSize = LR / (1 - beta1 ** step);
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
  return Float64Array.from(p, (value, i) => {
    const g = decoupled ? grad[i] : grad[i] + WEIGHT_DECAY * value;
    m[i] = Math.fround(beta1 * m[i] + (1 - beta1) * g);
    v[i] = Math.fround(beta2 * v[i] + (1 - beta2) * g * g);
    const decayed = decoupled ? Math.fround(value * (1 - LR * WEIGHT_DECAY)) : value;
    return decayed - stepSize * (m[i] / (Math.sqrt(v[i]) / biasCorrection2Sqrt + EPS));
  });
}

describe(`Adam and AdamW: ${STEPS} steps against PyTorch's float64 update with float32 state (${simdUnderTest()} build)`, () => {
  beforeAll(() => init({ simd: simdUnderTest() }));
  const modules: Linear[] = [];
  afterAll(() => modules.forEach((module) => module.dispose()));

  for (const [name, Optimizer, decoupled] of [['Adam', Adam, false], ['AdamW', AdamW, true]] as const) {
    it(`${name}, weight decay ${WEIGHT_DECAY}: step ${STEPS}'s update within ${UPDATE_RELATIVE} relative`, () => {
      const linear = new Linear({ inFeatures: 6, outFeatures: 5 });
      modules.push(linear);
      // Gradients over four decades (x and dy of both signs, |x| from 1e-3 to 3), the same at every step.
      const x = tensor([3, -1e-3, 0.5, -0.02, 1.5, 2e-3, -0.7, 0.01, 2, -0.3, 0.05, -1], [2, 6]);
      const dy = tensor([1, -0.5, 0.25, 2e-3, -3, 0.1, 0.7, -1e-2, 0.4, -0.9], [2, 5]);
      linear.forward(x, { train: true });
      linear.backward(dy);
      const params: Parameter[] = linear.parameters();
      const grads = params.map((p) => p.grad().data.slice());
      const moments: Moments[] = params.map((p) => ({ m: new Float64Array(p.size), v: new Float64Array(p.size) }));
      const optimizer = new Optimizer(params, { lr: LR, betas: BETAS, eps: EPS, weightDecay: WEIGHT_DECAY });
      // p is read back from the kernel before each reference step: p's own rounding (one per step) stays out
      // of the comparison, which would otherwise add up over the steps that straddle a rounding boundary.
      for (let step = 1; step < STEPS; step++) {
        params.forEach((p, i) => referenceStep(p.value().data, grads[i], moments[i], step, decoupled));
        optimizer.step();
      }
      // The last step from p = 0: then p after it is −u rounded once, u to within float32 rounding.
      linear.loadStateDict(Object.fromEntries(params.map((p) => [p.name, tensor(new Float32Array(p.size), [...p.shape])])));
      const expected = params.map((p, i) => referenceStep(new Float64Array(p.size), grads[i], moments[i], STEPS, decoupled));
      optimizer.step();
      params.forEach((p, i) => {
        expectClose(`${name}, ${p.name} after step ${STEPS}`, p.value().data, expected[i], (j) => UPDATE_RELATIVE * Math.abs(expected[i][j]));
      });
      optimizer.dispose();
    });
  }
});
