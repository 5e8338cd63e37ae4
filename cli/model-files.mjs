// `looptree info` and `looptree convert`: read a weight file (.safetensors, .onnx, a TF.js/Keras model.json and its
// shards), recognize the looptree modules it holds, print its tensors and the code that loads it, or write it as
// safetensors in another number format. The importers (looptree/onnx, looptree/keras) are loaded only for their files.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, formatBytes, grouped, markdownTable, progressLine } from './usage.mjs';

/** Metadata key of the modules a converted file holds: [{ prefix, class, options }] (the constructor options that rebuild each). */
const MODULES_METADATA_KEY = 'looptree.modules';
/** Metadata key Sequential.save() stores its config under (bindings/train/sequential-config.ts). */
const SEQUENTIAL_METADATA_KEY = 'looptree.config';
/** Metadata key of saveQuantized's files (bindings/io/quantized-file.ts): the quantized module's class. */
const QUANTIZED_METADATA_KEY = 'looptree.quantized.class';
const RECURRENT_CLASSES = ['RNN', 'LSTM', 'GRU'];

export const INFO = {
  summary: 'show the tensors, dtypes, shapes, parameter count and architecture of a model file, and the code to load it',
  usage: '<file>',
  positionals: [1, 1],
  options: {
    json: { type: 'boolean', description: 'print the description as JSON' },
  },
  details: 'Files: .safetensors (PyTorch state dicts, Sequential.save(), saveQuantized(), looptree convert), .onnx (looptree/onnx), and a\n' +
    'TF.js / Keras model.json with its weight shards beside it (looptree/keras).',
  run: runInfo,
};

/**
 * The number formats convert writes, by --dtype: each a function of the tensors and metadata → safetensors bytes.
 * One entry per format; int8 (a quantized module, not a rounding of each tensor) is quantizedFile().
 */
function conversions(lt) {
  return {
    f32: (tensors, metadata) => lt.serializeSafetensors(tensors, { dtype: 'f32', metadata }),
    f16: (tensors, metadata) => lt.serializeSafetensors(tensors, { dtype: 'f16', metadata }),
    bf16: (tensors, metadata) => lt.serializeSafetensors(tensors, { dtype: 'bf16', metadata }),
  };
}
const DTYPES = ['f32', 'f16', 'bf16', 'int8'];

export const CONVERT = {
  summary: 'write a model\'s weights as .safetensors (from .onnx, model.json or .safetensors), in f32, f16, bf16 or int8',
  usage: '<in> <out.safetensors> [--dtype f16|bf16|f32|int8]',
  positionals: [2, 2],
  options: {
    dtype: { type: 'string', valueName: 'dtype', default: 'f32', description: 'number format of the weights: f32 (default), f16, bf16 or int8' },
  },
  details: 'f16 and bf16 halve the file; each weight is rounded to nearest even (f16: 11 significant bits, |x| < 65520;\n' +
    'bf16: 8 significant bits, float32\'s range). Loading widens them back to float32 exactly.\n' +
    'int8 quarters the weights: the model\'s one RNN, LSTM, GRU, Linear or tree module quantized as quantizeDynamic does\n' +
    '(int8 codes per output row, I8, with F32 row scales `<name>.scale`; biases F32), the file loadQuantized() reads.\n' +
    'From .onnx and model.json, the RNN / LSTM / GRU layers are written with PyTorch keys (several: under "0.", "1.", …)\n' +
    'and their constructor options in the metadata; `looptree info` on the output prints the code that loads them.\n' +
    'The model\'s other layers and operators stay in the source file.',
  run: runConvert,
};

// ---------------------------------------------------------------------------------------------
// Reading model files

/** The format of `file`, from its name, then its first bytes. */
function formatOf(file, bytes) {
  const lower = file.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.onnx')) return 'onnx';
  if (lower.endsWith('.json')) return 'keras';
  if (bytes.length >= 8 && bytes[8] === 0x7b) return 'safetensors'; // the header's "{" after its 8-byte length
  throw new UsageError(`${file}: expected a .safetensors, .onnx or TF.js/Keras model.json file, got "${path.extname(file) || path.basename(file)}"`);
}

