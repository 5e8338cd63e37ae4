# Generates the ONNX fixtures of test/fixtures/onnx-torch (run once, with Debian's python3-torch 1.13 and python3-onnx 1.12):
#   /usr/bin/python3 scripts/gen-onnx-fixtures.py
# - models/: real torch.onnx.export models (Embedding → LSTM → Linear classifier, bidirectional GRU tagger, 2-layer
#   bidirectional LSTM encoder) with PyTorch's outputs;
# - nodes/: single RNN/LSTM/GRU nodes covering every attribute, with outputs of the float64 numpy reference below
#   (itself checked against torch.nn for the attributes PyTorch has);
# - ops.json: one small model per graph operator and opset variant, with numpy's outputs.
# The JSON follows ../shared/fixtures/README.md (T = {"shape", "data", "dtype"?}; dtype int64/int32/int8/uint8/bool).

import base64
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx-torch')
TOLERANCE = {'atol': 1e-5, 'rtol': 1e-5}
rng = np.random.default_rng(20261130)


def tensor_json(array):
    array = np.asarray(array)
    if array.dtype == np.bool_:
        return {'shape': list(array.shape), 'data': [int(v) for v in array.flatten()], 'dtype': 'bool'}
    if array.dtype.kind in 'iu':
        return {'shape': list(array.shape), 'data': [int(v) for v in array.flatten()], 'dtype': str(array.dtype)}
    return {'shape': list(array.shape), 'data': [float('%.9g' % v) for v in array.astype(np.float32).flatten()]}


def write_json(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, separators=(',', ':'))
        f.write('\n')


def uniform(*shape, scale=1.0):
    return (rng.uniform(-scale, scale, size=shape)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# float64 reference of the ONNX RNN, LSTM and GRU operators (every attribute), written from the operator spec.

ACTIVATIONS = {
    'relu': (False, False, lambda x, a, b: np.maximum(x, 0)),
    'tanh': (False, False, lambda x, a, b: np.tanh(x)),
    'sigmoid': (False, False, lambda x, a, b: 1 / (1 + np.exp(-x))),
    'affine': (True, True, lambda x, a, b: a * x + b),
    'leakyrelu': (True, False, lambda x, a, b: np.where(x >= 0, x, a * x)),
    'thresholdedrelu': (True, False, lambda x, a, b: np.where(x > a, x, 0)),
    'scaledtanh': (True, True, lambda x, a, b: a * np.tanh(b * x)),
    'hardsigmoid': (True, True, lambda x, a, b: np.clip(a * x + b, 0, 1)),
    'elu': (True, False, lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1))),
    'softsign': (False, False, lambda x, a, b: x / (1 + np.abs(x))),
    'softplus': (False, False, lambda x, a, b: np.log1p(np.exp(x))),
}
DEFAULT_ALPHA_BETA = {'leakyrelu': (0.01, 0), 'thresholdedrelu': (1.0, 0), 'hardsigmoid': (0.2, 0.5), 'elu': (1.0, 0),
                      'affine': (1.0, 0.0), 'scaledtanh': (1.0, 1.0)}


def resolve_activations(names, alphas, betas):
    """Activation functions with alpha/beta consumed in order by the functions that take them (onnxruntime's rule)."""
    alphas, betas, out = list(alphas), list(betas), []
    for name in names:
        needs_alpha, needs_beta, fn = ACTIVATIONS[name.lower()]
        a, b = DEFAULT_ALPHA_BETA.get(name.lower(), (0, 0))
        if needs_alpha and alphas:
            a = alphas.pop(0)
        if needs_beta and betas:
            b = betas.pop(0)
        out.append(lambda x, fn=fn, a=a, b=b: fn(x, a, b))
    return out


