// TreeClassifier: the sentiment model of Tai et al. — Embedding → tree model → per-node Linear, log-softmax
// and the summed NLL over every labelled node — a Container of the three, its keys in one flat namespace; its
// int8 copy (quantize()) holds the quantized tree model and classifier (nn/quantized.ts).

import { ArgumentError, ShapeError } from '../../errors.js';
import { Tensor, type TensorLike } from '../../tensor.js';
import { Container } from '../container.js';
import { Embedding } from '../embedding.js';
import { logSoftmax } from '../layers.js';
import { Linear } from '../linear.js';
import { crossEntropy } from '../losses.js';
import type { LoadReport, Module } from '../module.js';
import { withStateDict, type LoadOptions } from '../parameters.js';
import { isQuantized, quantizeDynamic, type QuantizeOptions } from '../quantized.js';
import { optionKeys, positiveInteger, strictOptions } from '../../options.js';
import { TREE_MODULES, checkTrees, type TreeForwardOptions, type TreeForwardResult, type TreeModelKind, type TreeModule, type TreeModuleOptions } from './modules.js';
import type { Tree } from './structure.js';

export interface TreeClassifierOptions extends TreeModuleOptions {
  /** The tree model between the embedding and the classifier. */
  model: TreeModelKind;
  /** Rows of the embedding (V). */
  vocabSize: number;
  /** Classes of the per-node classifier (C). */
  numClasses: number;
}

const CLASSIFIER_KEYS = optionKeys<TreeClassifierOptions>({ model: true, vocabSize: true, inputSize: true, hiddenSize: true, numClasses: true });

/** The classifier labels every node, so it always takes every node's state (no `output` choice). */
export interface TreeClassifierForwardOptions extends Omit<TreeForwardOptions, 'output'> {
  /** Per tree, the class of every node (−1: not in the loss); needed for `loss` and backward(). */
  labels?: readonly ArrayLike<number>[];
}

const CLASSIFIER_FORWARD_KEYS = optionKeys<TreeClassifierForwardOptions>({ train: true, labels: true });

/** What TreeClassifier.forward returns: the tree model's states, per-node log-probabilities and (with labels) the loss. */
export interface TreeClassifierResult extends TreeForwardResult {
  /** Per tree, log_softmax(W_cls h + b_cls) of every node: [n_b, C]. */
  logProbs: Tensor[];
  /** Σ over trees and labelled nodes of −logProbs[node, label] (when labels are given). */
  loss?: number;
}

/** What a training forward of TreeClassifier leaves for backward(). */
interface PendingClassifierBackward {
  trees: readonly Tree[];
  /** Caller-order index of every node with a token, in the order they were looked up. */
  tokenNodes: Int32Array;
  /** dLoss/dlogits [N, C]. */
  dLogits: Tensor;
}

/**
 * The sentiment models of Tai et al. 2015 on SST: a word embedding below a tree model, a classifier at
 * every node. x = embedding[token] (zeros for token −1, e.g. internal nodes), h from the tree model,
 * logProbs = log_softmax(W_cls h + b_cls), loss = Σ −logProbs[node, label] over labelled nodes (a sum, as
 * in the fixtures). A Container of Embedding, a tree module and Linear; its state dict keeps one flat
 * namespace: embedding [V, X], the tree model's parameters, W_cls [C, H], b_cls [C].
 * @example
 * const model = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: 6, inputSize: 6, hiddenSize: 8, numClasses: 5 });
 * const { loss } = model.forward([tree], [tokenIds], { labels: [labels], train: true }); model.backward();
 */
export class TreeClassifier extends Container {
  /** The tree model between the embedding and the classifier. */
  readonly model: TreeModelKind;
  /** Width X of the word vectors (the tree model's input). */
  readonly inputSize: number;
  /** Width H of the tree model's states. */
  readonly hiddenSize: number;
  /** Rows V of the embedding: token ids are in 0 .. V − 1. */
  readonly vocabSize: number;
  /** Classes C of the per-node classifier. */
  readonly numClasses: number;
  private readonly embedding: Embedding;
  private readonly tree: TreeModule;
  private readonly classifier: Linear;
  private pending: PendingClassifierBackward | null = null;
  /** quantize() hands its parts to the constructor it calls (synchronously) here, instead of new f32 ones. */
  private static handedParts: { embedding: Embedding; tree: TreeModule; classifier: Linear } | null = null;