function readInput(file) {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  if (statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory (give the model file in it)`);
  return new Uint8Array(readFileSync(file));
}

/**
 * Loads `file` with looptree: { format, tensors: [{ name, dtype, shape }] as stored, modules: [{ prefix, module,
 * note? }] recognized, unrecognized: names, metadata, loadCode, sequential?, summary?, sourceBytes (with the weight
 * shards), stateDict(), dispose() }.
 */
async function loadModelFile(file, lt) {
  const bytes = readInput(file);
  const format = formatOf(file, bytes);
  if (format === 'safetensors') return { ...loadSafetensors(file, bytes, lt), sourceBytes: bytes.length };
  if (format === 'onnx') {
    const { loadOnnx } = await import('../bindings/io/onnx/index.js');
    const model = loadOnnx(bytes);
    const inputs = model.inputNames.map((name, i) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `${quote(name)}: input${i}`));
    return importedModel('onnx', model, bytes.length, "import { loadOnnx } from 'looptree/onnx';", [
      `const model = loadOnnx(readFileSync(${quote(file)}));`,
      `// Feed each input by name: a Tensor, or { data: BigInt64Array | Int32Array, shape } for integer ones. Outputs: ${model.outputNames.join(', ')}.`,
      `const outputs = await model.run({ ${inputs.join(', ')} });`,
    ]);
  }
  const modelJson = parseModelJson(file, bytes);
  const shardFiles = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths ?? []).map((shard) => path.join(path.dirname(file), shard));
  const shards = shardFiles.map((shardFile) => {
    if (!existsSync(shardFile)) throw new UsageError(`${file}: its weights manifest names ${path.basename(shardFile)}, which is not beside it (${shardFile})`);
    return new Uint8Array(readFileSync(shardFile));
  });
  const { loadLayersModel } = await import('../bindings/io/keras/index.js');
  const model = loadLayersModel(modelJson, shards);
  const sourceBytes = bytes.length + shards.reduce((sum, shard) => sum + shard.length, 0);
  return importedModel('keras', model, sourceBytes, "import { loadLayersModel } from 'looptree/keras';", [
    `const model = loadLayersModel(JSON.parse(readFileSync(${quote(file)}, 'utf8')), [${shardFiles.map((p) => `readFileSync(${quote(p)})`).join(', ')}]);`,
    'const y = model.predict(x); // x: [batch, ...input shape]',
  ], model.summary());
}

