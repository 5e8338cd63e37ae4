// Public entry point of looptree: re-exports the API of DESIGN §4 and the typed errors.

// The global types our .d.ts need (ambient.ts): a type-only export keeps them in the .d.ts, and out of the bundles.
export type {} from './ambient.js';

export { init, initSync, backendInfo, setNumThreads, threadsReady, type InitOptions, type ThreadOptions, type SimdMode, type WasmBytes } from './runtime.js';
export { Tensor, tensor, type NestedArray, type TensorLike } from './tensor.js';
export { manualSeed, seededRandom } from './random.js';
export * from './nn/index.js';
export * from './train/index.js';
export * from './generate/index.js';
export {
  parseSafetensors, serializeSafetensors, readSafetensorsMetadata, readSafetensorsHeader, float16ToFloat32,
  type SafetensorsDtype, type SafetensorsHeader, type SerializeOptions,
} from './io/safetensors.js';
export { loadQuantized, saveQuantized } from './io/quantized-file.js';
export {
  LooptreeError, InitError, ShapeError, ArgumentError, StateDictError, SafetensorsError, DisposedError, OutOfMemoryError, ThreadError,
} from './errors.js';
