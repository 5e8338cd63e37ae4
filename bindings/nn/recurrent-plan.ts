// Recurrent plans from the bindings' side: the cell codes, a plan's size, and the cell variant (activations,
// clip, flags) written into it. The slot layout itself is assembly/abi.ts, shared with the kernels.

import { Activation as ActivationCode, Cell, RnnLayerSlot, RnnPlan, VariantFlag } from '../../assembly/abi.js';
import { ArgumentError } from '../errors.js';
import { booleanOption, checkKeys, describe } from '../options.js';

export const CELL_CODE = { rnn_tanh: Cell.RNN_TANH, rnn_relu: Cell.RNN_RELU, lstm: Cell.LSTM, gru: Cell.GRU } as const;
export type CellKind = keyof typeof CELL_CODE;

/** Bytes of a plan for `entries` (layer, direction) pairs. */
export function planBytes(entries: number): number {
  return (RnnPlan.LAYER_TABLE + entries * RnnLayerSlot.SLOTS) * 4;
}

/** Activation functions of the cells, by Keras' names (alpha and beta as in the ONNX operators of the same names). */
export type ActivationName = 'tanh' | 'sigmoid' | 'relu' | 'linear' | 'hard_sigmoid' | 'affine' | 'leaky_relu'
  | 'thresholded_relu' | 'scaled_tanh' | 'elu' | 'softsign' | 'softplus';
/**
 * A name, or `{ name, alpha?, beta? }` for the parameterized ones (`alpha`, `beta`: the coefficients of the ONNX
 * operator of the same name; Keras' hard_sigmoid is 0.2x + 0.5 by default). A name the cells do not know throws
 * ArgumentError listing the known ones.
 */
export type Activation = ActivationName | { name: ActivationName; alpha?: number; beta?: number };

/** Each activation's code and default alpha, beta (Keras' hard_sigmoid: 0.2x + 0.5; ONNX's defaults elsewhere). */
const ACTIVATIONS: Record<ActivationName, [ActivationCode, number, number]> = {
  tanh: [ActivationCode.TANH, 0, 0],
  sigmoid: [ActivationCode.SIGMOID, 0, 0],
  relu: [ActivationCode.RELU, 0, 0],
  linear: [ActivationCode.AFFINE, 1, 0],
  affine: [ActivationCode.AFFINE, 1, 0],
  hard_sigmoid: [ActivationCode.HARD_SIGMOID, 0.2, 0.5],
  leaky_relu: [ActivationCode.LEAKY_RELU, 0.01, 0],
  thresholded_relu: [ActivationCode.THRESHOLDED_RELU, 1, 0],
  scaled_tanh: [ActivationCode.SCALED_TANH, 1, 1],
  elu: [ActivationCode.ELU, 1, 0],
  softsign: [ActivationCode.SOFTSIGN, 0, 0],
  softplus: [ActivationCode.SOFTPLUS, 0, 0],
};

export interface ResolvedActivation {
  name: ActivationName;
  code: ActivationCode;
  alpha: number;
  beta: number;
}

/** What a plan says of its cell besides the kind: written by writeHeader, read by assembly/cells.ts. */
export interface CellVariant {
  gate: ResolvedActivation;
  candidate: ResolvedActivation;
  output: ResolvedActivation;
  clip: number;
  flags: number;
}

function resolveActivation(value: Activation | undefined, fallback: ActivationName, what: string, where: string): ResolvedActivation {
  const spec = value ?? fallback;
  const name = typeof spec === 'string' ? spec : spec?.name;
  if (typeof name !== 'string' || !Object.hasOwn(ACTIVATIONS, name)) {
    throw new ArgumentError(`${where}: ${what} must be one of ${Object.keys(ACTIVATIONS).map((key) => `'${key}'`).join(', ')} or { name, alpha?, beta? }, got ${describe(value)}`);
  }
  const [code, alphaDefault, betaDefault] = ACTIVATIONS[name as ActivationName];
  let alpha = alphaDefault, beta = betaDefault;
  if (typeof spec === 'object') {
    checkKeys(spec, ['name', 'alpha', 'beta'], `${where}: ${what}`);
    for (const [key, given] of [['alpha', spec.alpha], ['beta', spec.beta]] as const) {
      if (given !== undefined && (typeof given !== 'number' || !Number.isFinite(given))) {
        throw new ArgumentError(`${where}: ${what}.${key} must be a finite number, got ${describe(given)}`);
      }
    }
    alpha = spec.alpha ?? alphaDefault;
    beta = spec.beta ?? betaDefault;
  }
  if (code === ActivationCode.SCALED_TANH && alpha === 0) throw new ArgumentError(`${where}: ${what}: scaled_tanh needs alpha ≠ 0`);
  return { name: name as ActivationName, code, alpha, beta };
}

interface VariantOptions {
  activation?: Activation;
  recurrentActivation?: Activation;
  outputActivation?: Activation;
  clip?: number;
  resetAfter?: boolean;
  peepholes?: boolean;
  inputForget?: boolean;
}

/** The cell variant of a module's options (defaults: PyTorch's cell). */
export function cellVariant(where: string, options: VariantOptions): CellVariant {
  const candidate = resolveActivation(options.activation, 'tanh', 'activation', where);
  const clip = options.clip ?? 0;
  if (typeof clip !== 'number' || !(clip >= 0) || !Number.isFinite(clip)) {
    throw new ArgumentError(`${where}: clip must be a finite number ≥ 0 (0: none), got ${describe(clip)}`);
  }
  let flags = 0;
  if (!booleanOption(options.resetAfter, 'resetAfter', true, where)) flags |= VariantFlag.GRU_RESET_BEFORE;
  if (booleanOption(options.peepholes, 'peepholes', false, where)) flags |= VariantFlag.PEEPHOLES;
  if (booleanOption(options.inputForget, 'inputForget', false, where)) flags |= VariantFlag.INPUT_FORGET;
  return {
    gate: resolveActivation(options.recurrentActivation, 'sigmoid', 'recurrentActivation', where),
    candidate,
    output: options.outputActivation === undefined ? candidate : resolveActivation(options.outputActivation, 'tanh', 'outputActivation', where),
    clip,
    flags,
  };
}

/** The option value that gives `activation` back: its name, with alpha and beta only where they differ from the defaults. */
export function activationOption(activation: ResolvedActivation): Activation {
  const [, alpha, beta] = ACTIVATIONS[activation.name];
  return activation.alpha === alpha && activation.beta === beta ? activation.name : { name: activation.name, alpha: activation.alpha, beta: activation.beta };
}
