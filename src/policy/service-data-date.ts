/**
 * The date and version of the AWS service data (src/policy/service-data.ts), without the data: what the alert
 * texts and a finding's access view show. Named imports of the snapshot's top-level fields, so a bundle that needs
 * only these (the audit fan-out, the Slack notifier) carries neither the action list nor the maps built from it at
 * module load (docs/architecture.md#what-loads-when).
 */
import { date, version } from './service-data/kms-snapshot.json';

/** Date of the AWS service data (YYYY-MM-DD), shown in wildcard notes. */
export const SERVICE_DATA_DATE: string = date;
export const SERVICE_DATA_VERSION: string = version;
