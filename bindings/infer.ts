// Inference-only public entry (looptree/infer): init, Tensor, RNN/LSTM/GRU and the tree models with their forward
// and stream, safetensors parsing, the typed errors. The same modules as the full entry (bindings/index.ts re-exports
// this file), minus what only training, Sequential, tree parsing or serialization need, so edge and serverless code
// imports, compiles and starts in less time.

// The global types our .d.ts need (ambient.ts): a type-only export keeps them in the .d.ts, and out of the bundles.
export type {} from './ambient.js';

export { init, initSync, backendInfo, setNumThreads, threadsReady, type InitOptions, type ThreadOptions, type SimdMode, type WasmBytes } from './runtime.js';
export { Tensor, tensor, type NestedArray, type TensorLike } from './tensor.js';
export {
  RNN, LSTM, GRU, Stream, RecurrentModule,
  type RecurrentOptions, type RNNOptions, type LSTMOptions, type GRUOptions, type MergeMode, type ForwardOptions, type ForwardResult, type StreamOptions,
} from './nn/recurrent.js';
export type { Activation, ActivationName } from './nn/recurrent-plan.js';
export type { LoadReport } from './nn/module.js';
export type { LoadOptions } from './nn/parameters.js';
export { Tree, TreeError } from './nn/tree/structure.js';
export {
  TreeModule, TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM,
  type TreeModelKind, type TreeModuleOptions, type TreeForwardOptions, type TreeForwardResult,
} from './nn/tree/modules.js';
export { parseSafetensors } from './io/safetensors.js';
export {
  LooptreeError, InitError, ShapeError, ArgumentError, StateDictError, SafetensorsError, DisposedError, OutOfMemoryError, ThreadError,
} from './errors.js';
