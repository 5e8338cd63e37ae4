// Cell variants: what a plan says of its cell besides the kind (assembly/abi.ts: Activation, VariantFlag,
// the RnnPlan variant slots). The sequence loop sets the variant per call (setCellVariant); the cells of
// cells.ts read it through the activations below, which take the fused sigmoid/tanh of PyTorch's cell
// whenever the variant is the standard one. Every activation's slope is computed from its output (what
// the backward cells have saved). Scalar float64 reference: test/reference/cell-activations.ts.

import { Activation, VariantFlag } from './abi';
import { expS, expV, onesV, sigmoidS, sigmoidV, tanhS, tanhV } from './activations';
import { madd, nmadd } from './simd';

// ---- Every activation of a cell variant (Activation in abi.ts), for the cells' non-default paths ----
// Each is a function of x with the ONNX operators' alpha and beta; its slope is computed from the output y
// (every one of them is invertible enough for that), which is what the backward cells have saved.

/** act(x) on four lanes; ELU and SOFTPLUS lane by lane. */
function activateV(code: i32, x: v128, alpha: f32, beta: f32): v128 {
  const zero = f32x4.splat(0);
  switch (code) {
    case Activation.SIGMOID: return sigmoidV(x);
    case Activation.TANH: return tanhV(x);
    case Activation.RELU: return f32x4.max(x, zero);
    case Activation.AFFINE: return madd(x, f32x4.splat(alpha), f32x4.splat(beta));
    case Activation.HARD_SIGMOID: return f32x4.min(f32x4.max(madd(x, f32x4.splat(alpha), f32x4.splat(beta)), zero), onesV());
    case Activation.LEAKY_RELU: return v128.bitselect(x, f32x4.mul(x, f32x4.splat(alpha)), f32x4.ge(x, zero));
    case Activation.THRESHOLDED_RELU: return v128.and(x, f32x4.gt(x, f32x4.splat(alpha)));
    case Activation.SCALED_TANH: return f32x4.mul(f32x4.splat(alpha), activateV(Activation.TANH, f32x4.mul(x, f32x4.splat(beta)), 0, 0));
    case Activation.SOFTSIGN: return f32x4.div(x, f32x4.add(onesV(), f32x4.abs(x)));
    default: { // ELU, SOFTPLUS: rare enough to take the scalar formulas (one copy of exp and log1p)
      let y = x;
      y = f32x4.replace_lane(y, 0, activateS(code, f32x4.extract_lane(x, 0), alpha, beta));
      y = f32x4.replace_lane(y, 1, activateS(code, f32x4.extract_lane(x, 1), alpha, beta));
      y = f32x4.replace_lane(y, 2, activateS(code, f32x4.extract_lane(x, 2), alpha, beta));
      return f32x4.replace_lane(y, 3, activateS(code, f32x4.extract_lane(x, 3), alpha, beta));
    }
  }
}

/** The scalar twin of activateV. */
function activateS(code: i32, x: f32, alpha: f32, beta: f32): f32 {
  switch (code) {
    case Activation.SIGMOID: return sigmoidS(x);
    case Activation.TANH: return tanhS(x);
    case Activation.RELU: return max<f32>(x, 0);
    case Activation.AFFINE: return alpha * x + beta;
    case Activation.HARD_SIGMOID: return min<f32>(max<f32>(alpha * x + beta, 0), 1);
    case Activation.LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case Activation.THRESHOLDED_RELU: return x > alpha ? x : 0;
    case Activation.SCALED_TANH: return alpha * tanhS(beta * x);
    case Activation.ELU: return x >= 0 ? x : alpha * (expS(x) - 1);
    case Activation.SOFTSIGN: return x / (1 + abs<f32>(x));
    default: return max<f32>(x, 0) + Mathf.log1p(expS(-abs<f32>(x))); // SOFTPLUS, without overflow
  }
}

