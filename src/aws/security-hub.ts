/**
 * AWS Security Hub as the guard's compliance view (docs/architecture.md#security-hub): the two calls it
 * makes, and what their answers mean. `BatchImportFindings` creates and updates the guard's ASFF records
 * (at most 100 per call); `GetFindings` lists the guard's records still open (ACTIVE), so a check that finds
 * a subject back in its desired state closes only a record that exists.
 *
 * Answers, the whole call or one finding of it: an access refusal (not subscribed, IAM denies) is
 * `unavailable`, a transient one (throttling, 5xx, network, the per-finding `LimitExceeded` and
 * `InternalException`) is retryable, anything else (`InvalidInput`: a record Security Hub rejects) is
 * `refused`. src/aws/errors.ts is the one classifier.
 */
import type {
  AwsSecurityFinding,
  AwsSecurityFindingFilters,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { RetryableAwsError } from '../guard/errors';
import type { AwsClientSettings } from './client-settings';
import { AWS_RETRY_CONFIG } from './client-settings';
import { isAccessRefusal, isTransientAwsError, sdkErrorShape, toAwsError } from './errors';
import { clientsFor, type SpokeAccess } from './spoke-access';

/** Security Hub's limit per BatchImportFindings call. */
export const IMPORT_BATCH_SIZE = 100;
/** GetFindings: values of one filter field (more resources: no ResourceId filter, filtered here). */
export const MAX_FILTER_VALUES = 20;
const MAX_PAGES = 100;

/** The Security Hub client for an account and Region: the local one, or (organization) a spoke's. */
export type SecurityHubClientFor = (
  accountId: string,
  region: string,
) => SecurityHubClient | Promise<SecurityHubClient>;

type SecurityHubSdk = typeof import('./security-hub-sdk');
let sdk: Promise<SecurityHubSdk> | undefined;

/**
 * The SDK's Security Hub client and the two commands, loaded on first use (./security-hub-sdk.ts): their
 * models are large, and a guard with Security Hub off (the default) never evaluates them.
 */
export function securityHubSdk(): Promise<SecurityHubSdk> {
  sdk ??= import('./security-hub-sdk');
  return sdk;
}

/**
 * One client per account and Region, created on first use. With `access` (the hub: src/aws/spoke-access.ts),
 * a member account's client carries its spoke role's credentials (`clientsFor`), and the hub's own account
 * its own; without, every client has the guard's own credentials (a single account, or the CLI's target).
 */
export function securityHubClients(
  settings: AwsClientSettings,
  access?: Pick<SpokeAccess, 'settings'>,
): { clientFor: SecurityHubClientFor; destroy(): void } {
  const made: SecurityHubClient[] = [];
  let clientOf: ((accountId: string, region: string) => SecurityHubClient) | undefined;
  return {
    clientFor: async (accountId, region) => {
      if (!clientOf) {
        const { SecurityHubClient: Client } = await securityHubSdk();
        clientOf ??= clientsFor(access, settings, (clientSettings) => {
          const client = new Client({ ...AWS_RETRY_CONFIG, ...clientSettings });
          made.push(client);
          return client;
        });
      }
      return clientOf(access ? accountId : 'local', region);
    },
    destroy: () => {
      for (const client of made) client.destroy();
    },
  };
}

/** Why a call or some findings did not go through; `retryable` errors are thrown instead. */
export interface ImportRefusal {
  reason: 'unavailable' | 'refused';
  /** `BatchImportFindings: InvalidAccessException: …`. */
  message: string;
  /** The findings it concerns (all of the call's for a whole-call refusal). */
  ids: string[];
}

/** The outcome of importing one batch: what Security Hub took, and what it refused. */
export interface ImportResult {
  imported: number;
  refusals: ImportRefusal[];
}

function answerOf(operation: string, error: unknown): string {
  const shape = sdkErrorShape(error);
  return `${operation}: ${shape.name}: ${shape.message}`;
}

/**
 * Imports at most IMPORT_BATCH_SIZE findings. Findings Security Hub failed one by one with a transient
 * code are sent again after each of `retryDelaysMs`; still failing, they throw a RetryableAwsError, as
 * does a transient failure of the whole call.
 */
export async function importFindings(
  client: SecurityHubClient,
  findings: readonly AwsSecurityFinding[],
  retry: { delaysMs: readonly number[]; sleep: (ms: number) => Promise<void> },
): Promise<ImportResult> {
  if (findings.length > IMPORT_BATCH_SIZE) {
    throw new RangeError(`at most ${IMPORT_BATCH_SIZE} findings per BatchImportFindings call`);
  }
  const { BatchImportFindingsCommand } = await securityHubSdk();
  const result: ImportResult = { imported: 0, refusals: [] };
  let batch = [...findings];
  for (let attempt = 0; batch.length > 0; attempt += 1) {
    let response: {
      SuccessCount?: number;
      FailedCount?: number;
      FailedFindings?: { Id?: string; ErrorCode?: string; ErrorMessage?: string }[];
    };
    try {
      response = await client.send(new BatchImportFindingsCommand({ Findings: batch }));
    } catch (error) {
      const ids = batch.map((finding) => finding.Id ?? '');
      if (isAccessRefusal(error)) {
        result.refusals.push({ reason: 'unavailable', message: answerOf('BatchImportFindings', error), ids });
        return result;
      }
      const typed = toAwsError(error, 'BatchImportFindings');
      if (typed instanceof RetryableAwsError) throw typed;
      result.refusals.push({ reason: 'refused', message: answerOf('BatchImportFindings', error), ids });
      return result;
    }
    const failed = response.FailedFindings ?? [];
    if (failed.length === 0 && (response.FailedCount ?? 0) > 0) {
      throw new RetryableAwsError(
        'BatchImportFindings',
        `${response.FailedCount} of ${batch.length} findings failed without details`,
        undefined,
      );
    }
    result.imported += batch.length - failed.length;
    const transient: string[] = [];
    for (const item of failed) {
      const code = { name: item.ErrorCode ?? 'UnknownError' };
      const message = `BatchImportFindings: ${item.ErrorCode ?? 'UnknownError'}: ${item.ErrorMessage ?? ''} (finding ${item.Id ?? '?'})`;
      if (isAccessRefusal(code)) {
        result.refusals.push({ reason: 'unavailable', message, ids: [item.Id ?? ''] });
      } else if (isTransientAwsError(code)) {
        transient.push(item.Id ?? '');
      } else {
        result.refusals.push({ reason: 'refused', message, ids: [item.Id ?? ''] });
      }
    }
    if (transient.length === 0) return result;
    const delay = retry.delaysMs[attempt];
    const first = failed.find((item) => item.Id === transient[0]);
    if (delay === undefined) {
      throw new RetryableAwsError(
        'BatchImportFindings',
        `${transient.length} finding(s) still failing after ${attempt + 1} attempts: ${first?.ErrorCode ?? ''} ${first?.ErrorMessage ?? ''}`.trim(),
        first?.ErrorCode,
      );
    }
    await retry.sleep(delay);
    const again = new Set(transient);
    batch = batch.filter((finding) => again.has(finding.Id ?? ''));
  }
  return result;
}

/** The guard's open records in an account and Region, or a refusal; transient failures throw. */
export async function openFindings(
  client: SecurityHubClient,
  query: { productArn: string; accountId: string; idPrefix: string; resourceIds: readonly string[] },
): Promise<AwsSecurityFinding[] | ImportRefusal> {
  const { GetFindingsCommand } = await securityHubSdk();
  const filters: AwsSecurityFindingFilters = {
    ProductArn: [{ Value: query.productArn, Comparison: 'EQUALS' }],
    AwsAccountId: [{ Value: query.accountId, Comparison: 'EQUALS' }],
    RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
    Id: [{ Value: query.idPrefix, Comparison: 'PREFIX' }],
  };
  const resources = new Set(query.resourceIds);
  if (resources.size > 0 && resources.size <= MAX_FILTER_VALUES) {
    filters.ResourceId = [...resources].map((id) => ({ Value: id, Comparison: 'EQUALS' as const }));
  }
  const found: AwsSecurityFinding[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    let answer: { Findings?: AwsSecurityFinding[]; NextToken?: string };
    try {
      answer = await client.send(
        new GetFindingsCommand({
          Filters: filters,
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
    } catch (error) {
      const ids: string[] = [];
      if (isAccessRefusal(error))
        return { reason: 'unavailable', message: answerOf('GetFindings', error), ids };
      const typed = toAwsError(error, 'GetFindings');
      if (typed instanceof RetryableAwsError) throw typed;
      return { reason: 'refused', message: answerOf('GetFindings', error), ids };
    }
    // The same conditions again: a filter an implementation ignores (moto ignores all) must not close a
    // record that is not the guard's, not open, or not one of these resources.
    for (const finding of answer.Findings ?? []) {
      if (finding.ProductArn !== query.productArn || finding.RecordState !== 'ACTIVE') continue;
      if (finding.AwsAccountId !== query.accountId || !finding.Id?.startsWith(query.idPrefix)) continue;
      if (resources.size > 0 && !finding.Resources?.some((resource) => resources.has(resource.Id ?? '')))
        continue;
      found.push(finding);
    }
    nextToken = answer.NextToken;
    if (!nextToken) break;
  }
  return found;
}
