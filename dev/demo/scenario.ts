/**
 * What happens to the account in the demo: who tampers with which key, and how. Kept apart from the
 * orchestration so the story can be read in one place. The key names are the shipped manifest's.
 */
import { MOTO_ACCOUNT_ID, WORLD_REGION } from '../world';

/** The remediate-mode key someone opens to everyone. */
export const REMEDIATED_KEY = 'payments-data';
/** The alert-mode key someone shares with an account the manifest does not allow. */
export const ALERTED_KEY = 'shared-with-analytics';
/** The tag-matched key someone re-tags, so no manifest entry matches it any more. */
export const MISTAGGED_KEY = 'app-logs';
/** The value the mis-tagged key ends up with (a plausible typo). */
export const MISTAGGED_VALUE = 'app-log';

/** An account outside `allowedAccounts` (444455556666 is the allowed analytics account). */
export const FOREIGN_ACCOUNT_ID = '999988887777';

export interface DemoActor {
  /** `userIdentity.arn` in the CloudTrail record. */
  arn: string;
  /** Short name for the narration. */
  name: string;
  sourceIPAddress: string;
  userAgent: string;
}

export const ALICE: DemoActor = {
  arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/alice`,
  name: 'alice',
  sourceIPAddress: '203.0.113.10',
  userAgent: 'aws-cli/2.17.0 md/command#kms.put-key-policy',
};

export const BOB: DemoActor = {
  arn: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/DataEngineer/bob`,
  name: 'bob (DataEngineer)',
  sourceIPAddress: '198.51.100.24',
  userAgent: 'AWS Internal',
};

export const CAROL: DemoActor = {
  arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/carol`,
  name: 'carol',
  sourceIPAddress: '203.0.113.77',
  userAgent: 'aws-cli/2.17.0 md/command#kms.tag-resource',
};

/** The guard's Lambda role session, as CloudTrail names the caller of its own PutKeyPolicy. */
export const GUARD_ACTOR: DemoActor = {
  arn: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/kms-policy-guard-${WORLD_REGION}/kms-policy-guard-local-drift`,
  name: 'the guard',
  sourceIPAddress: 'lambda.amazonaws.com',
  userAgent: 'aws-sdk-js/3 kms-policy-guard',
};

/** Fixed event IDs: the same run makes the same finding IDs (apart from the audit's run ID). */
export const EVENT_IDS = {
  remediatedTamper: '0f5b1c1e-demo-4a00-8000-000000000001',
  alertedTamper: '0f5b1c1e-demo-4a00-8000-000000000002',
  retag: '0f5b1c1e-demo-4a00-8000-000000000003',
  guardFollowUp: '0f5b1c1e-demo-4a00-8000-000000000004',
} as const;
