// The per-call schedule of a tree model: all trees of a call merged, their nodes sorted by height so that
// every level is a contiguous block (see assembly/tree.ts), as the index arrays the Wasm plan points at.

import { type Tree, treeArrays } from './structure.js';

/** The merged trees of one call in schedule order (nodes sorted by height; see assembly/tree.ts). */
export interface Schedule {
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

export function buildSchedule(trees: readonly Tree[]): Schedule {
  const offsets = new Int32Array(trees.length + 1);
  let levels = 1;
  trees.forEach((tree, b) => {
    offsets[b + 1] = offsets[b] + tree.size;
    levels = Math.max(levels, tree.height + 1);
  });
  const nodes = offsets[trees.length];
  const arrays = trees.map(treeArrays);
  // Counting sort by height, stable in caller order.
  const levelStart = new Int32Array(levels + 1);
  for (const { heights } of arrays) for (let j = 0; j < heights.length; j++) levelStart[heights[j] + 1]++;
  let largestLevel = 0;
  for (let level = 0; level < levels; level++) {
    if (level > 0) largestLevel = Math.max(largestLevel, levelStart[level + 1]);
    levelStart[level + 1] += levelStart[level];
  }
  const next = levelStart.slice(0, levels);
  const order = new Int32Array(nodes);
  const position = new Int32Array(nodes);
  arrays.forEach(({ heights }, b) => {
    for (let j = 0; j < heights.length; j++) {
      const p = next[heights[j]]++;
      order[p] = offsets[b] + j;
      position[offsets[b] + j] = p;
    }
  });
  const childStart = new Int32Array(nodes + 1);
  arrays.forEach((tree, b) => {
    for (let j = 0; j < tree.heights.length; j++) childStart[position[offsets[b] + j] + 1] = tree.childStart[j + 1] - tree.childStart[j];
  });
  for (let p = 0; p < nodes; p++) childStart[p + 1] += childStart[p];
  const children = new Int32Array(nodes - trees.length);
  arrays.forEach((tree, b) => {
    for (let j = 0; j < tree.heights.length; j++) {
      let at = childStart[position[offsets[b] + j]];
      for (let e = tree.childStart[j]; e < tree.childStart[j + 1]; e++) children[at++] = position[offsets[b] + tree.childList[e]];
    }
  });
  const rootPositions = Int32Array.from(trees, (tree, b) => position[offsets[b] + tree.root]);
  return { nodes, leaves: levelStart[1], levels, largestLevel, offsets, rootPositions, order, levelStart, childStart, children };
}
