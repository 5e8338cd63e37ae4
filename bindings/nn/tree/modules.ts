// TreeRNN, ChildSumTreeLSTM and BinaryTreeLSTM over the Wasm core (assembly/tree.ts): a call merges all
// its trees, schedules their nodes by height (schedule.ts), and runs forward, or backward, in one Wasm call.
// The plan layout is assembly/abi.ts's TreePlan. With int8 weights (quantizeDynamic: QuantizedTreeModule in
// nn/quantized.ts) a module holds its weight matrices only as int8 blobs for gemmInt8, its biases in f32, and runs forward only.

import { Job, TreeModel, TreePlan } from '../../../assembly/abi.js';
import { ArgumentError, ShapeError, formatShape } from '../../errors.js';
import { inferenceOnly, packInt8, stackRows } from '../int8-weights.js';
import { ParameterizedModule } from '../parameters.js';
import { choiceOption, optionKeys, positiveInteger, strictOptions } from '../../options.js';
import { Layout, heapF32, heapI32, kernels, packedFloats, padToPanels, readF32, reserveArena, runJob, writeF32 } from '../../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../../tensor.js';
import { buildSchedule, type Schedule } from './schedule.js';
import { Tree, TreeError } from './structure.js';

/** The tree models by class name (TreeClassifier's `model` option). */
export type TreeModelKind = 'TreeRNN' | 'ChildSumTreeLSTM' | 'BinaryTreeLSTM';

const MODEL_CODE: Record<TreeModelKind, TreeModel> = { TreeRNN: TreeModel.TREE_RNN, ChildSumTreeLSTM: TreeModel.CHILD_SUM, BinaryTreeLSTM: TreeModel.BINARY };

interface TreeParameterSpec {
  name: string;
  shape: number[];
  /** The plan slot of its gradient. */
  gradSlot: number;
}

/** A weight the kernels read packed: the named parameters stacked by rows, transposed if asked. */
interface PackedSpec {
  slot: number;
  parts: string[];
  transposed: boolean;
}

/** A bias the kernels read: the named vectors concatenated, zero-padded to whole panels (padToPanels). */
interface BiasSpec {
  slot: number;
  parts: string[];
}

interface ModelSpec {
  kind: TreeModelKind;
  /** Every node needs 0 or 2 children. */
  binary: boolean;
  /** Has a cell state c (the LSTMs). */
  cell: boolean;
  /** Gate columns per node (LSTMs), 0 for TreeRNN. */
  gates: number;
  params: TreeParameterSpec[];
  packed: PackedSpec[];
  biases: BiasSpec[];
}

function modelSpec(kind: TreeModelKind, X: number, H: number): ModelSpec {
  const both = (slot: number, transposedSlot: number, parts: string[]): PackedSpec[] => [
    { slot, parts, transposed: false }, { slot: transposedSlot, parts, transposed: true },
  ];
  if (kind === 'TreeRNN') {
    return {
      kind, binary: true, cell: false, gates: 0,
      params: [
        { name: 'W_leaf', shape: [H, X], gradSlot: TreePlan.G_IN },
        { name: 'b_leaf', shape: [H], gradSlot: TreePlan.G_B_IN },
        { name: 'W', shape: [H, 2 * H], gradSlot: TreePlan.G_REC },
        { name: 'b', shape: [H], gradSlot: TreePlan.G_B_REC },
      ],
      packed: [...both(TreePlan.W_IN, TreePlan.WT_IN, ['W_leaf']), ...both(TreePlan.W_REC, TreePlan.WT_REC, ['W'])],
      biases: [{ slot: TreePlan.B_IN, parts: ['b_leaf'] }, { slot: TreePlan.B_REC, parts: ['b'] }],
    };
  }
  const binary = kind === 'BinaryTreeLSTM';
  const childWidth = binary ? 2 * H : H;
  const params: TreeParameterSpec[] = [
    { name: 'W_iou', shape: [3 * H, X], gradSlot: TreePlan.G_IN },
    { name: 'U_iou', shape: [3 * H, childWidth], gradSlot: TreePlan.G_REC },
    { name: 'b_iou', shape: [3 * H], gradSlot: TreePlan.G_B_IN },
    { name: 'W_f', shape: [H, X], gradSlot: TreePlan.G_IN_F },
    { name: 'U_f', shape: [childWidth, childWidth], gradSlot: TreePlan.G_REC_F },
    { name: 'b_f', shape: [H], gradSlot: TreePlan.G_B_IN_F },
  ];
  if (binary) {
    return {
      kind, binary: true, cell: true, gates: 5 * H, params,
      packed: [...both(TreePlan.W_IN, TreePlan.WT_IN, ['W_iou', 'W_f', 'W_f']), ...both(TreePlan.W_REC, TreePlan.WT_REC, ['U_iou', 'U_f'])],
      biases: [{ slot: TreePlan.B_IN, parts: ['b_iou', 'b_f', 'b_f'] }],
    };
  }
  return {
    kind, binary: false, cell: true, gates: 3 * H, params,
    packed: [
      ...both(TreePlan.W_IN, TreePlan.WT_IN, ['W_iou']), ...both(TreePlan.W_IN_F, TreePlan.WT_IN_F, ['W_f']),
      ...both(TreePlan.W_REC, TreePlan.WT_REC, ['U_iou']), ...both(TreePlan.W_REC_F, TreePlan.WT_REC_F, ['U_f']),
    ],
    biases: [{ slot: TreePlan.B_IN, parts: ['b_iou'] }, { slot: TreePlan.B_IN_F, parts: ['b_f'] }],
  };
}

