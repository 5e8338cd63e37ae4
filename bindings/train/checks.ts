// Option and argument checks shared by Sequential and its config loader; each error names what was expected and what came.

import { ArgumentError } from '../errors.js';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

export function positiveInteger(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ArgumentError(`${where}: ${what} must be a positive integer, got ${describe(value)}`);
  return value;
}

export function booleanOption(value: unknown, what: string, where: string): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(`${where}: ${what} must be a boolean, got ${describe(value)}`);
  return value;
}

export function checkKeys(options: object, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ArgumentError(`${where}: unknown option "${key}"; expected one of ${allowed.join(', ')}`);
  }
}
