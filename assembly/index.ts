// Entry point of the Wasm module: re-exports every kernel the bindings call. Only numbers cross.

export { alloc, release } from './memory';
export { simdFlavor } from './simd';
export { expArray, sigmoidArray, tanhArray } from './activations';
export { gemmColumns, gemmPacked, gemvColumns, packWeight, packWeightStrided, packedSize, panelWidth } from './gemm';
export { accumulateColumnSums, accumulateWeightGradient, linearBackward, transpose } from './linalg';
export { adamStep, clampArray, scaleArray, sgdStep, sumOfSquares } from './optim';
export { fillUniform } from './random';
export { firstNonFinite } from './checks';
export { bfloat16ToFloat32Array, float16ToFloat32Array, float32ToBfloat16Array, float32ToFloat16Array } from './dtypes';
export {
  addActiveRows, commitRows, gruCellBackward, gruCellForward, lstmCellBackward, lstmCellForward, passEndedRows,
  rnnCellBackward, rnnCellForward,
} from './cells';
export { rnnBackward, rnnBackwardScratchBytes, rnnForward, rnnScratchBytes, rnnTapeBytes, swapLeadingAxes } from './sequence';
export { treeBackward, treeForward } from './tree';
export { gemmInt8, int8ActivationLevels, int8ActivationOffset, int8ScratchBytes, packInt8Weight, quantizeRows, quantizedWeightBytes, relaxedDotExact } from './quantized';
export { runJob, threadAbort, threadBlockBytes, threadInit } from './threads';
