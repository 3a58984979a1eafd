import fc from 'fast-check';
import { comparePolicies } from '../../../src/policy/compare';
import { normalizedToDocument, normalizePolicy } from '../../../src/policy/normalize';
import { parsePolicy } from '../../../src/policy/parse';

/**
 * Realistic KMS key-policy statements, generated as a canonical "spec" and then written out in one
 * of the many forms AWS treats the same (list order, string vs one-element list, duplicates, action
 * case, `*` vs {"AWS": "*"}, account ID vs root ARN, typed condition values, Sid, empty Condition).
 */
const NUM_RUNS = 250;

const PRINCIPALS = [
  '*',
  'arn:aws:iam::111122223333:root',
  'arn:aws:iam::111122223333:role/KMSAdminRole',
  'arn:aws:iam::111122223333:role/ExampleRole',
  'arn:aws:iam::111122223333:user/ExampleUser',
  'arn:aws:iam::444455556666:root',
  'Service:logs.us-east-1.amazonaws.com',
] as const;
const ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'kms:ReEncrypt*',
  'kms:DescribeKey',
  'kms:Describe*',
  'kms:CreateGrant',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:*',
] as const;

type Operator =
  | 'StringEquals'
  | 'StringLike'
  | 'StringEqualsIgnoreCase'
  | 'Bool'
  | 'NumericLessThan'
  | 'ForAnyValue:StringEquals';

interface ConditionSpec {
  operator: Operator;
  key: string;
  values: (string | number | boolean)[];
}

interface StatementSpec {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principals: string[];
  actions: string[];
  conditions: ConditionSpec[];
}

const conditionArb: fc.Arbitrary<ConditionSpec> = fc.oneof(
  fc.record({
    operator: fc.constantFrom<Operator>('StringEquals', 'StringLike', 'ForAnyValue:StringEquals'),
    key: fc.constantFrom(
      'kms:ViaService',
      'kms:CallerAccount',
      'kms:EncryptionContext:team',
      'aws:PrincipalTag/team',
    ),
    values: fc.uniqueArray(
      fc.constantFrom(
        's3.us-east-1.amazonaws.com',
        'ec2.us-east-1.amazonaws.com',
        '111122223333',
        'Payments',
        'payments',
      ),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  }),
  fc.record({
    operator: fc.constant<Operator>('StringEqualsIgnoreCase'),
    key: fc.constant('aws:PrincipalTag/team'),
    values: fc.uniqueArray(fc.constantFrom('payments', 'billing', 'security'), {
      minLength: 1,
      maxLength: 2,
    }),
  }),
  fc.record({
    operator: fc.constant<Operator>('Bool'),
    key: fc.constantFrom('kms:GrantIsForAWSResource', 'aws:SecureTransport'),
    values: fc.boolean().map((value): (string | number | boolean)[] => [value]),
  }),
  fc.record({
    operator: fc.constant<Operator>('NumericLessThan'),
    key: fc.constant('aws:MultiFactorAuthAge'),
    values: fc.constantFrom(300, 3600, 86400).map((value): (string | number | boolean)[] => [value]),
  }),
);

const statementArb: fc.Arbitrary<StatementSpec> = fc.record(
  {
    sid: fc.constantFrom('Enable IAM policies', 'Allow use of the key', 'Admins', 'Grants'),
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    principals: fc.uniqueArray(fc.constantFrom(...PRINCIPALS), { minLength: 1, maxLength: 4 }),
    actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 5 }),
    conditions: fc.uniqueArray(conditionArb, {
      maxLength: 2,
      selector: (condition) => `${condition.operator} ${condition.key}`,
    }),
  },
  { requiredKeys: ['effect', 'principals', 'actions', 'conditions'] },
);

const policyArb = fc.array(statementArb, { minLength: 1, maxLength: 6 });

