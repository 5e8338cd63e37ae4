// Entry of `looptree/keras`: loadLayersModel(modelJson, weights) runs TF.js layers models (Keras) on looptree modules.

export { loadLayersModel, KerasModel, type ModelJson, type ModelInput } from './model.js';
export { KerasError } from './errors.js';
export type { WeightsInput } from './weights.js';
