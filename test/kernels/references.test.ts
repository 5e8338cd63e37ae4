// test/reference/index.ts against the Wasm core: every exported function has an entry, every entry names an
// export, every named reference is a function that its file in test/reference exports, and every named test
// file exists. A new kernel without a scalar reference (or a reason for none) fails here.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { core } from '../helpers/kernels.js';
import * as activations from '../reference/activations.js';
import * as cells from '../reference/cells.js';
import * as dtypes from '../reference/dtypes.js';
import * as gemm from '../reference/gemm.js';
import { KERNEL_REFERENCES } from '../reference/index.js';
import * as linalg from '../reference/linalg.js';
import * as optim from '../reference/optim.js';
import * as quantized from '../reference/quantized.js';
import * as recurrent from '../reference/recurrent.js';
import * as tree from '../reference/tree.js';

const referenceFiles: Record<string, Record<string, unknown>> = {
  'activations.ts': activations, 'cells.ts': cells, 'dtypes.ts': dtypes, 'gemm.ts': gemm, 'linalg.ts': linalg, 'optim.ts': optim,
  'quantized.ts': quantized, 'recurrent.ts': recurrent, 'tree.ts': tree,
};

const exportedKernels = Object.entries(core).filter(([, value]) => typeof value === 'function').map(([name]) => name).sort();

describe('every kernel has a scalar reference, or a reason for none (test/reference/index.ts)', () => {
  it('lists exactly the functions the Wasm core exports', () => {
    expect(exportedKernels.length).toBeGreaterThan(30);
    expect(Object.keys(KERNEL_REFERENCES).sort()).toEqual(exportedKernels);
  });

  it('names references that exist, and tests that exist', () => {
    for (const [kernel, entry] of Object.entries(KERNEL_REFERENCES)) {
      if ('none' in entry) {
        expect(entry.none.length, `${kernel}: the reason`).toBeGreaterThan(20);
        continue;
      }
      const [file, name] = entry.reference.split('#');
      expect(typeof referenceFiles[file]?.[name], `${kernel}: ${entry.reference}`).toBe('function');
      expect(existsSync(new URL(`../../${entry.test}`, import.meta.url)), `${kernel}: ${entry.test}`).toBe(true);
    }
  });
});
