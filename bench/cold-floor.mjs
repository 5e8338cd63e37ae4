// Child process of bench/size.mjs: the floor under a cold start on this machine and engine, with no looptree JS —
// an empty ES module's import, the core .wasm read + compiled + instantiated alone, and the cost of a fresh page of
// memory (µs per 4 KiB page first touched, the kernel's page fault and zeroing). Prints JSON.
// Usage: node bench/cold-floor.mjs <empty module file> <core .wasm file>

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [emptyModule, wasmFile] = (globalThis.Deno?.args ?? process.argv.slice(2));
const now = () => performance.now();

let t = now();
await import(pathToFileURL(emptyModule).href);
const importEmptyMs = now() - t;

t = now();
const module = await WebAssembly.compile(readFileSync(wasmFile));
const compileMs = now() - t;
t = now();
const imports = { env: { abort() { throw new Error('abort'); }, now: () => performance.now() } };
new WebAssembly.Instance(module, imports);
const instantiateMs = now() - t;

// 16 MiB of fresh Wasm memory, one write per page: what every first touch of a new page costs here.
const PAGES = 4096;
const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 + PAGES / 16 });
t = now();
memory.grow(PAGES / 16);
const bytes = new Uint8Array(memory.buffer);
for (let i = 65536; i < bytes.length; i += 4096) bytes[i] = 1;
const usPerPage = ((now() - t) * 1000) / PAGES;

console.log(JSON.stringify({ importEmptyMs, compileMs, instantiateMs, usPerPage }));