def onnx_recurrent(op, attrs, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None, P=None):
    layout = attrs.get('layout', 0)
    if layout == 1:
        X = X.transpose(1, 0, 2)
        initial_h = None if initial_h is None else initial_h.transpose(1, 0, 2)
        initial_c = None if initial_c is None else initial_c.transpose(1, 0, 2)
    X, W, R = X.astype(np.float64), W.astype(np.float64), R.astype(np.float64)
    T, N, _ = X.shape
    D, H = W.shape[0], R.shape[2]
    G = {'RNN': 1, 'GRU': 3, 'LSTM': 4}[op]
    B = np.zeros((D, 2 * G * H)) if B is None else B.astype(np.float64)
    P = np.zeros((D, 3 * H)) if P is None else P.astype(np.float64)
    h0 = np.zeros((D, N, H)) if initial_h is None else initial_h.astype(np.float64)
    c0 = np.zeros((D, N, H)) if initial_c is None else initial_c.astype(np.float64)
    lens = [T] * N if sequence_lens is None else [int(v) for v in sequence_lens]
    count = {'RNN': 1, 'GRU': 2, 'LSTM': 3}[op]
    defaults = {'RNN': ['Tanh'], 'GRU': ['Sigmoid', 'Tanh'], 'LSTM': ['Sigmoid', 'Tanh', 'Tanh']}[op]
    names = attrs.get('activations', defaults * D)
    if len(names) == count and D == 2:
        names = names * 2
    acts = resolve_activations(names, attrs.get('activation_alpha', []), attrs.get('activation_beta', []))
    clip = attrs.get('clip')
    clamp = (lambda v: np.clip(v, -clip, clip)) if clip is not None else (lambda v: v)
    direction = attrs.get('direction', 'forward')
    Y = np.zeros((T, D, N, H))
    Y_h = np.zeros((D, N, H))
    Y_c = np.zeros((D, N, H))
    for d in range(D):
        f, g, h_act = (acts[d * count:(d + 1) * count] + [None, None])[:3]
        reverse = direction == 'reverse' or d == 1
        for n in range(N):
            h, c = h0[d, n].copy(), c0[d, n].copy()
            steps = range(lens[n] - 1, -1, -1) if reverse else range(lens[n])
            for t in steps:
                x_part = W[d] @ X[t, n] + B[d, :G * H]
                r_part = R[d] @ h + B[d, G * H:]
                if op == 'RNN':
                    h = f(clamp(x_part + r_part))
                elif op == 'GRU':
                    z = f(clamp(x_part[:H] + r_part[:H]))
                    r = f(clamp(x_part[H:2 * H] + r_part[H:2 * H]))
                    if attrs.get('linear_before_reset', 0):
                        candidate = x_part[2 * H:] + r * r_part[2 * H:]
                    else:
                        candidate = x_part[2 * H:] + R[d, 2 * H:] @ (r * h) + B[d, G * H + 2 * H:]
                    h = (1 - z) * g(clamp(candidate)) + z * h
                else:
                    pre = x_part + r_part
                    i = f(clamp(pre[:H] + P[d, :H] * c))
                    forget = 1 - i if attrs.get('input_forget', 0) else f(clamp(pre[2 * H:3 * H] + P[d, 2 * H:] * c))
                    c = forget * c + i * g(clamp(pre[3 * H:]))
                    o = f(clamp(pre[H:2 * H] + P[d, H:2 * H] * c))
                    h = o * h_act(c)  # clip bounds the gates, not c on its way into h (as onnxruntime)
                Y[t, d, n] = h
            Y_h[d, n], Y_c[d, n] = h, c
    if layout == 1:
        return Y.transpose(2, 0, 1, 3), Y_h.transpose(1, 0, 2), Y_c.transpose(1, 0, 2)
    return Y, Y_h, Y_c


def check_reference_against_torch():
    """The numpy reference equals torch.nn.LSTM / GRU / RNN (converted weights) where PyTorch has the same cell."""
    T, N, I, H = 5, 3, 4, 3
    X = uniform(T, N, I)
    lengths = [5, 2, 4]
    for op, module, order in [('LSTM', nn.LSTM, [0, 2, 3, 1]), ('GRU', nn.GRU, [1, 0, 2]), ('RNN', nn.RNN, [0])]:
        G = len(order)
        torch_module = module(I, H, bidirectional=True)
        W, R, B = uniform(2, G * H, I), uniform(2, G * H, H), uniform(2, 2 * G * H)
        h0 = uniform(2, N, H)
        c0 = uniform(2, N, H)
        reorder = lambda a: np.concatenate([a[k * H:(k + 1) * H] for k in order])
        with torch.no_grad():
            for d, suffix in enumerate(['', '_reverse']):
                getattr(torch_module, 'weight_ih_l0' + suffix).copy_(torch.from_numpy(reorder(W[d])))
                getattr(torch_module, 'weight_hh_l0' + suffix).copy_(torch.from_numpy(reorder(R[d])))
                getattr(torch_module, 'bias_ih_l0' + suffix).copy_(torch.from_numpy(reorder(B[d, :G * H])))
                getattr(torch_module, 'bias_hh_l0' + suffix).copy_(torch.from_numpy(reorder(B[d, G * H:])))
            packed = nn.utils.rnn.pack_padded_sequence(torch.from_numpy(X), torch.tensor(lengths), enforce_sorted=False)
            state = (torch.from_numpy(h0), torch.from_numpy(c0)) if op == 'LSTM' else torch.from_numpy(h0)
            out, hn = torch_module(packed, state)
            out = nn.utils.rnn.pad_packed_sequence(out, total_length=T)[0].numpy()
            hn = (hn[0] if op == 'LSTM' else hn).numpy()
        attrs = {'direction': 'bidirectional', 'linear_before_reset': 1}
        Y, Y_h, _ = onnx_recurrent(op, attrs, X, W, R, B, lengths, h0, c0)
        assert np.abs(Y.transpose(0, 2, 1, 3).reshape(T, N, 2 * H) - out).max() < 1e-6, op
        assert np.abs(Y_h - hn).max() < 1e-6, op