/** d act / dx from the output y = act(x), on four lanes. */
function activationSlopeV(code: i32, y: v128, alpha: f32, beta: f32): v128 {
  const zero = f32x4.splat(0), one = onesV();
  switch (code) {
    case Activation.SIGMOID: return f32x4.mul(y, f32x4.sub(one, y));
    case Activation.TANH: return nmadd(y, y, one);
    case Activation.RELU: return v128.and(one, f32x4.gt(y, zero));
    case Activation.AFFINE: return f32x4.splat(alpha);
    case Activation.HARD_SIGMOID: return v128.and(f32x4.splat(alpha), v128.and(f32x4.gt(y, zero), f32x4.lt(y, one)));
    case Activation.LEAKY_RELU: return v128.bitselect(one, f32x4.splat(alpha), f32x4.gt(y, zero));
    case Activation.THRESHOLDED_RELU: return v128.and(one, f32x4.ne(y, zero));
    case Activation.SCALED_TANH: {
      const t = f32x4.div(y, f32x4.splat(alpha));
      return f32x4.mul(f32x4.splat(alpha * beta), nmadd(t, t, one));
    }
    case Activation.ELU: return v128.bitselect(one, f32x4.add(y, f32x4.splat(alpha)), f32x4.gt(y, zero));
    case Activation.SOFTSIGN: {
      const rest = f32x4.sub(one, f32x4.abs(y));
      return f32x4.mul(rest, rest);
    }
    default: return f32x4.sub(one, expV(f32x4.neg(y))); // SOFTPLUS: σ(x) = 1 − e^−y
  }
}

/** The scalar twin of activationSlopeV. */
function activationSlopeS(code: i32, y: f32, alpha: f32, beta: f32): f32 {
  switch (code) {
    case Activation.SIGMOID: return y * (1 - y);
    case Activation.TANH: return 1 - y * y;
    case Activation.RELU: return y > 0 ? 1 : 0;
    case Activation.AFFINE: return alpha;
    case Activation.HARD_SIGMOID: return y > 0 && y < 1 ? alpha : 0;
    case Activation.LEAKY_RELU: return y > 0 ? 1 : alpha;
    case Activation.THRESHOLDED_RELU: return y != 0 ? 1 : 0;
    case Activation.SCALED_TANH: return alpha * beta * (1 - (y / alpha) * (y / alpha));
    case Activation.ELU: return y > 0 ? 1 : y + alpha;
    case Activation.SOFTSIGN: return (1 - abs<f32>(y)) * (1 - abs<f32>(y));
    default: return 1 - expS(-y);
  }
}

/** The variant the cells run. `standard`: every field at PyTorch's defaults (the fused fast paths). */
class CellVariant {
  gate: i32 = Activation.SIGMOID; gateAlpha: f32 = 0; gateBeta: f32 = 0;
  candidate: i32 = Activation.TANH; candidateAlpha: f32 = 0; candidateBeta: f32 = 0;
  output: i32 = Activation.TANH; outputAlpha: f32 = 0; outputBeta: f32 = 0;
  clip: f32 = 0;
  flags: i32 = 0;
  /** LSTM peephole weights [3H] (i, f, o) of the (layer, direction) running, or 0. */
  peephole: usize = 0;
  standard: bool = true;
}

export let variant = new CellVariant();

/**
 * Bytes of a thread's CellVariant; with `place`, this instance's variant moves to `at` (assembly/threads.ts:
 * every thread sets the variant of the plan it runs) and is reset to PyTorch's cell.
 */
export function placeCellVariant(at: usize, place: bool): usize {
  if (place) {
    variant = changetype<CellVariant>(at);
    resetCellVariant();
  }
  return (offsetof<CellVariant>() + 15) & ~<usize>15;
}

/** Sets the variant of the cells that run next (codes are Activation values, flags VariantFlag bits). */
export function setCellVariant(gate: i32, gateAlpha: f32, gateBeta: f32, candidate: i32, candidateAlpha: f32, candidateBeta: f32,
                               output: i32, outputAlpha: f32, outputBeta: f32, clip: f32, flags: i32): void {
  variant.gate = gate; variant.gateAlpha = gateAlpha; variant.gateBeta = gateBeta;
  variant.candidate = candidate; variant.candidateAlpha = candidateAlpha; variant.candidateBeta = candidateBeta;
  variant.output = output; variant.outputAlpha = outputAlpha; variant.outputBeta = outputBeta;
  variant.clip = clip;
  // INT8 picks the GEMM (assembly/sequence.ts), not the cell: an int8 plan keeps the fused PyTorch cell.
  const cellFlags = flags & ~VariantFlag.INT8;
  variant.flags = cellFlags & ~VariantFlag.PEEPHOLES;
  variant.standard = gate == Activation.SIGMOID && candidate == Activation.TANH && output == Activation.TANH && clip == 0 && cellFlags == 0;
}

