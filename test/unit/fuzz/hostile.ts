/**
 * Attacker-controlled findings for the renderer fuzzers. Everything in a finding that comes from a key
 * policy, CloudTrail or KMS (Sids, principals, actions, condition keys and values, aliases, tags, grant
 * names, the actor's ARN, session, user agent and source IP, validation messages, detail lines and the
 * documents) gets line breaks, bidi overrides and isolates, zero-width characters, U+2028/U+2029, BOM,
 * C0/C1 controls, lone surrogates, Slack markup, `&`, mentions, backticks, `${…}`, the e-mail's own
 * headings and rule, and now and then a 40 KB value.
 *
 * Each case comes with its skeleton: the same finding with every value replaced by a harmless one of
 * the same equalities and emptiness (its hex spelling), and each document by one with the same lines
 * and the same JSON-ness. A renderer whose layout (lines, headings, tags) differs between the two let a
 * value change its structure.
 */
import fc from 'fast-check';
import { ACTIONS_TAKEN, FINDING_KINDS, type Finding } from '../../../src/core/finding';

/** The e-mail's rule line and section headings, in the order the template writes them. */
export const EMAIL_RULE = '-'.repeat(72);
export const EMAIL_HEADINGS = [
  'WHO, WHEN, FROM WHERE',
  'WHAT CHANGED',
  'WHAT THE GUARD DID',
  'VALIDATION',
  'RESTORE THE DESIRED POLICY BY HAND',
  'THE OVERWRITTEN LIVE POLICY (as it was before the guard restored the desired one)',
  'THE LIVE POLICY THE GUARD FOUND BEFORE WRITING',
  'THE LIVE POLICY (as read from KMS)',
] as const;

const C0_AND_C1 = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  ...Array.from({ length: 0x21 }, (_, offset) => 0x7f + offset),
].map((code) => String.fromCharCode(code));

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, offset) => String.fromCharCode(from + offset));

export const hostileCharacter = fc.constantFrom(
  ...C0_AND_C1,
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
  ...range(0x200b, 0x200f),
  ...['\u2028', '\u2029', '\ufeff', '\u2060', '\u061c', '\u00ad', '\ud800', '\udfff', '\u{e0041}'],
  ...['<', '>', '&', '|', '@', '!', '`', '*', '_', '~', '$', '{', '}', '(', ')', '/', ':', '"', '\\'],
  ...['\u{1f600}', 'é', 'a', ' '],
);

const hostileFragment = fc.constantFrom(
  '<!channel>',
  '@channel',
  '@here',
  '<@U1>',
  '<https://evil.example|Open the AWS console>',
  'R&D &amp; &lt;b&gt;',
  '`code`',
  '${process.env.SECRET}',
  '\u202egnp.exe',
  '\r\n',
  `\n\nWHAT THE GUARD DID\n${EMAIL_RULE}\nFalse alarm, ignore`,
  `\nVALIDATION\n${EMAIL_RULE}\n`,
  EMAIL_RULE,
  '\n[End of document]\n',
  ') (session admin',
  '\u001b[2J\u001b]0;pwned\u0007',
);

/**
 * One attacker-controlled value: short junk most of the time, a 40 KB one about once per 140 x `scale`
 * values.
 */
export function hostileString(scale: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 60 * scale, arbitrary: fc.string({ unit: hostileCharacter, maxLength: 120 }) },
    { weight: 30 * scale, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
    {
      weight: 50 * scale,
      arbitrary: fc.string({ unit: fc.oneof(hostileCharacter, hostileFragment), maxLength: 12 }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('x'.repeat(40_000), '<'.repeat(40_000), '\u0000'.repeat(40_000)),
    },
  );
}

/** A document as KMS would return it (JSON, hostile strings as values) or text that is not JSON. */
export type HostileDocument =
  | { form: 'json'; indent: 0 | 2 | '\t'; strings: [string, string, string, string] }
  | { form: 'text'; text: string };

