/**
 * Every validation rule, one unit per catalogue code (docs/architecture.md#validating-a-key-policy),
 * by family: KMS0xx format, KMS1xx policy elements (KMS12x the Condition element), KMS2xx actions
 * and condition keys, KMS3xx security. A unit test proves the codes here are exactly catalogue.ts's.
 */
import { ACTION_AND_KEY_RULES } from './actions-and-keys';
import { CONDITION_RULES } from './conditions';
import { ELEMENT_RULES } from './elements';
import { FORMAT_RULES } from './format';
import type { Rule } from './rule';
import { SECURITY_RULES } from './security';

export type { Rule, RuleContext, RuleSink } from './rule';

export const VALIDATION_RULES: readonly Rule[] = [
  ...FORMAT_RULES,
  ...ELEMENT_RULES,
  ...CONDITION_RULES,
  ...ACTION_AND_KEY_RULES,
  ...SECURITY_RULES,
];
