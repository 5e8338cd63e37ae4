// Recursive networks over the Wasm core (assembly/tree.ts): trees (from parent arrays, s-expressions or
// nested JSON), TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM, and TreeClassifier (Embedding → tree model →
// per-node Linear + log-softmax, summed NLL). A tree model's call merges all its trees, schedules their
// nodes by height (index arrays built once per call), and runs forward, or backward, in one Wasm call.

import { ArgumentError, DisposedError, LooptreeError, ShapeError, StateDictError, formatShape } from './errors.js';
import { ParameterizedModule, checkedStateValue } from './parameters.js';
import { positiveInteger } from './options.js';
import { Layout, heapF32, heapI32, kernels, padToPanels, readF32, reserveArena, writeF32, type Kernels } from './runtime.js';
import { Tensor, toTensor, type TensorLike } from './tensor.js';
import { Embedding } from './train/embedding.js';
import { logSoftmax } from './train/layers.js';
import { Linear } from './train/linear.js';
import { crossEntropy } from './train/losses.js';
import { Parameter } from './train/parameter.js';

/** The Wasm exports this file uses beyond runtime's Kernels (see assembly/index.ts). */
interface TreeKernels extends Kernels {
  treeForward(plan: number): void;
  treeBackward(plan: number): void;
}

const treeKernels = (): TreeKernels => kernels() as TreeKernels;

// ---------------------------------------------------------------------------------------------------
// Errors

/** A tree's structure is invalid (`node` names the offending node), or a model cannot take it. */
export class TreeError extends LooptreeError {
  constructor(message: string, readonly node?: number) {
    super('ERR_TREE', message);
  }
}

