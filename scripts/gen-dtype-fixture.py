# Generates test/fixtures/dtypes/torch-rounding.json: float32 values and PyTorch's own f16 / bf16 rounding of them
# (bit patterns), the reference that test/kernels/dtypes.test.ts checks the Wasm narrowing kernels against.
# Run with the Python that has torch 1.13.1: /usr/bin/python3 scripts/gen-dtype-fixture.py
import json
import struct

import torch

g = torch.Generator().manual_seed(13)
# Random float32 bit patterns over the whole range (NaN excluded: PyTorch makes every NaN 0x7fc0 / 0x7e00, looptree
# keeps the payload's top bits), normal-range randoms of every scale, and the edges of half's range.
bits = torch.randint(0, 2**31, (3000,), generator=g, dtype=torch.int64)
signs = torch.randint(0, 2, (3000,), generator=g, dtype=torch.int64) << 31
words = [(int(b) | int(s)) & 0xffffffff for b, s in zip(bits, signs)]
words = [w for w in words if (w & 0x7fffffff) <= 0x7f800000][:2000]
values = [struct.unpack('<f', struct.pack('<I', w))[0] for w in words]
values += (torch.randn(2000, generator=g) * torch.exp(torch.randn(2000, generator=g) * 4)).tolist()
values += [65504.0, 65519.99609375, 65520.0, 65536.0, 2**-24, 2**-25, 3 * 2**-26, 2**-14, 1e-45, 3.4028234663852886e38,
           float('inf'), float('-inf'), 0.0, -0.0]
x = torch.tensor(values, dtype=torch.float32)
doc = {
    'source': f'torch {torch.__version__}: torch.tensor(values, dtype=float32).half() and .bfloat16(), bit patterns; scripts/gen-dtype-fixture.py',
    'float32_bits': [struct.unpack('<I', struct.pack('<f', v))[0] for v in x.tolist()],
    'f16_bits': [b & 0xffff for b in x.half().view(torch.int16).tolist()],
    'bf16_bits': [b & 0xffff for b in x.bfloat16().view(torch.int16).tolist()],
}
with open('test/fixtures/dtypes/torch-rounding.json', 'w') as f:
    json.dump(doc, f)
print(len(doc['float32_bits']), 'values')
