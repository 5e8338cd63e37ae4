// The Wasm interface's data layouts, declared once: the AssemblyScript kernels and the TypeScript bindings
// both import this file (it is valid in both languages: const enums of i32 only). A plan is an i32 array in
// linear memory that describes one whole call; pointers are byte offsets, 0 means "absent". The export
// signatures are the other half of the interface: the build generates bindings/generated/core.d.ts from
// assembly/index.ts, and the bindings type their calls with it.

/** Slots of a recurrent plan (assembly/sequence.ts: rnnForward, rnnBackward). */
export const enum RnnPlan {
  CELL = 0,         // a Cell
  STEPS = 1,        // T
  BATCH = 2,        // B
  INPUT = 3,        // I
  HIDDEN = 4,       // H
  HOUT = 5,         // P
  LAYERS = 6,       // L
  DIRECTIONS = 7,   // D
  BATCH_FIRST = 8,  // 1 if x and y are [B, T, ·]
  X = 9,            // [T, B, I] (or [B, T, I])
  Y = 10,           // [T, B, D·P] (or [B, T, D·P])
  H0 = 11,          // [L·D, B, P] or 0 for zeros
  C0 = 12,          // [L·D, B, H] or 0 for zeros (LSTM)
  HN = 13,          // [L·D, B, P]: the working h state, final h on return (may equal H0)
  CN = 14,          // [L·D, B, H]: the working c state (LSTM; may equal C0)
  LENGTHS = 15,     // [B] i32 or 0
  SCRATCH = 16,     // rnnScratchBytes / rnnBackwardScratchBytes bytes
  TAPE = 17,        // rnnTapeBytes bytes: written by a training forward, read by rnnBackward; 0 = inference
  DY = 18,          // backward: dLoss/dY, laid out like Y, or 0
  DHN = 19,         // backward: dLoss/dh_n [L·D, B, P] or 0
  DCN = 20,         // backward: dLoss/dc_n [L·D, B, H] or 0
  DX = 21,          // backward, out: dLoss/dX, laid out like X
  DH0 = 22,         // backward, out: dLoss/dh0 [L·D, B, P]
  DC0 = 23,         // backward, out: dLoss/dc0 [L·D, B, H] (LSTM)
  MASK = 24,        // [T, B] i32, time-major, or 0: 0 marks a masked step (state kept, output 0); not with LENGTHS
  // The cell's variant (CellVariant in assembly/cells.ts); all zero but the codes is PyTorch's cell.
  GATE_ACTIVATION = 25,      // an Activation: LSTM i f o, GRU r z (PyTorch: SIGMOID)
  GATE_ALPHA = 26,           // f32 bits: its alpha, then beta
  GATE_BETA = 27,
  CANDIDATE_ACTIVATION = 28, // an Activation: RNN h, LSTM g, GRU n (PyTorch: TANH; RELU for RNN relu)
  CANDIDATE_ALPHA = 29,
  CANDIDATE_BETA = 30,
  OUTPUT_ACTIVATION = 31,    // an Activation: LSTM, applied to c before o ⊙ · (PyTorch: TANH)
  OUTPUT_ALPHA = 32,
  OUTPUT_BETA = 33,
  CLIP = 34,                 // f32 bits: gate pre-activations clamped to ±CLIP (not an LSTM's c: onnxruntime does not clip it); 0 = none
  VARIANT_FLAGS = 35,        // VariantFlag bits
  DROPOUT = 36,              // training with dropout between layers: [L − 1, T, B, D·P] time-major factors (0 or 1/(1 − p)), or 0
  LAYER_TABLE = 37, // RnnLayerSlot.SLOTS slots per (layer, direction), index layer·D + direction
}

/** Bits of RnnPlan.VARIANT_FLAGS. */
export const enum VariantFlag {
  GRU_RESET_BEFORE = 1, // GRU: n = act(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (Keras reset_after=False, ONNX linear_before_reset=0)
  INPUT_FORGET = 2,     // LSTM: f = 1 − i (ONNX input_forget)
  PEEPHOLES = 4,        // LSTM: i, f see c_{t−1} and o sees c_t through RnnLayerSlot.PEEPHOLE
  INT8 = 8,             // inference with int8 weights: W_IH, W_HH, W_HR, W_HN hold packInt8Weight blobs (assembly/quantized.ts)
}