/** Throws unless `trees` is a non-empty array of Trees (with 0 or 2 children per node for binary models). */
export function checkTrees(trees: readonly Tree[], kind: TreeModelKind, method: string): void {
  if (!Array.isArray(trees) || trees.length === 0) {
    throw new ArgumentError(`${method}: expected a non-empty array of Trees, got ${Array.isArray(trees) ? 'an empty array' : trees === null ? 'null' : typeof trees}`);
  }
  trees.forEach((tree, b) => {
    if (!(tree instanceof Tree)) throw new ArgumentError(`${method}: trees[${b}] is not a Tree (make one with Tree.fromParents or parseTree)`);
    if (kind === 'ChildSumTreeLSTM') return;
    const node = tree.firstNonBinaryNode();
    if (node >= 0) {
      const count = tree.children(node).length;
      throw new TreeError(`${method}: trees[${b}] node ${node} has ${count} ${count === 1 ? 'child' : 'children'}; ${kind} needs 0 or 2 children at every node`, node);
    }
  });
}

/** Per-tree [n_b, width] tensors (ShapeError naming the expected and the actual shape). */
function perTreeTensors(values: readonly TensorLike[], trees: readonly Tree[], width: number, what: string, method: string): Tensor[] {
  if (!Array.isArray(values) || values.length !== trees.length) {
    throw new ShapeError(`${method}: expected ${what} as an array of ${trees.length} tensors (one per tree), got ${Array.isArray(values) ? `${values.length}` : values === null ? 'null' : typeof values}`);
  }
  return values.map((value, b) => {
    const tensor = toTensor(value, `${method}: ${what}[${b}]`);
    const expected = [trees[b].size, width];
    if (tensor.shape.length !== 2 || tensor.shape[0] !== expected[0] || tensor.shape[1] !== expected[1]) {
      throw new ShapeError(`${method}: expected ${what}[${b}] of shape ${formatShape(expected)} (tree ${b} has ${trees[b].size} nodes), got ${formatShape(tensor.shape)}`);
    }
    return tensor;
  });
}

/** Options of TreeRNN, ChildSumTreeLSTM and BinaryTreeLSTM. */
export interface TreeModuleOptions {
  /** Features of each node's input x (X). */
  inputSize: number;
  /** Features of h (and c) (H). */
  hiddenSize: number;
}

const TREE_MODULE_KEYS = optionKeys<TreeModuleOptions>({ inputSize: true, hiddenSize: true });

/** Options of a tree module's `forward(trees, x, options)`; an unknown key throws ArgumentError. */
export interface TreeForwardOptions {
  /** Keep what backward() needs (default false). */
  train?: boolean;
  /**
   * What comes back: 'nodes' (default), every node's state; 'roots', only each root's (Keras'
   * `return_sequences: false` for trees): every node is still computed, and kept for backward().
   */
  output?: 'nodes' | 'roots';
}

