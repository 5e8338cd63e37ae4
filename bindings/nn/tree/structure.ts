// Trees and their parsers: Tree (from parent arrays), parseTree (PTB s-expressions or nested JSON) and
// treeToJSON, with the errors they throw. No Wasm: structure only.

import { ArgumentError, LooptreeError } from '../../errors.js';
import { describe } from '../../options.js';

/** A tree's structure is invalid (`node` names the offending node), or a model cannot take it (code `'ERR_TREE'`). */
export class TreeError extends LooptreeError {
  /** @param node The offending node's index, when there is one. */
  constructor(message: string, readonly node?: number) {
    super('ERR_TREE', message);
  }
}

/** An s-expression could not be parsed; `position` is the 0-based character offset of the problem (code `'ERR_TREE_PARSE'`). */
export class TreeParseError extends LooptreeError {
  /** @param position The 0-based character offset of the problem in the parsed text. */
  constructor(message: string, readonly position: number) {
    super('ERR_TREE_PARSE', message);
  }
}

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

  private constructor(arrays: TreeArrays) {
    this.size = arrays.parentOf.length;
    this.root = arrays.root;
    this.height = arrays.heights[arrays.root];
    internals.set(this, arrays);
    Object.freeze(this);
  }

  /**
   * Builds a tree from `parents[j]` = the parent of node j (−1 for the root). Throws TreeError naming the
   * offending node for a non-integer or out-of-range parent, no root or more than one, and cycles.
   */
  static fromParents(parents: ArrayLike<number>): Tree {
    if (parents === null || typeof parents !== 'object' || !isLength(parents.length)) {
      const what = parents !== null && typeof parents === 'object' ? `${describe(parents)} of length ${describe(parents.length)}` : describe(parents);
      throw new TreeError(`Tree.fromParents: expected an array of parent indices, got ${what}`);
    }
    const n = parents.length;
    if (n === 0) throw new TreeError('Tree.fromParents: a tree needs at least one node, got an empty parents array');
    if (n > MAX_TREE_NODES) throw new TreeError(`Tree.fromParents: a tree holds at most ${MAX_TREE_NODES} nodes, got ${n} parents`);
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
    let nonBinaryNode = -1;
    for (let j = 0; j < n && nonBinaryNode < 0; j++) {
      const count = childStart[j + 1] - childStart[j];
      if (count !== 0 && count !== 2) nonBinaryNode = j;
    }
    return new Tree({ parentOf, root, childStart, childList, heights, nonBinaryNode });
  }

  /** The parent of `node`, −1 for the root. Throws ArgumentError for a node that is not an integer in 0 .. size − 1. */
  parent(node: number): number {
    return treeArrays(this).parentOf[this.checkNode(node)];
  }

  /** The children of `node`, ascending. Throws ArgumentError for a node that is not an integer in 0 .. size − 1. */
  children(node: number): number[] {
    this.checkNode(node);
    const { childList, childStart } = treeArrays(this);
    return Array.from(childList.subarray(childStart[node], childStart[node + 1]));
  }

  /** A copy of the parent array. */
  parents(): Int32Array {
    return treeArrays(this).parentOf.slice();
  }

  /** @internal The first node with other than 0 or 2 children, or −1 if the tree is binary. */
  firstNonBinaryNode(): number {
    return treeArrays(this).nonBinaryNode;
  }

  private checkNode(node: number): number {
    if (!Number.isInteger(node) || node < 0 || node >= this.size) {
      throw new ArgumentError(`Tree: node must be an integer in 0..${this.size - 1}, got ${String(node)}`);
    }
    return node;
  }
}

/**
 * @internal A tree's arrays. They live here rather than on the Tree, out of users' reach: typed arrays cannot be
 * frozen, and a written `childStart` would send the Wasm kernels out of bounds (issue 10, F6). A Tree is frozen.
 */
export interface TreeArrays {
  root: number;
  /** parents[j], −1 for the root. */
  parentOf: Int32Array;
  /** The children of node j are childList[childStart[j] .. childStart[j + 1]), ascending. */
  childStart: Int32Array;
  childList: Int32Array;
  /** Height of every node: leaves 0, else 1 + the largest child height. */
  heights: Int32Array;
  /** The first node with other than 0 or 2 children, or −1 if the tree is binary. */
  nonBinaryNode: number;
}

const internals = new WeakMap<Tree, TreeArrays>();

/** @internal The arrays of a Tree built by Tree.fromParents; anything else is an ArgumentError. */
export function treeArrays(tree: Tree): TreeArrays {
  const arrays = internals.get(tree);
  if (!arrays) throw new ArgumentError(`Tree: expected a Tree built by Tree.fromParents or parseTree, got ${describe(tree)}`);
  return arrays;
}

/** The most nodes of one tree, 2²⁶: far past any parsed sentence, and within what a forward's Wasm state can hold. */
const MAX_TREE_NODES = 2 ** 26;
/**
 * The most nodes parseTree builds, 2²⁰: a JSON tree's shared subtrees are copied, so a few objects can stand for
 * 2³⁰ nodes; at ~40 bytes of JS arrays per node this bounds a parse to ~40 MB and a few seconds at worst.
 */
