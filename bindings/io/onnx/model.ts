// ModelProto → the graph the executor runs: opsets, nodes with decoded attributes, initializers as values, and the
// declared types of graph inputs and outputs. Field numbers follow onnx/onnx.proto; unknown fields are skipped.

import { OnnxError } from './errors.js';
import { ProtoReader } from './protobuf.js';
import type { DeclaredType } from './feeds.js';
import { decodeTensor, type TensorFields, type Value } from './tensors.js';

/** A decoded AttributeProto; kinds this importer does not read (graphs, sparse tensors, type protos) are 'unsupported'. */
export type Attribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: Value }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'unsupported'; value: string };

export interface OnnxNode {
  /** The node's name, or `OpType #index` when it has none. */
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
}

export interface GraphValueInfo extends DeclaredType {
  name: string;
}

export interface OnnxGraphProto {
  nodes: OnnxNode[];
  initializers: Map<string, Value>;
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
}

export interface OnnxModelProto {
  irVersion: number;
  /** Imported opset version by domain ('' for the default ai.onnx domain). */
  opsets: Map<string, number>;
  graph: OnnxGraphProto;
}

/** Decodes the bytes of a .onnx file. */
export function decodeModel(bytes: Uint8Array): OnnxModelProto {
  const reader = new ProtoReader(bytes);
  let irVersion = 0;
  let graph: OnnxGraphProto | undefined;
  const opsets = new Map<string, number>();
  while (reader.next()) {
    switch (reader.field) {
      case 1: irVersion = reader.int(); break;
      case 7: graph = readGraph(reader.message()); break;
      case 8: {
        const opset = reader.message();
        let domain = '', version = 0;
        while (opset.next()) {
          if (opset.field === 1) domain = opset.string();
          else if (opset.field === 2) version = opset.int();
          else opset.skip();
        }
        opsets.set(domain === 'ai.onnx' ? '' : domain, version);
        break;
      }
      default: reader.skip();
    }
  }
  if (!graph) throw new OnnxError('not an ONNX model: no graph (is this a .onnx file?)');
  return { irVersion, opsets, graph };
}

function readGraph(reader: ProtoReader): OnnxGraphProto {
  const graph: OnnxGraphProto = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  while (reader.next()) {
    switch (reader.field) {
      case 1: graph.nodes.push(readNode(reader.message(), graph.nodes.length)); break;
      case 5: {
        const tensor = readTensor(reader.message());
        graph.initializers.set(tensor.name, decodeTensor(tensor));
        break;
      }
      case 11: graph.inputs.push(readValueInfo(reader.message())); break;
      case 12: graph.outputs.push(readValueInfo(reader.message())); break;
      case 15: throw new OnnxError('sparse initializers are not supported');
      default: reader.skip();
    }
  }
  return graph;
}

function readNode(reader: ProtoReader, index: number): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  while (reader.next()) {
    switch (reader.field) {
      case 1: node.inputs.push(reader.string()); break;
      case 2: node.outputs.push(reader.string()); break;
      case 3: node.name = reader.string(); break;
      case 4: node.opType = reader.string(); break;
      case 5: {
        const [name, attribute] = readAttribute(reader.message());
        node.attributes.set(name, attribute);
        break;
      }
      case 7: node.domain = reader.string(); break;
      default: reader.skip();
    }
  }
  if (!node.name) node.name = `${node.opType} #${index}`;
  if (node.domain === 'ai.onnx') node.domain = '';
  return node;
}

const ATTRIBUTE_TYPES = ['UNDEFINED', 'FLOAT', 'INT', 'STRING', 'TENSOR', 'GRAPH', 'FLOATS', 'INTS', 'STRINGS', 'TENSORS', 'GRAPHS',
  'SPARSE_TENSOR', 'SPARSE_TENSORS', 'TYPE_PROTO', 'TYPE_PROTOS'];
/** AttributeProto field number of each readable attribute type (AttributeType code → field). */
const FIELD_OF_TYPE: Record<number, number> = { 1: 2, 2: 3, 3: 4, 4: 5, 6: 7, 7: 8, 8: 9 };