/** An s-expression could not be parsed; `position` is the 0-based character offset of the problem. */
export class TreeParseError extends LooptreeError {
  constructor(message: string, readonly position: number) {
    super('ERR_TREE_PARSE', message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Trees

/**
 * An immutable rooted tree of `size` nodes numbered 0 .. size − 1, in any order. The children of a node
 * are ordered by ascending node index; in binary models the smaller index is the left child.
 * @example const tree = Tree.fromParents([-1, 0, 0]); // root 0 with children 1 (left) and 2 (right)
 */
export class Tree {
  /** Number of nodes. */
  readonly size: number;
  /** The root's node index. */
  readonly root: number;
  /** Height of the root: 0 for a single node. */
  readonly height: number;
  /** @internal parents[j], −1 for the root. */
  readonly parentOf: Int32Array;
  /** @internal The children of node j are childList[childStart[j] .. childStart[j + 1]), ascending. */
  readonly childStart: Int32Array;
  /** @internal */
  readonly childList: Int32Array;
  /** @internal Height of every node: leaves 0, else 1 + the largest child height. */
  readonly heights: Int32Array;
  private nonBinaryNode: number | undefined;

  private constructor(parents: Int32Array, root: number, childStart: Int32Array, childList: Int32Array, heights: Int32Array) {
    this.size = parents.length;
    this.root = root;
    this.parentOf = parents;
    this.childStart = childStart;
    this.childList = childList;
    this.heights = heights;
    this.height = heights[root];
  }

  /**
   * Builds a tree from `parents[j]` = the parent of node j (−1 for the root). Throws TreeError naming the
   * offending node for a non-integer or out-of-range parent, no root or more than one, and cycles.
   */
  static fromParents(parents: ArrayLike<number>): Tree {
    if (parents === null || typeof parents !== 'object' || typeof parents.length !== 'number') {
      throw new TreeError(`Tree.fromParents: expected an array of parent indices, got ${parents === null ? 'null' : typeof parents}`);
    }
    const n = parents.length;
    if (n === 0) throw new TreeError('Tree.fromParents: a tree needs at least one node, got an empty parents array');
    const parentOf = new Int32Array(n);
    let root = -1;
    for (let j = 0; j < n; j++) {
      const parent = parents[j];
      if (!Number.isInteger(parent)) throw new TreeError(`Tree.fromParents: the parent of node ${j} must be an integer, got ${String(parent)}`, j);
      if (parent < -1 || parent >= n) {
        throw new TreeError(`Tree.fromParents: the parent of node ${j} is ${parent}, out of range (expected −1 for the root or a node 0..${n - 1})`, j);
      }
      if (parent === j) throw new TreeError(`Tree.fromParents: node ${j} is its own parent (a cycle)`, j);
      if (parent === -1) {
        if (root >= 0) throw new TreeError(`Tree.fromParents: more than one root: nodes ${root} and ${j} both have parent −1`, j);
        root = j;
      }
      parentOf[j] = parent;
    }
    if (root < 0) throw new TreeError('Tree.fromParents: no root (expected exactly one node with parent −1); the parents form a cycle', cycleFrom(parentOf, 0)[0]);

    const childStart = new Int32Array(n + 1);
    for (let j = 0; j < n; j++) if (parentOf[j] >= 0) childStart[parentOf[j] + 1]++;
    for (let j = 0; j < n; j++) childStart[j + 1] += childStart[j];
    const childList = new Int32Array(n - 1);
    const filled = childStart.slice(0, n);
    for (let j = 0; j < n; j++) if (parentOf[j] >= 0) childList[filled[parentOf[j]]++] = j;

    // Breadth-first from the root: a node never reached is on (or hangs below) a cycle.
    const visit = new Int32Array(n);
    visit[0] = root;
    let reached = 1;
    for (let at = 0; at < reached; at++) {
      const node = visit[at];
      for (let e = childStart[node]; e < childStart[node + 1]; e++) visit[reached++] = childList[e];
    }
    if (reached < n) {
      const seen = new Uint8Array(n);
      for (let at = 0; at < reached; at++) seen[visit[at]] = 1;
      const cycle = cycleFrom(parentOf, seen.indexOf(0));
      throw new TreeError(`Tree.fromParents: node ${cycle[0]} is on a cycle (${[...cycle, cycle[0]].join(' → ')}: each node's parent follows it)`, cycle[0]);
    }
    const heights = new Int32Array(n);
    for (let at = n - 1; at > 0; at--) {
      const node = visit[at], parent = parentOf[node];
      heights[parent] = Math.max(heights[parent], heights[node] + 1);
    }
    return new Tree(parentOf, root, childStart, childList, heights);
  }

  /** The parent of `node`, −1 for the root. */
  parent(node: number): number {
    return this.parentOf[this.checkNode(node)];
  }

  /** The children of `node`, ascending. */
  children(node: number): number[] {
    this.checkNode(node);
    return Array.from(this.childList.subarray(this.childStart[node], this.childStart[node + 1]));
  }

  /** A copy of the parent array. */
  parents(): Int32Array {
    return this.parentOf.slice();
  }

  /** @internal The first node with other than 0 or 2 children, or −1 if the tree is binary. */
  firstNonBinaryNode(): number {
    if (this.nonBinaryNode === undefined) {
      this.nonBinaryNode = -1;
      for (let j = 0; j < this.size; j++) {
        const count = this.childStart[j + 1] - this.childStart[j];
        if (count !== 0 && count !== 2) {
          this.nonBinaryNode = j;
          break;
        }
      }
    }
    return this.nonBinaryNode;
  }

  private checkNode(node: number): number {
    if (!Number.isInteger(node) || node < 0 || node >= this.size) {
      throw new ArgumentError(`Tree: node must be an integer in 0..${this.size - 1}, got ${String(node)}`);
    }
    return node;
  }
}

/** The cycle reached by following parents from `start` (every node has a parent): its nodes in order. */
function cycleFrom(parentOf: Int32Array, start: number): number[] {
  const step = new Map<number, number>();
  const path: number[] = [];
  let node = start;
  while (!step.has(node)) {
    step.set(node, path.length);
    path.push(node);
    node = parentOf[node];
  }
  return path.slice(step.get(node));
}

/** A tree with per-node labels and words (nodes in pre-order: the root is 0, children follow their parent). */
export interface ParsedTree {
  tree: Tree;
  /** Each node's integer label, −1 where the JSON form gives none. */
  labels: Int32Array;
  /** Each leaf's word; null for internal nodes. */
  tokens: Array<string | null>;
}

/** The nested JSON form of a labelled tree: a leaf has `word`, an internal node `children`. */
export interface TreeJSON {
  label?: number;
  word?: string;
  children?: TreeJSON[];
}

/**
 * Parses an SST/PTB-style s-expression with integer labels, `(3 (2 not) (4 (3 very) (4 good)))`, or the
 * nested JSON form. Nodes are numbered in pre-order (the order of their opening parentheses), so the root
 * is 0. A node holds either one word (a leaf) or one or more child trees. Errors in text are
 * TreeParseErrors with the character position; errors in JSON are TreeErrors naming the path.
 */
export function parseTree(source: string | TreeJSON): ParsedTree {
  if (typeof source === 'string') return parseSExpression(source);
  if (source !== null && typeof source === 'object' && !Array.isArray(source)) return parseJSON(source);
  throw new ArgumentError(`parseTree: expected an s-expression string or a TreeJSON object, got ${source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source}`);
}

/** The nested JSON form of a parsed tree (labels −1 are left out). */
export function treeToJSON(parsed: ParsedTree): TreeJSON {
  const { tree, labels, tokens } = parsed;
  const build = (node: number): TreeJSON => {
    const json: TreeJSON = {};
    if (labels[node] >= 0) json.label = labels[node];
    const children = tree.children(node);
    if (children.length === 0) json.word = tokens[node] ?? '';
    else json.children = children.map(build);
    return json;
  };
  return build(tree.root);
}

interface Token {
  kind: '(' | ')' | 'atom' | 'end';
  text: string;
  position: number;
}

function describeToken(token: Token): string {
  return token.kind === 'end' ? 'the end of the input' : token.kind === 'atom' ? `the word "${token.text}"` : `"${token.kind}"`;
}

function parseSExpression(text: string): ParsedTree {
  let at = 0;
  const next = (): Token => {
    while (at < text.length && /\s/.test(text[at])) at++;
    if (at >= text.length) return { kind: 'end', text: '', position: at };
    const position = at;
    const char = text[at];
    if (char === '(' || char === ')') {
      at++;
      return { kind: char, text: char, position };
    }
    while (at < text.length && !/[\s()]/.test(text[at])) at++;
    return { kind: 'atom', text: text.slice(position, at), position };
  };
  const fail = (message: string, token: Token): never => {
    throw new TreeParseError(`parseTree: ${message} at position ${token.position}`, token.position);
  };

  const parents: number[] = [];
  const labels: number[] = [];
  const tokens: Array<string | null> = [];
  const open: number[] = [];
  let token = next();
  if (token.kind !== '(') fail(`expected "(" to start the tree, got ${describeToken(token)}`, token);
  for (;;) {
    // `token` is the "(" of a new node.
    const node = parents.length;
    parents.push(open.length > 0 ? open[open.length - 1] : -1);
    tokens.push(null);
    const label = next();
    if (label.kind !== 'atom' || !/^[+-]?\d+$/.test(label.text)) fail(`expected an integer label after "(", got ${describeToken(label)}`, label);
    labels.push(Number(label.text));
    token = next();
    if (token.kind === 'atom') {
      tokens[node] = token.text;
      token = next();
      if (token.kind !== ')') fail(`expected ")" after the word "${tokens[node]}" (a leaf holds one word), got ${describeToken(token)}`, token);
    } else if (token.kind === '(') {
      open.push(node);
      continue;
    } else {
      fail(`expected a word or a child tree after the label ${label.text}, got ${describeToken(token)}`, token);
    }
    // A node has just been closed: go on with its parent's next child, or close the parent.
    for (;;) {
      token = next();
      if (open.length === 0) {
        if (token.kind !== 'end') fail(`expected the end of the input after the tree, got ${describeToken(token)}`, token);
        return { tree: Tree.fromParents(parents), labels: Int32Array.from(labels), tokens };
      }
      if (token.kind === ')') {
        open.pop();
        continue;
      }
      if (token.kind === '(') break;
      const hint = token.kind === 'end' ? `${open.length} ${open.length === 1 ? 'tree is' : 'trees are'} still open` : 'a node holds either one word or child trees';
      fail(`expected "(" or ")" after a child tree, got ${describeToken(token)} (${hint})`, token);
    }
  }
}

function parseJSON(root: TreeJSON): ParsedTree {
  const parents: number[] = [];
  const labels: number[] = [];
  const tokens: Array<string | null> = [];
  const stack: Array<{ node: TreeJSON; parent: number; path: string }> = [{ node: root, parent: -1, path: 'tree' }];
  while (stack.length > 0) {
    const { node, parent, path } = stack.pop()!;
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new TreeError(`parseTree: ${path} must be an object { label?, word } or { label?, children }, got ${node === null ? 'null' : Array.isArray(node) ? 'an array' : typeof node}`);
    }
    const id = parents.length;
    if (node.label !== undefined && !Number.isInteger(node.label)) throw new TreeError(`parseTree: ${path}.label must be an integer, got ${String(node.label)}`, id);
    const hasWord = node.word !== undefined, hasChildren = node.children !== undefined;
    if (hasWord === hasChildren) throw new TreeError(`parseTree: ${path} must have either "word" (a leaf) or "children", not ${hasWord ? 'both' : 'neither'}`, id);
    if (hasWord && typeof node.word !== 'string') throw new TreeError(`parseTree: ${path}.word must be a string, got ${typeof node.word}`, id);
    if (hasChildren && (!Array.isArray(node.children) || node.children.length === 0)) {
      throw new TreeError(`parseTree: ${path}.children must be a non-empty array, got ${Array.isArray(node.children) ? 'an empty array' : typeof node.children}`, id);
    }
    parents.push(parent);
    labels.push(node.label ?? -1);
    tokens.push(hasWord ? node.word! : null);
    // Pushed in reverse so that children are numbered left to right in pre-order.
    const children = node.children ?? [];
    for (let k = children.length - 1; k >= 0; k--) stack.push({ node: children[k], parent: id, path: `${path}.children[${k}]` });
  }
  return { tree: Tree.fromParents(parents), labels: Int32Array.from(labels), tokens };
}

// ---------------------------------------------------------------------------------------------------
// Plan layout (mirrors assembly/tree.ts) and the per-call schedule

const PLAN = {
  MODEL: 0, NODES: 1, LEAVES: 2, LEVELS: 3, INPUT: 4, HIDDEN: 5,
  ORDER: 6, LEVEL_START: 7, CHILD_START: 8, CHILDREN: 9,
  X: 10, H_OUT: 11, C_OUT: 12,
  XS: 13, HS: 14, CS: 15, GATES: 16, INPUT_FORGET: 17, HIDDEN_FORGET: 18, FORGET: 19, CHILD_STATE: 20,
  W_IN: 21, B_IN: 22, W_IN_F: 23, B_IN_F: 24, W_REC: 25, B_REC: 26, W_REC_F: 27,
  WT_IN: 28, WT_IN_F: 29, WT_REC: 30, WT_REC_F: 31,
  G_IN: 32, G_B_IN: 33, G_IN_F: 34, G_B_IN_F: 35, G_REC: 36, G_B_REC: 37, G_REC_F: 38,
  DH_IN: 39, DC_IN: 40, DX_OUT: 41, DH: 42, DC: 43, DGATES: 44, DINPUT_FORGET: 45, DFORGET: 46, DCHILD: 47, DXS: 48,
  SLOTS: 49,
} as const;

/** The merged trees of one call in schedule order (nodes sorted by height; see assembly/tree.ts). */
interface Schedule {
  nodes: number;
  leaves: number;
  levels: number;
  /** Most nodes in one level above the leaves (sizes the backward's per-level scratch). */
  largestLevel: number;
  /** First node of each tree in caller order (trees concatenated), plus the total. */
  offsets: Int32Array;
  /** Position of each tree's root in schedule order. */
  rootPositions: Int32Array;
  order: Int32Array;
  levelStart: Int32Array;
  childStart: Int32Array;
  children: Int32Array;
}

function buildSchedule(trees: readonly Tree[]): Schedule {
  const offsets = new Int32Array(trees.length + 1);
  let levels = 1;
  trees.forEach((tree, b) => {
    offsets[b + 1] = offsets[b] + tree.size;
    levels = Math.max(levels, tree.height + 1);
  });
  const nodes = offsets[trees.length];
  // Counting sort by height, stable in caller order.
  const levelStart = new Int32Array(levels + 1);
  for (const tree of trees) for (let j = 0; j < tree.size; j++) levelStart[tree.heights[j] + 1]++;
  let largestLevel = 0;
  for (let level = 0; level < levels; level++) {
    if (level > 0) largestLevel = Math.max(largestLevel, levelStart[level + 1]);
    levelStart[level + 1] += levelStart[level];
  }
  const next = levelStart.slice(0, levels);
  const order = new Int32Array(nodes);
  const position = new Int32Array(nodes);
  trees.forEach((tree, b) => {
    for (let j = 0; j < tree.size; j++) {
      const p = next[tree.heights[j]]++;
      order[p] = offsets[b] + j;
      position[offsets[b] + j] = p;
    }
  });
  const childStart = new Int32Array(nodes + 1);
  trees.forEach((tree, b) => {
    for (let j = 0; j < tree.size; j++) childStart[position[offsets[b] + j] + 1] = tree.childStart[j + 1] - tree.childStart[j];
  });
  for (let p = 0; p < nodes; p++) childStart[p + 1] += childStart[p];
  const children = new Int32Array(nodes - trees.length);
  trees.forEach((tree, b) => {
    for (let j = 0; j < tree.size; j++) {
      let at = childStart[position[offsets[b] + j]];
      for (let e = tree.childStart[j]; e < tree.childStart[j + 1]; e++) children[at++] = position[offsets[b] + tree.childList[e]];
    }
  });
  const rootPositions = Int32Array.from(trees, (tree, b) => position[offsets[b] + tree.root]);
  return { nodes, leaves: levelStart[1], levels, largestLevel, offsets, rootPositions, order, levelStart, childStart, children };
}

// ---------------------------------------------------------------------------------------------------
// What each model packs, and where its gradients go

export type TreeModelKind = 'TreeRNN' | 'ChildSumTreeLSTM' | 'BinaryTreeLSTM';

const MODEL_CODE: Record<TreeModelKind, number> = { TreeRNN: 0, ChildSumTreeLSTM: 1, BinaryTreeLSTM: 2 };

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
        { name: 'W_leaf', shape: [H, X], gradSlot: PLAN.G_IN },
        { name: 'b_leaf', shape: [H], gradSlot: PLAN.G_B_IN },
        { name: 'W', shape: [H, 2 * H], gradSlot: PLAN.G_REC },
        { name: 'b', shape: [H], gradSlot: PLAN.G_B_REC },
      ],
      packed: [...both(PLAN.W_IN, PLAN.WT_IN, ['W_leaf']), ...both(PLAN.W_REC, PLAN.WT_REC, ['W'])],
      biases: [{ slot: PLAN.B_IN, parts: ['b_leaf'] }, { slot: PLAN.B_REC, parts: ['b'] }],
    };
  }
  const binary = kind === 'BinaryTreeLSTM';
  const childWidth = binary ? 2 * H : H;
  const params: TreeParameterSpec[] = [
    { name: 'W_iou', shape: [3 * H, X], gradSlot: PLAN.G_IN },
    { name: 'U_iou', shape: [3 * H, childWidth], gradSlot: PLAN.G_REC },
    { name: 'b_iou', shape: [3 * H], gradSlot: PLAN.G_B_IN },
    { name: 'W_f', shape: [H, X], gradSlot: PLAN.G_IN_F },
    { name: 'U_f', shape: [childWidth, childWidth], gradSlot: PLAN.G_REC_F },
    { name: 'b_f', shape: [H], gradSlot: PLAN.G_B_IN_F },
  ];
  if (binary) {
    return {
      kind, binary: true, cell: true, gates: 5 * H, params,
      packed: [...both(PLAN.W_IN, PLAN.WT_IN, ['W_iou', 'W_f', 'W_f']), ...both(PLAN.W_REC, PLAN.WT_REC, ['U_iou', 'U_f'])],
      biases: [{ slot: PLAN.B_IN, parts: ['b_iou', 'b_f', 'b_f'] }],
    };
  }
  return {
    kind, binary: false, cell: true, gates: 3 * H, params,
    packed: [
      ...both(PLAN.W_IN, PLAN.WT_IN, ['W_iou']), ...both(PLAN.W_IN_F, PLAN.WT_IN_F, ['W_f']),
      ...both(PLAN.W_REC, PLAN.WT_REC, ['U_iou']), ...both(PLAN.W_REC_F, PLAN.WT_REC_F, ['U_f']),
    ],
    biases: [{ slot: PLAN.B_IN, parts: ['b_iou'] }, { slot: PLAN.B_IN_F, parts: ['b_f'] }],
  };
}