/** Activation functions of a cell variant; alpha and beta as in the ONNX operators. */
export const enum Activation {
  SIGMOID = 0,
  TANH = 1,
  RELU = 2,
  AFFINE = 3,           // alpha·x + beta (linear: alpha 1, beta 0)
  HARD_SIGMOID = 4,     // clamp(alpha·x + beta, 0, 1) (Keras: 0.2, 0.5)
  LEAKY_RELU = 5,       // x ≥ 0 ? x : alpha·x
  THRESHOLDED_RELU = 6, // x > alpha ? x : 0
  SCALED_TANH = 7,      // alpha·tanh(beta·x)
  ELU = 8,              // x ≥ 0 ? x : alpha·(eˣ − 1)
  SOFTSIGN = 9,         // x / (1 + |x|)
  SOFTPLUS = 10,        // log(1 + eˣ)
}

/** Slots of one (layer, direction) entry of a recurrent plan's layer table, index layer·D + direction. */
export const enum RnnLayerSlot {
  W_IH = 0,         //   packed weight_ih [G·H, in]
  W_HH = 1,         //   packed weight_hh [G·H, P]
  W_HR = 2,         //   packed weight_hr [P, H] or 0
  BIAS_X = 3,       //   bias added to the input projection [G·H padded to 8]: b_ih + b_hh (GRU: b_hh only for r, z)
  BIAS_HN = 4,      //   GRU: b_hh of the n gate [H]
  RAW_W_IH = 5,     //   weight_ih in PyTorch layout (backward)
  RAW_W_HH = 6,     //   weight_hh in PyTorch layout (backward)
  RAW_W_HR = 7,     //   weight_hr in PyTorch layout (backward) or 0
  GRAD_W_IH = 8,    // gradient accumulators (backward), PyTorch layouts; biases 0 when bias = false
  GRAD_W_HH = 9,
  GRAD_B_IH = 10,
  GRAD_B_HH = 11,
  GRAD_W_HR = 12,
  PEEPHOLE = 13,    // LSTM with peepholes: [3H] weights on c, rows i, f, o
  W_HN = 14,        // GRU reset-before: packed weight_hh rows of n [H, P] (W_HH then holds only the r, z rows)
  SLOTS = 16,
}

/** The recurrent cell of a plan (RnnPlan.CELL). */
export const enum Cell {
  RNN_TANH = 0,
  RNN_RELU = 1,
  LSTM = 2,
  GRU = 3,
}

