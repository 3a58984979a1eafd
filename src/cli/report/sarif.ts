/**
 * SARIF 2.1.0 for code-scanning tools (GitHub code scanning, etc.): one result per finding, and one
 * per validation finding of a desired document, located in the policy file of the repository.
 */
import type { Finding, FindingKind } from '../../core/finding';
import { RULES } from '../../policy/catalogue';
import type { Severity, ValidationFinding } from '../../policy/types';

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  defaultConfiguration: { level: SarifLevel };
  properties: { 'security-severity'?: string; tags: string[] };
}

interface SarifRun {
  tool: { driver: { name: string; version: string; rules: SarifRule[] } };
  results: SarifResult[];
}

type SarifLevel = 'error' | 'warning' | 'note';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation?: { artifactLocation: { uri: string }; region: { startLine: number } };
    logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[];
  }[];
  partialFingerprints: { findingId: string };
  properties: {
    severity: Severity;
    action: string;
    keyArn: string;
    /** The key's account and Region (the finding's). */
    account: string;
    region: string;
    jsonPath?: string;
  };
}

/** GitHub reads `security-severity` (0–10) to rank security results. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

const LEVEL: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

const KIND_TITLES: Record<FindingKind, string> = {
  drift: 'Key policy drifted from Git',
  remediated: 'Key policy restored from Git',
  'would-remediate': 'Key policy would be restored (dry-run)',
  'invalid-desired': 'Desired key policy is invalid',
  'invalid-live': 'Live key policy is invalid',
  'orphaned-principal': 'Key policy names a deleted IAM principal',
  'unmanaged-key': 'Key is not managed by the manifest',
  'guard-locked-out': 'Guard is locked out of the key',
  'key-unavailable': 'Key is unavailable (not found, disabled or pending deletion)',
  'key-not-writable': 'Key cannot be written (AWS managed or multi-Region replica)',
  flapping: 'Key policy keeps drifting back: remediation stopped',
  'remediation-failed': 'Remediation did not take effect',
  'lockout-risk': 'Desired policy would lock out the guard or every administrator',
  'guard-disabled': 'Drift rule missing or disabled: the real-time guard is blind',
  'guard-degraded':
    'Guard degraded: its rule pattern, targets, schedule, concurrency, CloudTrail trail or subscribers have a gap',
  'audit-summary': 'Audit summary',
  'audit-incomplete': 'Audit incomplete: some keys were not checked',
  'binding-changed':
    "Key's aliases or tags no longer select its manifest entry: the recorded binding is enforced",
  'grant-not-allowed': 'Grant not allowed by the manifest',
  'key-state-changed': 'Key state differs from the manifest (deletion, disabled, rotation)',
  'replica-unguarded': 'Key replicated into a Region where no guard runs',
  'guard-impersonated': "A key policy written with the guard's identity that the guard did not intend",
  'account-not-guarded': 'A KMS change in an account or Region outside the guard (nothing read or written)',
  'spoke-unreachable':
    "The account's spoke role cannot be assumed: the guard can neither see nor restore its keys",
};

export interface SarifOptions {
  toolVersion: string;
  /** Path of the manifest's directory relative to the repository root, to locate policy files. */
  policyRoot: string;
}

function location(finding: Finding, policyRoot: string): SarifResult['locations'][number] {
  const logicalLocations = [
    { name: finding.keyName ?? finding.keyId, fullyQualifiedName: finding.keyArn, kind: 'resource' },
  ];
  if (!finding.policyFile) return { logicalLocations };
  const uri = `${policyRoot.replace(/\/+$/, '')}/${finding.policyFile}`.replace(/^\.\//, '');
  return { physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } }, logicalLocations };
}

/** Builds the SARIF log for the findings of one audit (summary findings are not results). */
export function toSarif(findings: readonly Finding[], options: SarifOptions): SarifLog {
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const ruleFor = (id: string, title: string, level: SarifLevel, severity?: Severity): number => {
    const known = ruleIndex.get(id);
    if (known !== undefined) return known;
    const properties: SarifRule['properties'] = { tags: ['security', 'kms'] };
    if (severity) properties['security-severity'] = SECURITY_SEVERITY[severity];
    rules.push({
      id,
      name: id,
      shortDescription: { text: title },
      defaultConfiguration: { level },
      properties,
    });
    ruleIndex.set(id, rules.length - 1);
    return rules.length - 1;
  };

  const results: SarifResult[] = [];
  for (const finding of findings) {
    if (finding.kind === 'audit-summary') continue;
    const index = ruleFor(finding.kind, KIND_TITLES[finding.kind], LEVEL[finding.severity], finding.severity);
    results.push({
      ruleId: finding.kind,
      ruleIndex: index,
      level: LEVEL[finding.severity],
      message: { text: [finding.title, ...finding.details].join('\n') },
      locations: [location(finding, options.policyRoot)],
      partialFingerprints: { findingId: `${finding.keyArn}:${finding.kind}` },
      properties: {
        severity: finding.severity,
        action: finding.action,
        keyArn: finding.keyArn,
        account: finding.account,
        region: finding.region,
      },
    });
    for (const validation of finding.validation?.desired ?? []) {
      results.push(validationResult(validation, finding, options, ruleFor));
    }
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kms-policy-guard',
            version: options.toolVersion,
            rules,
          },
        },
        results,
      },
    ],
  };
}

function validationResult(
  validation: ValidationFinding,
  finding: Finding,
  options: SarifOptions,
  ruleFor: (id: string, title: string, level: SarifLevel) => number,
): SarifResult {
  const rule = RULES.find((candidate) => candidate.code === validation.code);
  const level: SarifLevel = validation.level === 'error' ? 'error' : 'warning';
  return {
    ruleId: validation.code,
    ruleIndex: ruleFor(validation.code, rule?.title ?? validation.code, level),
    level,
    message: { text: `${validation.message} (at ${validation.path})` },
    locations: [location(finding, options.policyRoot)],
    partialFingerprints: { findingId: `${finding.keyArn}:${validation.code}:${validation.path}` },
    properties: {
      severity: validation.level === 'error' ? 'high' : 'medium',
      action: finding.action,
      keyArn: finding.keyArn,
      account: finding.account,
      region: finding.region,
      jsonPath: validation.path,
    },
  };
}
