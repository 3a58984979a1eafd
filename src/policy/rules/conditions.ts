/**
 * KMS120-KMS123, the Condition element: operator -> {condition key -> value(s)}, with operators
 * IAM has, written as IAM documents them.
 */
import { closestName, didYouMean } from '../suggest';
import { baseOperator, CANONICAL_OPERATOR_NAMES, parseOperator } from './operators';
import { conditionKeysOf, conditionOperatorsOf, type Rule } from './rule';

const malformedCondition: Rule = {
  code: 'KMS120',
  check(ctx, sink) {
    sink.addShapeIssues();
    for (const { operator, path, keys } of conditionOperatorsOf(ctx)) {
      if (keys && Object.keys(keys).length === 0) sink.add(path, `${operator} names no condition key`);
    }
  },
};

const unknownOperator: Rule = {
  code: 'KMS121',
  check(ctx, sink) {
    for (const { operator, path } of conditionOperatorsOf(ctx)) {
      if (parseOperator(operator)) continue;
      const suggestion = closestName(baseOperator(operator), CANONICAL_OPERATOR_NAMES);
      sink.add(path, `Unknown condition operator "${operator}"${didYouMean(suggestion)}`);
    }
  },
};

const conditionValueNotScalar: Rule = {
  code: 'KMS122',
  check(ctx, sink) {
    sink.addShapeIssues();
    for (const { key, path, values } of conditionKeysOf(ctx)) {
      if (Array.isArray(values) && values.length === 0) sink.add(path, `${key} has an empty list of values`);
    }
  },
};

const operatorSpelling: Rule = {
  code: 'KMS123',
  check(ctx, sink) {
    for (const { operator, path } of conditionOperatorsOf(ctx)) {
      const parsed = parseOperator(operator);
      if (!parsed || parsed.canonical === operator) continue;
      sink.add(
        path,
        `Condition operator "${operator}" is not written as IAM documents it ("${parsed.canonical}"); the guard compares operators as written, so the two spellings count as different policies`,
      );
    }
  },
};

export const CONDITION_RULES: readonly Rule[] = [
  malformedCondition,
  unknownOperator,
  conditionValueNotScalar,
  operatorSpelling,
];
