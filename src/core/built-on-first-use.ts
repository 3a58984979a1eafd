/**
 * A value built on its first use, once. For schemas a module defines for several functions when each function uses
 * only its own: built at module load, every bundle that includes the module would build all of them at every cold
 * start (src/app/config.ts; docs/architecture.md#what-loads-when).
 */
export function builtOnFirstUse<Value>(build: () => Value): () => Value {
  let value: Value | undefined;
  return () => {
    value ??= build();
    return value;
  };
}