NODE_CASES = [
    # name, op, attributes, batch-size N, steps T, inputs given (beyond X W R), lengths
    ('lstm_reverse_layout1_seqlens', 'LSTM', {'direction': 'reverse', 'layout': 1}, ['B', 'sequence_lens', 'initial_h', 'initial_c']),
    ('lstm_bidirectional_layout1_seqlens', 'LSTM', {'direction': 'bidirectional', 'layout': 1}, ['B', 'sequence_lens', 'initial_h']),
    ('gru_lbr1_reverse_seqlens', 'GRU', {'direction': 'reverse', 'linear_before_reset': 1}, ['B', 'sequence_lens', 'initial_h']),
    ('rnn_bidirectional_layout1_relu', 'RNN', {'direction': 'bidirectional', 'layout': 1, 'activations': ['Relu', 'Relu']}, ['B', 'sequence_lens']),
    ('lstm_peepholes_bidirectional_seqlens', 'LSTM', {'direction': 'bidirectional'}, ['B', 'sequence_lens', 'initial_h', 'initial_c', 'P']),
    ('lstm_clip_input_forget', 'LSTM', {'clip': 0.7, 'input_forget': 1}, ['B', 'initial_h', 'initial_c']),
    ('lstm_activations_layout1', 'LSTM', {'layout': 1, 'activations': ['HardSigmoid', 'Softsign', 'ScaledTanh'],
                                          'activation_alpha': [0.3, 1.5], 'activation_beta': [0.6, 0.8]}, ['B', 'initial_c']),
    ('lstm_activations_default_alphas', 'LSTM', {'activations': ['HardSigmoid', 'Elu', 'LeakyRelu']}, ['B']),
    ('lstm_bidirectional_activations_per_direction', 'LSTM', {
        'direction': 'bidirectional', 'activations': ['Sigmoid', 'Tanh', 'Tanh', 'HardSigmoid', 'Softsign', 'Softsign'],
        'activation_alpha': [0.25], 'activation_beta': [0.45]}, ['B', 'sequence_lens']),
    ('gru_activations_lbr0_reverse', 'GRU', {'direction': 'reverse', 'activations': ['HardSigmoid', 'LeakyRelu'],
                                             'activation_alpha': [0.25, 0.1], 'activation_beta': [0.55]}, ['B', 'sequence_lens', 'initial_h']),
    ('gru_lbr1_clip_bidirectional', 'GRU', {'direction': 'bidirectional', 'linear_before_reset': 1, 'clip': 0.5}, ['B', 'initial_h']),
    ('gru_lbr0_layout1_bidirectional_seqlens', 'GRU', {'direction': 'bidirectional', 'layout': 1}, ['B', 'sequence_lens', 'initial_h']),
    ('rnn_affine', 'RNN', {'activations': ['Affine'], 'activation_alpha': [0.5], 'activation_beta': [0.1]}, ['B', 'initial_h']),
    ('rnn_thresholded_relu_softplus_bidirectional', 'RNN', {
        'direction': 'bidirectional', 'activations': ['ThresholdedRelu', 'Softplus'], 'activation_alpha': [0.1]}, ['B']),
    ('rnn_sigmoid_elu_bidirectional', 'RNN', {'direction': 'bidirectional', 'activations': ['Sigmoid', 'Elu'],
                                              'activation_alpha': [0.7]}, ['B', 'initial_h']),
    ('rnn_clip_reverse', 'RNN', {'direction': 'reverse', 'clip': 0.4}, ['B', 'sequence_lens']),
]