const TREE_FORWARD_KEYS = optionKeys<TreeForwardOptions>({ train: true, output: true });

/** Gradients of the loss with respect to forward()'s results: one [n_b, H] tensor per tree. */
export interface TreeBackwardGradients {
  /** dLoss/dh per tree, shaped like forward()'s `h`. */
  h: readonly TensorLike[];
  /** The Tree-LSTMs' c; zeros when absent. */
  c?: readonly TensorLike[];
}

const TREE_BACKWARD_KEYS = optionKeys<TreeBackwardGradients>({ h: true, c: true });

/** What a tree module's forward returns (n_b = nodes of tree b, H = hiddenSize). */
export interface TreeForwardResult {
  /** Per tree, h of every node: [n_b, H] in that tree's node order (output 'roots': [1, H], the root's). */
  h: Tensor[];
  /** Per tree, c of every node (LSTMs): [n_b, H] (output 'roots': [1, H]). */
  c?: Tensor[];
}

/** A Layout whose pieces fill plan slots: takeSlot() remembers the slot, pointSlots() writes base + offset into each. */
class SlotLayout extends Layout {
  private readonly slots: Array<[slot: number, offset: number]> = [];

  takeSlot(slot: number, bytes: number): number {
    const offset = this.take(bytes);
    this.slots.push([slot, offset]);
    return offset;
  }

  /** Points every slot taken at its piece of the block at `base`, in the plan at int index `p`. */
  pointSlots(ints: Int32Array, p: number, base: number): void {
    for (const [slot, offset] of this.slots) ints[p + slot] = base + offset;
  }
}

/** What a training forward leaves for backward(): its tape block holds the plan, schedule and state. */
interface PendingBackward {
  plan: number;
  trees: readonly Tree[];
  schedule: Schedule;
}

/**
 * Base of TreeRNN, ChildSumTreeLSTM and BinaryTreeLSTM. Owns the parameters (ParameterStore), a block of
 * the packed copies the kernels read, and the tape of the last training forward. forward() runs a batch of
 * trees in one Wasm call; backward() takes the gradients of every node's h (and c) back in another.
 */
export abstract class TreeModule extends ParameterizedModule {
  /** Features of each node's input x (X). */
  readonly inputSize: number;
  /** Features of h (and c) (H). */
  readonly hiddenSize: number;
  /** The model (TreeClassifier's `model` option). */
  readonly kind: TreeModelKind;
  private readonly spec: ModelSpec;
  /** Int8 modules: the forward weights' packInt8Weight blobs (their slots in weightSlots). */
  private readonly int8Targets: Array<{ spec: PackedSpec; ptr: number }> = [];
  private readonly int8: boolean;
  /** Plan slots of the packed weights and biases. */
  private readonly weightSlots: Array<[slot: number, ptr: number]> = [];
  private readonly packedTargets: Array<{ spec: PackedSpec; ptr: number; rows: number; columns: number }> = [];
  private readonly biasTargets: Array<{ spec: BiasSpec; ptr: number }> = [];
  /** Room to stack a packed weight's parts before packing. */
  private readonly staging: number;
  /** The tape of the last training forward (plan, schedule and states), grown to the largest so far. */
  private readonly tape = this.growingBlock();
  private pending: PendingBackward | null = null;

