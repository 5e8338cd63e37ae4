#!/usr/bin/python3
"""Differential reference for test/torch-diff.test.ts (issue 10): N random RNN/LSTM/GRU configurations run by
PyTorch in float64 — outputs, final states and every gradient (input, h0, c0, each parameter) of a random linear
loss — plus, per quantity, float32 PyTorch's own distance from float64 (the yardstick the test's tolerance is tied to).

Inputs and weights are float32 values (what looptree computes with), stored as float32; float64 results as float64.
Writes test/fixtures/torch-diff/index.json (configs, offsets, torch32 distances) and data.bin (little-endian).
Run: /usr/bin/python3 scripts/gen-torch-diff.py   (torch 1.13.1; deterministic: seeded)
"""
import json, os, random, struct
import numpy as np
import torch

N_CONFIGS = 240
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch-diff')
rng = random.Random(20261130)
torch.manual_seed(20261130)

blob = bytearray()


def put(array, dtype):
    global blob
    a = np.ascontiguousarray(array, dtype=dtype)
    offset = len(blob)
    blob += a.tobytes()
    while len(blob) % 8:
        blob += b'\0'
    return {'offset': offset, 'dtype': 'f32' if dtype == np.float32 else 'f64', 'shape': list(a.shape)}


def distance(a, ref):
    """max |a − ref| / max |ref|: the error of a tensor relative to its largest value (absolute if ref is all zeros)."""
    a = np.asarray(a, dtype=np.float64); ref = np.asarray(ref, dtype=np.float64)
    if ref.size == 0:
        return 0.0
    largest = float(np.max(np.abs(ref)))
    return float(np.max(np.abs(a - ref)) / (largest if largest > 0 else 1.0))


def random_config():
    kind = rng.choice(['RNN', 'LSTM', 'GRU'])
    cfg = {
        'inputSize': rng.randint(1, 6), 'hiddenSize': rng.randint(1, 7), 'numLayers': rng.choice([1, 1, 2, 2, 3]),
        'bias': rng.random() < 0.8, 'batchFirst': rng.random() < 0.5, 'bidirectional': rng.random() < 0.5,
    }
    if kind == 'RNN':
        cfg['nonlinearity'] = rng.choice(['tanh', 'relu'])
    if kind == 'LSTM' and rng.random() < 0.35 and cfg['hiddenSize'] > 1:
        cfg['projSize'] = rng.randint(1, cfg['hiddenSize'] - 1)
    T, B = rng.randint(1, 7), rng.randint(1, 4)
    unbatched = B == 1 and rng.random() < 0.15
    lengths = None
    if not unbatched and rng.random() < 0.4:
        lengths = [rng.randint(1, T) for _ in range(B)]
        lengths[rng.randrange(B)] = T  # pad_packed_sequence(total_length = T) keeps T steps
    return kind, cfg, T, B, unbatched, lengths, rng.random() < 0.5, rng.random() < 0.5


def torch_module(kind, cfg, dtype):
    args = dict(input_size=cfg['inputSize'], hidden_size=cfg['hiddenSize'], num_layers=cfg['numLayers'], bias=cfg['bias'],
                batch_first=cfg['batchFirst'], bidirectional=cfg['bidirectional'])
    if kind == 'RNN':
        args['nonlinearity'] = cfg['nonlinearity']
    if cfg.get('projSize'):
        args['proj_size'] = cfg['projSize']
    return getattr(torch.nn, kind)(**args).to(dtype)