const MAX_PARSED_NODES = 2 ** 20;

/** Labels are stored as 32-bit integers. */
const isLabel = (label: unknown): label is number => Number.isInteger(label) && (label as number) >= -(2 ** 31) && (label as number) < 2 ** 31;
const LABEL_RANGE = '−2147483648..2147483647';

/** A usable array length: an integer in 0 .. 2³² − 1. */
const isLength = (length: unknown): length is number => typeof length === 'number' && Number.isInteger(length) && length >= 0 && length < 2 ** 32;

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
  /** The structure. */
  tree: Tree;
  /** Each node's integer label, −1 where the JSON form gives none. */
  labels: Int32Array;
  /** Each leaf's word; null for internal nodes. */
  tokens: Array<string | null>;
}

/** The nested JSON form of a labelled tree: a leaf has `word`, an internal node `children`. */
export interface TreeJSON {
  /** The node's integer label (e.g. an SST sentiment class 0–4); absent when unlabelled. */
  label?: number;
  /** A leaf's word. */
  word?: string;
  /** An internal node's subtrees, in order. */
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
  const { root, childStart, childList } = treeArrays(tree);
  const make = (node: number): TreeJSON => {
    const json: TreeJSON = {};
    if (labels[node] !== -1) json.label = labels[node]; // −1 is 'no label' in both forms; other negatives round-trip
    if (childStart[node] === childStart[node + 1]) json.word = tokens[node] ?? '';
    else json.children = [];
    return json;
  };
  // A loop, not recursion: a tree may be deeper than the call stack.
  const top = make(root);
  const stack: Array<[number, TreeJSON]> = [[root, top]];
  while (stack.length > 0) {
    const [node, json] = stack.pop()!;
    for (let e = childStart[node]; e < childStart[node + 1]; e++) {
      const child = make(childList[e]);
      json.children!.push(child);
      if (child.children) stack.push([childList[e], child]);
    }
  }
  return top;
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
    if (!isLabel(Number(label.text))) fail(`the label ${label.text} is out of range (labels are 32-bit integers, ${LABEL_RANGE})`, label);
    if (parents.length >= MAX_PARSED_NODES) fail(`a parsed tree holds at most ${MAX_PARSED_NODES} nodes`, label);
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
  // Paths for messages are rebuilt from the parent chain only when one is needed: a string per node would take
  // memory in the depth for every node (a shared subtree is copied, so a small object can stand for many nodes).
  const childIndex: number[] = [];
  const pathOf = (parent: number, k: number): string => {
    const parts: string[] = [];
    for (let at = parent, index = k; at >= 0; index = childIndex[at], at = parents[at]) parts.push(`.children[${index}]`);
    return `tree${parts.reverse().join('')}`;
  };
  const stack: Array<{ node: TreeJSON; parent: number; k: number }> = [{ node: root, parent: -1, k: -1 }];
  const seen = new Set<TreeJSON>();
  const objects: TreeJSON[] = [];
  while (stack.length > 0) {
    const { node, parent, k } = stack.pop()!;
    const path = (): string => (parent < 0 ? 'tree' : pathOf(parent, k));
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new TreeError(`parseTree: ${path()} must be an object { label?, word } or { label?, children }, got ${node === null ? 'null' : Array.isArray(node) ? 'an array' : typeof node}`);
    }
    const id = parents.length;
    if (seen.has(node)) {
      // Met before: a subtree shared by two parents is copied, a node inside itself is a cycle.
      for (let up = parent; up >= 0; up = parents[up]) {
        if (objects[up] === node) throw new TreeError(`parseTree: ${path()} is one of its own ancestors (a cycle)`, id);
      }
    }
    if (id >= MAX_PARSED_NODES) throw new TreeError(`parseTree: a parsed tree holds at most ${MAX_PARSED_NODES} nodes; ${path()} is one more`, id);
    seen.add(node);
    objects.push(node);
    if (node.label !== undefined && !isLabel(node.label)) {
      throw new TreeError(`parseTree: ${path()}.label must be an integer in ${LABEL_RANGE}, got ${describe(node.label)}`, id);
    }
    const hasWord = node.word !== undefined, hasChildren = node.children !== undefined;
    if (hasWord === hasChildren) throw new TreeError(`parseTree: ${path()} must have either "word" (a leaf) or "children", not ${hasWord ? 'both' : 'neither'}`, id);
    if (hasWord && typeof node.word !== 'string') throw new TreeError(`parseTree: ${path()}.word must be a string, got ${typeof node.word}`, id);
    if (hasChildren && (!Array.isArray(node.children) || node.children.length === 0)) {
      throw new TreeError(`parseTree: ${path()}.children must be a non-empty array, got ${Array.isArray(node.children) ? 'an empty array' : typeof node.children}`, id);
    }
    parents.push(parent);
    childIndex.push(k);
    labels.push(node.label ?? -1);
    tokens.push(hasWord ? node.word! : null);
    // Pushed in reverse so that children are numbered left to right in pre-order.
    const children = node.children ?? [];
    for (let child = children.length - 1; child >= 0; child--) stack.push({ node: children[child], parent: id, k: child });
  }
  return { tree: Tree.fromParents(parents), labels: Int32Array.from(labels), tokens };
}
