/**
 * The condition operators IAM documents, in its spelling, with the family each belongs to, and
 * which families fit which condition-key type (KMS121, KMS123, KMS206).
 */
import type { ConditionKeyType } from '../service-data';

export type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

const OPERATORS: readonly (readonly [string, OperatorFamily])[] = [
  ['StringEquals', 'String'],
  ['StringNotEquals', 'String'],
  ['StringEqualsIgnoreCase', 'String'],
  ['StringNotEqualsIgnoreCase', 'String'],
  ['StringLike', 'String'],
  ['StringNotLike', 'String'],
  ['NumericEquals', 'Numeric'],
  ['NumericNotEquals', 'Numeric'],
  ['NumericLessThan', 'Numeric'],
  ['NumericLessThanEquals', 'Numeric'],
  ['NumericGreaterThan', 'Numeric'],
  ['NumericGreaterThanEquals', 'Numeric'],
  ['DateEquals', 'Date'],
  ['DateNotEquals', 'Date'],
  ['DateLessThan', 'Date'],
  ['DateLessThanEquals', 'Date'],
  ['DateGreaterThan', 'Date'],
  ['DateGreaterThanEquals', 'Date'],
  ['Bool', 'Bool'],
  ['BinaryEquals', 'Binary'],
  ['IpAddress', 'IpAddress'],
  ['NotIpAddress', 'IpAddress'],
  ['ArnEquals', 'Arn'],
  ['ArnLike', 'Arn'],
  ['ArnNotEquals', 'Arn'],
  ['ArnNotLike', 'Arn'],
  ['Null', 'Null'],
];
const OPERATORS_BY_LOWER_NAME: ReadonlyMap<string, { name: string; family: OperatorFamily }> = new Map(
  OPERATORS.map(([name, family]) => [name.toLowerCase(), { name, family }]),
);
export const CANONICAL_OPERATOR_NAMES: readonly string[] = OPERATORS.map(([name]) => name);

/**
 * Which operator families AWS evaluates meaningfully for each key type (Null fits every key), as the
 * IAM and KMS guides use them (test/fixtures/published/ holds their examples):
 * - ARN keys take ARN and string operators (aws:PrincipalArn with StringLike);
 * - Date keys take date and numeric operators: a date is also written as seconds since the epoch
 *   (aws:EpochTime, and kms:ValidTo with NumericLessThanEquals in the KMS guide);
 * - string keys whose values are ARNs take ARN operators too (`ARN_VALUED_STRING`): CloudWatch Logs
 *   recommends ArnLike/ArnEquals on kms:EncryptionContext:aws:logs:arn.
 */
export const FAMILIES_FOR_KEY_TYPE: Record<ConditionKeyType, readonly OperatorFamily[]> = {
  String: ['String'],
  ArrayOfString: ['String'],
  Numeric: ['Numeric'],
  Bool: ['Bool'],
  Date: ['Date', 'Numeric'],
  ARN: ['Arn', 'String'],
  IPAddress: ['IpAddress'],
};

/** Whether condition values are all ARNs (`arn:…`, wildcards allowed): what an ARN operator compares. */
export function allArnValues(values: unknown): boolean {
  const list = Array.isArray(values) ? values : [values];
  return list.length > 0 && list.every((value) => typeof value === 'string' && value.startsWith('arn:'));
}

/**
 * The operator families that fit a key of this type with these values: a string key that holds ARNs
 * (every value an ARN) also takes ARN operators.
 */
export function fittingFamilies(type: ConditionKeyType, values: unknown): readonly OperatorFamily[] {
  const families = FAMILIES_FOR_KEY_TYPE[type];
  return (type === 'String' || type === 'ArrayOfString') && allArnValues(values)
    ? [...families, 'Arn']
    : families;
}

const SET_PREFIX = /^(ForAnyValue|ForAllValues):/i;
const IF_EXISTS = /IfExists$/i;

export interface ParsedOperator {
  family: OperatorFamily;
  /** The operator as IAM documents it, e.g. `ForAnyValue:StringEqualsIfExists`. */
  canonical: string;
}

/** The operator without `ForAnyValue:`/`ForAllValues:` and `IfExists`, in any case. */
export function baseOperator(operator: string): string {
  return operator.replace(SET_PREFIX, '').replace(IF_EXISTS, '');
}

/** The family and documented spelling of an operator written in any case; undefined when IAM has none. */
export function parseOperator(operator: string): ParsedOperator | undefined {
  const set = SET_PREFIX.exec(operator)?.[1];
  const ifExists = IF_EXISTS.test(operator);
  const base = baseOperator(operator);
  const known = OPERATORS_BY_LOWER_NAME.get(base.toLowerCase());
  if (!known) return undefined;
  if (known.family === 'Null' && base.length !== operator.length && ifExists) return undefined;
  const setPrefix =
    set === undefined ? '' : set.toLowerCase() === 'foranyvalue' ? 'ForAnyValue:' : 'ForAllValues:';
  return { family: known.family, canonical: `${setPrefix}${known.name}${ifExists ? 'IfExists' : ''}` };
}