  /** Builds and allocates the three parts (call `init()` first). Throws ArgumentError for an invalid or unknown option. */
  constructor(options: TreeClassifierOptions) {
    super();
    const checked = strictOptions(options, CLASSIFIER_KEYS, 'TreeClassifier');
    if (!Object.hasOwn(TREE_MODULES, checked.model)) {
      throw new ArgumentError(`TreeClassifier: model must be one of ${Object.keys(TREE_MODULES).join(', ')}, got ${JSON.stringify(checked.model)}`);
    }
    this.model = checked.model;
    this.inputSize = positiveInteger(checked.inputSize, 'inputSize', 'TreeClassifier');
    this.hiddenSize = positiveInteger(checked.hiddenSize, 'hiddenSize', 'TreeClassifier');
    this.vocabSize = positiveInteger(checked.vocabSize, 'vocabSize', 'TreeClassifier');
    this.numClasses = positiveInteger(checked.numClasses, 'numClasses', 'TreeClassifier');
    const parts = TreeClassifier.handedParts;
    TreeClassifier.handedParts = null;
    this.embedding = this.addChild(parts?.embedding ?? new Embedding({ numEmbeddings: this.vocabSize, embeddingDim: this.inputSize }), { weight: 'embedding' });
    this.tree = this.addChild(parts?.tree ?? new TREE_MODULES[this.model]({ inputSize: this.inputSize, hiddenSize: this.hiddenSize }), '');
    this.classifier = this.addChild(parts?.classifier ?? new Linear({ inFeatures: this.hiddenSize, outFeatures: this.numClasses }), { weight: 'W_cls', bias: 'b_cls' });
  }

  /** The constructor options that rebuild this model. */
  options(): TreeClassifierOptions {
    return { model: this.model, vocabSize: this.vocabSize, inputSize: this.inputSize, hiddenSize: this.hiddenSize, numClasses: this.numClasses };
  }

  /**
   * An int8 copy for inference (see quantizeDynamic, which calls it): the tree model and the classifier quantized
   * (QuantizedChildSumTreeLSTM, QuantizedBinaryTreeLSTM or QuantizedTreeRNN, and QuantizedLinear), the embedding
   * copied; this model is left untouched. The copy runs forward (logProbs, loss); its stateDict() holds the int8
   * codes and `.scale`s (`W_iou`, `W_iou.scale`, `W_cls`, `W_cls.scale`, …). Training forwards, backward() and
   * loadStateDict() on it throw ArgumentError (train the f32 model and quantize it again). Throws ArgumentError for
   * options other than `{ dtype: 'int8' }`.
   * @example const small = model.quantize({ dtype: 'int8' }); const { logProbs } = small.forward(trees, tokens);
   */
  quantize(options: QuantizeOptions): TreeClassifier {
    this.checkAlive();
    const made: Module[] = [];
    try {
      const tree = quantizeDynamic(this.tree, options);
      made.push(tree);
      const classifier = quantizeDynamic(this.classifier, options);
      made.push(classifier);
      const embedding = withStateDict(new Embedding({ numEmbeddings: this.vocabSize, embeddingDim: this.inputSize }), this.embedding.stateDict());
      made.push(embedding);
      TreeClassifier.handedParts = { embedding, tree, classifier };
      return new TreeClassifier(this.options());
    } catch (error) {
      for (const module of made) module.dispose();
      throw error;
    } finally {
      TreeClassifier.handedParts = null;
    }
  }

  /**
   * Runs every tree: one embedding lookup, one Wasm call for the tree model, one classifier GEMM. tokens:
   * per tree, the vocabulary index of every node's word (−1 for none). With labels it also returns the
   * summed NLL; `{ train: true }` (labels required) keeps what backward() needs. Throws ArgumentError for a
   * token or label outside its range, `train` without labels, or an unknown option; ShapeError when tokens or
   * labels do not hold one value per node of each tree; TreeError for a non-binary tree with BinaryTreeLSTM / TreeRNN.
   */
  forward(trees: readonly Tree[], tokens: readonly ArrayLike<number>[], options?: TreeClassifierForwardOptions): TreeClassifierResult {
    this.checkAlive();
    const method = 'TreeClassifier.forward';
    const opts = strictOptions(options, CLASSIFIER_FORWARD_KEYS, method);
    checkTrees(trees, this.model, method);
    const ids = perTreeIntegers(tokens, trees, this.vocabSize, 'tokens', method);
    const labels = opts.labels === undefined ? undefined : perTreeIntegers(opts.labels, trees, this.numClasses, 'labels', method);
    const train = opts.train === true;
    if (train && !labels) throw new ArgumentError(`${method}: { train: true } needs labels (backward() differentiates the loss)`);
    const X = this.inputSize, H = this.hiddenSize, C = this.numClasses;

    // x: the embedding rows of the nodes with a token, zeros elsewhere.
    const nodes = trees.reduce((sum, tree) => sum + tree.size, 0);
    const tokenNodes: number[] = [];
    const lookups: number[] = [];
    let offset = 0;
    ids.forEach((row) => {
      row.forEach((id, j) => {
        if (id < 0) return;
        tokenNodes.push(offset + j);
        lookups.push(id);
      });
      offset += row.length;
    });
    const vectors = lookups.length > 0 ? this.embedding.forward(lookups, [lookups.length], { train }).data : new Float32Array(0);
    const x = new Float32Array(nodes * X);
    tokenNodes.forEach((node, i) => x.set(vectors.subarray(i * X, (i + 1) * X), node * X));
    offset = 0;
    const xPerTree = trees.map((tree) => {
      const tensor = new Tensor(x.subarray(offset * X, (offset + tree.size) * X), [tree.size, X]);
      offset += tree.size;
      return tensor;
    });

    const { h, c } = this.tree.forward(trees, xPerTree, { train });
    const hAll = new Float32Array(nodes * H);
    offset = 0;
    h.forEach((value) => {
      hAll.set(value.data, offset * H);
      offset += value.shape[0];
    });
    const logits = this.classifier.forward(new Tensor(hAll, [nodes, H]), { train });
    const logProbs = logSoftmax(logits);
    offset = 0;
    const result: TreeClassifierResult = {
      logProbs: trees.map((tree) => {
        const tensor = new Tensor(logProbs.data.slice(offset * C, (offset + tree.size) * C), [tree.size, C]);
        offset += tree.size;
        return tensor;
      }),
      h,
    };
    if (c) result.c = c;
    if (labels) {
      const flat = new Int32Array(nodes);
      offset = 0;
      labels.forEach((row) => {
        flat.set(row, offset);
        offset += row.length;
      });
      const { loss, grad } = crossEntropy(logits, flat, { reduction: 'sum', ignoreIndex: -1 });
      result.loss = loss;
      if (train) this.pending = { trees, tokenNodes: Int32Array.from(tokenNodes), dLogits: grad };
    }
    return result;
  }

