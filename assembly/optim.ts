// Optimizer updates and gradient clipping over flat float arrays, with PyTorch 1.13's exact update rules
// (single-tensor form). SIMD over the array, scalar tail with the same arithmetic.
// Scalar references: test/reference/optim.ts.

/** SGD: g = grad + wd·p; with momentum, buf = first ? g : μ·buf + (1 − dampening)·g, g = nesterov ? g + μ·buf : buf; p −= lr·g. */
export function sgdStep(value: usize /* [n] */, grad: usize /* [n] */, buffer: usize /* [n] or 0 without momentum */, n: i32,
                        lr: f32, momentum: f32, dampening: f32, nesterov: bool, weightDecay: f32, firstStep: bool): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const p = load<f32>(value + at);
    let g = load<f32>(grad + at);
    if (weightDecay != 0) g = g + weightDecay * p;
    if (momentum != 0) {
      const b: f32 = firstStep ? g : momentum * load<f32>(buffer + at) + (1 - dampening) * g;
      store<f32>(buffer + at, b);
      g = nesterov ? g + momentum * b : b;
    }
    store<f32>(value + at, p - lr * g);
  }
}

/**
 * Adam / AdamW: g = grad (+ wd·p for Adam's L2 decay); m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
 * p −= stepSize · m / (√v / √(1 − β2^t) + eps), with stepSize = lr / (1 − β1^t); AdamW first scales
 * p by (1 − lr·wd) (`decay`). The coefficients come computed in float64 as PyTorch does, rounded once, and
 * the averages as m += (1 − β1)·(g − m), v += (1 − β2)·(g² − v): only 1 − β enters, so the recurrence keeps
 * float64 β to 6e-8·(1 − β). With float32 β2 = 0.99900001 beside float32 1 − β2 = 0.001, v would settle
 * 1.3e-5 away from float64 PyTorch's; with 1 − β2 taken from float32 β2 it starts 1.3e-5 away.
 */
export function adamStep(value: usize /* [n] */, grad: usize /* [n] */, m: usize /* [n] */, v: usize /* [n] */, n: i32,
                         stepSize: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, eps: f32, biasCorrection2Sqrt: f32,
                         l2: f32, decay: f32): void {
  let i = 0;
  const c1 = f32x4.splat(oneMinusBeta1), c2 = f32x4.splat(oneMinusBeta2);
  const epsV = f32x4.splat(eps), bc2 = f32x4.splat(biasCorrection2Sqrt), step = f32x4.splat(stepSize);
  const l2V = f32x4.splat(l2), decayV = f32x4.splat(decay);
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    let p = v128.load(value + at);
    let g = v128.load(grad + at);
    if (l2 != 0) g = f32x4.add(g, f32x4.mul(l2V, p));
    if (decay != 1) p = f32x4.mul(p, decayV);
    const mOld = v128.load(m + at), vOld = v128.load(v + at);
    const mNew = f32x4.add(mOld, f32x4.mul(c1, f32x4.sub(g, mOld)));
    const vNew = f32x4.add(vOld, f32x4.mul(c2, f32x4.sub(f32x4.mul(g, g), vOld)));
    const denominator = f32x4.add(f32x4.div(f32x4.sqrt(vNew), bc2), epsV);
    v128.store(m + at, mNew);
    v128.store(v + at, vNew);
    v128.store(value + at, f32x4.sub(p, f32x4.mul(step, f32x4.div(mNew, denominator))));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    let p = load<f32>(value + at);
    let g = load<f32>(grad + at);
    if (l2 != 0) g = g + l2 * p;
    if (decay != 1) p = p * decay;
    const mOld = load<f32>(m + at), vOld = load<f32>(v + at);
    const mNew = mOld + oneMinusBeta1 * (g - mOld);
    const vNew = vOld + oneMinusBeta2 * (g * g - vOld);
    const denominator = sqrt<f32>(vNew) / biasCorrection2Sqrt + eps;
    store<f32>(m + at, mNew);
    store<f32>(v + at, vNew);
    store<f32>(value + at, p - stepSize * (mNew / denominator));
  }
}

/** Σ x², accumulated in float64. */
export function sumOfSquares(x: usize /* [n] */, n: i32): f64 {
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) {
    const value = <f64>load<f32>(x + (<usize>i << 2));
    sum += value * value;
  }
  return sum;
}

/** x ← x · factor. */
export function scaleArray(x: usize /* [n] */, n: i32, factor: f32): void {
  let i = 0;
  const f = f32x4.splat(factor);
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), f));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * factor);
}

/** x ← clamp(x, −limit, limit). */
export function clampArray(x: usize /* [n] */, n: i32, limit: f32): void {
  for (let i = 0; i < n; i++) {
    const at = x + (<usize>i << 2);
    store<f32>(at, min(max(load<f32>(at), -limit), limit));
  }
}