/** A small deterministic PRNG so one integer seed picks one way of writing the same policy. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

function oneOrList<T>(items: T[], random: () => number): T | T[] {
  const withDuplicate = items.length > 0 && random() < 0.2 ? [...items, items[0] as T] : items;
  return withDuplicate.length === 1 && random() < 0.5 ? (withDuplicate[0] as T) : withDuplicate;
}

function randomCase(action: string, random: () => number): string {
  const pick = random();
  if (pick < 0.6) return action;
  if (pick < 0.8) return action.toLowerCase();
  return action.toUpperCase();
}

function writeValue(
  operator: Operator,
  value: string | number | boolean,
  random: () => number,
): string | number | boolean {
  if (operator === 'Bool' && random() < 0.5) return String(value);
  if (operator === 'NumericLessThan') {
    const pick = random();
    if (pick < 0.33) return String(value);
    if (pick < 0.66) return `${value}.0`;
  }
  if (operator === 'StringEqualsIgnoreCase' && typeof value === 'string' && random() < 0.5)
    return value.toUpperCase();
  return value;
}

function writePrincipal(principals: string[], random: () => number): unknown {
  if (principals.length === 1 && principals[0] === '*' && random() < 0.5) return '*';
  const byType: Record<string, string[]> = {};
  for (const principal of shuffled(principals, random)) {
    const [type, id] = principal.startsWith('Service:')
      ? ['Service', principal.slice(8)]
      : ['AWS', principal];
    const rootAccount = /^arn:aws:iam::(\d{12}):root$/.exec(id)?.[1];
    const written = rootAccount && random() < 0.5 ? rootAccount : id;
    const ids = byType[type] ?? [];
    ids.push(written);
    byType[type] = ids;
  }
  return Object.fromEntries(Object.entries(byType).map(([type, ids]) => [type, oneOrList(ids, random)]));
}

/** Writes the policy in one of its equivalent forms, chosen by `seed`. */
function writePolicy(specs: StatementSpec[], seed: number): Record<string, unknown> {
  const random = prng(seed);
  const statements = shuffled(specs, random).map((spec) => {
    const statement: Record<string, unknown> = {
      Effect: spec.effect,
      Principal: writePrincipal(spec.principals, random),
      Action: oneOrList(
        shuffled(spec.actions, random).map((action) => randomCase(action, random)),
        random,
      ),
      Resource: random() < 0.5 ? '*' : ['*'],
    };
    if (random() < 0.7) statement.Sid = random() < 0.5 ? spec.sid : `Sid${Math.floor(random() * 1000)}`;
    if (spec.conditions.length > 0) {
      const block: Record<string, Record<string, unknown>> = {};
      for (const condition of shuffled(spec.conditions, random)) {
        const key = random() < 0.3 ? condition.key.toLowerCase() : condition.key;
        const keys = block[condition.operator] ?? {};
        keys[key] = oneOrList(
          shuffled(condition.values, random).map((value) => writeValue(condition.operator, value, random)),
          random,
        );
        block[condition.operator] = keys;
      }
      statement.Condition = block;
    } else if (random() < 0.3) statement.Condition = {};
    return statement;
  });
  const document: Record<string, unknown> = { Version: '2012-10-17', Statement: statements };
  if (random() < 0.5) document.Id = `key-policy-${Math.floor(random() * 10)}`;
  return document;
}

type Mutation = 'add-principal' | 'add-action' | 'add-condition';

const INTRUDER = 'arn:aws:iam::111122223333:role/Intruder';
const FRESH_ACTION = 'kms:ImportKeyMaterial';
const FRESH_CONDITION: ConditionSpec = {
  operator: 'StringEquals',
  key: 'kms:EncryptionContext:fresh',
  values: ['999988887777'],
};

/**
 * Whether the mutation is a real change in who may do what. Statements of one effect are atoms
 * (principal, action, conditions) that cover each other (`*` covers every principal, `kms:*` every
 * action, fewer conditions cover more): a change that another statement already covers is none.
 */
function isRealChange(specs: StatementSpec[], index: number, mutation: Mutation): boolean {
  const target = specs[index % specs.length];
  if (!target) return false;
  const sameEffect = specs.filter((spec) => spec.effect === target.effect);
  if (mutation === 'add-principal') return sameEffect.every((spec) => !spec.principals.includes('*'));
  if (mutation === 'add-action') return sameEffect.every((spec) => !spec.actions.includes('kms:*'));
  // add-condition narrows the target: real unless another statement of its effect shares a principal
  // (or names *), whose atoms could still cover the target's.
  if (target.conditions.some((condition) => condition.key === FRESH_CONDITION.key)) return false;
  return sameEffect.every(
    (spec) =>
      spec === target ||
      (!spec.principals.includes('*') &&
        !target.principals.includes('*') &&
        spec.principals.every((principal) => !target.principals.includes(principal))),
  );
}

/** One real change to one statement (isRealChange): the result must always be drift. */
function mutate(specs: StatementSpec[], index: number, mutation: Mutation): StatementSpec[] {
  const target = index % specs.length;
  return specs.map((spec, position) => {
    if (position !== target) return spec;
    if (mutation === 'add-principal') return { ...spec, principals: [...spec.principals, INTRUDER] };
    if (mutation === 'add-action') return { ...spec, actions: [...spec.actions, FRESH_ACTION] };
    return { ...spec, conditions: [...spec.conditions, FRESH_CONDITION] };
  });
}

type Rewrite = 'split-actions' | 'split-principals' | 'merge' | 'duplicate' | 'covered';