/** Throws unless `trees` is a non-empty array of Trees (with 0 or 2 children per node for binary models). */
function checkTrees(trees: readonly Tree[], kind: TreeModelKind, method: string): void {
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

// ---------------------------------------------------------------------------------------------------
// Public modules

/** Options of TreeRNN, ChildSumTreeLSTM and BinaryTreeLSTM. */
export interface TreeModuleOptions {
  /** Features of each node's input x (X). */
  inputSize: number;
  /** Features of h (and c) (H). */
  hiddenSize: number;
}

export interface TreeForwardOptions {
  /** Keep what backward() needs (default false). */
  train?: boolean;
  /**
   * What comes back: 'nodes' (default), every node's state; 'roots', only each root's (Keras'
   * `return_sequences: false` for trees): every node is still computed, and kept for backward().
   */
  output?: 'nodes' | 'roots';
}

export interface TreeForwardResult {
  /** Per tree, h of every node: [n_b, H] in that tree's node order (output 'roots': [1, H], the root's). */
  h: Tensor[];
  /** Per tree, c of every node (LSTMs): [n_b, H] (output 'roots': [1, H]). */
  c?: Tensor[];
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
  readonly inputSize: number;
  readonly hiddenSize: number;
  private readonly spec: ModelSpec;
  /** Plan slots of the packed weights and biases. */
  private readonly weightSlots: Array<[slot: number, ptr: number]> = [];
  private readonly packedTargets: Array<{ spec: PackedSpec; ptr: number; rows: number; columns: number }> = [];
  private readonly biasTargets: Array<{ spec: BiasSpec; ptr: number }> = [];
  /** Room to stack a packed weight's parts before packing. */
  private readonly staging: number;
  private tape = 0;
  private tapeBytes = 0;
  private pending: PendingBackward | null = null;

  protected constructor(kind: TreeModelKind, options: TreeModuleOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(`${kind}: expected an options object, got ${options === null ? 'null' : typeof options}`);
    }
    const X = positiveInteger(options.inputSize, `${kind}: inputSize`);
    const H = positiveInteger(options.hiddenSize, `${kind}: hiddenSize`);
    const spec = modelSpec(kind, X, H);
    super(spec.params);
    this.spec = spec;
    this.inputSize = X;
    this.hiddenSize = H;
    const { packedSize } = kernels();
    const rowsOf = (parts: string[]) => parts.reduce((sum, name) => sum + this.store.get(name).shape[0], 0);
    const layout = new Layout();
    let largestStacked = 0;
    const packed = spec.packed.map((target) => {
      const rows = rowsOf(target.parts), columns = this.store.get(target.parts[0]).shape[1];
      if (target.parts.length > 1) largestStacked = Math.max(largestStacked, rows * columns);
      const [n, k] = target.transposed ? [columns, rows] : [rows, columns];
      return { spec: target, offset: layout.take(packedSize(n, k) * 4), rows, columns };
    });
    const biases = spec.biases.map((target) => ({ spec: target, offset: layout.take(padToPanels(rowsOf(target.parts)) * 4) }));
    const stagingOffset = layout.take(largestStacked * 4);
    const block = this.allocOwned(layout.size);
    heapF32().fill(0, block >>> 2, (block + layout.size) >>> 2);
    for (const { spec: target, offset, rows, columns } of packed) {
      this.packedTargets.push({ spec: target, ptr: block + offset, rows, columns });
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
   * that tree's node order. With `{ train: true }` it keeps what backward() needs.
   */
  forward(trees: readonly Tree[], x: readonly TensorLike[], opts: TreeForwardOptions = {}): TreeForwardResult {
    this.checkAlive();
    const method = `${this.constructor.name}.forward`;
    checkTrees(trees, this.spec.kind, method);
    const inputs = perTreeTensors(x, trees, this.inputSize, 'x', method);
    const train = opts?.train === true;
    const output = opts?.output ?? 'nodes';
    if (output !== 'nodes' && output !== 'roots') {
      throw new ArgumentError(`${method}: output must be 'nodes' or 'roots', got ${JSON.stringify(output)}`);
    }
    const schedule = buildSchedule(trees);
    const { nodes: N, leaves: N0, levels: L } = schedule;
    const X = this.inputSize, H = this.hiddenSize, G = this.spec.gates;
    const layout = new Layout();
    const at: Array<[slot: number, offset: number]> = [];
    const take = (slot: number, bytes: number): number => {
      const offset = layout.take(bytes);
      at.push([slot, offset]);
      return offset;
    };
    const planAt = layout.take(PLAN.SLOTS * 4);
    const orderAt = take(PLAN.ORDER, N * 4);
    const levelStartAt = take(PLAN.LEVEL_START, (L + 1) * 4);
    const childStartAt = take(PLAN.CHILD_START, (N + 1) * 4);
    const childrenAt = take(PLAN.CHILDREN, schedule.children.length * 4);
    const xAt = take(PLAN.X, N * X * 4);
    const allNodes = output === 'nodes';
    const hOutAt = allNodes ? take(PLAN.H_OUT, N * H * 4) : -1;
    const cOutAt = allNodes && this.spec.cell ? take(PLAN.C_OUT, N * H * 4) : -1;
    take(PLAN.XS, N * X * 4);
    const hsAt = take(PLAN.HS, N * H * 4);
    let csAt = -1;
    if (this.spec.cell) {
      csAt = take(PLAN.CS, N * H * 4);
      take(PLAN.GATES, N * G * 4);
    }
    if (this.spec.kind === 'ChildSumTreeLSTM') {
      take(PLAN.INPUT_FORGET, (N - N0) * H * 4);
      take(PLAN.HIDDEN_FORGET, N * H * 4);
      take(PLAN.FORGET, N * H * 4);
      take(PLAN.CHILD_STATE, (N - N0) * H * 4);
    } else {
      take(PLAN.CHILD_STATE, (N - N0) * 2 * H * 4);
    }

    const base = train ? this.reserveTape(layout.size) : reserveArena(layout.size);
    const plan = base + planAt;
    const ints = heapI32(), p = plan >>> 2;
    ints.fill(0, p, p + PLAN.SLOTS);
    ints[p + PLAN.MODEL] = MODEL_CODE[this.spec.kind];
    ints[p + PLAN.NODES] = N;
    ints[p + PLAN.LEAVES] = N0;
    ints[p + PLAN.LEVELS] = L;
    ints[p + PLAN.INPUT] = X;
    ints[p + PLAN.HIDDEN] = H;
    for (const [slot, ptr] of this.weightSlots) ints[p + slot] = ptr;
    for (const [slot, offset] of at) ints[p + slot] = base + offset;
    ints.set(schedule.order, (base + orderAt) >>> 2);
    ints.set(schedule.levelStart, (base + levelStartAt) >>> 2);
    ints.set(schedule.childStart, (base + childStartAt) >>> 2);
    ints.set(schedule.children, (base + childrenAt) >>> 2);
    inputs.forEach((input, b) => writeF32(base + xAt + schedule.offsets[b] * X * 4, input.data));
    treeKernels().treeForward(plan);
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
   * grads() as in PyTorch; returns dLoss/dx per tree. Each backward uses up its forward.
   */
  backward(grad: { h: readonly TensorLike[]; c?: readonly TensorLike[] }): { x: Tensor[] } {
    this.checkAlive();
    const method = `${this.constructor.name}.backward`;
    if (grad === null || typeof grad !== 'object') throw new ArgumentError(`${method}: expected { h, c? }, got ${grad === null ? 'null' : typeof grad}`);
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
    const layout = new Layout();
    const at: Array<[slot: number, offset: number]> = [];
    const take = (slot: number, bytes: number): number => {
      const offset = layout.take(bytes);
      at.push([slot, offset]);
      return offset;
    };
    const dhInAt = take(PLAN.DH_IN, N * H * 4);
    const dcInAt = dc ? take(PLAN.DC_IN, N * H * 4) : -1;
    const dxOutAt = take(PLAN.DX_OUT, N * X * 4);
    take(PLAN.DH, N * H * 4);
    take(PLAN.DXS, N * X * 4);
    take(PLAN.DCHILD, schedule.largestLevel * 2 * H * 4);
    if (this.spec.cell) {
      take(PLAN.DC, N * H * 4);
      take(PLAN.DGATES, N * G * 4);
    }
    if (this.spec.kind === 'ChildSumTreeLSTM') {
      take(PLAN.DINPUT_FORGET, (N - N0) * H * 4);
      take(PLAN.DFORGET, N * H * 4);
    }
    const base = reserveArena(layout.size);
    const ints = heapI32(), p = plan >>> 2;
    ints[p + PLAN.DC_IN] = 0;
    for (const [slot, ptr] of gradSlots) ints[p + slot] = ptr;
    for (const [slot, offset] of at) ints[p + slot] = base + offset;
    dh.forEach((value, b) => writeF32(base + dhInAt + schedule.offsets[b] * H * 4, value.data));
    dc?.forEach((value, b) => writeF32(base + dcInAt + schedule.offsets[b] * H * 4, value.data));
    treeKernels().treeBackward(plan);
    this.pending = null;
    const dx = readF32(base + dxOutAt, N * X);
    return { x: trees.map((tree, b) => new Tensor(dx.subarray(schedule.offsets[b] * X, schedule.offsets[b + 1] * X), [tree.size, X])) };
  }

  /** Frees the Wasm memory of this module (parameters, packed weights and tape). Idempotent. */
  override dispose(): void {
    this.pending = null;
    super.dispose();
  }

  /** The tape block, grown (never shrunk) to the largest training forward so far. */
  private reserveTape(bytes: number): number {
    this.pending = null;
    if (bytes > this.tapeBytes) {
      this.freeOwned(this.tape);
      this.tape = 0;
      this.tapeBytes = 0;
      this.tape = this.allocOwned(bytes);
      this.tapeBytes = bytes;
    }
    return this.tape;
  }
}

/**
 * Socher-style recursive network. Leaf: h = tanh(W_leaf x + b_leaf); internal node (exactly two children,
 * left = smaller index): h = tanh(W [h_L; h_R] + b). Internal nodes' x is not used (its gradient is 0).
 * Parameters: W_leaf [H, X], b_leaf [H], W [H, 2H] (columns 0..H−1 act on h_L), b [H].
 * @example const rnn = new TreeRNN({ inputSize: 50, hiddenSize: 64 }); const { h } = rnn.forward([tree], [x]);
 */
export class TreeRNN extends TreeModule {
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
  constructor(options: TreeModuleOptions) {
    super('BinaryTreeLSTM', options);
  }
}

const TREE_MODULES: Record<TreeModelKind, new (options: TreeModuleOptions) => TreeModule> = { TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM };

// ---------------------------------------------------------------------------------------------------
// The sentiment models: Embedding → tree model → per-node Linear, log-softmax and summed NLL

export interface TreeClassifierOptions extends TreeModuleOptions {
  /** The tree model between the embedding and the classifier. */
  model: TreeModelKind;
  /** Rows of the embedding (V). */
  vocabSize: number;
  /** Classes of the per-node classifier (C). */
  numClasses: number;
}

/** The classifier labels every node, so it always takes every node's state (no `output` choice). */
export interface TreeClassifierForwardOptions extends Omit<TreeForwardOptions, 'output'> {
  /** Per tree, the class of every node (−1: not in the loss); needed for `loss` and backward(). */
  labels?: readonly ArrayLike<number>[];
}

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
 * in the fixtures). Built from Embedding, a tree module and Linear (bindings/train); its state dict keeps
 * one flat namespace: embedding [V, X], the tree model's parameters, W_cls [C, H], b_cls [C].
 * @example
 * const model = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: 6, inputSize: 6, hiddenSize: 8, numClasses: 5 });
 * const { loss } = model.forward([tree], [tokenIds], { labels: [labels], train: true }); model.backward();
 */