  protected constructor(kind: TreeModelKind, options: TreeModuleOptions) {
    const checked = strictOptions(options, TREE_MODULE_KEYS, kind);
    const X = positiveInteger(checked.inputSize, 'inputSize', kind);
    const H = positiveInteger(checked.hiddenSize, 'hiddenSize', kind);
    const spec = modelSpec(kind, X, H);
    super(spec.params);
    const int8 = this.int8Names.length > 0; // a quantized class (nn/quantized.ts): weight matrices in int8, forward only
    this.spec = spec;
    this.kind = kind;
    this.int8 = int8;
    this.inputSize = X;
    this.hiddenSize = H;
    const shapeOf = (name: string) => spec.params.find((param) => param.name === name)!.shape;
    const rowsOf = (parts: string[]) => parts.reduce((sum, name) => sum + shapeOf(name)[0], 0);
    const layout = new Layout();
    let largestStacked = 0;
    // Int8: only the forward weights, as packInt8Weight blobs; f32: each weight and its transpose, packed.
    const packed = spec.packed.filter((target) => !(int8 && target.transposed)).map((target) => {
      const rows = rowsOf(target.parts), columns = shapeOf(target.parts[0])[1];
      if (int8) return { spec: target, offset: layout.take(kernels().quantizedWeightBytes(rows, columns)), rows, columns };
      if (target.parts.length > 1) largestStacked = Math.max(largestStacked, rows * columns);
      const [n, k] = target.transposed ? [columns, rows] : [rows, columns];
      return { spec: target, offset: layout.take(packedFloats(n, k) * 4), rows, columns };
    });
    const biases = spec.biases.map((target) => ({ spec: target, offset: layout.take(padToPanels(rowsOf(target.parts)) * 4) }));
    const stagingOffset = layout.take(largestStacked * 4);
    const block = this.allocOwned(layout.size);
    heapF32().fill(0, block >>> 2, (block + layout.size) >>> 2);
    for (const { spec: target, offset, rows, columns } of packed) {
      if (int8) this.int8Targets.push({ spec: target, ptr: block + offset });
      else this.packedTargets.push({ spec: target, ptr: block + offset, rows, columns });
      this.weightSlots.push([target.slot, block + offset]);
    }
    for (const { spec: target, offset } of biases) {
      this.biasTargets.push({ spec: target, ptr: block + offset });
      this.weightSlots.push([target.slot, block + offset]);
    }
    this.staging = block + stagingOffset;
    this.resetParameters();
  }

  /** The default initialization: every parameter ~ U(−1/√H, 1/√H), from the seeded generator. */
  resetParameters(): void {
    this.resetUniform(1 / Math.sqrt(this.hiddenSize));
  }

  /**
   * @internal Re-derives the packed weights and biases after the parameter values changed; a pending
   * backward would mix old activations with new weights, so it is dropped.
   */
  parametersChanged(): void {
    this.pending = null;
    const { packWeightStrided } = kernels();
    for (const { spec, ptr, rows, columns } of this.packedTargets) {
      // A single part is packed where it lies; stacked parts are copied one after another first.
      let source = this.store.get(spec.parts[0]).ptr;
      if (spec.parts.length > 1) {
        const heap = heapF32();
        let at = this.staging >>> 2;
        for (const name of spec.parts) {
          const slot = this.store.get(name);
          heap.copyWithin(at, slot.ptr >>> 2, (slot.ptr >>> 2) + slot.size);
          at += slot.size;
        }
        source = this.staging;
      }
      if (spec.transposed) packWeightStrided(ptr, source, columns, rows, 1, columns);
      else packWeightStrided(ptr, source, rows, columns, columns, 1);
    }
    const int8Weights = this.int8Weights;
    if (int8Weights) for (const { spec, ptr } of this.int8Targets) packInt8(ptr, stackRows(spec.parts.map((name) => int8Weights.get(name)!)));
    const heap = heapF32();
    for (const { spec, ptr } of this.biasTargets) {
      let at = ptr >>> 2;
      for (const name of spec.parts) {
        const slot = this.store.get(name);
        heap.copyWithin(at, slot.ptr >>> 2, (slot.ptr >>> 2) + slot.size);
        at += slot.size;
      }
    }
  }