function parseModelJson(file, bytes) {
  let json;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${error.message})`);
  }
  if (json === null || typeof json !== 'object' || !json.modelTopology) {
    throw new UsageError(`${file}: expected a TF.js layers model.json (with "modelTopology" and "weightsManifest"), got ${json === null ? 'null' : typeof json === 'object' ? `an object with keys ${Object.keys(json).slice(0, 5).join(', ')}` : typeof json}`);
  }
  return json;
}

/**
 * An ONNX or Keras model (`model`: OnnxModel or KerasModel): its recurrent modules (`model.layers`; several get the
 * prefixes "0.", "1.", …) and their parameters as looptree holds them (float32, PyTorch layout).
 */
function importedModel(format, model, sourceBytes, importLine, code, summary) {
  const modules = model.layers.map((module, i) => ({ prefix: model.layers.length > 1 ? `${i}.` : '', module }));
  const stateDict = () => Object.fromEntries(modules.flatMap(({ prefix, module }) => Object.entries(module.stateDict()).map(([name, t]) => [`${prefix}${name}`, t])));
  const tensors = Object.entries(stateDict()).map(([name, t]) => ({ name, dtype: 'F32', shape: [...t.shape] }));
  return {
    format, tensors, modules, unrecognized: [], metadata: {}, summary, sourceBytes, stateDict,
    loadCode: ["import { readFileSync } from 'node:fs';", "import { init } from 'looptree';", importLine, '', 'await init();', ...code].join('\n'),
    dispose: () => model.dispose(),
  };
}

/** A safetensors file: a Sequential.save() file, converted modules, or PyTorch RNN/LSTM/GRU and tree-module state dicts (any key prefix). */
function loadSafetensors(file, bytes, lt) {
  const header = lt.readSafetensorsHeader(bytes);
  const parsed = lt.parseSafetensors(bytes);
  const base = { format: 'safetensors', tensors: header.tensors, metadata: header.metadata, stateDict: () => parsed };
  const fileLiteral = quote(file);
  if (header.metadata[QUANTIZED_METADATA_KEY] !== undefined) {
    const module = lt.loadQuantized(bytes);
    return {
      ...base, unrecognized: [], modules: [{ prefix: '', module, note: 'int8 weights (quantizeDynamic), inference only' }],
      loadCode: [
        "import { readFileSync } from 'node:fs';",
        "import { init, loadQuantized } from 'looptree';",
        '',
        'await init();',
        `const model = loadQuantized(readFileSync(${fileLiteral})); // ${module.constructor.name}`,
      ].join('\n'),
      dispose: () => module.dispose(),
    };
  }
  if (header.metadata[SEQUENTIAL_METADATA_KEY] !== undefined) {
    const model = lt.Sequential.load({ weights: bytes });
    return {
      ...base, unrecognized: [], sequential: model.config(),
      modules: [],
      loadCode: [
        "import { readFileSync } from 'node:fs';",
        "import { init, Sequential } from 'looptree';",
        '',
        'await init();',
        `const model = Sequential.load({ weights: readFileSync(${fileLiteral}) });`,
      ].join('\n'),
      dispose: () => model.dispose(),
    };
  }
  const recognized = recognizeModules(header);
  const modules = [];
  for (const { prefix, className, options, note, keys } of recognized) {
    const module = new lt[className](options);
    try {
      module.loadStateDict(Object.fromEntries(keys.map((key) => [key, parsed[`${prefix}${key}`]])));
    } catch (error) {
      module.dispose();
      throw new Error(`${file}: the tensors under "${prefix}" look like a ${className} but do not load into one: ${error.message}`);
    }
    modules.push({ prefix, module, note });
  }
  const claimed = (name) => recognized.some(({ prefix, keys }) => keys.includes(name.slice(prefix.length)) && name.startsWith(prefix));
  const unrecognized = header.tensors.map((t) => t.name).filter((name) => !claimed(name));
  const used = [...new Set(modules.map(({ module }) => module.constructor.name))];
  const code = [
    "import { readFileSync } from 'node:fs';",
    `import { init, parseSafetensors, ${used.join(', ')} } from 'looptree';`,
    '',
    'await init();',
    `const tensors = parseSafetensors(readFileSync(${fileLiteral}));`,
  ];
  modules.forEach(({ prefix, module }, i) => {
    const name = modules.length > 1 ? `model${i}` : 'model';
    code.push(`const ${name} = new ${module.constructor.name}(${formatOptions(optionsOf(module))});`);
    if (prefix) {
      code.push(`${name}.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([key]) => key.startsWith(${quote(prefix)})).map(([key, t]) => [key.slice(${prefix.length}), t])));`);
    } else {
      // Other tensors in the file would be unexpected keys for a strict load.
      code.push(unrecognized.length ? `${name}.loadStateDict(tensors, { strict: false }); // the file also holds ${unrecognized.length} other tensor(s)` : `${name}.loadStateDict(tensors);`);
    }
  });
  return { ...base, modules, unrecognized, loadCode: modules.length ? code.join('\n') : undefined, dispose: () => modules.forEach(({ module }) => module.dispose()) };
}

const RECURRENT_KEY = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;

/**
 * The RNN / LSTM / GRU modules (and the tree modules: recognizeTreeModules) of a state dict, by key prefix ("" for a
 * bare module, "lstm." inside a bigger model), each with the keys it owns: class and constructor options from the shapes (PyTorch's layout: weight_hh [G·H, H or proj], G = 4 LSTM,
 * 3 GRU, 1 RNN), or from the file's looptree.modules metadata (written by convert), which also keeps options the
 * shapes cannot show (activations, GRU resetAfter, batchFirst).
 */
