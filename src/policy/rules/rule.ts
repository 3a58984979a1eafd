/**
 * A validation rule (docs/architecture.md#validating-a-key-policy), cdk-nag style: one unit per
 * catalogue code, which can report findings under that code only. rules/index.ts lists them all.
 */
import type { RuleCode } from '../catalogue';
import type { JsonTextRead } from '../json/reader';
import type { JsonValueInspection } from '../json/value';
import type { PolicyShape, StatementAt } from '../shape/check';
import {
  type ConditionKeyAt,
  type ConditionOperatorAt,
  conditionKeys,
  conditionOperators,
} from '../shape/view';
import type { JsonPath, ValidateOptions } from '../types';

/** What the JSON front end read: text with positions, or a caller's in-memory value. */
export type PolicySource =
  | { kind: 'text'; text: string; read: JsonTextRead }
  | { kind: 'value'; inspection: JsonValueInspection };

export interface RuleContext {
  readonly source: PolicySource;
  /** UTF-8 bytes of the text (of JSON.stringify for a value); 0 for a value with no JSON form. */
  readonly byteLength: number;
  /** The shape, when there is a JSON value (the text is JSON, the value has a JSON form). */
  readonly shape?: PolicyShape;
  readonly options: ValidateOptions;
}

export interface RuleSink {
  /** A finding under the rule's code. */
  add(path: JsonPath, message: string): void;
  /**
   * The shape checker's issues under the rule's code: the wrong-type cases of this rule, exactly
   * as parsePolicy reports them (same path, same words).
   */
  addShapeIssues(): void;
}

export interface Rule {
  readonly code: RuleCode;
  check(ctx: RuleContext, sink: RuleSink): void;
}

/** The document object, when the value is one. */
export function documentOf(ctx: RuleContext): Record<string, unknown> | undefined {
  return ctx.shape?.root;
}

/** The statements that are objects (the others are KMS114). */
export function statementsOf(ctx: RuleContext): readonly StatementAt[] {
  return ctx.shape?.statements ?? [];
}

/** The condition operators of every statement. */
export function conditionOperatorsOf(ctx: RuleContext): ConditionOperatorAt[] {
  return statementsOf(ctx).flatMap(conditionOperators);
}

/** The condition keys of every statement (under operators that hold an object). */
export function conditionKeysOf(ctx: RuleContext): ConditionKeyAt[] {
  return statementsOf(ctx).flatMap(conditionKeys);
}

/** A rule whose findings are all shape issues (the JSON type of an element is wrong). */
export function shapeRule(code: RuleCode): Rule {
  return { code, check: (_ctx, sink) => sink.addShapeIssues() };
}
