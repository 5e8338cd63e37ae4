// Entry of `looptree/onnx`: loadOnnx(bytes) runs ONNX models (RNN/LSTM/GRU and the graph ops around them) on looptree modules.

import { ArgumentError, DisposedError, type RecurrentModule, type Tensor } from '../../index.js';
import { Graph } from './graph.js';
import { decodeModel } from './model.js';
import type { IntegerTensor, TensorFeed } from './feeds.js';

export { OnnxError } from './errors.js';
export { MIN_OPSET, MAX_OPSET } from './graph.js';
export type { IntegerTensor, TensorFeed } from './feeds.js';
export type { DType as OnnxDType } from './tensors.js';

/** A graph output: a Tensor for float outputs, an IntegerTensor (Int32Array, BigInt64Array, …) for integer and bool ones. */
export type OnnxOutput = Tensor | IntegerTensor;

/** Feeds by graph input name: Tensors for float inputs, `{ data: Int32Array | BigInt64Array, shape }` for integer ones. */
export type OnnxFeeds = Record<string, Tensor | TensorFeed>;

/**
 * A loaded ONNX model. Recurrent nodes run on looptree modules (exposed in `layers`); the graph operators around them
 * run in JavaScript. Weights given as graph inputs (as in the ONNX backend tests) are loaded into the modules at the
 * first run and reloaded when a run feeds different values.
 */
export class OnnxModel {
  /** The graph inputs to feed (initializers are not listed). */
  readonly inputNames: readonly string[];
  /** The graph outputs, the keys of what run() returns. */
  readonly outputNames: readonly string[];
  /** The ai.onnx opset the model imports. */
  readonly opset: number;
  private graph: Graph | null;

  /** @internal Use loadOnnx(). */
  constructor(graph: Graph) {
    this.graph = graph;
    this.inputNames = Object.freeze([...graph.inputNames]);
    this.outputNames = Object.freeze([...graph.outputNames]);
    this.opset = graph.opset;
  }

  /**
   * The RNN, LSTM and GRU nodes as ordinary looptree modules (PyTorch parameter names and gate orders), in graph
   * order: stream, save or fine-tune them; the model runs whatever parameters they hold. A bidirectional node is
   * one bidirectional module (two, forward then reverse, if its directions have different activations); a
   * "reverse" node is a forward module that the model feeds each sequence reversed within its length. A node
   * whose weights are graph inputs gets its module at the first run.
   */
  get layers(): readonly RecurrentModule[] {
    return this.alive().layers();
  }

  /**
   * Runs the model: feeds by input name → outputs by output name (as onnxruntime's `session.run`). Rejects with
   * OnnxError (naming the node and operator) for a missing, unknown or mistyped feed or what the graph cannot run,
   * DisposedError after dispose().
   */
  async run(feeds: OnnxFeeds): Promise<Record<string, OnnxOutput>> {
    return this.runSync(feeds);
  }

  /** run() without the Promise. */
  runSync(feeds: OnnxFeeds): Record<string, OnnxOutput> {
    return this.alive().run(feeds);
  }

  /** Frees the modules' Wasm memory. Idempotent. */
  dispose(): void {
    this.graph?.dispose();
    this.graph = null;
  }

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private alive(): Graph {
    if (!this.graph) throw new DisposedError('OnnxModel');
    return this.graph;
  }
}

/**
 * Loads an ONNX model from the bytes of a .onnx file (weights inside the file; call `init()` first), like
 * onnxruntime's `InferenceSession.create(bytes)` but synchronous. Throws OnnxError (code 'ERR_ONNX') naming the
 * node and operator for what it cannot run, ArgumentError when `bytes` is not a Uint8Array or ArrayBuffer.
 * @example
 * const model = loadOnnx(readFileSync('classifier.onnx'));
 * const { logits } = await model.run({ ids: { data: BigInt64Array.from([1n, 5n, 9n]), shape: [1, 3] } });
 */
export function loadOnnx(bytes: Uint8Array | ArrayBuffer): OnnxModel {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new ArgumentError(`loadOnnx: expected the bytes of a .onnx file (Uint8Array or ArrayBuffer), got ${bytes === null ? 'null' : typeof bytes}`);
  }
  return new OnnxModel(new Graph(decodeModel(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))));
}
