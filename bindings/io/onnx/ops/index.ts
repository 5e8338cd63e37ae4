// The graph operators run in JavaScript, by op_type (RNN, LSTM and GRU run on looptree modules: ../recurrent.ts).

import type { Operator } from '../node.js';
import { CONSTANT } from './constant.js';
import { ELEMENTWISE } from './elementwise.js';
import { LINEAR } from './linear.js';
import { REDUCE } from './reduce.js';
import { SHAPE } from './shape.js';

export const OPERATORS: Readonly<Record<string, Operator>> = { ...CONSTANT, ...ELEMENTWISE, ...LINEAR, ...REDUCE, ...SHAPE };
