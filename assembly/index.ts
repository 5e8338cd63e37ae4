// Entry point of the Wasm module: re-exports every kernel the bindings call. Only numbers cross.

export { alloc, release } from './memory';
export { simdFlavor } from './simd';
export { expArray, sigmoidArray, tanhArray } from './activations';
export { gemmPacked, packWeight, packedSize } from './gemm';
export { commitRows, gruCellForward, lstmCellForward, rnnCellForward } from './cells';
export { rnnForward, rnnScratchBytes, swapLeadingAxes } from './sequence';
