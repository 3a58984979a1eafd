/**
 * KMS104 and KMS116, the `Resource` element (docs/rules.md#resource). In a key policy the only
 * resource is the key itself, written `"*"`. KMS also accepts the key's own ARN, or a pattern of its
 * account (`key/*`), and the guides of CloudTrail, Config, Control Tower, GuardDuty and Systems
 * Manager publish policies written that way: accepted, with a warning that recommends `"*"`
 * (KMS116). Anything else (another key, another account's key, another service's ARN, NotResource)
 * never applies to this key: an error (KMS104).
 */
import { keyArnParts, resourceNamesKey } from '../key-arn';
import { elementPath, elementStrings, hasElement } from '../shape/view';
import { accessModel, inferredAccountNote } from './access-model';
import { documentOf, type Rule, type RuleContext, statementsOf } from './rule';

type ResourceVerdict =
  | { kind: 'any' }
  | { kind: 'this-key'; message: string }
  | { kind: 'not-this-key'; message: string };

/** A KMS key ARN or pattern: `arn:<partition>:kms:<region>:<account>:key/<id or pattern>`. */
const KMS_KEY_PATTERN = /^arn:[^:]*:kms:[^:]*:([^:]*):key\/.+$/;

function notThisKey(value: string, why: string): ResourceVerdict {
  return { kind: 'not-this-key', message: `Resource must be "*" in a key policy, not "${value}": ${why}` };
}

function recommendStar(value: string, what: string): ResourceVerdict {
  return {
    kind: 'this-key',
    message: `Resource "${value}" ${what}; KMS accepts it, but in a key policy "*" already means this key: write "*" (the guard compares them as equal only when it knows the key's ARN)`,
  };
}

function verdict(value: string, ctx: RuleContext): ResourceVerdict {
  if (value === '*') return { kind: 'any' };
  const keyArn = ctx.options.keyArn;
  if (keyArn !== undefined && keyArnParts(keyArn)) {
    return resourceNamesKey(value, keyArn)
      ? recommendStar(value, `names this key (${keyArn})`)
      : notThisKey(value, `it does not name this key (${keyArn}), so the statement never applies`);
  }
  const kmsKey = KMS_KEY_PATTERN.exec(value);
  if (!kmsKey) {
    const service = /^arn:[^:]*:([^:]*):/.exec(value)?.[1];
    if (service === 'kms' && /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(value)) {
      return notThisKey(value, "an alias ARN; a key policy's Resource is the key itself, never an alias");
    }
    const what = service ? `an ARN of ${service}` : 'not an ARN';
    return notThisKey(value, `${what}; a key policy governs only its own key`);
  }
  const model = accessModel(ctx);
  const keyAccount = model.ownAccounts[0];
  const account = kmsKey[1] ?? '';
  if (
    keyAccount !== undefined &&
    !account.includes('*') &&
    !account.includes('?') &&
    account !== keyAccount
  ) {
    const note = model.accountInferred ? inferredAccountNote(keyAccount) : '';
    return notThisKey(
      value,
      `a key of account ${account}, not of the key's account ${keyAccount}, so the statement never applies${note}`,
    );
  }
  return recommendStar(
    value,
    "names a key of the key's account (without the key's ARN, not known to be this key: state it with --key-arn)",
  );
}

/** Every `Resource` value's verdict, with its path. */
function verdicts(ctx: RuleContext): { path: string; verdict: ResourceVerdict }[] {
  if (!documentOf(ctx)) return [];
  return statementsOf(ctx).flatMap((statement) =>
    elementStrings(statement, 'Resource').map(({ value, path }) => ({ path, verdict: verdict(value, ctx) })),
  );
}

export const resourceNotThisKey: Rule = {
  code: 'KMS104',
  check(ctx, sink) {
    for (const statement of statementsOf(ctx)) {
      if (hasElement(statement, 'NotResource')) {
        sink.add(elementPath(statement, 'NotResource'), 'A key policy uses "Resource": "*", not NotResource');
      }
    }
    for (const { path, verdict } of verdicts(ctx)) {
      if (verdict.kind === 'not-this-key') sink.add(path, verdict.message);
    }
  },
};

export const resourceNamesThisKey: Rule = {
  code: 'KMS116',
  check(ctx, sink) {
    for (const { path, verdict } of verdicts(ctx)) {
      if (verdict.kind === 'this-key') sink.add(path, verdict.message);
    }
  },
};