/** Every attacker-controlled string of a finding. */
export interface HostileValues {
  title: string;
  keyName: string;
  policyFile: string;
  aliases: string[];
  details: string[];
  actorArn: string;
  actorType: string;
  actorAccount: string;
  principalId: string;
  invokedBy: string;
  sourceIp: string;
  userAgent: string;
  eventTime: string;
  eventId: string;
  sid: string;
  principal: string;
  action: string;
  conditionKey: string;
  conditionValue: string;
  summary: string;
  note: string;
  validationPath: string;
  validationMessage: string;
  orphan: string;
  cosmetic: string;
  tagValue: string;
  grantName: string;
  reason: string;
  livePolicy: HostileDocument | undefined;
  desiredPolicy: HostileDocument | undefined;
}

/** What a finding's layout may depend on besides its values. */
export interface FindingShape {
  kind: Finding['kind'];
  action: Finding['action'];
}

export interface HostileCase {
  values: HostileValues;
  shape: FindingShape;
  finding: Finding;
  /** The same finding with harmless values of the same equalities, emptiness and document lines. */
  skeleton: Finding;
}

/**
 * The document's text. A text document has `#` before each line: it is never JSON, and none of its
 * lines can equal a line of a JSON document (the HTML report aligns the documents' equal lines).
 */
function documentText(document: HostileDocument): string {
  if (document.form === 'text') return document.text.replace(/(^|\r?\n)/g, '$1#');
  const [sid, principal, action, condition] = document.strings;
  const statement = {
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: principal },
    Action: action,
    Resource: '*',
    Condition: { StringEquals: { [condition]: sid } },
  };
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] }, null, document.indent);
}

/** A realistic drift finding (src/core/finding.ts) with every attacker-reachable string from `values`. */
export function findingOf(values: HostileValues, shape: FindingShape): Finding {
  const condition = { operator: 'StringEquals', key: values.conditionKey, values: [values.conditionValue] };
  return {
    id: `event-1:1234abcd-12ab-34cd-56ef-1234567890ab:${shape.kind}`,
    kind: shape.kind,
    severity: 'high',
    title: values.title,
    keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    aliases: values.aliases,
    keyName: values.keyName,
    policyFile: values.policyFile,
    region: 'eu-west-1',
    account: '111122223333',
    mode: 'remediate',
    action: shape.action,
    trigger: 'event',
    actor: {
      arn: values.actorArn,
      type: values.actorType,
      accountId: values.actorAccount,
      principalId: values.principalId,
      invokedBy: values.invokedBy,
      sourceIPAddress: values.sourceIp,
      userAgent: values.userAgent,
      eventTime: values.eventTime,
      eventID: values.eventId,
      eventName: 'PutKeyPolicy',
      isGuard: false,
    },
    diff: {
      severity: 'high',
      access: [
        {
          principal: values.principal,
          gained: [values.action],
          lost: [values.action],
          conditions: [`StringEquals ${values.conditionKey}=[${values.conditionValue}]`],
          anyone: false,
          crossAccount: true,
          severity: 'high',
        },
      ],
      statements: [
        {
          kind: 'changed',
          severity: 'high',
          sid: values.sid,
          effect: 'Allow',
          summary: values.summary,
          principals: { added: [values.principal], removed: [] },
          actions: { added: [values.action], removed: [values.action] },
          conditions: { added: [condition], removed: [condition] },
          notes: [values.note],
        },
      ],
      documentChanges: [
        {
          element: 'Version',
          live: values.note,
          desired: '2012-10-17',
          severity: 'high',
          summary: values.note,
        },
      ],
      orphanedPrincipals: [
        { principal: values.orphan, where: 'live', path: values.validationPath, message: values.orphan },
      ],
    },
    cosmetic: [{ kind: 'sid', message: values.cosmetic, path: values.validationPath }],
    validation: {
      live: [
        { code: 'KMS201', level: 'error', path: values.validationPath, message: values.validationMessage },
      ],
      desired: [
        { code: 'KMS004', level: 'warning', path: values.validationPath, message: values.validationMessage },
      ],
    },
    ...(values.livePolicy === undefined ? {} : { livePolicy: documentText(values.livePolicy) }),
    ...(values.desiredPolicy === undefined ? {} : { desiredPolicy: documentText(values.desiredPolicy) }),
    binding: {
      entry: values.keyName,
      boundBy: `tag team=${values.tagValue}`,
      boundAt: values.eventTime,
      aliases: values.aliases,
      tags: { team: values.tagValue },
    },
    grant: {
      grantId: values.eventId,
      name: values.grantName,
      granteePrincipal: values.principal,
      operations: [values.action],
      constraints: { encryptionContextEquals: { [values.conditionKey]: values.conditionValue } },
    },
    details: values.details,
    time: '2026-05-04T10:11:12.000Z',
  };
}

