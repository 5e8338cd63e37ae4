// Public entry point of looptree: re-exports the API of DESIGN §4 and the typed errors.

export { init, initSync, backendInfo, type InitOptions, type SimdMode } from './runtime.js';
export { Tensor, tensor, type NestedArray, type TensorLike } from './tensor.js';
export {
  RNN, LSTM, GRU, Stream, RecurrentModule,
  type RecurrentOptions, type RNNOptions, type LSTMOptions, type ForwardOptions, type ForwardResult, type StreamOptions,
  type BackwardGradients, type BackwardResult,
} from './recurrent.js';
export { manualSeed, seededRandom } from './random.js';
export * from './train/index.js';
export { parseSafetensors, serializeSafetensors, readSafetensorsMetadata } from './io/safetensors.js';
export {
  LooptreeError, InitError, ShapeError, ArgumentError, StateDictError, SafetensorsError, DisposedError,
} from './errors.js';
// Recursive networks (issue 5)
export {
  Tree, parseTree, treeToJSON, TreeModule, TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM, TreeClassifier, TreeError, TreeParseError,
  type ParsedTree, type TreeJSON, type TreeModelKind, type TreeModuleOptions, type TreeForwardOptions, type TreeForwardResult,
  type TreeClassifierOptions, type TreeClassifierForwardOptions, type TreeClassifierResult,
} from './tree.js';
// Keras-style training (issue 4)
export { LastStep, type LastStepOptions } from './train/last-step.js';
export {
  Sequential,
  type Layer, type LossName, type LossFunction, type OptimizerConfig, type CompileOptions, type Samples, type RecurrentState,
  type PredictOptions, type FitOptions, type FitCallbacks, type EarlyStoppingOptions, type BatchLogs, type EpochLogs, type History,
  type LayerConfig, type SequentialConfig, type SavedSequential,
} from './train/sequential.js';