  /**
   * Runs every tree (merged, level by level, in one Wasm call). x: one [n_b, X] tensor per tree, rows in
   * that tree's node order. With `{ train: true }` it keeps what backward() needs. Throws ArgumentError when
   * `trees` is not a non-empty array of Trees or for an unknown option, TreeError for a node with other than 0
   * or 2 children in the binary models, ShapeError when x is not one [n_b, X] tensor per tree.
   */
  forward(trees: readonly Tree[], x: readonly TensorLike[], options?: TreeForwardOptions): TreeForwardResult {
    this.checkAlive();
    const method = `${this.constructor.name}.forward`;
    const opts = strictOptions(options, TREE_FORWARD_KEYS, method);
    checkTrees(trees, this.spec.kind, method);
    const inputs = perTreeTensors(x, trees, this.inputSize, 'x', method);
    const train = opts.train === true;
    if (this.int8 && train) throw inferenceOnly(this.constructor.name, 'forward');
    this.checkInt8Loaded(method);
    const output = choiceOption(opts.output, 'output', ['nodes', 'roots'] as const, 'nodes', method);
    const schedule = buildSchedule(trees);
    const { nodes: N, leaves: N0, levels: L } = schedule;
    const X = this.inputSize, H = this.hiddenSize, G = this.spec.gates;
    const layout = new SlotLayout();
    const planAt = layout.take(TreePlan.SLOTS * 4);
    const orderAt = layout.takeSlot(TreePlan.ORDER, N * 4);
    const levelStartAt = layout.takeSlot(TreePlan.LEVEL_START, (L + 1) * 4);
    const childStartAt = layout.takeSlot(TreePlan.CHILD_START, (N + 1) * 4);
    const childrenAt = layout.takeSlot(TreePlan.CHILDREN, schedule.children.length * 4);
    const xAt = layout.takeSlot(TreePlan.X, N * X * 4);
    const allNodes = output === 'nodes';
    const hOutAt = allNodes ? layout.takeSlot(TreePlan.H_OUT, N * H * 4) : -1;
    const cOutAt = allNodes && this.spec.cell ? layout.takeSlot(TreePlan.C_OUT, N * H * 4) : -1;
    layout.takeSlot(TreePlan.XS, N * X * 4);
    const hsAt = layout.takeSlot(TreePlan.HS, N * H * 4);
    let csAt = -1;
    if (this.spec.cell) {
      csAt = layout.takeSlot(TreePlan.CS, N * H * 4);
      layout.takeSlot(TreePlan.GATES, N * G * 4);
    }
    if (this.spec.kind === 'ChildSumTreeLSTM') {
      layout.takeSlot(TreePlan.INPUT_FORGET, (N - N0) * H * 4);
      layout.takeSlot(TreePlan.HIDDEN_FORGET, N * H * 4);
      layout.takeSlot(TreePlan.FORGET, N * H * 4);
      layout.takeSlot(TreePlan.CHILD_STATE, (N - N0) * H * 4);
    } else {
      layout.takeSlot(TreePlan.CHILD_STATE, (N - N0) * 2 * H * 4);
    }

    // An int8 model's products quantize their rows into this scratch (its pointer marks the plan INT8; the largest A
    // is every node's x or children's states: at most max(X, 2H) wide).
    if (this.int8) layout.takeSlot(TreePlan.INT8, kernels().int8ScratchBytes(N, Math.max(X, 2 * H)));

    if (train) this.pending = null; // the tape is about to be overwritten
    const base = train ? this.tape.reserve(layout.size) : reserveArena(layout.size);
    const plan = base + planAt;
    const ints = heapI32(), p = plan >>> 2;
    ints.fill(0, p, p + TreePlan.SLOTS);
    ints[p + TreePlan.MODEL] = MODEL_CODE[this.spec.kind];
    ints[p + TreePlan.NODES] = N;
    ints[p + TreePlan.LEAVES] = N0;
    ints[p + TreePlan.LEVELS] = L;
    ints[p + TreePlan.INPUT] = X;
    ints[p + TreePlan.HIDDEN] = H;
    for (const [slot, ptr] of this.weightSlots) ints[p + slot] = ptr;
    layout.pointSlots(ints, p, base);
    ints.set(schedule.order, (base + orderAt) >>> 2);
    ints.set(schedule.levelStart, (base + levelStartAt) >>> 2);
    ints.set(schedule.childStart, (base + childStartAt) >>> 2);
    ints.set(schedule.children, (base + childrenAt) >>> 2);
    inputs.forEach((input, b) => writeF32(base + xAt + schedule.offsets[b] * X * 4, input.data));
    // Child-sum trees split each level's nodes between threads (one barrier a level): worth it when the call is big
    // and the levels are wide enough to give every thread a row block (W6: 4,032 nodes in ~20 levels).
    // Int8 plans run on one thread: gemmInt8 grows its activation scratch with the main instance's allocator.
    const worthThreads = N * H * (X + H) * 4 >= 1 << 20 && N >= 16 * L;
    if (this.spec.kind === 'ChildSumTreeLSTM' && !this.int8) runJob(Job.TREE_FORWARD, plan, worthThreads, () => kernels().treeForward(plan));
    else kernels().treeForward(plan);
    if (train) this.pending = { plan, trees, schedule };

    // One copy out of Wasm memory per tree and output: many small buffers come from the allocator's free
    // lists, where one large one is fresh pages on every call (page faults cost more than the copy).
    // Roots are read straight from the schedule-order state.
    const perTree = (callerOrderAt: number, scheduleOrderAt: number): Tensor[] => (allNodes
      ? trees.map((tree, b) => new Tensor(readF32(base + callerOrderAt + schedule.offsets[b] * H * 4, tree.size * H), [tree.size, H]))
      : trees.map((_, b) => new Tensor(readF32(base + scheduleOrderAt + schedule.rootPositions[b] * H * 4, H), [1, H])));
    const result: TreeForwardResult = { h: perTree(hOutAt, hsAt) };
    if (this.spec.cell) result.c = perTree(cOutAt, csAt);
    return result;
  }