/** Slots of a tree plan (assembly/tree.ts: treeForward, treeBackward). */
export const enum TreePlan {
  // Sizes
  MODEL = 0,            // a TreeModel
  NODES = 1,            // N
  LEAVES = 2,           // N0
  LEVELS = 3,           // L
  INPUT = 4,            // X
  HIDDEN = 5,           // H
  // Schedule, built by the bindings once per call
  ORDER = 6,            // [N] i32: the node (caller order) at each position
  LEVEL_START = 7,      // [L + 1] i32: first position of each level
  CHILD_START = 8,      // [N + 1] i32: the children of position p are CHILDREN[CHILD_START[p] .. CHILD_START[p + 1])
  CHILDREN = 9,         // [N − trees] i32: positions
  // Caller order
  X = 10,               // [N, X] inputs
  H_OUT = 11,           // [N, H] h of every node, or 0: not wanted (the caller reads the roots from HS)
  C_OUT = 12,           // [N, H] c of every node (LSTMs), or 0 likewise (roots from CS)
  // Schedule order, kept from a training forward for its backward
  XS = 13,              // [N, X] inputs
  HS = 14,              // [N, H] h
  CS = 15,              // [N, H] c (LSTMs)
  GATES = 16,           // [N, G] activated gates: child-sum i o u (G = 3H); binary i o u f_L f_R (G = 5H)
  INPUT_FORGET = 17,    // child-sum [N − N0, H]: W_f x + b_f of the internal nodes
  HIDDEN_FORGET = 18,   // child-sum [N, H]: U_f h of every node (its term in its parent's forget gate)
  FORGET = 19,          // child-sum [N, H]: f of every node as a child (the gate its parent applies to its c)
  CHILD_STATE = 20,     // internal nodes' recurrent input: child-sum [N − N0, H] Σ_k h_k; others [N − N0, 2H] [h_L; h_R]
  // Weights, packed by packWeight (biases zero-padded to whole panels, gemm.ts):
  //          TreeRNN          child-sum          binary
  // W_IN       W_leaf [H, X]    W_iou [3H, X]      [W_iou; W_f; W_f] [5H, X]
  // B_IN       b_leaf           b_iou              [b_iou; b_f; b_f]
  // W_IN_F     —                W_f [H, X]         —
  // B_IN_F     —                b_f                —
  // W_REC      W [H, 2H]        U_iou [3H, H]      [U_iou; U_f] [5H, 2H]
  // B_REC      b                —                  —
  // W_REC_F    —                U_f [H, H]         —
  // WT_*: the transposes of W_IN, W_IN_F, W_REC, W_REC_F, packed (backward: dX = dY · W).
  W_IN = 21,
  B_IN = 22,
  W_IN_F = 23,
  B_IN_F = 24,
  W_REC = 25,
  B_REC = 26,
  W_REC_F = 27,
  WT_IN = 28,
  WT_IN_F = 29,
  WT_REC = 30,
  WT_REC_F = 31,
  // Gradients in PyTorch layout, accumulated:
  //          TreeRNN   child-sum / binary
  // G_IN       W_leaf    W_iou
  // G_B_IN     b_leaf    b_iou
  // G_IN_F     —         W_f
  // G_B_IN_F   —         b_f
  // G_REC      W         U_iou
  // G_B_REC    b         —
  // G_REC_F    —         U_f
  G_IN = 32,
  G_B_IN = 33,
  G_IN_F = 34,
  G_B_IN_F = 35,
  G_REC = 36,
  G_B_REC = 37,
  G_REC_F = 38,
  // Backward
  DH_IN = 39,           // [N, H] caller order: dLoss/dh
  DC_IN = 40,           // [N, H] caller order: dLoss/dc, or 0 for none
  DX_OUT = 41,          // [N, X] caller order: dLoss/dx
  DH = 42,              // [N, H] dLoss/dh, complete for a level once every level above has run (TreeRNN: then d pre-activation)
  DC = 43,              // [N, H] dLoss/dc (LSTMs)
  DGATES = 44,          // [N, G] gradients of the gate pre-activations (LSTMs)
  DINPUT_FORGET = 45,   // child-sum [N − N0, H]: Σ_k of the forget pre-activation gradients of each internal node
  DFORGET = 46,         // child-sum [N, H]: the forget pre-activation gradient of every node as a child
  DCHILD = 47,          // [largest level, 2H] scratch: the gradient reaching a level's children
  DXS = 48,             // [N, X] dLoss/dx in schedule order
  // Weight-gradient scratch (linalg.ts accumulateWeightGradient; rows ≤ N, the model's widest call):
  //                  TreeRNN                     child-sum                   binary
  // WG_TRANSPOSED    N·H floats                  N·3H                        N·3H         (a gate-gradient block, transposed)
  // WG_PACKED        packedSize(max(X, 2H), N)   packedSize(max(X, H), N)    packedSize(max(X, 2H), N)   (activationsᵀ, packed)
  WG_TRANSPOSED = 49,
  WG_PACKED = 50,
  // Inference with int8 weights (quantizeDynamic): non-zero when W_IN, W_IN_F, W_REC and W_REC_F hold packInt8Weight
  // blobs (assembly/quantized.ts) instead of packed f32 weights — then it points at gemmInt8's quantized-activation
  // scratch (int8ScratchBytes(NODES, max(INPUT, 2·HIDDEN)) bytes); the WT_* and gradient slots are unused (no backward).
  INT8 = 51,
  SLOTS = 52,
}

