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

/**
 * A value loaded on its first use (a dynamic import, an SDK client built from it), once; every caller awaits the
 * same load. A failed load is not kept: the next use tries again. A value given as is is used as is (tests inject
 * a client).
 */
export function loadedOnFirstUse<Value>(source: Value | (() => Promise<Value>)): () => Promise<Value> {
  if (typeof source !== 'function') return () => Promise.resolve(source);
  const load = source as () => Promise<Value>;
  let loading: Promise<Value> | undefined;
  return () => {
    const current = loading ?? load();
    loading = current;
    current.catch(() => {
      if (loading === current) loading = undefined;
    });
    return current;
  };
}
