// Linear-memory allocation for the JS side: parameters, stream state and the per-call arena.

/** Allocates `bytes` bytes, 16-byte aligned (TLSF). May grow memory: JS re-derives its views after. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Frees a block returned by `alloc`. */
export function release(ptr: usize): void {
  heap.free(ptr);
}
