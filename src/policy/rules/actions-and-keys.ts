/**
 * KMS201-KMS206, actions and condition keys, checked against the AWS service data
 * (docs/architecture.md#aws-service-data): a typo in either grants nothing or never matches.
 */
import { expandActionPattern, findConditionKey, findKmsAction, KMS_ACTIONS } from '../service-data';
import snapshot from '../service-data/kms-snapshot.json';
import type { StatementAt } from '../shape/check';
import { elementStrings, type LocatedString } from '../shape/view';
import { closestName, didYouMean } from '../suggest';
import { fittingFamilies, parseOperator } from './operators';
import { conditionKeysOf, type Rule, type RuleContext, type RuleSink, statementsOf } from './rule';

const KMS_ACTION_NAMES: readonly string[] = KMS_ACTIONS.map((action) => action.name);
const CONDITION_KEY_NAMES: readonly string[] = [
  ...Object.keys(snapshot.conditionKeys),
  ...Object.keys(snapshot.globalConditionKeys),
];

type ActionForm = 'everything' | 'malformed' | 'other-service' | 'kms-pattern' | 'kms-name';

/** What an action string is; `*` alone is every action of every service. */
function actionForm(action: string): ActionForm {
  if (action === '*') return 'everything';
  const colon = action.indexOf(':');
  if (colon <= 0 || colon === action.length - 1) return 'malformed';
  if (action.slice(0, colon).toLowerCase() !== 'kms') return 'other-service';
  return action.includes('*') || action.includes('?') ? 'kms-pattern' : 'kms-name';
}

/** An action rule: `message` says what is wrong with an action of the given form, or nothing. */
function actionRule(
  code: 'KMS201' | 'KMS202' | 'KMS203' | 'KMS204',
  form: ActionForm,
  message: (action: string) => string | undefined,
): Rule {
  return {
    code,
    check(ctx: RuleContext, sink: RuleSink) {
      for (const statement of statementsOf(ctx)) {
        for (const { value, path } of actions(statement)) {
          const problem = actionForm(value) === form ? message(value) : undefined;
          if (problem) sink.add(path, problem);
        }
      }
    },
  };
}

function actions(statement: StatementAt): LocatedString[] {
  return [...elementStrings(statement, 'Action'), ...elementStrings(statement, 'NotAction')];
}

const conditionKeyUnknown: Rule = {
  code: 'KMS205',
  check(ctx, sink) {
    for (const { key, path } of conditionKeysOf(ctx)) {
      if (findConditionKey(key)) continue;
      sink.add(
        path,
        `Neither KMS nor the global condition keys have "${key}", so this condition never matches${didYouMean(closestName(key, CONDITION_KEY_NAMES))}`,
      );
    }
  },
};

const operatorDoesNotFitKey: Rule = {
  code: 'KMS206',
  check(ctx, sink) {
    for (const { operator, key, path, values } of conditionKeysOf(ctx)) {
      const known = findConditionKey(key);
      const parsed = parseOperator(operator);
      if (!known || !parsed || parsed.family === 'Null') continue;
      const fitting = fittingFamilies(known.type, values);
      if (fitting.includes(parsed.family)) continue;
      const arnNote =
        parsed.family === 'Arn' && (known.type === 'String' || known.type === 'ArrayOfString')
          ? ' (an ARN operator fits a string key only when every value is an ARN)'
          : '';
      sink.add(
        path,
        `${key} is a ${known.type} key, but ${operator} is a ${parsed.family} operator; use a ${fitting.join('/')} operator${arnNote}`,
      );
    }
  },
};

export const ACTION_AND_KEY_RULES: readonly Rule[] = [
  actionRule('KMS201', 'kms-name', (action) =>
    findKmsAction(action)
      ? undefined
      : `KMS has no action "${action}"; it grants nothing${didYouMean(closestName(action, KMS_ACTION_NAMES))}`,
  ),
  actionRule('KMS202', 'kms-pattern', (action) =>
    expandActionPattern(action).length === 0
      ? `Wildcard "${action}" matches no KMS action, so it grants nothing`
      : undefined,
  ),
  actionRule(
    'KMS203',
    'other-service',
    (action) =>
      `Action "${action}" belongs to ${action.slice(0, action.indexOf(':'))}, not KMS; a key policy only governs kms: actions`,
  ),
  actionRule(
    'KMS204',
    'malformed',
    (action) => `Action "${action}" is not service:Name${didYouMean(findKmsAction(`kms:${action}`)?.name)}`,
  ),
  conditionKeyUnknown,
  operatorDoesNotFitKey,
];
