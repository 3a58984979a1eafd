/**
 * comparePolicies: are two key policies equivalent (AWS grants exactly the same access under both)?
 * Semantic, never textual; statements matched by content, never by Sid (docs/architecture.md#comparing-two-key-policies).
 * Cosmetic differences are reported but never cause drift; a document that does not parse, or
 * uses element names outside the grammar, is never "equivalent".
 */
import { diffPolicies, matchStatements } from './diff';
import { normalizePolicy, statementKey } from './normalize';
import { parsePolicyDocument } from './parse';
import { SERVICE_DATA_DATE } from './service-data';
import type {
  CompareResult,
  CosmeticDifference,
  NormalizeContext,
  NormalizedPolicy,
  ParseIssue,
  PolicyDocument,
  PolicyStatement,
} from './types';

type Problem = CompareResult['problems'][number];

/** Deep equality of JSON values, object key order ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  for (const key of aKeys) {
    if (!(key in bRecord) || !sameJson(aRecord[key], bRecord[key])) return false;
  }
  return true;
}

/** Same statement as written, Sid aside (no copies: this runs for every matched statement). */
function sameStatementIgnoringSid(a: PolicyStatement | undefined, b: PolicyStatement | undefined): boolean {
  if (!a || !b) return false;
  const aRecord = a as unknown as Record<string, unknown>;
  const bRecord = b as unknown as Record<string, unknown>;
  let aCount = 0;
  for (const key in aRecord) {
    if (key === 'Sid' || aRecord[key] === undefined) continue;
    aCount++;
    if (!sameJson(aRecord[key], bRecord[key])) return false;
  }
  let bCount = 0;
  for (const key in bRecord) if (key !== 'Sid' && bRecord[key] !== undefined) bCount++;
  return aCount === bCount;
}

function quoted(value: string | undefined): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

function cosmeticDifferences(
  desiredDoc: PolicyDocument,
  liveDoc: PolicyDocument,
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  matching: ReturnType<typeof matchStatements>,
  texts: { desired?: string; live?: string },
): CosmeticDifference[] {
  const cosmetic: CosmeticDifference[] = [];
  if (desired.id !== live.id) {
    cosmetic.push({
      kind: 'id',
      path: '$.Id',
      message: `Id differs: ${quoted(desired.id)} desired, ${quoted(live.id)} live`,
    });
  }
  const pairs = [...matching.identical, ...matching.changed];
  for (const [desiredIndex, liveIndex] of pairs) {
    const desiredSid = desired.statements[desiredIndex]?.sid;
    const liveSid = live.statements[liveIndex]?.sid;
    if (desiredSid !== liveSid) {
      cosmetic.push({
        kind: 'sid',
        path: `$.Statement[${liveIndex}].Sid`,
        message: `Sid differs: ${quoted(desiredSid)} desired, ${quoted(liveSid)} live`,
      });
    }
  }
  const identicalInOrder = pairs.slice().sort((a, b) => a[0] - b[0]);
  const outOfOrder = identicalInOrder.some(([, liveIndex], position) => {
    const previous = identicalInOrder[position - 1];
    return previous !== undefined && previous[1] > liveIndex;
  });
  if (outOfOrder) {
    cosmetic.push({
      kind: 'statement-order',
      message: 'Statements are in a different order (order does not matter)',
    });
  }
  for (const [desiredIndex, liveIndex] of matching.identical) {
    if (!sameStatementIgnoringSid(desiredDoc.Statement[desiredIndex], liveDoc.Statement[liveIndex])) {
      cosmetic.push({
        kind: 'value-form',
        path: `$.Statement[${liveIndex}]`,
        message: `Statement written differently (string vs list, value order or case, duplicates, account ID vs ARN, the key's ARN vs "*", typed values, empty Condition); same meaning as desired statement ${desiredIndex}`,
      });
    }
  }
  for (const [which, duplicates] of [
    ['desired', matching.desiredDuplicates],
    ['live', matching.liveDuplicates],
  ] as const) {
    for (const [index, first] of duplicates) {
      cosmetic.push({
        kind: 'value-form',
        path: `$.Statement[${index}]`,
        message: `The ${which} statement ${index} repeats statement ${first} (a duplicate grants nothing more)`,
      });
    }
  }
  const { regrouped } = matching;
  for (const index of regrouped.desired) {
    cosmetic.push({
      kind: 'value-form',
      message: `The desired statement ${index} is not in the live document as written, but its access is granted there (statements split, merged or covered by a wider one)`,
    });
  }
  for (const index of regrouped.live) {
    cosmetic.push({
      kind: 'value-form',
      path: `$.Statement[${index}]`,
      message: `The live statement ${index} grants nothing the desired document does not (statements split, merged, repeated or covered by a wider one)`,
    });
  }
  for (const index of matching.offKey.desired) {
    cosmetic.push({
      kind: 'value-form',
      message: `The desired statement ${index} is left out: its Resource does not name this key, so it grants nothing on it (validate reports KMS104)`,
    });
  }
  for (const index of matching.offKey.live) {
    cosmetic.push({
      kind: 'value-form',
      path: `$.Statement[${index}].Resource`,
      message: `The live statement ${index} is left out: its Resource does not name this key, so it grants nothing on it (validate reports KMS104)`,
    });
  }
  if (texts.desired !== undefined && texts.live !== undefined && texts.desired !== texts.live) {
    if (sameJson(desiredDoc, liveDoc)) {
      cosmetic.push({
        kind: 'formatting',
        message: 'Whitespace or key order differs; the documents are the same',
      });
    }
  }
  return cosmetic;
}