export class TreeClassifier {
  readonly model: TreeModelKind;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  readonly numClasses: number;
  private readonly embedding: Embedding;
  private readonly tree: TreeModule;
  private readonly classifier: Linear;
  private pending: PendingClassifierBackward | null = null;
  private disposed = false;

  constructor(options: TreeClassifierOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(`TreeClassifier: expected an options object, got ${options === null ? 'null' : typeof options}`);
    }
    if (!Object.hasOwn(TREE_MODULES, options.model)) {
      throw new ArgumentError(`TreeClassifier: model must be one of ${Object.keys(TREE_MODULES).join(', ')}, got ${JSON.stringify(options.model)}`);
    }
    this.model = options.model;
    this.inputSize = positiveInteger(options.inputSize, 'TreeClassifier: inputSize');
    this.hiddenSize = positiveInteger(options.hiddenSize, 'TreeClassifier: hiddenSize');
    this.vocabSize = positiveInteger(options.vocabSize, 'TreeClassifier: vocabSize');
    this.numClasses = positiveInteger(options.numClasses, 'TreeClassifier: numClasses');
    this.embedding = new Embedding({ numEmbeddings: this.vocabSize, embeddingDim: this.inputSize });
    this.tree = new TREE_MODULES[this.model]({ inputSize: this.inputSize, hiddenSize: this.hiddenSize });
    this.classifier = new Linear({ inFeatures: this.hiddenSize, outFeatures: this.numClasses });
  }

  /**
   * Runs every tree: one embedding lookup, one Wasm call for the tree model, one classifier GEMM. tokens:
   * per tree, the vocabulary index of every node's word (−1 for none). With labels it also returns the
   * summed NLL; `{ train: true }` (labels required) keeps what backward() needs.
   */
  forward(trees: readonly Tree[], tokens: readonly ArrayLike<number>[], opts: TreeClassifierForwardOptions = {}): TreeClassifierResult {
    this.checkAlive();
    const method = 'TreeClassifier.forward';
    checkTrees(trees, this.model, method);
    const ids = perTreeIntegers(tokens, trees, this.vocabSize, 'tokens', method);
    const labels = opts?.labels === undefined ? undefined : perTreeIntegers(opts.labels, trees, this.numClasses, 'labels', method);
    const train = opts?.train === true;
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

  /** Backpropagates the loss of the last training forward; gradients accumulate into grads() as in PyTorch. */
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

  /** Names and shapes of the parameters, in state-dict order: embedding, the tree model's, W_cls, b_cls. */
  parameterShapes(): Record<string, number[]> {
    return { embedding: [this.vocabSize, this.inputSize], ...this.tree.parameterShapes(), W_cls: [this.numClasses, this.hiddenSize], b_cls: [this.numClasses] };
  }

  /** The trainable parameters of all three parts, named as in the state dict. */
  parameters(): Parameter[] {
    this.checkAlive();
    const rename = (parameter: Parameter, name: string) => new Parameter(name, parameter.shape, parameter.valuePtr, parameter.gradPtr, parameter.owner);
    const [weight, bias] = this.classifier.parameters();
    return [rename(this.embedding.parameters()[0], 'embedding'), ...this.tree.parameters(), rename(weight, 'W_cls'), rename(bias, 'b_cls')];
  }

  /** Copies of the accumulated gradients, keyed like the state dict. */
  grads(): Record<string, Tensor> {
    this.checkAlive();
    const classifier = this.classifier.grads();
    return { embedding: this.embedding.grads().weight, ...this.tree.grads(), W_cls: classifier.weight, b_cls: classifier.bias };
  }

  zeroGrad(): void {
    this.checkAlive();
    this.embedding.zeroGrad();
    this.tree.zeroGrad();
    this.classifier.zeroGrad();
  }

  /** Copies of the parameters: embedding, the tree model's, W_cls, b_cls. */
  stateDict(): Record<string, Tensor> {
    this.checkAlive();
    const classifier = this.classifier.stateDict();
    return { embedding: this.embedding.stateDict().weight, ...this.tree.stateDict(), W_cls: classifier.weight, b_cls: classifier.bias };
  }

  /**
   * Loads the flat state dict. With `strict` (default) a missing or unexpected key is an error; a wrongly
   * shaped or non-finite value always is. Nothing is written unless everything is valid.
   */
  loadStateDict(dict: Record<string, TensorLike>, opts: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    this.checkAlive();
    const where = 'TreeClassifier.loadStateDict';
    if (dict === null || typeof dict !== 'object') {
      throw new StateDictError(`${where}: expected an object of tensors, got ${dict === null ? 'null' : typeof dict}`);
    }
    const shapes = this.parameterShapes();
    const strict = opts?.strict ?? true;
    const unexpectedKeys = Object.keys(dict).filter((key) => !Object.hasOwn(shapes, key));
    const missingKeys = Object.keys(shapes).filter((name) => !Object.hasOwn(dict, name));
    if (strict && unexpectedKeys.length > 0) {
      throw new StateDictError(`${where}: unexpected key(s) ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}; expected ${Object.keys(shapes).join(', ')}`);
    }
    if (strict && missingKeys.length > 0) throw new StateDictError(`${where}: missing key(s) ${missingKeys.map((k) => `"${k}"`).join(', ')}`);
    const values: Record<string, Tensor> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      if (!Object.hasOwn(dict, name)) continue;
      values[name] = checkedStateValue(where, name, dict[name], shape);
    }
    this.pending = null;
    const { embedding, W_cls, b_cls, ...treeValues } = values;
    if (embedding) this.embedding.loadStateDict({ weight: embedding });
    this.tree.loadStateDict(treeValues, { strict: false });
    const classifierValues: Record<string, Tensor> = {};
    if (W_cls) classifierValues.weight = W_cls;
    if (b_cls) classifierValues.bias = b_cls;
    this.classifier.loadStateDict(classifierValues, { strict: false });
    return { missingKeys, unexpectedKeys };
  }

  /** @internal Throws DisposedError after dispose(). */
  checkAlive(): void {
    if (this.disposed) throw new DisposedError('TreeClassifier');
  }

  /** Frees the Wasm memory of all three parts. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.embedding.dispose();
    this.tree.dispose();
    this.classifier.dispose();
    this.pending = null;
    this.disposed = true;
  }

  [Symbol.dispose](): void {
    this.dispose();
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