function recognizeModules(header) {
  const shapes = Object.fromEntries(header.tensors.map((t) => [t.name, t.shape]));
  const saved = header.metadata[MODULES_METADATA_KEY];
  if (saved !== undefined) {
    let described;
    try {
      described = JSON.parse(saved);
    } catch {
      throw new Error(`the "${MODULES_METADATA_KEY}" metadata is not valid JSON: ${saved.slice(0, 80)}`);
    }
    if (!Array.isArray(described)) throw new Error(`the "${MODULES_METADATA_KEY}" metadata must be a list of { prefix, class, options }, got ${saved.slice(0, 80)}`);
    return described.map(({ prefix, class: className, options }) => {
      if (!RECURRENT_CLASSES.includes(className)) throw new Error(`the "${MODULES_METADATA_KEY}" metadata names class ${JSON.stringify(className)}; expected one of ${RECURRENT_CLASSES.join(', ')}`);
      const keys = Object.keys(shapes).filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
      return { prefix, className, options, keys };
    });
  }
  const groups = new Map();
  for (const name of Object.keys(shapes)) {
    const match = RECURRENT_KEY.exec(name);
    if (!match) continue;
    const [, prefix, kind, layer, reverse] = match;
    if (!groups.has(prefix)) groups.set(prefix, []);
    groups.get(prefix).push({ key: name.slice(prefix.length), kind, layer: Number(layer), reverse: Boolean(reverse) });
  }
  const modules = recognizeTreeModules(shapes);
  for (const [prefix, keys] of groups) {
    const ih = shapes[`${prefix}weight_ih_l0`];
    const hh = shapes[`${prefix}weight_hh_l0`];
    const hr = shapes[`${prefix}weight_hr_l0`];
    if (!ih || !hh || ih.length !== 2 || hh.length !== 2) continue;
    const hidden = hr ? hr[1] : hh[1];
    const gates = hh[0] / hidden;
    const className = { 4: 'LSTM', 3: 'GRU', 1: 'RNN' }[gates];
    if (!className) continue;
    const options = { inputSize: ih[1], hiddenSize: hidden, numLayers: Math.max(...keys.map((k) => k.layer)) + 1 };
    if (keys.some((k) => k.reverse)) options.bidirectional = true;
    if (!keys.some((k) => k.kind === 'bias_ih')) options.bias = false;
    if (hr) options.projSize = hr[0];
    const note = className === 'RNN' ? "tanh or relu: the weights do not say; tanh is PyTorch's default (pass nonlinearity: 'relu' if it was trained so)" : undefined;
    modules.push({ prefix, className, options, note, keys: keys.map((k) => k.key) });
  }
  return modules;
}

/** The recurrent modules' constructor defaults, left out of the code info prints. */
const DEFAULT_OPTIONS = { numLayers: 1, bias: true, batchFirst: false, bidirectional: false, projSize: 0, dropout: 0 };

const TREE_KEYS = {
  ChildSumTreeLSTM: ['W_iou', 'U_iou', 'b_iou', 'W_f', 'U_f', 'b_f'],
  BinaryTreeLSTM: ['W_iou', 'U_iou', 'b_iou', 'W_f', 'U_f', 'b_f'],
  TreeRNN: ['W_leaf', 'b_leaf', 'W', 'b'],
};

/**
 * The tree modules of a state dict, by key prefix: a Tree-LSTM from W_iou [3H, X] (U_iou [3H, H]: child-sum,
 * [3H, 2H]: binary), a TreeRNN from W_leaf [H, X].
 */
function recognizeTreeModules(shapes) {
  const modules = [];
  for (const name of Object.keys(shapes)) {
    const lstm = /^(.*)W_iou$/.exec(name);
    const rnn = /^(.*)W_leaf$/.exec(name);
    const prefix = (lstm ?? rnn)?.[1];
    if (prefix === undefined || shapes[name].length !== 2) continue;
    const [rows, inputSize] = shapes[name];
    const hiddenSize = lstm ? rows / 3 : rows;
    const childWidth = shapes[`${prefix}U_iou`]?.[1];
    const className = rnn ? 'TreeRNN' : { [hiddenSize]: 'ChildSumTreeLSTM', [2 * hiddenSize]: 'BinaryTreeLSTM' }[childWidth];
    if (!className || !Number.isInteger(hiddenSize)) continue;
    modules.push({ prefix, className, options: { inputSize, hiddenSize }, keys: TREE_KEYS[className] });
  }
  return modules;
}