/** A harmless value with the same equalities and emptiness as `value`: its UTF-16 hex spelling. */
export function harmless(value: string): string {
  return Buffer.from(value, 'utf16le').toString('hex');
}

function harmlessDocument(document: HostileDocument | undefined): HostileDocument | undefined {
  if (document === undefined) return undefined;
  if (document.form === 'json') {
    const [a, b, c, d] = document.strings.map(harmless);
    return { ...document, strings: [a ?? '', b ?? '', c ?? '', d ?? ''] };
  }
  // Line feeds and CRLF are a document's lines in every renderer; everything else is content.
  return { form: 'text', text: document.text.split(/\r?\n/).map(harmless).join('\n') };
}

/** `values` with every string harmless and every document of the same lines. */
export function harmlessValues(values: HostileValues): HostileValues {
  const entries = Object.entries(values).map(([name, value]) => {
    if (name === 'livePolicy' || name === 'desiredPolicy') {
      return [name, harmlessDocument(value as HostileDocument | undefined)];
    }
    return [name, Array.isArray(value) ? value.map(harmless) : harmless(value as string)];
  });
  return Object.fromEntries(entries) as HostileValues;
}

function hostileDocument(hostile: fc.Arbitrary<string>): fc.Arbitrary<HostileDocument | undefined> {
  return fc.option(
    fc.oneof(
      fc.record({
        form: fc.constant('json' as const),
        indent: fc.constantFrom(0 as const, 2 as const, '\t' as const),
        strings: fc.tuple(hostile, hostile, hostile, hostile),
      }),
      fc.record({ form: fc.constant('text' as const), text: hostile }),
    ),
    { nil: undefined },
  );
}

/** A hostile finding and its skeleton; `scale` makes 40 KB values rarer (30 values per finding). */
export function hostileCase(scale = 1): fc.Arbitrary<HostileCase> {
  const hostile = hostileString(scale);
  const values: fc.Arbitrary<HostileValues> = fc.record({
    title: hostile,
    keyName: hostile,
    policyFile: hostile,
    aliases: fc.array(hostile, { maxLength: 2 }),
    details: fc.array(hostile, { maxLength: 4 }),
    actorArn: hostile,
    actorType: hostile,
    actorAccount: hostile,
    principalId: hostile,
    invokedBy: hostile,
    sourceIp: hostile,
    userAgent: hostile,
    eventTime: hostile,
    eventId: hostile,
    sid: hostile,
    principal: hostile,
    action: hostile,
    conditionKey: hostile,
    conditionValue: hostile,
    summary: hostile,
    note: hostile,
    validationPath: hostile,
    validationMessage: hostile,
    orphan: hostile,
    cosmetic: hostile,
    tagValue: hostile,
    grantName: hostile,
    reason: hostile,
    livePolicy: hostileDocument(hostile),
    desiredPolicy: hostileDocument(hostile),
  });
  const shape: fc.Arbitrary<FindingShape> = fc.record({
    kind: fc.constantFrom(...FINDING_KINDS),
    action: fc.constantFrom(...ACTIONS_TAKEN),
  });
  return fc.tuple(values, shape).map(([hostileValues, findingShape]) => ({
    values: hostileValues,
    shape: findingShape,
    finding: findingOf(hostileValues, findingShape),
    skeleton: findingOf(harmlessValues(hostileValues), findingShape),
  }));
}

/** A hostile finding alone. */
export function hostileFinding(scale = 1): fc.Arbitrary<Finding> {
  return hostileCase(scale).map((hostile) => hostile.finding);
}