function readAttribute(reader: ProtoReader): [string, Attribute] {
  let name = '', type = 0, reference = false;
  let float = 0, int = 0, string = '', tensor: TensorFields | undefined;
  const floats: number[] = [], ints: number[] = [], strings: string[] = [], seen = new Set<number>();
  while (reader.next()) {
    seen.add(reader.field);
    switch (reader.field) {
      case 1: name = reader.string(); break;
      case 2: float = reader.float(); break;
      case 3: int = reader.int(); break;
      case 4: string = reader.string(); break;
      case 5: tensor = readTensor(reader.message()); break;
      case 7: reader.reals(floats, 4); break;
      case 8: reader.ints(ints); break;
      case 9: strings.push(reader.string()); break;
      case 20: type = reader.int(); break;
      case 21: reference = true; reader.skip(); break;
      default: reader.skip();
    }
  }
  if (reference) return [name, { kind: 'unsupported', value: 'a reference to a function attribute' }];
  // Producers before IR version 3 leave out `type`: take the kind from the field that is set.
  if (type === 0) type = Number(Object.keys(FIELD_OF_TYPE).find((code) => seen.has(FIELD_OF_TYPE[Number(code)])) ?? 0);
  switch (type) {
    case 1: return [name, { kind: 'float', value: float }];
    case 2: return [name, { kind: 'int', value: int }];
    case 3: return [name, { kind: 'string', value: string }];
    case 4:
      if (!tensor) throw new OnnxError(`attribute '${name}' is a TENSOR without a tensor`);
      return [name, { kind: 'tensor', value: decodeTensor(tensor) }];
    case 6: return [name, { kind: 'floats', value: floats }];
    case 7: return [name, { kind: 'ints', value: ints }];
    case 8: return [name, { kind: 'strings', value: strings }];
    default: return [name, { kind: 'unsupported', value: ATTRIBUTE_TYPES[type] ?? `type ${type}` }];
  }
}

function readTensor(reader: ProtoReader): TensorFields {
  const fields: TensorFields = { name: '', dims: [], dataType: 0, floats: [], ints: [], doubles: [], external: false };
  while (reader.next()) {
    switch (reader.field) {
      case 1: reader.ints(fields.dims); break;
      case 2: fields.dataType = reader.int(); break;
      case 3: throw new OnnxError('segmented tensors (TensorProto.segment) are not supported');
      case 4: reader.reals(fields.floats, 4); break;
      case 5: case 7: reader.ints(fields.ints); break;
      case 8: fields.name = reader.string(); break;
      case 9: fields.raw = reader.bytesField(); break;
      case 10: reader.reals(fields.doubles, 8); break;
      case 13: fields.external = true; reader.skip(); break;
      case 14: if (reader.int() === 1) fields.external = true; break;
      default: reader.skip();
    }
  }
  return fields;
}

function readValueInfo(reader: ProtoReader): GraphValueInfo {
  const info: GraphValueInfo = { name: '', elemType: 0 };
  let nonTensor = '';
  while (reader.next()) {
    if (reader.field === 1) info.name = reader.string();
    else if (reader.field === 2) {
      const type = reader.message();
      while (type.next()) {
        if (type.field === 1) readTensorType(type.message(), info);
        else if (type.field === 4 || type.field === 5 || type.field === 8 || type.field === 9) {
          nonTensor = ({ 4: 'a sequence', 5: 'a map', 8: 'a sparse tensor', 9: 'an optional' } as Record<number, string>)[type.field];
          type.skip();
        } else type.skip();
      }
    } else reader.skip();
  }
  if (nonTensor) throw new OnnxError(`graph input or output '${info.name}' is ${nonTensor}; only tensors are supported`);
  return info;
}

function readTensorType(reader: ProtoReader, info: GraphValueInfo): void {
  while (reader.next()) {
    if (reader.field === 1) info.elemType = reader.int();
    else if (reader.field === 2) {
      const shape: Array<number | string | null> = [];
      const dims = reader.message();
      while (dims.next()) {
        if (dims.field !== 1) { dims.skip(); continue; }
        const dim = dims.message();
        let value: number | string | null = null;
        while (dim.next()) {
          if (dim.field === 1) value = dim.int();
          else if (dim.field === 2) value = dim.string();
          else dim.skip();
        }
        shape.push(value);
      }
      info.shape = shape;
    } else reader.skip();
  }
}