def run(kind, cfg, params, x, h0, c0, lengths, seeds, dtype):
    module = torch_module(kind, cfg, dtype)
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.from_numpy(params[name]).to(dtype))
    x = torch.from_numpy(x).to(dtype).requires_grad_(True)
    state = None
    leaves = {'input': x}
    if h0 is not None:
        h = torch.from_numpy(h0).to(dtype).requires_grad_(True); leaves['h0'] = h
        state = h
        if kind == 'LSTM':
            c = torch.from_numpy(c0).to(dtype).requires_grad_(True); leaves['c0'] = c
            state = (h, c)
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=cfg['batchFirst'], enforce_sorted=False)
        out, hn = module(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=cfg['batchFirst'], total_length=x.shape[1 if cfg['batchFirst'] else 0])
    else:
        out, hn = module(x, state)
    if kind == 'LSTM':
        hn, cn = hn
    else:
        cn = None
    loss = (out * torch.from_numpy(seeds['output']).to(dtype)).sum() + (hn * torch.from_numpy(seeds['h']).to(dtype)).sum()
    if cn is not None:
        loss = loss + (cn * torch.from_numpy(seeds['c']).to(dtype)).sum()
    loss.backward()
    results = {'output': out.detach().numpy(), 'h': hn.detach().numpy()}
    if cn is not None:
        results['c'] = cn.detach().numpy()
    for name, leaf in leaves.items():
        results['d ' + name] = leaf.grad.numpy()
    for name, p in module.named_parameters():
        results['d ' + name] = p.grad.numpy()
    return results


def f32(shape, scale=1.0):
    return (np.asarray([rng.uniform(-scale, scale) for _ in range(int(np.prod(shape)))], dtype=np.float32)).reshape(shape)


configs = []
for index in range(N_CONFIGS):
    kind, cfg, T, B, unbatched, lengths, with_h0, tiny = random_config()
    # Some configurations run at tiny scale (inputs, weights ~1e-4): tanh and sigmoid near 0, where relative accuracy matters.
    scale = 1e-4 if tiny and rng.random() < 0.3 else 1.0
    module = torch_module(kind, cfg, torch.float64)
    params = {name: f32(tuple(p.shape), scale * (1.0 / max(cfg['hiddenSize'], 1)) ** 0.5) for name, p in module.named_parameters()}
    D = 2 if cfg['bidirectional'] else 1
    P = cfg.get('projSize') or cfg['hiddenSize']
    L = cfg['numLayers']
    xshape = (T, cfg['inputSize']) if unbatched else ((B, T, cfg['inputSize']) if cfg['batchFirst'] else (T, B, cfg['inputSize']))
    x = f32(xshape, scale)
    sshape = (lambda w: (L * D, w)) if unbatched else (lambda w: (L * D, B, w))
    h0 = f32(sshape(P), scale) if with_h0 else None
    c0 = f32(sshape(cfg['hiddenSize']), scale) if with_h0 and kind == 'LSTM' else None
    oshape = (T, D * P) if unbatched else ((B, T, D * P) if cfg['batchFirst'] else (T, B, D * P))
    seeds = {'output': f32(oshape), 'h': f32(sshape(P))}
    if kind == 'LSTM':
        seeds['c'] = f32(sshape(cfg['hiddenSize']))
    ref = run(kind, cfg, params, x, h0, c0, lengths, seeds, torch.float64)
    single = run(kind, cfg, params, x, h0, c0, lengths, seeds, torch.float32)
    entry = {
        'module': kind, 'config': cfg, 'T': T, 'B': B, 'unbatched': unbatched, 'lengths': lengths, 'scale': scale,
        'inputs': {'input': put(x, np.float32), **({'h0': put(h0, np.float32)} if h0 is not None else {}),
                   **({'c0': put(c0, np.float32)} if c0 is not None else {})},
        'params': {name: put(v, np.float32) for name, v in params.items()},
        'seeds': {name: put(v, np.float32) for name, v in seeds.items()},
        'expected': {name: put(v, np.float64) for name, v in ref.items()},
        'torch32': {name: distance(single[name], ref[name]) for name in ref},
    }
    configs.append(entry)

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'data.bin'), 'wb') as f:
    f.write(bytes(blob))
with open(os.path.join(OUT, 'index.json'), 'w') as f:
    json.dump({'generator': 'scripts/gen-torch-diff.py', 'torch': torch.__version__, 'configs': configs}, f, separators=(',', ':'))
print(len(configs), 'configs,', len(blob), 'bytes of data')
