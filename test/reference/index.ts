// Index of the scalar references: every export of the Wasm core (assembly/index.ts) with the reference in
// this folder that checks it and the test that compares them, or why it has none in this folder.
// test/kernels/references.test.ts fails when the core exports a kernel missing here, or when an entry
// names a reference or a test that does not exist.
//
// Not exported, so not listed: the tree level steps of assembly/tree-cells.ts (childSumCellForward,
// binaryCellBackward, …), internal to treeForward / treeBackward, whose references referenceForward /
// referenceBackward compute the same equations node by node; and the cell variants of
// assembly/cell-variant.ts, internal to the cells and rnnForward, whose reference is cell-activations.ts.

/** `reference` is `file.ts#export` in this folder; `test` a path from the repository root. */
export type KernelReference = { reference: string; test: string } | { none: string };

/** The kernels that `test` compares with their references, kernel → `file.ts#export`. */
const checkedBy = (test: string, references: Record<string, string>): Record<string, KernelReference> =>
  Object.fromEntries(Object.entries(references).map(([kernel, reference]) => [kernel, { reference, test }]));

export const KERNEL_REFERENCES: Record<string, KernelReference> = {
  ...checkedBy('test/kernels/activations.test.ts', {
    expArray: 'activations.ts#exp', sigmoidArray: 'activations.ts#sigmoid', tanhArray: 'activations.ts#tanh',
  }),
  ...checkedBy('test/kernels/gemm.test.ts', { gemmPacked: 'gemm.ts#gemm', gemmColumns: 'gemm.ts#gemm', gemvColumns: 'gemm.ts#gemm' }),
  ...checkedBy('test/kernels/weight-gradient.test.ts', {
    accumulateWeightGradient: 'linalg.ts#accumulateWeightGradient', accumulateColumnSums: 'linalg.ts#accumulateColumnSums',
  }),
  ...checkedBy('test/kernels/cells.test.ts', {
    rnnCellForward: 'cells.ts#rnnCell', lstmCellForward: 'cells.ts#lstmCell', gruCellForward: 'cells.ts#gruCell', commitRows: 'cells.ts#commitRows',
  }),
  ...checkedBy('test/kernels/training.test.ts', {
    rnnCellBackward: 'cells.ts#rnnCellBackward', lstmCellBackward: 'cells.ts#lstmCellBackward', gruCellBackward: 'cells.ts#gruCellBackward',
    passEndedRows: 'cells.ts#passEndedRows', addActiveRows: 'cells.ts#addActiveRows',
    transpose: 'linalg.ts#transpose', linearBackward: 'linalg.ts#linearBackward',
    swapLeadingAxes: 'recurrent.ts#swapLeadingAxes',
    sgdStep: 'optim.ts#sgdStep', adamStep: 'optim.ts#adamStep', sumOfSquares: 'optim.ts#sumOfSquares', scaleArray: 'optim.ts#scaleArray',
    clampArray: 'optim.ts#clampArray',
  }),
  ...checkedBy('test/kernels/dtypes.test.ts', {
    float16ToFloat32Array: 'dtypes.ts#float16ToFloat32', bfloat16ToFloat32Array: 'dtypes.ts#bfloat16ToFloat32',
    float32ToFloat16Array: 'dtypes.ts#float32ToFloat16', float32ToBfloat16Array: 'dtypes.ts#float32ToBfloat16',
  }),
  ...checkedBy('test/kernels/recurrent.test.ts', { rnnForward: 'recurrent.ts#recurrentForward' }),
  ...checkedBy('test/kernels/quantized.test.ts', { gemmInt8: 'quantized.ts#gemmInt8', quantizeRows: 'quantized.ts#quantizeRow' }),
  ...checkedBy('test/tree-gradients.test.ts', { treeForward: 'tree.ts#referenceForward', treeBackward: 'tree.ts#referenceBackward' }),

  alloc: { none: 'memory management (TLSF), no arithmetic: every kernel test allocates through it' },
  release: { none: 'memory management (TLSF), no arithmetic: every kernel test frees through it' },
  simdFlavor: { none: 'a build constant, checked by expectRequestedBuild() in every kernel test' },
  panelWidth: { none: 'a layout constant, checked in test/kernels/gemm.test.ts' },
  threadInit: { none: 'thread setup of the threads builds, no arithmetic: test/threads.test.ts runs every thread through it' },
  threadBlockBytes: { none: 'a size, no arithmetic: threadInit places the per-thread objects in a block of it (test/threads.test.ts)' },
  runJob: { none: 'a dispatcher: runs rnnForward on every thread; test/threads.test.ts compares 1 and 2 threads bitwise' },
  threadAbort: { none: 'sets the threads builds\' abort word, no arithmetic: a failed worker makes the others leave their barriers' },
  packedSize: { none: 'a layout size, checked against ceil(n/NR)·NR·k in test/kernels/gemm.test.ts' },
  packWeight: { none: 'moves data, no arithmetic: test/kernels/gemm.test.ts spells the panel layout out' },
  packWeightStrided: { none: 'moves data, no arithmetic: its transposed packs feed linearBackward, checked against linalg.ts' },
  fillUniform: { none: 'its reference is the JS generator of bindings/random.ts (seededRandom), in test/kernels/random.test.ts' },
  firstNonFinite: { none: "JS's own Number.isFinite is its reference, in test/kernels/checks.test.ts" },
  rnnBackward: {
    none: 'no float64 backward through time here: checked by central differences (test/gradcheck.test.ts) and PyTorch ' +
      'gradients (test/torch-gradients.test.ts); its steps are the cell backward references',
  },
  quantizedWeightBytes: { none: 'a layout size, checked against the layout in test/kernels/quantized.test.ts' },
  packInt8Weight: { none: 'moves data, no arithmetic: test/kernels/quantized.test.ts spells the layout out' },
  int8ScratchBytes: { none: 'a buffer size: test/kernels/quantized.test.ts checks guard floats right after it on every gemmInt8 call' },
  int8ActivationLevels: { none: 'a build constant (63 relaxed, 127 baseline) that test/kernels/quantized.test.ts checks and passes to the reference' },
  int8ActivationOffset: { none: 'a build constant (64 relaxed, 0 baseline) that test/kernels/quantized.test.ts checks and reads quantizeRows\' bytes with' },
  relaxedDotExact: { none: 'an engine probe: test/kernels/quantized.test.ts checks its answer per V8 version, test/runtimes/int8-relaxed.test.ts on Node 22 and 24' },
  rnnScratchBytes: { none: 'a buffer size, exercised by every rnnForward test' },
  rnnTapeBytes: { none: 'a buffer size, exercised by every training forward' },
  rnnBackwardScratchBytes: { none: 'a buffer size, exercised by every rnnBackward test' },
};