/** The LSTM peephole weights [3H] (i, f, o) of the next cells, or 0. */
export function setCellPeepholes(weights: usize): void {
  variant.peephole = weights;
  variant.standard = variant.standard && weights == 0;
}

/** Back to PyTorch's cells. */
export function resetCellVariant(): void {
  setCellVariant(Activation.SIGMOID, 0, 0, Activation.TANH, 0, 0, Activation.TANH, 0, 0, 0, 0);
  variant.peephole = 0;
}

@inline export function clipV(x: v128): v128 {
  return variant.clip == 0 ? x : f32x4.min(f32x4.max(x, f32x4.splat(-variant.clip)), f32x4.splat(variant.clip));
}

@inline export function clipS(x: f32): f32 {
  return variant.clip == 0 ? x : min<f32>(max<f32>(x, -variant.clip), variant.clip);
}

// The three activations of a cell, and their slopes from the activated value. `standard` is variant.standard,
// read once per call by the cell (a constant where the cell is specialized for PyTorch's cell).
@inline export function gateV(standard: bool, x: v128): v128 {
  return standard ? sigmoidV(x) : activateV(variant.gate, clipV(x), variant.gateAlpha, variant.gateBeta);
}
@inline export function gateS(standard: bool, x: f32): f32 {
  return standard ? sigmoidS(x) : activateS(variant.gate, clipS(x), variant.gateAlpha, variant.gateBeta);
}
@inline export function candidateV(standard: bool, x: v128): v128 {
  return standard ? tanhV(x) : activateV(variant.candidate, clipV(x), variant.candidateAlpha, variant.candidateBeta);
}
@inline export function candidateS(standard: bool, x: f32): f32 {
  return standard ? tanhS(x) : activateS(variant.candidate, clipS(x), variant.candidateAlpha, variant.candidateBeta);
}
@inline export function outputV(standard: bool, c: v128): v128 {
  return standard ? tanhV(c) : activateV(variant.output, c, variant.outputAlpha, variant.outputBeta);
}
@inline export function outputS(standard: bool, c: f32): f32 {
  return standard ? tanhS(c) : activateS(variant.output, c, variant.outputAlpha, variant.outputBeta);
}
@inline export function gateSlopeV(standard: bool, y: v128): v128 {
  return standard ? f32x4.mul(y, f32x4.sub(f32x4.splat(1.0), y)) : activationSlopeV(variant.gate, y, variant.gateAlpha, variant.gateBeta);
}
@inline export function gateSlopeS(standard: bool, y: f32): f32 {
  return standard ? y * (1.0 - y) : activationSlopeS(variant.gate, y, variant.gateAlpha, variant.gateBeta);
}
@inline export function candidateSlopeV(standard: bool, y: v128): v128 {
  return standard ? f32x4.sub(f32x4.splat(1.0), f32x4.mul(y, y)) : activationSlopeV(variant.candidate, y, variant.candidateAlpha, variant.candidateBeta);
}
@inline export function candidateSlopeS(standard: bool, y: f32): f32 {
  return standard ? 1.0 - y * y : activationSlopeS(variant.candidate, y, variant.candidateAlpha, variant.candidateBeta);
}
@inline export function outputSlopeV(standard: bool, y: v128): v128 {
  return standard ? f32x4.sub(f32x4.splat(1.0), f32x4.mul(y, y)) : activationSlopeV(variant.output, y, variant.outputAlpha, variant.outputBeta);
}
@inline export function outputSlopeS(standard: bool, y: f32): f32 {
  return standard ? 1.0 - y * y : activationSlopeS(variant.output, y, variant.outputAlpha, variant.outputBeta);
}