function sameConditions(a: StatementSpec, b: StatementSpec): boolean {
  return JSON.stringify(a.conditions) === JSON.stringify(b.conditions);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

/**
 * Writes the same access with other statements: one statement split in two by its actions or its
 * principals, two statements with the same effect, conditions and principals (or actions) merged,
 * a statement repeated, or a statement added that a wider one covers (a subset of its principals
 * and actions, under one more condition). Never a change in who may do what.
 */
function rewrite(specs: StatementSpec[], index: number, how: Rewrite): StatementSpec[] {
  const position = index % specs.length;
  const target = specs[position];
  if (!target) return specs;
  const others = specs.filter((_, at) => at !== position);
  if (how === 'split-actions' && target.actions.length > 1) {
    const cut = 1 + (index % (target.actions.length - 1));
    return [
      ...others,
      { ...target, actions: target.actions.slice(0, cut) },
      { ...target, actions: target.actions.slice(cut) },
    ];
  }
  if (how === 'split-principals' && target.principals.length > 1) {
    const cut = 1 + (index % (target.principals.length - 1));
    return [
      ...others,
      { ...target, principals: target.principals.slice(0, cut) },
      { ...target, principals: target.principals.slice(cut) },
    ];
  }
  if (how === 'merge') {
    const partner = others.findIndex(
      (spec) =>
        spec.effect === target.effect &&
        sameConditions(spec, target) &&
        (sameSet(spec.principals, target.principals) || sameSet(spec.actions, target.actions)),
    );
    const other = others[partner];
    if (!other) return specs;
    const merged: StatementSpec = sameSet(other.principals, target.principals)
      ? { ...target, actions: [...new Set([...target.actions, ...other.actions])] }
      : { ...target, principals: [...new Set([...target.principals, ...other.principals])] };
    return [...others.filter((_, at) => at !== partner), merged];
  }
  if (how === 'duplicate') return [...specs, { ...target, sid: 'Copy' }];
  if (how === 'covered') {
    const extra: ConditionSpec = {
      operator: 'StringEquals',
      key: 'kms:EncryptionContext:extra',
      values: ['x'],
    };
    return [
      ...specs,
      {
        ...target,
        principals: target.principals.slice(0, 1),
        actions: target.actions.slice(-1),
        conditions: [...target.conditions, extra],
      },
    ];
  }
  return specs;
}

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** A Resource that names no key that can be this one (KEY_ARN): the statement grants nothing on it. */
const offKeyResourceArb = fc.constantFrom<string | string[]>(
  'arn:aws:s3:::my-bucket/*',
  ['arn:aws:sns:us-east-1:111122223333:alerts', 'arn:aws:sqs:us-east-1:111122223333:queue'],
  'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09ba-76dc-65fe-0987654321ba',
  'arn:aws:kms:eu-west-1:444455556666:key/*',
);

/** The written policy with one more statement, on a Resource that is not the key, at the end. */
function withOffKeyStatement(
  written: Record<string, unknown>,
  spec: StatementSpec,
  resource: string | string[],
  seed: number,
): Record<string, unknown> {
  const [extra] = writePolicy([spec], seed).Statement as Record<string, unknown>[];
  return { ...written, Statement: [...(written.Statement as unknown[]), { ...extra, Resource: resource }] };
}

const rewriteArb = fc.constantFrom<Rewrite>(
  'split-actions',
  'split-principals',
  'merge',
  'duplicate',
  'covered',
);

describe('comparePolicies properties', () => {
  it('normalize is idempotent', () => {
    fc.assert(
      fc.property(policyArb, fc.integer(), (specs, seed) => {
        const parsed = parsePolicy(writePolicy(specs, seed));
        if (!parsed.ok) return false;
        const once = normalizePolicy(parsed.document);
        const twice = normalizePolicy(normalizedToDocument(once));
        expect(twice).toEqual(once);
        return true;
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('compare is reflexive: a policy is equivalent to itself', () => {
    fc.assert(
      fc.property(policyArb, fc.integer(), (specs, seed) => {
        const text = JSON.stringify(writePolicy(specs, seed));
        expect(comparePolicies(text, text).status).toBe('equivalent');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('compare is symmetric in its status', () => {
    fc.assert(
      // Half the time the same policy written differently, so both statuses are exercised.
      fc.property(
        policyArb,
        policyArb,
        fc.boolean(),
        fc.integer(),
        fc.integer(),
        (a, b, same, seedA, seedB) => {
          const first = writePolicy(a, seedA);
          const second = writePolicy(same ? a : b, seedB);
          expect(comparePolicies(first, second).status).toBe(comparePolicies(second, first).status);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('equivalence survives reordering, string <-> one-element list, duplicates, action case and typed values', () => {
    fc.assert(
      fc.property(policyArb, fc.integer(), fc.integer(), (specs, seedA, seedB) => {
        const result = comparePolicies(
          writePolicy(specs, seedA),
          JSON.stringify(writePolicy(specs, seedB), null, 2),
        );
        expect(result.diff.statements).toEqual([]);
        expect(result.status).toBe('equivalent');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a real change (a principal or an action no statement covers, a narrower condition) is always drift', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.nat(),
        fc.constantFrom<Mutation>('add-principal', 'add-action', 'add-condition'),
        fc.integer(),
        fc.integer(),
        (specs, index, mutation, seedA, seedB) => {
          fc.pre(
            !specs.some((spec) => spec.principals.includes(INTRUDER)) && isRealChange(specs, index, mutation),
          );
          const result = comparePolicies(
            writePolicy(specs, seedA),
            writePolicy(mutate(specs, index, mutation), seedB),
          );
          expect(result.status).toBe('drift');
          expect(result.diff.severity).not.toBe('info');
          expect(result.diff.access.length + result.diff.statements.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('splitting, merging, repeating or covering statements is cosmetic: equivalent, no statement change', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.nat(),
        rewriteArb,
        fc.integer(),
        fc.integer(),
        (specs, index, how, seedA, seedB) => {
          const result = comparePolicies(
            writePolicy(specs, seedA),
            writePolicy(rewrite(specs, index, how), seedB),
          );
          expect(result.diff.statements).toEqual([]);
          expect(result.diff.access).toEqual([]);
          expect(result.status).toBe('equivalent');
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('beside split, merged or covered statements, a change lists only the principal or action really added', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.nat(),
        rewriteArb,
        fc.constantFrom<Mutation>('add-principal', 'add-action'),
        fc.integer(),
        fc.integer(),
        (specs, index, how, mutation, seedA, seedB) => {
          fc.pre(!specs.some((spec) => spec.principals.includes(INTRUDER)));
          const live = rewrite(mutate(specs, index, mutation), index + 1, how);
          const result = comparePolicies(writePolicy(specs, seedA), writePolicy(live, seedB));
          const added = mutation === 'add-principal' ? `AWS:${INTRUDER}` : FRESH_ACTION;
          for (const change of result.diff.statements) {
            expect(change.principals?.removed).toEqual([]);
            expect(change.actions?.removed).toEqual([]);
            const listed = mutation === 'add-principal' ? change.principals?.added : change.actions?.added;
            expect(listed?.filter((item) => item !== added)).toEqual([]);
          }
          // A Deny given the fresh action takes it away: lost, never anything else.
          for (const access of result.diff.access) {
            if (mutation === 'add-principal') expect(access.principal).toBe(`AWS:${INTRUDER}`);
            else expect([...access.gained, ...access.lost]).toEqual([FRESH_ACTION]);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('adding a statement whose Resource does not name the key is cosmetic: the same verdict and changes', () => {
    fc.assert(
      fc.property(
        policyArb,
        policyArb,
        fc.boolean(),
        statementArb,
        offKeyResourceArb,
        fc.constantFrom('desired', 'live'),
        fc.integer(),
        (a, b, same, extra, resource, side, seed) => {
          const desired = writePolicy(a, seed);
          const live = writePolicy(same ? a : b, seed + 1);
          const ctx = { keyArn: KEY_ARN };
          const before = comparePolicies(desired, live, ctx);
          const after =
            side === 'desired'
              ? comparePolicies(withOffKeyStatement(desired, extra, resource, seed + 2), live, ctx)
              : comparePolicies(desired, withOffKeyStatement(live, extra, resource, seed + 2), ctx);
          expect(after.status).toBe(before.status);
          expect(after.diff).toEqual(before.diff);
          expect(after.cosmetic).toEqual(expect.arrayContaining(before.cosmetic));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('random splits and merges never change the verdict against any other policy', () => {
    fc.assert(
      fc.property(
        policyArb,
        policyArb,
        fc.constantFrom('same', 'mutated', 'other'),
        fc.nat(),
        rewriteArb,
        fc.constantFrom<Mutation>('add-principal', 'add-action', 'add-condition'),
        fc.integer(),
        (a, b, relation, index, how, mutation, seed) => {
          const other = relation === 'same' ? a : relation === 'mutated' ? mutate(a, index, mutation) : b;
          const verdict = comparePolicies(writePolicy(a, seed), writePolicy(other, seed + 1)).status;
          const rewrittenDesired = comparePolicies(
            writePolicy(rewrite(a, index, how), seed + 2),
            writePolicy(other, seed + 1),
          ).status;
          const rewrittenLive = comparePolicies(
            writePolicy(a, seed),
            writePolicy(rewrite(other, index + 1, how), seed + 3),
          ).status;
          expect(rewrittenDesired).toBe(verdict);
          expect(rewrittenLive).toBe(verdict);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
