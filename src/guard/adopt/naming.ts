/**
 * Names of adopted keys (`kms-guard init`): the key's first alias (in alphabetical order) without
 * `alias/`, made to fit the manifest's name pattern, else the key ID; unique without regard to case,
 * because the name is also the document's file name and some file systems ignore case.
 */
import { NAME_PATTERN } from '../../manifest/schema';

const MAX_NAME_LENGTH = 64;

/** `alias/team/payments` -> `team-payments`; characters a name cannot hold become `-`; empty when nothing is left. */
export function nameFromAlias(alias: string): string {
  const bare = alias.replace(/^alias\//, '');
  const replaced = bare.replace(/[^A-Za-z0-9._-]/g, '-');
  const trimmed = replaced.replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_NAME_LENGTH);
  return NAME_PATTERN.test(trimmed) ? trimmed : '';
}

/** The name a key would get before de-duplication. */
export function baseName(keyId: string, aliases: readonly string[]): string {
  const [first] = [...aliases].sort();
  const fromAlias = first === undefined ? '' : nameFromAlias(first);
  return fromAlias === '' ? keyId : fromAlias;
}

/**
 * Unique names for `keys`, in the order given: the base name when it is free (compared without case),
 * else `<base>-2`, `<base>-3`, … (the base shortened so the name stays within 64 characters).
 * Callers sort the keys first, so the outcome does not depend on the order KMS listed them in.
 */
export function assignNames(keys: readonly { keyId: string; aliases: readonly string[] }[]): string[] {
  const taken = new Set<string>();
  return keys.map((key) => {
    const base = baseName(key.keyId, key.aliases);
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) {
      const suffix = `-${n}`;
      name = `${base.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
    }
    taken.add(name.toLowerCase());
    return name;
  });
}