/** The constructor options that rebuild a module (tree modules: their input and hidden sizes). */
const optionsOf = (module) => (typeof module.options === 'function' ? module.options() : { inputSize: module.inputSize, hiddenSize: module.hiddenSize });

/** Constructor options as source code, defaults left out: { inputSize: 64, hiddenSize: 128 }. */
function formatOptions(options) {
  const given = Object.entries(options).filter(([key, value]) => DEFAULT_OPTIONS[key] !== value);
  return `{ ${given.map(([key, value]) => `${key}: ${typeof value === 'string' ? quote(value) : JSON.stringify(value)}`).join(', ')} }`;
}

/** A string as a single-quoted JavaScript literal. */
const quote = (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** "LSTM 2 layers bidirectional, input 64, hidden 128" (or "ChildSumTreeLSTM, input 64, hidden 128") from a module. */
function describeModule(module) {
  if (module.inFeatures !== undefined) return `${module.constructor.name}, in ${module.inFeatures}, out ${module.outFeatures}${module.bias ? '' : ', no bias'}`;
  if (typeof module.options !== 'function') return `${module.constructor.name}, input ${module.inputSize}, hidden ${module.hiddenSize}`;
  const { inputSize, hiddenSize, numLayers, bidirectional, bias, projSize, batchFirst, ...rest } = module.options();
  const parts = [`${module.constructor.name} ${numLayers} layer${numLayers > 1 ? 's' : ''}${bidirectional ? ' bidirectional' : ''}`, `input ${inputSize}`, `hidden ${hiddenSize}`];
  if (projSize) parts.push(`projection ${projSize}`);
  if (bias === false) parts.push('no bias');
  if (batchFirst) parts.push('batch first');
  for (const [key, value] of Object.entries(rest)) parts.push(`${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return parts.join(', ');
}

const parameterCount = (tensors) => tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);

// ---------------------------------------------------------------------------------------------
// Commands

async function loadLibrary() {
  const lt = await import('../bindings/index.js');
  await lt.init();
  return lt;
}

async function runInfo({ json }, [file]) {
  const progress = progressLine();
  progress.update(`reading ${file}…`);
  const lt = await loadLibrary();
  const model = await loadModelFile(file, lt);
  progress.done();
  try {
    const architecture = model.sequential
      ? [`Sequential: ${model.sequential.layers.map((layer) => layer.type).join(' → ')}`]
      : model.modules.map(({ prefix, module, note }) => `${prefix ? `${prefix.replace(/\.$/, '')}: ` : ''}${describeModule(module)}${note ? ` (${note})` : ''}`);
    const dtypes = [...new Set(model.tensors.map((t) => t.dtype))];
    const description = {
      file, format: model.format, bytes: statSync(file).size,
      parameters: parameterCount(model.tensors), dtypes, tensors: model.tensors,
      architecture, unrecognized: model.unrecognized, metadata: model.metadata, loadCode: model.loadCode,
    };
    if (json) {
      console.log(JSON.stringify(description, null, 1));
      return;
    }
    const lines = [
      `${file}: ${{ safetensors: 'safetensors', onnx: 'ONNX', keras: 'TF.js / Keras layers model' }[model.format]}, ${formatBytes(description.bytes)}`,
      `${model.tensors.length} tensor${model.tensors.length === 1 ? '' : 's'} (${dtypes.join(', ') || 'none'}${model.format === 'safetensors' ? '' : ', as looptree holds them: PyTorch layout'}), ${grouped(description.parameters)} parameters`,
      '',
      markdownTable(['tensor', 'dtype', 'shape'], model.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`])),
      '',
      `architecture: ${architecture.length ? architecture.join('; ') : 'not recognized (looptree recognizes PyTorch RNN / LSTM / GRU and its tree modules\' state dicts, Sequential.save() files and looptree convert output)'}`,
    ];
    if (model.unrecognized.length && architecture.length) lines.push(`not part of it: ${model.unrecognized.join(', ')}`);
    if (model.summary) lines.push('', model.summary);
    if (model.loadCode) lines.push('', 'load it with:', '', model.loadCode.split('\n').map((line) => (line ? `  ${line}` : '')).join('\n'));
    console.log(lines.join('\n'));
  } finally {
    model.dispose();
  }
}

