/**
 * The inverse of renderPlaceholders, for adopting a live key policy as a desired document
 * (`kms-guard init`): the key's own partition, Region and account become `{{Partition}}`,
 * `{{Region}}` and `{{AccountId}}` where, and only where, they denote the key's own location.
 *
 * What is replaced (docs/cli.md#how-placeholders-are-chosen), in `Principal`/`NotPrincipal`,
 * `Resource`/`NotResource` and condition values only (never in `Sid`, `Id`, `Action`, keys or operators):
 *
 * - an ARN of the key's account in the key's partition (`arn:aws:iam::111122223333:root` →
 *   `arn:{{Partition}}:iam::{{AccountId}}:root`): its partition and account fields, and its Region field
 *   when that is the key's Region. An ARN of any other account (or of the same digits in another
 *   partition) stays literal, whole. The guard's own role in the key's Region
 *   (`…:role/kms-policy-guard-eu-west-1`) becomes `{{GuardPrincipal}}`, as the shipped documents name it;
 * - a bare 12-digit `AWS` principal equal to the key's account;
 * - a condition value equal to the key's account under a condition key that holds an account ID
 *   (`aws:PrincipalAccount`, `aws:SourceAccount`, `aws:ResourceAccount`, `kms:CallerAccount`);
 * - a service name in the key's Region, `<service>.<region>.amazonaws.com[.cn]`, as a `Service`
 *   principal or a `kms:ViaService` value (`logs.{{Region}}.amazonaws.com`).
 *
 * Everything else is literal: other accounts, other Regions, values that merely contain the digits
 * (an encryption-context value, a user ID), and IAM policy variables (`${aws:username}`): a field is
 * replaced only when it equals the key's value exactly, so a `${…}` field never is.
 */
import type { KeyLocation } from '../core/key-arn';
import { guardRoleArn } from './placeholders';

/** Condition keys whose values are account IDs (compared case-insensitively, as AWS does). */
const ACCOUNT_CONDITION_KEYS: ReadonlySet<string> = new Set([
  'aws:principalaccount',
  'aws:sourceaccount',
  'aws:resourceaccount',
  'kms:calleraccount',
]);
const VIA_SERVICE_KEY = 'kms:viaservice';
const PRINCIPAL_ELEMENTS = ['Principal', 'NotPrincipal'] as const;
const RESOURCE_ELEMENTS = ['Resource', 'NotResource'] as const;

/** `arn:partition:service:region:account:resource` (the resource part may hold more colons). */
const ARN = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/s;
const SERVICE_NAME = /^([a-z0-9-]+(?:\.[a-z0-9-]+)*)\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)$/;

/** A `{{…}}` in a live document: desired documents reserve it for placeholders, so it cannot be adopted as it is. */
export const PLACEHOLDER_LIKE_TEXT = /\{\{[^{}]*\}\}/;

export interface TemplatedDocument {
  /** The document with placeholders (same shape and key order as the input). */
  document: unknown;
  /** How many strings were changed. */
  replacements: number;
}

type Rewrite = (value: string) => string;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy of `source` with each value passed through `map`: own properties only, even one named `__proto__`. */
function mapValues(
  source: Record<string, unknown>,
  map: (value: unknown, key: string) => unknown,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    Object.defineProperty(result, key, {
      value: map(value, key),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

class Templater {
  replacements = 0;

  private readonly guardRole: string;

  constructor(private readonly location: KeyLocation) {
    this.guardRole = guardRoleArn(location);
  }

  /** An ARN of the key's account and partition, with placeholders; any other text unchanged. */
  arn: Rewrite = (value) => {
    if (value === this.guardRole) return this.changed('{{GuardPrincipal}}');
    const match = ARN.exec(value);
    if (!match) return value;
    const [, partition = '', service = '', region = '', account = '', resource = ''] = match;
    if (partition !== this.location.partition || account !== this.location.accountId) return value;
    const regionField = region === this.location.region ? '{{Region}}' : region;
    return this.changed(`arn:{{Partition}}:${service}:${regionField}:{{AccountId}}:${resource}`);
  };

  /** A bare account ID equal to the key's account; any other text unchanged. */
  account: Rewrite = (value) => (value === this.location.accountId ? this.changed('{{AccountId}}') : value);

  /** `<service>.<key's Region>.amazonaws.com`; any other text unchanged. */
  serviceName: Rewrite = (value) => {
    const match = SERVICE_NAME.exec(value);
    if (!match || match[2] !== this.location.region) return value;
    return this.changed(`${match[1]}.{{Region}}.${match[3]}`);
  };

  private changed(text: string): string {
    this.replacements += 1;
    return text;
  }
}

/** Applies `rewrite` to a string or to each string of a list; anything else is returned as it is. */
function mapStrings(value: unknown, rewrite: Rewrite): unknown {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? rewrite(item) : item));
  return value;
}

function principalValue(value: unknown, t: Templater): unknown {
  if (typeof value === 'string') return t.arn(t.account(value));
  if (!isRecord(value)) return value;
  return mapValues(value, (entries, type) => {
    if (type === 'Service') return mapStrings(entries, t.serviceName);
    if (type === 'AWS') return mapStrings(entries, (text) => t.arn(t.account(text)));
    return mapStrings(entries, t.arn);
  });
}

function conditionValue(value: unknown, t: Templater): unknown {
  if (!isRecord(value)) return value;
  return mapValues(value, (keys) => {
    if (!isRecord(keys)) return keys;
    return mapValues(keys, (values, key) => {
      const name = key.toLowerCase();
      if (ACCOUNT_CONDITION_KEYS.has(name)) return mapStrings(values, t.account);
      if (name === VIA_SERVICE_KEY) return mapStrings(values, t.serviceName);
      return mapStrings(values, t.arn);
    });
  });
}

function statementValue(statement: unknown, t: Templater): unknown {
  if (!isRecord(statement)) return statement;
  return mapValues(statement, (value, element) => {
    if ((PRINCIPAL_ELEMENTS as readonly string[]).includes(element)) return principalValue(value, t);
    if ((RESOURCE_ELEMENTS as readonly string[]).includes(element)) return mapStrings(value, t.arn);
    if (element === 'Condition') return conditionValue(value, t);
    return value;
  });
}

/**
 * The parsed key policy with the key's own partition, Region and account turned into placeholders
 * (the rules are in the module comment). Pure: the input is not changed. Rendering the result with
 * `location` gives back the input exactly.
 */
export function templateDocument(document: unknown, location: KeyLocation): TemplatedDocument {
  const t = new Templater(location);
  if (!isRecord(document)) return { document, replacements: 0 };
  const result = mapValues(document, (value, element) => {
    if (element !== 'Statement') return value;
    if (Array.isArray(value)) return value.map((statement) => statementValue(statement, t));
    return statementValue(value, t);
  });
  return { document: result, replacements: t.replacements };
}
