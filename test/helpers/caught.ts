// Test helper: what a call threw, for tests that inspect an error's class and message together.

/** What `run` threw (or undefined). */
export function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
