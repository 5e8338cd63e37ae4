// Keras masks over time steps ([B, T], 1 = a step to use): the Masking layer's, what a recurrent layer outputs at
// masked steps (TF.js rnn(): the previous output, carried over), time reversal for go_backwards, masked pooling.

export type Mask = Uint8Array;

/** Keras Masking: a step is used unless all its F features equal `maskValue`; masked steps become zeros. */
export function maskSteps(values: ArrayLike<number>, B: number, T: number, F: number, maskValue: number): { values: Float32Array; mask: Mask } {
  const out = Float32Array.from(values);
  const mask = new Uint8Array(B * T);
  for (let step = 0; step < B * T; step++) {
    const row = out.subarray(step * F, (step + 1) * F);
    mask[step] = row.some((x) => x !== maskValue) ? 1 : 0;
    if (!mask[step]) row.fill(0);
  }
  return { values: out, mask };
}

/** `values` [B, T, F] with each row's steps in reverse order (go_backwards); F = 1 for a mask. */
export function reverseSteps<A extends Float32Array | Uint8Array>(values: A, B: number, T: number, F: number): A {
  const out = values.slice() as A;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) out.set(values.subarray((b * T + t) * F, (b * T + t + 1) * F), (b * T + T - 1 - t) * F);
  }
  return out;
}

/**
 * What TF.js's rnn() outputs at a masked step: the output of the step processed just before it, or the initial
 * state where no step was processed yet. In place on one direction (P columns at `offset`) of `output` [B, T, W];
 * `reverse` for a direction that runs from step T−1 down to 0; `initial` [B, P] (null: zeros).
 */
export function carryOverMaskedSteps(output: Float32Array, B: number, T: number, W: number, offset: number, P: number,
                                     mask: Mask, initial: Float32Array | null, reverse: boolean): void {
  for (let b = 0; b < B; b++) {
    let previous = initial ? initial.subarray(b * P, (b + 1) * P) : new Float32Array(P);
    for (let i = 0; i < T; i++) {
      const t = reverse ? T - 1 - i : i;
      const at = (b * T + t) * W + offset;
      if (mask[b * T + t]) previous = output.subarray(at, at + P);
      else output.set(previous, at);
    }
  }
}

/**
 * Keras GlobalAveragePooling1D (mean over the unmasked steps; NaN where a row has none, as in Keras) and
 * GlobalMaxPooling1D (max over all steps: Keras does not mask it): [B, T, F] → [B, F].
 */
export function poolSteps(values: ArrayLike<number>, B: number, T: number, F: number, mode: 'average' | 'max', mask: Mask | null): Float32Array {
  const out = new Float32Array(B * F);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      let total = mode === 'max' ? -Infinity : 0;
      let count = 0;
      for (let t = 0; t < T; t++) {
        const x = values[(b * T + t) * F + f];
        if (mode === 'max') total = Math.max(total, x);
        else if (!mask || mask[b * T + t]) {
          total += x;
          count++;
        }
      }
      out[b * F + f] = mode === 'max' ? total : total / count;
    }
  }
  return out;
}
