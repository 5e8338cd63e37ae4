// scalar reference, used only by tests and bench/kernels.mjs: the tree models of assembly/tree.ts (TreeRNN,
// Child-Sum and binary Tree-LSTM, and the classifier head of the sentiment models) in float64, one node at a
// time from the leaves up, and backward from the root down, straight from the equations of
// test/fixtures/tree/README.md.
//
// Shapes: n nodes of a tree, X input, H hidden, C classes, V vocabulary. Matrices are row-major arrays in
// the parameters' own (nn.Linear) layout: W[out, in].

export type TreeKind = 'TreeRNN' | 'ChildSumTreeLSTM' | 'BinaryTreeLSTM';

export type Params = Record<string, ArrayLike<number>>;

export interface ReferenceTree {
  parents: ArrayLike<number>;
  /** [n, X] */
  x: ArrayLike<number>;
}

/** What one tree's forward keeps for its backward (per node, float64). */
interface NodeState {
  x: Float64Array;
  h: Float64Array;
  c: Float64Array;
  /** Activated gates: LSTMs i, o, u; TreeRNN unused. */
  i: Float64Array;
  o: Float64Array;
  u: Float64Array;
  /** Forget gate per child (child-sum: one per child; binary: [f_L, f_R]). */
  f: Float64Array[];
  /** The recurrent input: child-sum Σ h_k; binary / TreeRNN [h_L; h_R] (zeros for a leaf). */
  childInput: Float64Array;
}

export interface ReferenceForward {
  h: Float64Array[];
  c: Float64Array[];
  nodes: NodeState[][];
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** W[rows, cols] · v (+ bias): a fresh array of `rows` values. */
function matVec(w: ArrayLike<number>, rows: number, cols: number, v: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = bias ? bias[r] : 0;
    for (let k = 0; k < cols; k++) sum += w[r * cols + k] * v[k];
    out[r] = sum;
  }
  return out;
}

/** out[cols] += W[rows, cols]ᵀ · d. */
function addMatTVec(out: Float64Array, w: ArrayLike<number>, rows: number, cols: number, d: ArrayLike<number>): void {
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k] += w[r * cols + k] * d[r];
}

/** G[rows, cols] += d ⊗ v. */
function addOuter(g: Float64Array, d: ArrayLike<number>, v: ArrayLike<number>, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) g[r * cols + k] += d[r] * v[k];
}

function addInto(out: Float64Array, v: ArrayLike<number>, offset = 0): void {
  for (let j = 0; j < v.length; j++) out[offset + j] += v[j];
}

/** Children of every node, ascending, and a leaves-first (post-)order. */
function structure(parents: ArrayLike<number>): { children: number[][]; upward: number[] } {
  const n = parents.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  let root = -1;
  for (let j = 0; j < n; j++) {
    if (parents[j] < 0) root = j;
    else children[parents[j]].push(j);
  }
  const upward: number[] = [];
  const visit = (node: number): void => {
    for (const child of children[node]) visit(child);
    upward.push(node);
  };
  visit(root);
  return { children, upward };
}

/**
 * Every node's h and c, leaves first. `quantizeVector` (int8 modules, quantizeDynamic): each vector a weight
 * multiplies (x, the children's sum or pair, a child's h under U_f) is replaced by its per-row quantization,
 * dequantized (reference/quantized.ts), and `p` holds the dequantized weights.
 */
export function referenceForward(kind: TreeKind, p: Params, X: number, H: number, trees: readonly ReferenceTree[],
                                 quantizeVector: (v: ArrayLike<number>) => ArrayLike<number> = (v) => v): ReferenceForward {
  const result: ReferenceForward = { h: [], c: [], nodes: [] };
  const q = quantizeVector;
  for (const tree of trees) {
    const n = tree.parents.length;
    const { children, upward } = structure(tree.parents);
    const nodes: NodeState[] = new Array(n);
    for (const j of upward) {
      const x = Float64Array.from({ length: X }, (_, k) => tree.x[j * X + k]);
      const kids = children[j];
      const state: NodeState = {
        x, h: new Float64Array(H), c: new Float64Array(H), i: new Float64Array(H), o: new Float64Array(H), u: new Float64Array(H),
        f: [], childInput: new Float64Array(kind === 'ChildSumTreeLSTM' ? H : 2 * H),
      };
      if (kind === 'ChildSumTreeLSTM') {
        for (const k of kids) addInto(state.childInput, nodes[k].h);
        const iou = matVec(p.W_iou, 3 * H, X, q(x), p.b_iou);
        addInto(iou, matVec(p.U_iou, 3 * H, H, q(state.childInput)));
        const forgetInput = matVec(p.W_f, H, X, q(x), p.b_f);
        for (let r = 0; r < H; r++) {
          state.i[r] = sigmoid(iou[r]);
          state.o[r] = sigmoid(iou[H + r]);
          state.u[r] = Math.tanh(iou[2 * H + r]);
          state.c[r] = state.i[r] * state.u[r];
        }
        for (const k of kids) {
          const pre = matVec(p.U_f, H, H, q(nodes[k].h));
          const f = pre.map((v, r) => sigmoid(v + forgetInput[r]));
          state.f.push(f);
          for (let r = 0; r < H; r++) state.c[r] += f[r] * nodes[k].c[r];
        }
        for (let r = 0; r < H; r++) state.h[r] = state.o[r] * Math.tanh(state.c[r]);
      } else if (kind === 'BinaryTreeLSTM') {
        if (kids.length !== 0 && kids.length !== 2) throw new Error(`node ${j} has ${kids.length} children`);
        if (kids.length === 2) {
          state.childInput.set(nodes[kids[0]].h, 0);
          state.childInput.set(nodes[kids[1]].h, H);
        }
        const iou = matVec(p.W_iou, 3 * H, X, q(x), p.b_iou);
        addInto(iou, matVec(p.U_iou, 3 * H, 2 * H, q(state.childInput)));
        const forgetInput = matVec(p.W_f, H, X, q(x), p.b_f);
        const forgetHidden = matVec(p.U_f, 2 * H, 2 * H, q(state.childInput));
        const fl = new Float64Array(H), fr = new Float64Array(H);
        for (let r = 0; r < H; r++) {
          state.i[r] = sigmoid(iou[r]);
          state.o[r] = sigmoid(iou[H + r]);
          state.u[r] = Math.tanh(iou[2 * H + r]);
          fl[r] = sigmoid(forgetInput[r] + forgetHidden[r]);
          fr[r] = sigmoid(forgetInput[r] + forgetHidden[H + r]);
          const cl = kids.length ? nodes[kids[0]].c[r] : 0, cr = kids.length ? nodes[kids[1]].c[r] : 0;
          state.c[r] = state.i[r] * state.u[r] + fl[r] * cl + fr[r] * cr;
          state.h[r] = state.o[r] * Math.tanh(state.c[r]);
        }
        state.f = [fl, fr];
      } else {
        if (kids.length !== 0 && kids.length !== 2) throw new Error(`node ${j} has ${kids.length} children`);
        let pre: Float64Array;
        if (kids.length === 0) {
          pre = matVec(p.W_leaf, H, X, q(x), p.b_leaf);
        } else {
          state.childInput.set(nodes[kids[0]].h, 0);
          state.childInput.set(nodes[kids[1]].h, H);
          pre = matVec(p.W, H, 2 * H, q(state.childInput), p.b);
        }
        state.h = pre.map(Math.tanh);
      }
      nodes[j] = state;
    }
    const h = new Float64Array(n * H), c = new Float64Array(n * H);
    nodes.forEach((state, j) => {
      h.set(state.h, j * H);
      c.set(state.c, j * H);
    });
    result.h.push(h);
    result.c.push(c);
    result.nodes.push(nodes);
  }
  return result;
}

export interface ReferenceBackward {
  /** dLoss/dx per tree [n, X]. */
  x: Float64Array[];
  /** dLoss/d(parameter), keyed by name. */
  grads: Record<string, Float64Array>;
}

/** Backward of referenceForward for dLoss/dh (and dLoss/dc, or none) of every node, per tree [n, H]. */
export function referenceBackward(kind: TreeKind, p: Params, X: number, H: number, trees: readonly ReferenceTree[],
                                  forward: ReferenceForward, dhIn: readonly ArrayLike<number>[], dcIn: readonly ArrayLike<number>[] | null): ReferenceBackward {
  const grads: Record<string, Float64Array> = {};
  for (const name of Object.keys(p)) grads[name] = new Float64Array(p[name].length);
  const dxAll: Float64Array[] = [];
  trees.forEach((tree, b) => {
    const n = tree.parents.length;
    const { children, upward } = structure(tree.parents);
    const nodes = forward.nodes[b];
    const dh = Array.from({ length: n }, (_, j) => Float64Array.from({ length: H }, (_, r) => dhIn[b][j * H + r]));
    const dc = Array.from({ length: n }, (_, j) => Float64Array.from({ length: H }, (_, r) => (dcIn ? dcIn[b][j * H + r] : 0)));
    const dx = new Float64Array(n * X);
    for (const j of [...upward].reverse()) {
      const s = nodes[j], kids = children[j];
      const dxNode = new Float64Array(X);
      if (kind === 'TreeRNN') {
        const dPre = s.h.map((h, r) => dh[j][r] * (1 - h * h));
        if (kids.length === 0) {
          addOuter(grads.W_leaf, dPre, s.x, H, X);
          addInto(grads.b_leaf, dPre);
          addMatTVec(dxNode, p.W_leaf, H, X, dPre);
        } else {
          addOuter(grads.W, dPre, s.childInput, H, 2 * H);
          addInto(grads.b, dPre);
          const dChild = new Float64Array(2 * H);
          addMatTVec(dChild, p.W, H, 2 * H, dPre);
          addInto(dh[kids[0]], dChild.subarray(0, H));
          addInto(dh[kids[1]], dChild.subarray(H));
        }
        dx.set(dxNode, j * X);
        continue;
      }
      const dPre = new Float64Array(3 * H);
      const dcTotal = new Float64Array(H);
      for (let r = 0; r < H; r++) {
        const tc = Math.tanh(s.c[r]);
        dcTotal[r] = dc[j][r] + dh[j][r] * s.o[r] * (1 - tc * tc);
        dPre[r] = dcTotal[r] * s.u[r] * s.i[r] * (1 - s.i[r]);
        dPre[H + r] = dh[j][r] * tc * s.o[r] * (1 - s.o[r]);
        dPre[2 * H + r] = dcTotal[r] * s.i[r] * (1 - s.u[r] * s.u[r]);
      }
      const childWidth = kind === 'ChildSumTreeLSTM' ? H : 2 * H;
      addOuter(grads.W_iou, dPre, s.x, 3 * H, X);
      addInto(grads.b_iou, dPre);
      addOuter(grads.U_iou, dPre, s.childInput, 3 * H, childWidth);
      addMatTVec(dxNode, p.W_iou, 3 * H, X, dPre);
      const dChildInput = new Float64Array(childWidth);
      addMatTVec(dChildInput, p.U_iou, 3 * H, childWidth, dPre);
      if (kind === 'ChildSumTreeLSTM') {
        kids.forEach((k, e) => {
          addInto(dh[k], dChildInput);
          const f = s.f[e];
          const dF = f.map((fv, r) => dcTotal[r] * nodes[k].c[r] * fv * (1 - fv));
          addOuter(grads.W_f, dF, s.x, H, X);
          addInto(grads.b_f, dF);
          addOuter(grads.U_f, dF, nodes[k].h, H, H);
          addMatTVec(dxNode, p.W_f, H, X, dF);
          addMatTVec(dh[k], p.U_f, H, H, dF);
          for (let r = 0; r < H; r++) dc[k][r] += dcTotal[r] * f[r];
        });
      } else if (kids.length === 2) {
        const dF = new Float64Array(2 * H);
        const [fl, fr] = s.f;
        for (let r = 0; r < H; r++) {
          dF[r] = dcTotal[r] * nodes[kids[0]].c[r] * fl[r] * (1 - fl[r]);
          dF[H + r] = dcTotal[r] * nodes[kids[1]].c[r] * fr[r] * (1 - fr[r]);
          dc[kids[0]][r] += dcTotal[r] * fl[r];
          dc[kids[1]][r] += dcTotal[r] * fr[r];
        }
        const dFSum = dF.subarray(0, H).map((v, r) => v + dF[H + r]);
        addOuter(grads.W_f, dFSum, s.x, H, X);
        addInto(grads.b_f, dFSum);
        addOuter(grads.U_f, dF, s.childInput, 2 * H, 2 * H);
        addMatTVec(dxNode, p.W_f, H, X, dFSum);
        addMatTVec(dChildInput, p.U_f, 2 * H, 2 * H, dF);
        addInto(dh[kids[0]], dChildInput.subarray(0, H));
        addInto(dh[kids[1]], dChildInput.subarray(H));
      }
      dx.set(dxNode, j * X);
    }
    dxAll.push(dx);
  });
  return { x: dxAll, grads };
}