async function runConvert({ dtype }, [input, output]) {
  if (!output.toLowerCase().endsWith('.safetensors')) throw new UsageError(`the output must be a .safetensors file, got "${output}"`);
  if (path.resolve(input) === path.resolve(output)) throw new UsageError(`the output ${output} is the input file; write to another file`);
  if (!DTYPES.includes(dtype)) throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}, got "${dtype}"`);
  const lt = await loadLibrary();
  const write = conversions(lt)[dtype];
  const progress = progressLine();
  progress.update(`reading ${input}…`);
  const model = await loadModelFile(input, lt);
  try {
    progress.update(`writing ${output} (${dtype})…`);
    let bytes;
    let what;
    if (dtype === 'int8') {
      ({ bytes, what } = quantizedFile(lt, model, input));
    } else if (model.format === 'safetensors') {
      bytes = write(model.stateDict(), model.metadata);
      what = `${model.tensors.length} tensors`;
    } else if (model.modules.length) {
      // Each module's PyTorch keys under its prefix ("" for one module, "0.", "1.", … for several), and the class and
      // constructor options that rebuild it in the metadata (info reads them back; the code it prints loads them).
      const described = model.modules.map(({ prefix, module }) => ({ prefix, class: module.constructor.name, options: module.options() }));
      bytes = write(model.stateDict(), { [MODULES_METADATA_KEY]: JSON.stringify(described), 'looptree.source': path.basename(input) });
      what = model.modules.map(({ prefix, module }) => `${prefix.replace(/\.$/, ": ")}${describeModule(module)}`).join("; ");
    } else {
      throw new Error(`${input}: no RNN, LSTM or GRU layer with its weights in the file (ONNX weights fed as graph inputs are not part of the file)`);
    }
    writeFileSync(output, bytes);
    progress.done();
    const parameters = parameterCount(lt.readSafetensorsHeader(bytes).tensors);
    console.log(`wrote ${output}: ${what}; ${grouped(parameters)} parameters as ${dtype}, ${formatBytes(bytes.length)} (the source: ${formatBytes(model.sourceBytes)})`);
    if (model.format !== 'safetensors' && dtype !== 'int8') console.error(`note: only the recurrent layers are in ${output}; the model's other layers and operators stay in ${path.basename(input)}`);
  } finally {
    progress.done();
    model.dispose();
  }
}

/**
 * --dtype int8: the model's one module quantized (quantizeDynamic; kept as it is when the input is already int8) and
 * written as saveQuantized does, the file loadQuantized reads: { bytes, what }.
 */
function quantizedFile(lt, model, input) {
  if (model.sequential) {
    throw new UsageError(`${input}: a Sequential model is quantized after loading (Sequential.load(…).quantize({ dtype: 'int8' })); --dtype int8 writes one RNN, LSTM, GRU, Linear or tree module`);
  }
  if (model.modules.length !== 1) {
    const found = model.modules.map(({ prefix, module }) => `${prefix}: ${module.constructor.name}`).join(', ');
    throw new UsageError(`${input}: --dtype int8 writes one module (the file loadQuantized reads), the input holds ${model.modules.length}${found ? ` (${found})` : ''}; convert it to f32 and quantize each module with quantizeDynamic`);
  }
  const { module } = model.modules[0];
  const quantized = lt.isQuantized(module) ? module : lt.quantizeDynamic(module, { dtype: 'int8' });
  try {
    return { bytes: lt.saveQuantized(quantized), what: describeModule(quantized) };
  } finally {
    if (quantized !== module) quantized.dispose();
  }
}