  /**
   * Backpropagates dLoss/dh (and, for the LSTMs, dLoss/dc; zeros when absent) of every node, one [n_b, H]
   * tensor per tree, through the last training forward, in one Wasm call. Gradients accumulate into
   * grads() as in PyTorch; returns `{ x }`, dLoss/dx per tree ([n_b, X] each). Each backward uses up its forward. Throws ArgumentError
   * without a pending training forward (or `c` for TreeRNN), ShapeError for gradients of other shapes.
   */
  backward(gradients: TreeBackwardGradients): { x: Tensor[] } {
    this.checkAlive();
    const method = `${this.constructor.name}.backward`;
    if (this.int8) throw inferenceOnly(this.constructor.name, 'backward');
    const grad = strictOptions(gradients, TREE_BACKWARD_KEYS, method);
    const pending = this.pending;
    if (!pending) {
      throw new ArgumentError(`${method}: no training forward to go back through; call forward(trees, x, { train: true }) first (each backward uses up its forward, and changing the parameters drops it)`);
    }
    const { plan, trees, schedule } = pending;
    const H = this.hiddenSize;
    const dh = perTreeTensors(grad.h, trees, H, 'h', method);
    let dc: Tensor[] | null = null;
    if (grad.c !== undefined) {
      if (!this.spec.cell) throw new ArgumentError(`${method}: c is only for the Tree-LSTMs (${this.constructor.name} has no cell state)`);
      dc = perTreeTensors(grad.c, trees, H, 'c', method);
    }
    // Gradient pointers first: the gradient block is allocated on first use.
    const gradSlots = this.spec.params.map((param): [number, number] => [param.gradSlot, this.store.gradientPtr(this.store.get(param.name))]);

    const { nodes: N, leaves: N0 } = schedule;
    const X = this.inputSize, G = this.spec.gates;
    const layout = new SlotLayout();
    const dhInAt = layout.takeSlot(TreePlan.DH_IN, N * H * 4);
    const dcInAt = dc ? layout.takeSlot(TreePlan.DC_IN, N * H * 4) : -1;
    const dxOutAt = layout.takeSlot(TreePlan.DX_OUT, N * X * 4);
    layout.takeSlot(TreePlan.DH, N * H * 4);
    layout.takeSlot(TreePlan.DXS, N * X * 4);
    layout.takeSlot(TreePlan.DCHILD, schedule.largestLevel * 2 * H * 4);
    // Weight-gradient scratch (TreePlan): a gate-gradient block transposed, the activations (x, children's h) packed.
    layout.takeSlot(TreePlan.WG_TRANSPOSED, N * (this.spec.cell ? 3 * H : H) * 4);
    layout.takeSlot(TreePlan.WG_PACKED, packedFloats(Math.max(X, this.spec.binary ? 2 * H : H), N) * 4);
    if (this.spec.cell) {
      layout.takeSlot(TreePlan.DC, N * H * 4);
      layout.takeSlot(TreePlan.DGATES, N * G * 4);
    }
    if (this.spec.kind === 'ChildSumTreeLSTM') {
      layout.takeSlot(TreePlan.DINPUT_FORGET, (N - N0) * H * 4);
      layout.takeSlot(TreePlan.DFORGET, N * H * 4);
    }
    const base = reserveArena(layout.size);
    const ints = heapI32(), p = plan >>> 2;
    ints[p + TreePlan.DC_IN] = 0;
    for (const [slot, ptr] of gradSlots) ints[p + slot] = ptr;
    layout.pointSlots(ints, p, base);
    dh.forEach((value, b) => writeF32(base + dhInAt + schedule.offsets[b] * H * 4, value.data));
    dc?.forEach((value, b) => writeF32(base + dcInAt + schedule.offsets[b] * H * 4, value.data));
    kernels().treeBackward(plan);
    this.pending = null;
    const dx = readF32(base + dxOutAt, N * X);
    return { x: trees.map((tree, b) => new Tensor(dx.subarray(schedule.offsets[b] * X, schedule.offsets[b + 1] * X), [tree.size, X])) };
  }

