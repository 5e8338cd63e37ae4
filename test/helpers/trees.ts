// Test helper: random trees (shuffled node order; any number of children, or full binary) and random parameters of
// the tree models, for the tests against the float64 reference (test/reference/tree.ts).

import { Tensor } from '../../dist/index.js';
import { uniformArray } from './random.js';
import type { TreeKind } from '../reference/tree.js';

/** A uniformly shuffled relabelling 0..n−1. */
function permutation(n: number, random: () => number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A random recursive tree of n nodes (any number of children), node indices shuffled. */
function randomParents(n: number, random: () => number): number[] {
  const label = permutation(n, random);
  const parents = new Array<number>(n);
  parents[label[0]] = -1;
  for (let i = 1; i < n; i++) parents[label[i]] = label[Math.floor(random() * i)];
  return parents;
}

/** A random full binary tree with `leaves` leaves (adjacent pairs merged at random), node indices shuffled. */
function randomBinaryParents(leaves: number, random: () => number): number[] {
  const n = 2 * leaves - 1;
  const label = permutation(n, random);
  const parents = new Array<number>(n).fill(-1);
  let frontier = Array.from({ length: leaves }, (_, i) => i);
  let next = leaves;
  while (frontier.length > 1) {
    const at = Math.floor(random() * (frontier.length - 1));
    const parent = next++;
    parents[label[frontier[at]]] = label[parent];
    parents[label[frontier[at + 1]]] = label[parent];
    frontier = [...frontier.slice(0, at), parent, ...frontier.slice(at + 2)];
  }
  return parents;
}

/** The three tree models, in the order the tests seed them by. */
export const TREE_KINDS: TreeKind[] = ['TreeRNN', 'ChildSumTreeLSTM', 'BinaryTreeLSTM'];

/** One case of a tree test: a model kind, its sizes, the sizes of its trees and the seed of its weights and inputs. */
export interface TreeCase {
  kind: TreeKind;
  X: number;
  H: number;
  /** Tree sizes: nodes (child-sum) or leaves (binary models). */
  sizes: number[];
  seed: number;
}

/** Parents arrays of random trees: `sizes` nodes (child-sum) or leaves (binary models). */
export function randomTrees(kind: TreeKind, sizes: number[], random: () => number): number[][] {
  return sizes.map((size) => (kind === 'ChildSumTreeLSTM' ? randomParents(size, random) : randomBinaryParents(size, random)));
}

/** The parameters of a tree model, PyTorch names and shapes. */
export function parameterShapes(kind: TreeKind, X: number, H: number): Record<string, number[]> {
  if (kind === 'TreeRNN') return { W_leaf: [H, X], b_leaf: [H], W: [H, 2 * H], b: [H] };
  const width = kind === 'BinaryTreeLSTM' ? 2 * H : H;
  return { W_iou: [3 * H, X], U_iou: [3 * H, width], b_iou: [3 * H], W_f: [H, X], U_f: [width, width], b_f: [H] };
}

/** Parameter values ~ U(−scale, scale). */
export function randomParams(shapes: Record<string, number[]>, random: () => number, scale: number): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, uniformArray(random, shape.reduce((a, b) => a * b, 1), scale)]));
}

/** The parameters as a state dict. */
export function toStateDict(params: Record<string, Float32Array>, shapes: Record<string, number[]>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(params).map(([name, data]) => [name, new Tensor(data, shapes[name])]));
}
