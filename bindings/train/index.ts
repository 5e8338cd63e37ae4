// Training API: re-exports layers, losses, optimizers and clipping.

export { Parameter } from './parameter.js';
export { Linear, type LinearOptions } from './linear.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Dropout, LogSoftmax, ReLU, Sigmoid, Tanh, logSoftmax } from './layers.js';
export { bceWithLogits, crossEntropy, mse, nllLoss, type LossResult, type Reduction } from './losses.js';
export { Adam, AdamW, SGD, clipGradNorm, clipGradValue, type AdamOptions, type SGDOptions } from './optim.js';
