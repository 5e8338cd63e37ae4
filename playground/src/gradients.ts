// The Gradients panel's experiment: an RNN, an LSTM and a GRU learn the adding problem (Hochreiter & Schmidhuber 1997)
// at T = 100, and we measure how much the loss at the last step reaches back to each input step: ‖∂L/∂x_t‖ from
// backward()'s input gradient, before and after training, with and without clipGradNorm — vanishing gradients made visible.

import type * as Looptree from 'looptree';

export type Cell = 'RNN' | 'LSTM' | 'GRU';
export const CELLS: readonly Cell[] = ['RNN', 'LSTM', 'GRU'];

export interface GradientSettings {
  steps: number;
  T: number;
  hiddenSize: number;
  batch: number;
  lr: number;
  /** clipGradNorm's maxNorm in the clipped runs. */
  clip: number;
}

export const DEFAULT_GRADIENT_SETTINGS: GradientSettings = { steps: 300, T: 100, hiddenSize: 32, batch: 32, lr: 1e-2, clip: 1 };

export interface GradientRun {
  cell: Cell;
  clipped: boolean;
  /** ‖∂L/∂x_t‖ for t = 0 … T − 1 over the evaluation batch, at initialization. */
  before: number[];
  /** The same after training. */
  after: number[];
  /** Training loss (MSE) at every step. */
  losses: number[];
}

/**
 * One adding-problem batch, time-major x [T, B, 2]: a value in [0, 1) and a marker (1 at two steps, one in each half)
 * per step; the target is the sum of the two marked values. Predicting the mean, 1, scores an MSE of 1/6.
 */
export function addingBatch(lt: typeof Looptree, random: () => number, T: number, B: number) {
  const x = new Float32Array(T * B * 2);
  const y = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const first = Math.floor(random() * (T / 2));
    const second = Math.floor(T / 2 + random() * (T / 2));
    for (let t = 0; t < T; t++) {
      const value = random();
      x[(t * B + b) * 2] = value;
      if (t === first || t === second) {
        x[(t * B + b) * 2 + 1] = 1;
        y[b] += value;
      }
    }
  }
  return { x: lt.tensor(x, [T, B, 2]), y: lt.tensor(y, [B, 1]) };
}

/** The model: a recurrent layer over [T, B, 2] and a Linear on its last hidden state. Same seed, same initial weights. */
function buildModel(lt: typeof Looptree, cell: Cell, settings: GradientSettings, seed: number) {
  lt.manualSeed(seed);
  const options = { inputSize: 2, hiddenSize: settings.hiddenSize };
  const recurrent = cell === 'RNN' ? new lt.RNN(options) : cell === 'LSTM' ? new lt.LSTM(options) : new lt.GRU(options);
  const head = new lt.Linear({ inFeatures: settings.hiddenSize, outFeatures: 1 });
  if (recurrent instanceof lt.LSTM) {
    // Forget-gate bias 1 (Keras' unit_forget_bias, Jozefowicz et al. 2015): gates i, f, g, o, so rows H … 2H − 1.
    const H = settings.hiddenSize;
    const state = recurrent.stateDict();
    const bias = Float32Array.from(state.bias_ih_l0.data);
    bias.fill(1, H, 2 * H);
    state.bias_hh_l0.data.fill(0, H, 2 * H);
    recurrent.loadStateDict({ ...state, bias_ih_l0: lt.tensor(bias, [4 * H]) });
  }
  return { recurrent, head, parameters: [...recurrent.parameters(), ...head.parameters()] };
}

/** Forward, loss and backward of one batch; returns the loss and ‖∂L/∂x_t‖ per step (gradients accumulate). */
function lossAndInputGradient(lt: typeof Looptree, model: ReturnType<typeof buildModel>, batch: ReturnType<typeof addingBatch>, T: number, B: number) {
  const H = model.head.inFeatures;
  const { h } = model.recurrent.forward(batch.x, { train: true });
  const prediction = model.head.forward(lt.tensor(h.data, [B, H]), { train: true });
  const { loss, grad } = lt.mse(prediction, batch.y);
  const dH = model.head.backward(grad);
  const { input } = model.recurrent.backward({ h: lt.tensor(dH.data, [1, B, H]) });
  const norms: number[] = [];
  for (let t = 0; t < T; t++) {
    let sum = 0;
    for (let i = t * B * 2; i < (t + 1) * B * 2; i++) sum += input.data[i] ** 2;
    norms.push(Math.sqrt(sum));
  }
  return { loss, norms };
}

/** Runs every cell with and without clipping; `onRun` gets each run as it finishes, `onStep` the progress. */
export function runGradientExperiment(lt: typeof Looptree, settings: GradientSettings, onRun: (run: GradientRun) => void, onStep?: (done: number, total: number) => void): GradientRun[] {
  const { T, batch: B } = settings;
  const evaluation = addingBatch(lt, lt.seededRandom(99), T, B);
  const runs: GradientRun[] = [];
  const total = CELLS.length * 2 * settings.steps;
  let done = 0;
  for (const cell of CELLS) {
    for (const clipped of [false, true]) {
      const model = buildModel(lt, cell, settings, 7);
      const optimizer = new lt.Adam(model.parameters, { lr: settings.lr });
      const profile = () => {
        optimizer.zeroGrad();
        const { norms } = lossAndInputGradient(lt, model, evaluation, T, B);
        optimizer.zeroGrad();
        return norms;
      };
      const before = profile();
      const random = lt.seededRandom(1234);
      const losses: number[] = [];
      for (let step = 0; step < settings.steps; step++) {
        optimizer.zeroGrad();
        const { loss } = lossAndInputGradient(lt, model, addingBatch(lt, random, T, B), T, B);
        if (clipped) lt.clipGradNorm(model.parameters, settings.clip);
        optimizer.step();
        losses.push(loss);
        onStep?.(++done, total);
      }
      const run = { cell, clipped, before, after: profile(), losses };
      runs.push(run);
      onRun(run);
      optimizer.dispose?.();
      model.recurrent.dispose();
      model.head.dispose();
    }
  }
  return runs;
}