  /** Frees the Wasm memory of this module (parameters, packed weights and tape). Idempotent. */
  override dispose(): void {
    this.pending = null;
    super.dispose();
  }
}

/**
 * Socher-style recursive network. Leaf: h = tanh(W_leaf x + b_leaf); internal node (exactly two children,
 * left = smaller index): h = tanh(W [h_L; h_R] + b). Internal nodes' x is not used (its gradient is 0).
 * Parameters: W_leaf [H, X], b_leaf [H], W [H, 2H] (columns 0..H−1 act on h_L), b [H].
 * @example const rnn = new TreeRNN({ inputSize: 50, hiddenSize: 64 }); const { h } = rnn.forward([tree], [x]);
 */
export class TreeRNN extends TreeModule {
  /** Allocates the parameters (call `init()` first). Throws ArgumentError for an invalid or unknown option. */
  constructor(options: TreeModuleOptions) {
    super('TreeRNN', options);
  }
}

/**
 * Child-Sum Tree-LSTM (Tai et al. 2015, eq. 2–8), any number of children: h̃ = Σ_k h_k,
 * [i; o; u] = W_iou x + U_iou h̃ + b_iou (σ, σ, tanh), f_k = σ(W_f x + U_f h_k + b_f) per child,
 * c = i ⊙ u + Σ_k f_k ⊙ c_k, h = o ⊙ tanh(c). A leaf has h̃ = 0 and no f terms.
 * Parameters: W_iou [3H, X], U_iou [3H, H], b_iou [3H] (row blocks i, o, u), W_f [H, X], U_f [H, H], b_f [H].
 * @example const lstm = new ChildSumTreeLSTM({ inputSize: 64, hiddenSize: 128 }); const { h, c } = lstm.forward(trees, xs);
 */
export class ChildSumTreeLSTM extends TreeModule {
  /** Allocates the parameters (call `init()` first). Throws ArgumentError for an invalid or unknown option. */
  constructor(options: TreeModuleOptions) {
    super('ChildSumTreeLSTM', options);
  }
}

/**
 * Binary Tree-LSTM (N-ary Tree-LSTM with N = 2, Tai et al. 2015, eq. 9–14); every node has 0 or 2 children
 * (left = smaller index): [i; o; u] = W_iou x + U_iou [h_L; h_R] + b_iou, [f_L; f_R] = σ([W_f x + b_f;
 * W_f x + b_f] + U_f [h_L; h_R]), c = i ⊙ u + f_L ⊙ c_L + f_R ⊙ c_R, h = o ⊙ tanh(c). Leaves use zero
 * child states. Parameters: W_iou [3H, X], U_iou [3H, 2H], b_iou [3H], W_f [H, X], U_f [2H, 2H] (rows
 * 0..H−1 give f_L; columns 0..H−1 act on h_L), b_f [H] (shared by f_L and f_R).
 * @example const lstm = new BinaryTreeLSTM({ inputSize: 300, hiddenSize: 150 });
 */
export class BinaryTreeLSTM extends TreeModule {
  /** Allocates the parameters (call `init()` first). Throws ArgumentError for an invalid or unknown option. */
  constructor(options: TreeModuleOptions) {
    super('BinaryTreeLSTM', options);
  }
}

export const TREE_MODULES: Record<TreeModelKind, new (options: TreeModuleOptions) => TreeModule> = { TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM };
