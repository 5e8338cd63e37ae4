// looptree's runner adapters: workload (bench/spec.mjs) + case → looptree's model, its first output and a run() to
// time, through the public API of the library `lt` given (the repo's dist/ for bench/peers.mjs, the installed package
// for the `looptree bench` CLI, which bundles this file).

function looptreeRecurrent(lt, w, c, int8 = false) {
  const Model = { lstm: lt.LSTM, gru: lt.GRU, rnn: lt.RNN }[w.cell];
  let model = new Model({
    inputSize: w.I, hiddenSize: w.H, numLayers: w.layers, bidirectional: w.bidirectional,
    ...(w.cell === 'rnn' && { nonlinearity: 'tanh' }),
  });
  model.loadStateDict(c.stateDict);
  if (int8) {
    const f32 = model;
    model = lt.quantizeDynamic(f32, { dtype: 'int8' });
    f32.dispose();
  }
  const dispose = () => model.dispose();
  if (w.kind === 'step') {
    const stream = model.stream({
      batch: w.B,
      h0: lt.tensor(c.h0, c.stateShape),
      ...(c.c0 && { c0: lt.tensor(c.c0, c.stateShape) }),
    });
    const x = lt.tensor(c.x, [w.B, w.I]);
    return { output: stream.step(x).data, run: () => stream.step(x), dispose };
  }
  const x = lt.tensor(c.x, [w.T, w.B, w.I]);
  return { output: model.forward(x).output.data, run: () => model.forward(x), dispose };
}

// W6: every tree of the batch in one forward(trees, xs) (merged and level-batched inside looptree). Like
// the tfjs runner, which downloads the roots' states only, it returns the roots (output: 'roots'); every
// node is computed either way.
function looptreeTree(lt, w, c, int8 = false) {
  let model = new lt.ChildSumTreeLSTM({ inputSize: w.X, hiddenSize: w.H });
  model.loadStateDict(c.stateDict);
  if (int8) {
    const f32 = model;
    model = lt.quantizeDynamic(f32, { dtype: 'int8' });
    f32.dispose();
  }
  const trees = c.trees.map((parents) => lt.Tree.fromParents(parents));
  const xs = c.xs.map((x, b) => lt.tensor(x, [trees[b].size, w.X]));
  const run = () => model.forward(trees, xs, { output: 'roots' });
  const { h, c: cell } = run();
  return {
    output: { h: concatAll(h.map((t) => t.data)), c: concatAll(cell.map((t) => t.data)) },
    run,
    dispose: () => model.dispose(),
  };
}

// W8: the low-level training API (README, issue 4): LSTM → Linear on every step → cross-entropy → Adam.
function looptreeTrain(lt, w, c) {
  const lstm = new lt.LSTM({ inputSize: w.I, hiddenSize: w.H });
  lstm.loadStateDict(c.stateDict);
  const linear = new lt.Linear({ inFeatures: w.H, outFeatures: w.classes });
  linear.loadStateDict(c.linear);
  const params = [...lstm.parameters(), ...linear.parameters()];
  const optimizer = new lt.Adam(params, { lr: w.lr, betas: [0.9, 0.999], eps: 1e-8 });
  const x = lt.tensor(c.x, [w.T, w.B, w.I]);
  const run = () => {
    optimizer.zeroGrad();
    const { output } = lstm.forward(x, { train: true });
    const logits = linear.forward(new lt.Tensor(output.data, [w.T * w.B, w.H]), { train: true });
    const { loss, grad } = lt.crossEntropy(logits, c.labels);
    const dOutput = linear.backward(grad);
    lstm.backward({ output: new lt.Tensor(dOutput.data, [w.T, w.B, w.H]) });
    optimizer.step();
    return loss;
  };
  const loss = run();
  return {
    output: trainCheck(loss, params.map((p) => p.value().data), params.map((p) => p.grad().data)),
    run,
    dispose: () => {
      optimizer.dispose?.();
      lstm.dispose();
      linear.dispose();
    },
  };
}

const LOOPTREE_ADAPTERS = { sequence: looptreeRecurrent, step: looptreeRecurrent, tree: looptreeTree, train: looptreeTrain };

/** Builds looptree's model for workload `w` from its case `c` (spec.mjs makeCase) and runs it once: { output, run(), dispose() }. */
export function prepareLooptree(lt, w, c) {
  return LOOPTREE_ADAPTERS[w.kind](lt, w, c);
}

/** The int8 model (quantizeDynamic) of a recurrent ('sequence', 'step') or tree workload, like prepareLooptree. */
export function prepareLooptreeInt8(lt, w, c) {
  return w.kind === 'tree' ? looptreeTree(lt, w, c, true) : looptreeRecurrent(lt, w, c, true);
}

export const concatAll = (arrays) => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
};

// What W8 compares after the first step: its loss, every parameter after the Adam update (PyTorch order
// and layouts), every gradient divided by its tensor's max |g|, and ln max |g| of each tensor (so 1e-3
// means 0.1% on the gradients' scale). Adam's update is ±lr wherever |g| ≫ eps and blind to a gradient's
// scale, so the parameters alone would check little more than signs.
export function trainCheck(loss, values, grads) {
  const maxima = grads.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  const scaled = grads.map((g, i) => g.map((v) => v / (maxima[i] || 1)));
  return {
    loss: Float32Array.of(loss),
    params: concatAll(values),
    grads: concatAll(scaled),
    gradScale: Float32Array.from(maxima, Math.log),
  };
}