def make_node_case(name, op, attrs, given):
    T, N, I, H = 5, 3, 4, 3
    G = {'RNN': 1, 'GRU': 3, 'LSTM': 4}[op]
    D = 2 if attrs.get('direction') == 'bidirectional' else 1
    layout = attrs.get('layout', 0)
    batch_major = lambda shape: [shape[1], shape[0], *shape[2:]] if layout == 1 else shape
    values = {
        'X': uniform(*batch_major([T, N, I])), 'W': uniform(D, G * H, I, scale=0.8), 'R': uniform(D, G * H, H, scale=0.8),
        'B': uniform(D, 2 * G * H, scale=0.5), 'sequence_lens': np.array([5, 2, 4], dtype=np.int32),
        'initial_h': uniform(*batch_major([D, N, H])), 'initial_c': uniform(*batch_major([D, N, H])), 'P': uniform(D, 3 * H, scale=0.5),
    }
    order = ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'][:{'RNN': 6, 'GRU': 6, 'LSTM': 8}[op]]
    node_inputs = [k if k in ('X', 'W', 'R') or k in given else '' for k in order]
    while node_inputs[-1] == '':
        node_inputs.pop()
    outputs = ['Y', 'Y_h', 'Y_c'] if op == 'LSTM' else ['Y', 'Y_h']
    Y, Y_h, Y_c = onnx_recurrent(op, attrs, **{k: values[k] for k in node_inputs if k})
    expected = {'Y': Y, 'Y_h': Y_h, 'Y_c': Y_c}
    node = helper.make_node(op, node_inputs, outputs, hidden_size=H, **attrs)
    graph_inputs = [helper.make_tensor_value_info(k, TensorProto.INT32 if k == 'sequence_lens' else TensorProto.FLOAT, values[k].shape)
                    for k in node_inputs if k]
    graph_outputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, expected[k].shape) for k in outputs]
    model = helper.make_model(helper.make_graph([node], name, graph_inputs, graph_outputs), opset_imports=[helper.make_opsetid('', 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, 'nodes', name + '.onnx'))
    write_json(os.path.join(OUT, 'nodes', name + '.json'), {
        'name': name, 'source': 'scripts/gen-onnx-fixtures.py: float64 numpy reference of the ONNX operator',
        'module': 'onnx:' + op, 'model': name + '.onnx', 'opset': {'ai.onnx': 14}, 'config': attrs,
        'node_inputs': node_inputs, 'node_outputs': outputs,
        'inputs': {k: tensor_json(values[k]) for k in node_inputs if k},
        'outputs': {k: tensor_json(expected[k]) for k in outputs}, 'tolerance': TOLERANCE,
    })


# ---------------------------------------------------------------------------------------------------------------
# Real exported models.

class LstmClassifier(nn.Module):
    """Embedding → LSTM → Linear on the last step: logits [B, C] from int64 token ids [B, T]."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.linear = nn.Linear(32, 4)

    def forward(self, ids):
        output, _ = self.lstm(self.embedding(ids))
        return self.linear(output[:, -1])


class GruTagger(nn.Module):
    """Embedding → bidirectional GRU → Linear per step: logits [B, T, C]."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(40, 12)
        self.gru = nn.GRU(12, 10, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(20, 7)

    def forward(self, ids):
        output, _ = self.gru(self.embedding(ids))
        return self.linear(output)


class LstmEncoder(nn.Module):
    """2-layer bidirectional LSTM over float features with a given state: output, h_n, c_n."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8, num_layers=2, bidirectional=True)

    def forward(self, x, h0, c0):
        output, (h, c) = self.lstm(x, (h0, c0))
        return output, h, c


def export_model(name, model, example, input_names, output_names, dynamic_axes, runs):
    path = os.path.join(OUT, 'models', name + '.onnx')
    model.eval()
    torch.onnx.export(model, example, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=14)
    opset = {o.domain or 'ai.onnx': o.version for o in onnx.load(path).opset_import}
    for suffix, inputs in runs:
        with torch.no_grad():
            outputs = model(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        fixture = {
            'name': name + suffix, 'source': 'torch.onnx.export (PyTorch 1.13.1, opset 14); outputs from the PyTorch module',
            'module': 'onnx:model', 'model': name + '.onnx', 'opset': opset,
            'inputs': {k: tensor_json(v.numpy()) for k, v in zip(input_names, inputs)},
            'outputs': {k: tensor_json(v.numpy()) for k, v in zip(output_names, outputs)},
            'tolerance': {'atol': 1e-5, 'rtol': 0},
        }
        if not suffix:  # the model's state_dict, once per model
            fixture['params'] = {k: tensor_json(v.numpy()) for k, v in model.state_dict().items()}
        write_json(os.path.join(OUT, 'models', name + suffix + '.json'), fixture)


def export_models():
    torch.manual_seed(7)
    ids = lambda b, t, vocab: torch.randint(0, vocab, (b, t), dtype=torch.int64)
    export_model('lstm_classifier', LstmClassifier(), (ids(3, 7, 50),), ['ids'], ['logits'],
                 {'ids': {0: 'batch', 1: 'time'}, 'logits': {0: 'batch'}},
                 [('', (ids(3, 7, 50),)), ('_b1_t12', (ids(1, 12, 50),))])
    export_model('gru_tagger', GruTagger(), (ids(2, 6, 40),), ['ids'], ['logits'],
                 {'ids': {0: 'batch', 1: 'time'}, 'logits': {0: 'batch', 1: 'time'}},
                 [('', (ids(2, 6, 40),)), ('_b4_t3', (ids(4, 3, 40),))])
    state = lambda b: torch.randn(4, b, 8)
    export_model('lstm_encoder', LstmEncoder(), (torch.randn(5, 2, 6), state(2), state(2)), ['x', 'h0', 'c0'],
                 ['output', 'h_n', 'c_n'],
                 {'x': {0: 'time', 1: 'batch'}, 'h0': {1: 'batch'}, 'c0': {1: 'batch'}, 'output': {0: 'time', 1: 'batch'},
                  'h_n': {1: 'batch'}, 'c_n': {1: 'batch'}},
                 [('', (torch.randn(5, 2, 6), state(2), state(2))), ('_t9_b3', (torch.randn(9, 3, 6), state(3), state(3)))])


# ---------------------------------------------------------------------------------------------------------------
# One model per graph operator (and opset variant), outputs from numpy.

def op_case(name, op, opset, inputs, outputs, attrs=None, initializers=None, check=True):
    """inputs/outputs: lists of (name, array); initializers: (name, array) given to the graph as initializers."""
    initializers = initializers or []
    elem = lambda a: helper.np_dtype_to_tensor_dtype(a.dtype) if hasattr(helper, 'np_dtype_to_tensor_dtype') \
        else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
    node = helper.make_node(op, [k for k, _ in inputs] + [k for k, _ in initializers], [k for k, _ in outputs], **(attrs or {}))
    graph = helper.make_graph(
        [node], name, [helper.make_tensor_value_info(k, elem(v), v.shape) for k, v in inputs],
        [helper.make_tensor_value_info(k, elem(v), v.shape) for k, v in outputs],
        initializer=[numpy_helper.from_array(v, k) for k, v in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    if check:
        onnx.checker.check_model(model)
    return {'name': name, 'op': op, 'opset': opset, 'model': base64.b64encode(model.SerializeToString()).decode(),
            'inputs': {k: tensor_json(v) for k, v in inputs}, 'outputs': {k: tensor_json(v) for k, v in outputs},
            'tolerance': TOLERANCE}


def numpy_slice(x, starts, ends, axes, steps):
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a] = slice(s, e, st)
    return x[tuple(index)]


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def op_cases():
    f = lambda *shape: uniform(*shape, scale=2.0)
    i64 = lambda values: np.array(values, dtype=np.int64)
    cases = []
    a, b = f(2, 3, 4), f(3, 1)
    for op, fn in [('Add', np.add), ('Sub', np.subtract), ('Mul', np.multiply), ('Div', np.divide)]:
        cases.append(op_case(op.lower() + '_broadcast', op, 14, [('a', a), ('b', b[None] if op == 'Sub' else b)],
                             [('y', fn(a, b[None] if op == 'Sub' else b).astype(np.float32))]))
    p, q = i64([[7, -7, 9], [100, 3, -1]]), i64([2, 2, -4])
    cases.append(op_case('add_int64', 'Add', 14, [('a', p), ('b', q)], [('y', p + q)]))
    cases.append(op_case('div_int64_truncates', 'Div', 14, [('a', p), ('b', q)], [('y', np.trunc(p / q).astype(np.int64))]))
    cases.append(op_case('mul_scalar', 'Mul', 14, [('a', a), ('b', np.array(1.5, dtype=np.float32))], [('y', a * np.float32(1.5))]))
    m1, m2 = f(2, 3, 5), f(5, 4)
    cases.append(op_case('matmul_3d_2d', 'MatMul', 13, [('a', m1), ('b', m2)], [('y', m1 @ m2)]))
    m3, m4 = f(2, 1, 3, 4), f(3, 4, 2)
    cases.append(op_case('matmul_broadcast_batch', 'MatMul', 13, [('a', m3), ('b', m4)], [('y', m3 @ m4)]))
    v = f(4)
    cases.append(op_case('matmul_vector_matrix', 'MatMul', 13, [('a', v), ('b', m3[0, 0].T)], [('y', v @ m3[0, 0].T)]))
    cases.append(op_case('matmul_matrix_vector', 'MatMul', 13, [('a', m3[0, 0]), ('b', v)], [('y', m3[0, 0] @ v)]))
    ga, gb, gc = f(3, 5), f(4, 5), f(4)
    cases.append(op_case('gemm_transB_bias', 'Gemm', 13, [('a', ga)], [('y', ga @ gb.T + gc)], {'transB': 1},
                         [('b', gb), ('c', gc)]))
    ga2, gb2, gc3 = f(5, 3), f(5, 4), f(3, 1)
    cases.append(op_case('gemm_transA_alpha_beta', 'Gemm', 11, [('a', ga2), ('b', gb2), ('c', gc3)],
                         [('y', (0.5 * ga2.T @ gb2 + 2.0 * gc3).astype(np.float32))], {'transA': 1, 'alpha': 0.5, 'beta': 2.0}))
    cases.append(op_case('gemm_no_c', 'Gemm', 13, [('a', ga), ('b', gb.T.copy())], [('y', ga @ gb.T)]))
    table = f(6, 3)
    idx = i64([[0, -1], [5, 2]])
    cases.append(op_case('gather_axis0_negative', 'Gather', 13, [('data', table), ('indices', idx)], [('y', table[idx])]))
    seq = f(2, 5, 3)
    cases.append(op_case('gather_axis1_scalar', 'Gather', 13, [('data', seq), ('indices', np.array(-1, dtype=np.int64))],
                         [('y', seq[:, -1])], {'axis': 1}))
    cases.append(op_case('gather_int64_data', 'Gather', 11, [('data', i64([4, 5, 6, 7])), ('indices', i64([3, 0]))],
                         [('y', i64([7, 4]))]))
    t4 = f(2, 3, 4)
    cases.append(op_case('transpose_default', 'Transpose', 13, [('x', t4)], [('y', t4.transpose())]))
    cases.append(op_case('transpose_perm', 'Transpose', 13, [('x', t4)], [('y', t4.transpose(1, 0, 2))], {'perm': [1, 0, 2]}))
    s4 = f(1, 3, 1, 2)
    cases.append(op_case('squeeze_attr_v11', 'Squeeze', 11, [('x', s4)], [('y', s4.squeeze(2))], {'axes': [-2]}))
    cases.append(op_case('squeeze_input_v13', 'Squeeze', 13, [('x', s4)], [('y', s4.squeeze(0))], initializers=[('axes', i64([0]))]))
    cases.append(op_case('squeeze_all', 'Squeeze', 13, [('x', s4)], [('y', s4.squeeze())]))
    u = f(3, 2)
    cases.append(op_case('unsqueeze_attr_v11', 'Unsqueeze', 11, [('x', u)], [('y', u[None, :, :, None])], {'axes': [0, -1]}))
    cases.append(op_case('unsqueeze_input_v13', 'Unsqueeze', 13, [('x', u)], [('y', u[:, None])], initializers=[('axes', i64([1]))]))
    sl = f(4, 6, 3)
    cases.append(op_case('slice_attrs_v9', 'Slice', 9, [('x', sl)], [('y', sl[1:3, :, 0:-1])],
                         {'starts': [1, 0], 'ends': [3, -1], 'axes': [0, 2]}))
    big = np.iinfo(np.int64).max
    cases.append(op_case('slice_inputs_v13_steps', 'Slice', 13, [('x', sl)], [('y', numpy_slice(sl, [-1, 1], [-big, big], [1, 0], [-2, 2]))],
                         initializers=[('starts', i64([-1, 1])), ('ends', i64([-big, big])), ('axes', i64([-2, 0])), ('steps', i64([-2, 2]))]))
    cases.append(op_case('slice_inputs_v10_default_axes', 'Slice', 10, [('x', sl)], [('y', sl[0:2, 10:20])],
                         initializers=[('starts', i64([0, 10])), ('ends', i64([2, 20]))]))
    c1, c2 = f(2, 3), f(2, 1)
    cases.append(op_case('concat_last_axis', 'Concat', 13, [('a', c1), ('b', c2)], [('y', np.concatenate([c1, c2], -1))], {'axis': -1}))
    cases.append(op_case('concat_int64', 'Concat', 13, [('a', i64([1])), ('b', i64([2, 3]))], [('y', i64([1, 2, 3]))], {'axis': 0}))
    r = f(2, 3, 4)
    cases.append(op_case('reshape_zero_and_infer', 'Reshape', 14, [('x', r)], [('y', r.reshape(2, 12))], initializers=[('shape', i64([0, -1]))]))
    cases.append(op_case('reshape_allowzero', 'Reshape', 14, [('x', np.zeros((0, 3), np.float32))], [('y', np.zeros((3, 0), np.float32))],
                         {'allowzero': 1}, [('shape', i64([3, 0]))]))
    for axis in [0, 2, -1]:
        rows = int(np.prod(r.shape[:axis])) if axis != -1 else 6
        cases.append(op_case(f'flatten_axis_{axis}'.replace('-', 'minus'), 'Flatten', 13, [('x', r)], [('y', r.reshape(rows, -1))], {'axis': axis}))
    cases.append(op_case('shape', 'Shape', 13, [('x', r)], [('y', i64(r.shape))]))
    cases.append(op_case('shape_start_end_v15', 'Shape', 15, [('x', r)], [('y', i64(r.shape[1:-1]))], {'start': 1, 'end': -1}))
    cases.append(op_case('constant_of_shape_default', 'ConstantOfShape', 14, [('shape', i64([2, 3]))], [('y', np.zeros((2, 3), np.float32))]))
    cases.append(op_case('constant_of_shape_int64', 'ConstantOfShape', 14, [('shape', i64([3]))], [('y', i64([5, 5, 5]))],
                         {'value': numpy_helper.from_array(i64([5]))}))
    e = f(3, 1)
    cases.append(op_case('expand', 'Expand', 13, [('x', e)], [('y', np.broadcast_to(e, (2, 3, 4)).copy())], initializers=[('shape', i64([2, 1, 4]))]))
    cast_in = np.array([[-2.7, -0.5, 0.0], [0.4, 1.9, 300.2]], dtype=np.float32)
    cases.append(op_case('cast_float_to_int64', 'Cast', 13, [('x', cast_in)], [('y', np.trunc(cast_in).astype(np.int64))], {'to': TensorProto.INT64}))
    cases.append(op_case('cast_float_to_bool', 'Cast', 13, [('x', cast_in)], [('y', cast_in != 0)], {'to': TensorProto.BOOL}))
    cases.append(op_case('cast_int64_to_float', 'Cast', 13, [('x', i64([-3, 0, 9]))], [('y', np.array([-3, 0, 9], np.float32))], {'to': TensorProto.FLOAT}))
    cases.append(op_case('cast_int64_to_int32', 'Cast', 13, [('x', i64([-3, 0, 9]))], [('y', np.array([-3, 0, 9], np.int32))], {'to': TensorProto.INT32}))
    cases.append(op_case('cast_float_to_double', 'Cast', 13, [('x', cast_in)], [('y', cast_in)], {'to': TensorProto.DOUBLE}, check=False))
    k = f(2, 2)
    cases.append(op_case('constant_tensor', 'Constant', 13, [], [('y', k)], {'value': numpy_helper.from_array(k)}))
    cases.append(op_case('constant_value_floats', 'Constant', 13, [], [('y', np.array([1.5, -2.0], np.float32))], {'value_floats': [1.5, -2.0]}))
    cases.append(op_case('constant_value_int', 'Constant', 13, [], [('y', np.array(7, np.int64))], {'value_int': 7}))
    cases.append(op_case('constant_value_ints', 'Constant', 13, [], [('y', i64([3, -1]))], {'value_ints': [3, -1]}))
    cases.append(op_case('identity', 'Identity', 14, [('x', k)], [('y', k)]))
    sm = f(2, 3, 4)
    cases.append(op_case('softmax_v11_coerced_axis1', 'Softmax', 11, [('x', sm)], [('y', softmax(sm.reshape(2, 12), 1).reshape(2, 3, 4))]))
    cases.append(op_case('softmax_v13_default_axis', 'Softmax', 13, [('x', sm)], [('y', softmax(sm, -1))]))
    cases.append(op_case('softmax_v13_axis1', 'Softmax', 13, [('x', sm)], [('y', softmax(sm, 1))], {'axis': 1}))
    cases.append(op_case('log_softmax_v13', 'LogSoftmax', 13, [('x', sm)], [('y', np.log(softmax(sm.astype(np.float64), -1)))]))
    cases.append(op_case('log_softmax_v11_axis2', 'LogSoftmax', 11, [('x', sm)], [('y', np.log(softmax(sm.astype(np.float64), 2)))], {'axis': 2}))
    cases.append(op_case('sigmoid', 'Sigmoid', 13, [('x', sm)], [('y', 1 / (1 + np.exp(-sm)))]))
    cases.append(op_case('tanh', 'Tanh', 13, [('x', sm)], [('y', np.tanh(sm))]))
    cases.append(op_case('relu', 'Relu', 14, [('x', sm)], [('y', np.maximum(sm, 0))]))
    cases.append(op_case('reduce_mean_axes_keepdims0', 'ReduceMean', 13, [('x', sm)], [('y', sm.mean(axis=(0, 2)))], {'axes': [0, -1], 'keepdims': 0}))
    cases.append(op_case('reduce_mean_all', 'ReduceMean', 13, [('x', sm)], [('y', sm.mean(keepdims=True))]))
    cases.append(op_case('reduce_max_axis1', 'ReduceMax', 13, [('x', sm)], [('y', sm.max(axis=1, keepdims=True))], {'axes': [1]}))
    cases.append(op_case('reduce_max_v18_axes_input', 'ReduceMax', 18, [('x', sm)], [('y', sm.max(axis=2))], {'keepdims': 0},
                         [('axes', i64([2]))], check=False))
    cases.append(op_case('reduce_mean_v18_noop_empty_axes', 'ReduceMean', 18, [('x', sm)], [('y', sm)], {'noop_with_empty_axes': 1}, check=False))
    cond = np.array([[True, False, True]])
    w1, w2 = f(2, 3), f(2, 1)
    cases.append(op_case('where_broadcast', 'Where', 16, [('c', cond), ('a', w1), ('b', w2)], [('y', np.where(cond, w1, w2))]))
    cases.append(op_case('equal_int64', 'Equal', 13, [('a', i64([[1, 2, 3]])), ('b', i64([[1], [3]]))], [('y', i64([[1, 2, 3]]) == i64([[1], [3]]))]))
    cases.append(op_case('equal_float', 'Equal', 13, [('a', np.array([1.5, 2], np.float32)), ('b', np.array([1.5, 2.5], np.float32))],
                         [('y', np.array([True, False]))]))
    # dtypes of initializers: float16, float64, int32, int8, uint8, bool (numpy_helper writes raw_data) and float_data.
    for name, array in [('float16', np.array([0.5, -2.25, 65504, 6e-08], np.float16)), ('float64', np.array([1e-3, -7.25], np.float64)),
                        ('int32', np.array([-5, 2147483647], np.int32)), ('int8', np.array([-128, 127], np.int8)),
                        ('uint8', np.array([0, 255], np.uint8)), ('bool', np.array([True, False, True]))]:
        expected = array.astype(np.float32) if array.dtype.kind == 'f' else array
        cases.append(op_case(f'initializer_{name}', 'Identity', 14, [], [('y', expected)], initializers=[('x', array)], check=False))
    typed = helper.make_tensor('x', TensorProto.FLOAT, [2, 2], [1.0, -2.0, 3.5, 4.0])
    case = op_case('initializer_float_data', 'Identity', 14, [], [('y', np.array([[1.0, -2.0], [3.5, 4.0]], np.float32))], check=False)
    model = onnx.load_from_string(base64.b64decode(case['model']))
    model.graph.node[0].input.append('x')
    model.graph.initializer.append(typed)
    case['model'] = base64.b64encode(model.SerializeToString()).decode()
    cases.append(case)
    return cases


# ---------------------------------------------------------------------------------------------------------------
# Models loadOnnx must reject (at load, or at run with the given feeds) with OnnxError naming the problem.

def error_cases():
    x_info = helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 3])
    y_info = helper.make_tensor_value_info('y', TensorProto.FLOAT, None)

    def model(nodes, inputs=None, initializers=(), opset=14, outputs=None):
        graph = helper.make_graph(nodes, 'error', [x_info] if inputs is None else inputs, outputs or [y_info], initializer=list(initializers))
        return helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])

    def case(name, proto, error, node=None, feeds=None):
        return {'name': name, 'model': base64.b64encode(proto.SerializeToString()).decode(), 'error': error, 'node': node,
                'feeds': {k: tensor_json(v) for k, v in (feeds or {}).items()}}

    identity = helper.make_node('Identity', ['x'], ['y'], name='copy')
    external = numpy_helper.from_array(np.ones(4, np.float32), 'w')
    external.ClearField('raw_data')
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key='location', value='weights.bin')
    strings = helper.make_tensor('w', TensorProto.STRING, [1], [b'text'])
    sparse = model([identity])
    sparse.graph.sparse_initializer.add().values.CopyFrom(numpy_helper.from_array(np.ones(1, np.float32), 'w'))
    W, R = uniform(1, 12, 3), uniform(1, 12, 3)
    lstm = lambda **attrs: helper.make_node('LSTM', ['x', 'W', 'R'], ['y'], name='lstm', **attrs)
    lstm_x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [4, 2, 3])
    weights = [numpy_helper.from_array(W, 'W'), numpy_helper.from_array(R, 'R')]
    return [
        case('unsupported_op', model([helper.make_node('Conv', ['x', 'x'], ['y'], name='conv')]), 'operator Conv is not supported', 'conv'),
        case('unsupported_domain', model([helper.make_node('FusedMatMul', ['x', 'x'], ['y'], name='fused', domain='com.microsoft')]),
             "domain 'com.microsoft'", 'fused'),
        case('opset_too_old', model([identity], opset=6), 'opset 6 is not supported'),
        case('opset_too_new', model([identity], opset=23), 'opset 23 is not supported'),
        case('external_data', model([helper.make_node('Add', ['x', 'w'], ['y'])], initializers=[external]), 'external data'),
        case('string_tensor', model([helper.make_node('Add', ['x', 'w'], ['y'])], initializers=[strings]), 'type STRING'),
        case('uint16_tensor', model([helper.make_node('Add', ['x', 'w'], ['y'])],
                                    initializers=[numpy_helper.from_array(np.ones(3, np.uint16), 'w')]), 'type UINT16'),
        case('sparse_initializer', sparse, 'sparse initializers'),
        case('not_topologically_sorted', model([helper.make_node('Identity', ['z'], ['y'], name='late'),
                                                helper.make_node('Identity', ['x'], ['z'], name='early')]), 'topological order', 'late'),
        case('unknown_attribute', model([helper.make_node('Relu', ['x'], ['y'], name='relu', foo=1)]), "attribute 'foo' is not supported", 'relu'),
        case('wrong_attribute_type', model([helper.make_node('Transpose', ['x'], ['y'], name='t', perm=1.5)]), "attribute 'perm' must be", 't'),
        case('missing_output', model([identity], outputs=[helper.make_tensor_value_info('nowhere', TensorProto.FLOAT, None)]), "graph output 'nowhere'"),
        case('sequence_input', model([identity], inputs=[helper.make_tensor_sequence_value_info('x', TensorProto.FLOAT, None)]), 'a sequence'),
        case('lstm_bad_direction', model([lstm(hidden_size=3, direction='sideways')], [lstm_x], weights), 'direction', 'lstm'),
        case('lstm_hidden_size_mismatch', model([lstm(hidden_size=4)], [lstm_x], weights), 'W must have shape', 'lstm'),
        case('lstm_bad_activation', model([lstm(hidden_size=3, activations=['Sigmoid', 'Tanh', 'Swish'])], [lstm_x], weights), "activation 'Swish'", 'lstm'),
        case('lstm_sequence_lens_zero', model([helper.make_node('LSTM', ['x', 'W', 'R', '', 'lens'], ['y'], name='lstm', hidden_size=3)],
                                              [lstm_x, helper.make_tensor_value_info('lens', TensorProto.INT32, [2])], weights),
             'sequence_lens[1] is 0', 'lstm', {'x': uniform(4, 2, 3), 'lens': np.array([4, 0], np.int32)}),
        case('gather_out_of_range', model([helper.make_node('Gather', ['x', 'i'], ['y'], name='gather')],
                                          [x_info, helper.make_tensor_value_info('i', TensorProto.INT64, [1])]),
             'index 2 is out of range', 'gather', {'x': uniform(2, 3), 'i': np.array([2], np.int64)}),
        case('reshape_mismatch', model([helper.make_node('Reshape', ['x', 's'], ['y'], name='reshape')],
                                       initializers=[numpy_helper.from_array(np.array([4, 2], np.int64), 's')]), 'cannot reshape', 'reshape',
             {'x': uniform(2, 3)}),
    ]


def main():
    for folder in ['models', 'nodes']:
        os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    check_reference_against_torch()
    for case in NODE_CASES:
        make_node_case(*case)
    export_models()
    write_json(os.path.join(OUT, 'ops.json'), {'source': 'scripts/gen-onnx-fixtures.py: one node per model, outputs from numpy',
                                               'cases': op_cases()})
    write_json(os.path.join(OUT, 'errors.json'), {'source': 'scripts/gen-onnx-fixtures.py: models loadOnnx rejects',
                                                  'cases': error_cases()})
    print('wrote', OUT)


if __name__ == '__main__':
    main()
