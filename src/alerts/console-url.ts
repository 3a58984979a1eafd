/**
 * The link to a key in the AWS console, for Slack's button and Security Hub's `SourceUrl`: only when every
 * part is a well-formed identifier of the commercial partition, so no attacker-chosen text is ever linked.
 */
import type { Finding } from '../core/finding';
import { KEY_ID_PATTERN, REGION_PATTERN } from '../core/key-arn';

export function consoleUrl(finding: Pick<Finding, 'keyArn' | 'region' | 'keyId'>): string | undefined {
  if (!finding.keyArn.startsWith('arn:aws:kms:')) return undefined;
  if (!REGION_PATTERN.test(finding.region) || !KEY_ID_PATTERN.test(finding.keyId)) return undefined;
  return `https://${finding.region}.console.aws.amazon.com/kms/home?region=${finding.region}#/kms/keys/${finding.keyId}`;
}
