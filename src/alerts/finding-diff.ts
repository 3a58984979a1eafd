/**
 * A finding's diff in the shape the policy renderers take, for every place that prints a finding
 * (email text, the CLI's apply).
 */
import type { Finding } from '../core/finding';
import { SERVICE_DATA_DATE } from '../policy/service-data';
import type { CompareResult } from '../policy/types';

/** The finding's diff as a drift CompareResult (for renderDiffText and friends); undefined without a diff. */
export function compareResultOf(finding: Finding): CompareResult | undefined {
  if (!finding.diff) return undefined;
  return {
    status: 'drift',
    cosmetic: finding.cosmetic ?? [],
    diff: finding.diff,
    problems: [],
    serviceDataDate: SERVICE_DATA_DATE,
  };
}
