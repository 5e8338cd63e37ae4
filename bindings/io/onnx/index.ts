// Entry of `looptree/onnx`: loadOnnx(bytes) runs ONNX models (RNN/LSTM/GRU and the graph ops around them) on looptree modules.
export {};
