// Every module and layer: recurrent (RNN, LSTM, GRU), Linear, Embedding, activations, LastStep, losses,
// the tree models, the module contract they share, and the parameter handles optimizers work on.

export {
  RNN, LSTM, GRU, Stream, RecurrentModule,
  type RecurrentOptions, type RNNOptions, type LSTMOptions, type GRUOptions, type MergeMode, type ForwardOptions, type ForwardResult, type StreamOptions,
  type BackwardGradients, type BackwardResult,
} from './recurrent.js';
export type { Activation, ActivationName } from './recurrent-plan.js';
export { Parameter } from './parameter.js';
export type { LayerContext, LoadReport, Module, RecurrentState, StackLayer, TrainOptions } from './module.js';
export { withStateDict, type LoadOptions } from './parameters.js';
export { Linear, type LinearOptions } from './linear.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Dropout, LogSoftmax, ReLU, Sigmoid, Tanh, logSoftmax, type DropoutOptions } from './layers.js';
export { LastStep, type LastStepOptions } from './last-step.js';
export {
  bceWithLogits, crossEntropy, mse, nllLoss, type BceOptions, type ClassLossOptions, type LossResult, type MseOptions, type Reduction,
} from './losses.js';
export * from './tree/index.js';
export {
  QuantizedBinaryTreeLSTM, QuantizedChildSumTreeLSTM, QuantizedGRU, QuantizedLSTM, QuantizedLinear, QuantizedRNN, QuantizedTreeModule, QuantizedTreeRNN,
  SCALE_SUFFIX, isQuantized, quantizeDynamic, quantizeRows, type Int8Weight, type QuantizeOptions, type QuantizedModule,
} from './quantized.js';