  /**
   * Backpropagates the loss of the last training forward (like `loss.backward()`); gradients accumulate into
   * grads() as in PyTorch. Throws ArgumentError without a pending training forward.
   */
  backward(): void {
    this.checkAlive();
    const pending = this.pending;
    if (!pending) throw new ArgumentError('TreeClassifier.backward: no training forward to go back through; call forward(trees, tokens, { labels, train: true }) first (each backward uses up its forward)');
    this.pending = null;
    const H = this.hiddenSize, X = this.inputSize;
    const dh = this.classifier.backward(pending.dLogits);
    let offset = 0;
    const dhPerTree = pending.trees.map((tree) => {
      const tensor = new Tensor(dh.data.subarray(offset * H, (offset + tree.size) * H), [tree.size, H]);
      offset += tree.size;
      return tensor;
    });
    const { x: dx } = this.tree.backward({ h: dhPerTree });
    if (pending.tokenNodes.length === 0) return;
    const dxAll = new Float32Array(offset * X);
    offset = 0;
    dx.forEach((value) => {
      dxAll.set(value.data, offset * X);
      offset += value.shape[0];
    });
    const dVectors = new Float32Array(pending.tokenNodes.length * X);
    pending.tokenNodes.forEach((node, i) => dVectors.set(dxAll.subarray(node * X, (node + 1) * X), i * X));
    this.embedding.backward(new Tensor(dVectors, [pending.tokenNodes.length, X]));
  }

  /**
   * Loads the flat state dict (embedding, the tree model's keys, W_cls, b_cls): see Container.loadStateDict.
   * A pending backward is dropped. Throws ArgumentError on an int8 copy (quantize()).
   */
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    if (isQuantized(this.tree)) {
      throw new ArgumentError('TreeClassifier.loadStateDict: an int8 model (quantize()) does not load state dicts; load the f32 model and quantize it again');
    }
    const report = super.loadStateDict(dict, opts);
    this.pending = null;
    return report;
  }

  /** Frees the Wasm memory of all three parts. Idempotent. */
  override dispose(): void {
    this.pending = null;
    super.dispose();
  }
}

/** Per-tree Int32Arrays of n_b integers in −1 .. limit − 1. */
function perTreeIntegers(values: readonly ArrayLike<number>[], trees: readonly Tree[], limit: number, what: string, method: string): Int32Array[] {
  if (!Array.isArray(values) || values.length !== trees.length) {
    throw new ShapeError(`${method}: expected ${what} as an array of ${trees.length} arrays (one per tree), got ${Array.isArray(values) ? `${values.length}` : values === null ? 'null' : typeof values}`);
  }
  return values.map((row, b) => {
    if (row === null || typeof row !== 'object' || typeof row.length !== 'number') {
      throw new ArgumentError(`${method}: ${what}[${b}] must be an array of integers, got ${row === null ? 'null' : typeof row}`);
    }
    if (row.length !== trees[b].size) {
      throw new ShapeError(`${method}: expected ${what}[${b}] of length ${trees[b].size} (one per node of tree ${b}), got ${row.length}`);
    }
    const out = new Int32Array(row.length);
    for (let j = 0; j < row.length; j++) {
      const value = row[j];
      if (!Number.isInteger(value) || value < -1 || value >= limit) {
        throw new ArgumentError(`${method}: ${what}[${b}][${j}] must be an integer in −1..${limit - 1}, got ${String(value)}`);
      }
      out[j] = value;
    }
    return out;
  });
}