function noDiff(): CompareResult['diff'] {
  return { statements: [], access: [], orphanedPrincipals: [], severity: 'high' };
}

/** Compares the desired document (from Git) with the live one (from KMS). Never throws. */
export function comparePolicies(
  desired: string | unknown,
  live: string | unknown,
  ctx?: NormalizeContext,
): CompareResult {
  const desiredParse = parsePolicyDocument(desired, false);
  const liveParse = parsePolicyDocument(live, false);
  const problems: Problem[] = [];
  const unparsable = (document: 'desired' | 'live', issues: ParseIssue[]): void => {
    if (issues.length > 0) problems.push({ document, issues });
  };
  unparsable('desired', desiredParse.ok ? desiredParse.unknownElements : desiredParse.issues);
  unparsable('live', liveParse.ok ? liveParse.unknownElements : liveParse.issues);
  if (!desiredParse.ok || !liveParse.ok) {
    return { status: 'drift', cosmetic: [], diff: noDiff(), problems, serviceDataDate: SERVICE_DATA_DATE };
  }

  const desiredPolicy = normalizePolicy(desiredParse.document, ctx);
  const livePolicy = normalizePolicy(liveParse.document, ctx);
  const keys = {
    desired: desiredPolicy.statements.map(statementKey),
    live: livePolicy.statements.map(statementKey),
  };
  const matching = matchStatements(desiredPolicy, livePolicy, keys);
  const diff = diffPolicies(desiredPolicy, livePolicy, matching);
  const cosmetic = cosmeticDifferences(
    desiredParse.document,
    liveParse.document,
    desiredPolicy,
    livePolicy,
    matching,
    {
      desired: typeof desired === 'string' ? desired : undefined,
      live: typeof live === 'string' ? live : undefined,
    },
  );
  if (problems.length > 0 && diff.severity === 'info') diff.severity = 'high';

  const drift =
    problems.length > 0 ||
    diff.statements.length > 0 ||
    (diff.documentChanges?.length ?? 0) > 0 ||
    diff.orphanedPrincipals.length > 0;
  return {
    status: drift ? 'drift' : 'equivalent',
    cosmetic,
    diff,
    problems,
    serviceDataDate: SERVICE_DATA_DATE,
  };
}
