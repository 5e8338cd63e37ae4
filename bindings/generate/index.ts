// Text generation: sampling the next token from logits, and autoregressive generation from a recurrent model.

export { sample, type SamplingOptions } from './sample.js';
export { generate, type GenerateOptions, type StreamLanguageModel } from './generate.js';