/** The model of a tree plan (TreePlan.MODEL). */
export const enum TreeModel {
  TREE_RNN = 0,
  CHILD_SUM = 1,
  BINARY = 2,
}

/**
 * Parallel jobs of the threads builds (assembly/threads.ts: runJob): what every thread of the pool runs on one
 * argument (a plan pointer). The same code, thread index and count aside, runs on each thread.
 */
export const enum Job {
  RNN_FORWARD = 1, // rnnForward(plan)
  RNN_BACKWARD = 2, // rnnBackward(plan)
  TREE_FORWARD = 3, // treeForward(plan), child-sum models only (the others run on one thread)
}

/**
 * The i32 words of the threads' control block (a block of the main allocator, shared by all threads; see
 * bindings/threads.ts and assembly/threads.ts). The barrier's words first, then the job the pool runs.
 */
export const enum ThreadControl {
  // Three cache lines (16 words each): the barrier's arrivals, what its waiters read, and the job words, so that
  // a thread arriving (an atomic add) does not take the line the others spin on from under them.
  ARRIVED = 0,     // threads that reached the current barrier
  WAITING = 1,     // threads blocked in a wait at a barrier (the last to arrive notifies only when there are some)
  GENERATION = 16, // bumped by the last thread to arrive: the others spin, then wait, on it
  ABORT = 17,      // 1 + the index of the first thread that failed (0: none): every thread leaves its barrier with a trap
  SEQUENCE = 32,   // bumped by the main thread to start a job: the workers wait on it
  JOB = 33,        // a Job, or 0 to stop the workers
  ARGUMENT = 34,   // the job's argument
  COUNT = 35,      // threads taking part, the main thread included
  READY = 36,      // workers instantiated and waiting
  FAULT = 37,      // testing only (bindings/runtime.ts injectWorkerFault): a WorkerFault the job's last worker acts out
  // One word a thread from here: worker i's OS thread id at OS_THREADS + i (Linux, > 0), or 0 where unknown. The main
  // thread, when it has waited long at a barrier, checks that these threads still exist (bindings/threads.ts).
  OS_THREADS = 48,
  // One word a thread from here: the SEQUENCE of the last job worker i has left, done or failed. After a failed job
  // the main thread waits for each live worker's (bindings/threads.ts ThreadPool.run).
  LEFT = 112,
  WORDS = 176,     // LEFT + 64 (bindings/threads.ts MAX_THREADS; OS_THREADS has as many)
}

/**
 * Testing only: what the last worker of the next job does instead of its part (ThreadControl.FAULT, read and
 * cleared by that worker), so that the tests can make a worker fail as a real failure would.
 */
export const enum WorkerFault {
  NONE = 0,
  EXIT = 1,       // its thread ends on taking the job (the other threads wait for it at the job's first barrier)
  THROW = 2,      // its part of the job throws (as a trap in a kernel would)
  EXIT_AFTER = 3, // it does its part, then its thread ends (the next call finds it gone)
}

/**
 * The integer dot product gemmInt8 runs (assembly/quantized.ts: int8DotForm, setInt8DotForm). The baseline build
 * has one; the relaxed build has three that give the same integers, and picks one per process by timing the exact
 * ones once, on the first large call.
 */
export const enum Int8Dot {
  DOT_I16 = 0,  // baseline: i32x4.dot_i16x8_s + i32x4.add on i16 codes
  FUSED = 1,    // relaxed: i32x4.relaxed_dot_i8x16_i7x16_add_s (AVX-VNNI's vpdpbusd where V8 has it)
  PAIRED = 2,   // relaxed: i16x8.relaxed_dot_i8x16_i7x16_s, then i32x4.dot_i16x8_s against a vector of ones, + add
  WIDENED = 3,  // relaxed: SIMD128 only (both halves widened to i16, dot_i16x8_s, lanes summed): for an engine whose relaxed dots are wrong
}