export interface ClassifierTree {
  parents: ArrayLike<number>;
  /** Vocabulary index of each node's word, −1 for none (x = 0). */
  tokens: ArrayLike<number>;
  /** Class of each node, −1 = not in the loss. */
  labels: ArrayLike<number>;
}

export interface ReferenceClassifier {
  forward: ReferenceForward;
  logProbs: Float64Array[];
  loss: number;
  grads: Record<string, Float64Array>;
}

/** Embedding → tree model → per-node log_softmax(W_cls h + b_cls); loss Σ −logProbs[label]; all gradients. */
export function referenceClassifier(kind: TreeKind, p: Params, X: number, H: number, C: number, trees: readonly ClassifierTree[]): ReferenceClassifier {
  const inputs: ReferenceTree[] = trees.map((tree) => {
    const n = tree.parents.length;
    const x = new Float64Array(n * X);
    for (let j = 0; j < n; j++) if (tree.tokens[j] >= 0) for (let k = 0; k < X; k++) x[j * X + k] = p.embedding[tree.tokens[j] * X + k];
    return { parents: tree.parents, x };
  });
  const forward = referenceForward(kind, p, X, H, inputs);
  let loss = 0;
  const logProbs: Float64Array[] = [];
  const dLogits: Float64Array[] = [];
  trees.forEach((tree, b) => {
    const n = tree.parents.length;
    const lp = new Float64Array(n * C), d = new Float64Array(n * C);
    for (let j = 0; j < n; j++) {
      const logits = matVec(p.W_cls, C, H, forward.h[b].subarray(j * H, (j + 1) * H), p.b_cls);
      const largest = Math.max(...logits);
      const logSum = largest + Math.log(logits.reduce((sum, v) => sum + Math.exp(v - largest), 0));
      for (let k = 0; k < C; k++) lp[j * C + k] = logits[k] - logSum;
      const label = tree.labels[j];
      if (label >= 0) {
        loss -= lp[j * C + label];
        for (let k = 0; k < C; k++) d[j * C + k] = Math.exp(lp[j * C + k]) - (k === label ? 1 : 0);
      }
    }
    logProbs.push(lp);
    dLogits.push(d);
  });
  const treeParams = Object.fromEntries(Object.entries(p).filter(([name]) => !['embedding', 'W_cls', 'b_cls'].includes(name)));
  const dh = trees.map((tree, b) => {
    const n = tree.parents.length;
    const out = new Float64Array(n * H);
    for (let j = 0; j < n; j++) {
      const row = out.subarray(j * H, (j + 1) * H);
      addMatTVec(row, p.W_cls, C, H, dLogits[b].subarray(j * C, (j + 1) * C));
    }
    return out;
  });
  const backward = referenceBackward(kind, treeParams, X, H, inputs, forward, dh, null);
  const grads: Record<string, Float64Array> = { ...backward.grads };
  grads.embedding = new Float64Array(p.embedding.length);
  grads.W_cls = new Float64Array(p.W_cls.length);
  grads.b_cls = new Float64Array(p.b_cls.length);
  trees.forEach((tree, b) => {
    for (let j = 0; j < tree.parents.length; j++) {
      const d = dLogits[b].subarray(j * C, (j + 1) * C);
      addOuter(grads.W_cls, d, forward.h[b].subarray(j * H, (j + 1) * H), C, H);
      addInto(grads.b_cls, d);
      if (tree.tokens[j] >= 0) addInto(grads.embedding, backward.x[b].subarray(j * X, (j + 1) * X), tree.tokens[j] * X);
    }
  });
  return { forward, logProbs, loss, grads };
}
