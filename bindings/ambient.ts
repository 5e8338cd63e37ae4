// Global types the published .d.ts use, declared so that they compile under any lib: without "DOM" (no
// WebAssembly namespace) and without "esnext.disposable" (no Symbol.dispose). TypeScript merges these with
// the lib's own declarations where those are present, so `using` and WebAssembly.Module work as usual.

export {};

declare global {
  interface SymbolConstructor {
    /** Explicit resource management's well-known symbol: `using` calls an object's [Symbol.dispose](). */
    readonly dispose: unique symbol;
  }

  // Only the names our .d.ts mention: the DOM lib and @types/node declare the members, constructors and functions.
  namespace WebAssembly {
    /** A compiled WebAssembly module: what init({ module }) takes. */
    interface Module {}
    /** A WebAssembly linear memory. */
    interface Memory {}
  }
}
