/**
 * KMS101-KMS116, policy elements: the document and statement elements the grammar has, which ones a
 * key policy needs, and what Version, Effect, Resource (resources.ts) and principals may be.
 */
import { PRINCIPAL_TYPES } from '../grammar';
import { isRecord } from '../json/value';
import { elementPath, hasElement, principalTypes } from '../shape/view';
import { effectMessage, principalListMessage, SUPPORTED_VERSION, versionMessage } from '../shape/wording';
import { closestName, didYouMean } from '../suggest';
import type { JsonPath } from '../types';
import { awsPrincipalKind } from './principals';
import { resourceNamesThisKey, resourceNotThisKey } from './resources';
import { documentOf, type Rule, shapeRule, statementsOf } from './rule';

const PAIRS = [
  ['Principal', 'NotPrincipal'],
  ['Action', 'NotAction'],
  ['Resource', 'NotResource'],
] as const;
const LIST_ELEMENTS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const;
const PRINCIPAL_ELEMENTS = ['Principal', 'NotPrincipal'] as const;

/** A rule for statements that lack an element (and its Not- counterpart). */
function missingElement(
  code: 'KMS105' | 'KMS107' | 'KMS109' | 'KMS110',
  names: readonly string[],
  message: string,
): Rule {
  return {
    code,
    check(ctx, sink) {
      for (const statement of statementsOf(ctx)) {
        if (!names.some((name) => hasElement(statement, name))) sink.add(statement.path, message);
      }
    },
  };
}

const statementMissingOrEmpty: Rule = {
  code: 'KMS101',
  check(ctx, sink) {
    sink.addShapeIssues();
    const statements = documentOf(ctx)?.Statement;
    if (Array.isArray(statements) && statements.length === 0) {
      sink.add('$.Statement', 'Statement is empty; a key policy needs at least one');
    }
  },
};

const versionMissing: Rule = {
  code: 'KMS102',
  check(ctx, sink) {
    const document = documentOf(ctx);
    if (document && document.Version === undefined) {
      sink.add('$', `Version is missing; set "Version": "${SUPPORTED_VERSION}"`);
    }
  },
};

const versionNotSupported: Rule = {
  code: 'KMS103',
  check(ctx, sink) {
    sink.addShapeIssues();
    const version = documentOf(ctx)?.Version;
    if (typeof version === 'string' && version !== SUPPORTED_VERSION) {
      sink.add('$.Version', versionMessage(version));
    }
  },
};

const effectNotAllowOrDeny: Rule = {
  code: 'KMS106',
  check(ctx, sink) {
    sink.addShapeIssues();
    for (const statement of statementsOf(ctx)) {
      const effect = statement.raw.Effect;
      if (typeof effect !== 'string' || effect === 'Allow' || effect === 'Deny') continue;
      sink.add(
        elementPath(statement, 'Effect'),
        effectMessage(effect, closestName(effect, ['Allow', 'Deny'])),
      );
    }
  },
};

const conflictingElements: Rule = {
  code: 'KMS108',
  check(ctx, sink) {
    for (const statement of statementsOf(ctx)) {
      for (const [element, negated] of PAIRS) {
        if (hasElement(statement, element) && hasElement(statement, negated)) {
          sink.add(statement.path, `Statement has both ${element} and ${negated}`);
        }
      }
    }
  },
};

const wrongType: Rule = {
  code: 'KMS112',
  check(ctx, sink) {
    sink.addShapeIssues();
    for (const statement of statementsOf(ctx)) {
      for (const name of LIST_ELEMENTS) {
        const value = statement.raw[name];
        if (Array.isArray(value) && value.length === 0) {
          sink.add(elementPath(statement, name), `${name} is an empty list; it matches nothing`);
        }
      }
    }
  },
};

function checkPrincipalValue(
  type: string,
  value: string,
  path: JsonPath,
  add: (path: JsonPath, message: string) => void,
): void {
  if (type !== 'AWS') {
    if (value === '') add(path, `${type} principal is empty`);
  } else if (awsPrincipalKind(value) === 'malformed') {
    add(path, `AWS principal "${value}" is not *, a 12-digit account ID or an IAM/STS ARN`);
  }
}

const malformedPrincipal: Rule = {
  code: 'KMS113',
  check(ctx, sink) {
    sink.addShapeIssues();
    const add = sink.add.bind(sink);
    for (const statement of statementsOf(ctx)) {
      for (const element of PRINCIPAL_ELEMENTS) {
        const value = statement.raw[element];
        if (!isRecord(value)) continue;
        const path = elementPath(statement, element);
        if (Object.keys(value).length === 0) sink.add(path, `${element} names no principal`);
        for (const entry of principalTypes(value, path)) {
          if (!entry.known) {
            const suggestion = didYouMean(closestName(entry.type, PRINCIPAL_TYPES));
            sink.add(
              entry.path,
              `Unknown principal type "${entry.type}"${suggestion}; valid: ${PRINCIPAL_TYPES.join(', ')}`,
            );
            continue;
          }
          if (Array.isArray(entry.value) && entry.value.length === 0)
            sink.add(entry.path, principalListMessage(entry.type));
          for (const id of entry.ids) checkPrincipalValue(entry.type, id.value, id.path, add);
        }
      }
    }
  },
};

const duplicateSid: Rule = {
  code: 'KMS115',
  check(ctx, sink) {
    const firstPaths = new Map<string, JsonPath>();
    for (const statement of statementsOf(ctx)) {
      const sid = statement.raw.Sid;
      if (typeof sid !== 'string' || sid === '') continue;
      const path = elementPath(statement, 'Sid');
      const first = firstPaths.get(sid);
      if (first) sink.add(path, `Sid "${sid}" is also used at ${first}`);
      else firstPaths.set(sid, path);
    }
  },
};

export const ELEMENT_RULES: readonly Rule[] = [
  statementMissingOrEmpty,
  versionMissing,
  versionNotSupported,
  resourceNotThisKey,
  missingElement('KMS105', ['Effect'], 'Statement has no Effect (Allow or Deny)'),
  effectNotAllowOrDeny,
  missingElement('KMS107', ['Principal', 'NotPrincipal'], 'Statement has no Principal'),
  conflictingElements,
  missingElement('KMS109', ['Action', 'NotAction'], 'Statement has no Action, so it has no effect'),
  missingElement('KMS110', ['Resource', 'NotResource'], 'Statement has no Resource, so it has no effect'),
  shapeRule('KMS111'),
  wrongType,
  malformedPrincipal,
  shapeRule('KMS114'),
  duplicateSid,
  resourceNamesThisKey,
];
