// Matrix products: MatMul (numpy matmul: batch dimensions broadcast, 1-D operands promoted) and Gemm
// (alpha·A'·B' + beta·C with optional transposes, C broadcast to [M, N]). Sums accumulate in float64.

import { OnnxError } from '../errors.js';
import { required, type Operator } from '../node.js';
import { allocate, broadcastIndex, broadcastShapes, formatShape, type Value } from '../tensors.js';

/**
 * out[p] = a[ia[p]] · b[ib[p]] for every batch p: a is [M, K] row-major, b is [K, N] (or [N, K] if bTransposed),
 * a read through (rowStride, colStride) so a transposed A needs no copy.
 */
function multiply(out: Float32Array | Float64Array, a: Value, b: Value, M: number, K: number, N: number,
                  aStrides: [number, number], bTransposed: boolean, batches: { ia: Int32Array; ib: Int32Array } | null): void {
  const row = new Float64Array(N);
  const count = batches ? batches.ia.length : 1;
  for (let p = 0; p < count; p++) {
    const aOffset = (batches ? batches.ia[p] : 0) * M * K, bOffset = (batches ? batches.ib[p] : 0) * K * N;
    for (let m = 0; m < M; m++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const av = a.data[aOffset + m * aStrides[0] + k * aStrides[1]];
        if (bTransposed) for (let n = 0; n < N; n++) row[n] += av * b.data[bOffset + n * K + k];
        else for (let n = 0, at = bOffset + k * N; n < N; n++) row[n] += av * b.data[at + n];
      }
      out.set(row, (p * M + m) * N);
    }
  }
}

const matMul: Operator = (node) => {
  node.inputs(2);
  return (inputs) => {
    const a = required(inputs, 0), b = required(inputs, 1);
    if (a.dtype !== b.dtype || a.dtype === 'bool') throw new OnnxError(`cannot multiply ${a.dtype} by ${b.dtype}`);
    if (a.shape.length === 0 || b.shape.length === 0) throw new OnnxError('MatMul needs operands of rank ≥ 1');
    const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
    const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
    const M = aShape[aShape.length - 2], K = aShape[aShape.length - 1], N = bShape[bShape.length - 1];
    if (bShape[bShape.length - 2] !== K) throw new OnnxError(`cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)}`);
    const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
    const batch = broadcastShapes([aBatch, bBatch]);
    const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
    const out = allocate(a.dtype, shape);
    multiply(out.data, a, b, M, K, N, [K, 1], false, { ia: broadcastIndex(batch, aBatch), ib: broadcastIndex(batch, bBatch) });
    return [out];
  };
};

const gemm: Operator = (node) => {
  node.inputs(2, 3);
  const alpha = node.float('alpha', 1), beta = node.float('beta', 1);
  const transA = node.int('transA', 0) !== 0, transB = node.int('transB', 0) !== 0;
  return (inputs) => {
    const a = required(inputs, 0), b = required(inputs, 1), c = inputs[2];
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new OnnxError(`A and B must be matrices, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (c && c.dtype !== 'float32')) throw new OnnxError('Gemm runs on float tensors only');
    const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [kB, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (K !== kB) throw new OnnxError(`cannot multiply A ${formatShape(a.shape)} by B ${formatShape(b.shape)} (transA ${+transA}, transB ${+transB})`);
    if (c && (c.shape.length > 2 || broadcastShapes([c.shape, [M, N]]).some((dim, i) => dim !== [M, N][i]))) {
      throw new OnnxError(`C ${formatShape(c.shape)} does not broadcast to [${M}, ${N}]`);
    }
    const out = allocate('float32', [M, N]);
    multiply(out.data, a, b, M, K, N, transA ? [1, M] : [K, 1], transB, null);
    const cIndex = c ? broadcastIndex([M, N], c.shape) : null;
    for (let i = 0; i < out.data.length; i++) out.data[i] = alpha * out.data[i] + (c && cIndex ? beta * c.data[cIndex[i]] : 0);
    return [out];
  };
};

export const LINEAR: Record<string, Operator> = { MatMul: matMul, Gemm: gemm };
