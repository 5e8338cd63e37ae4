// Entry of `looptree/keras`: loadLayersModel(modelJson, weights) runs TF.js layers models (Keras) on looptree modules.
export {};
