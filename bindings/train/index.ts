// Training: optimizers, gradient clipping, and the Keras-style Sequential model with its fit loop.

export { Adam, AdamW, SGD, clipGradNorm, clipGradValue, type AdamOptions, type SGDOptions } from './optim.js';
export {
  Sequential,
  type Layer, type LossName, type LossFunction, type OptimizerConfig, type CompileOptions, type Samples, type PredictOptions,
  type LayerConfig, type SequentialConfig, type SavedSequential,
} from './sequential.js';
export { type FitOptions, type FitAsyncOptions, type FitCallbacks, type EarlyStoppingOptions, type BatchLogs, type History, type NonFinitePolicy } from './fit.js';
export { type EpochLogs } from './progress.js';
