/**
 * The EventBridge pattern of the drift rule: every successful KMS call that moves access to a key or its
 * protection (KMS_EVENT_NAMES in src/guard/event.ts), as CloudTrail reports it. serverless.yml and
 * deploy/spoke.yml repeat it (YAML cannot import TypeScript); the template tests prove both equal this
 * constant, and the moto harness routes events with it.
 * `errorCode: [{exists: false}]` drops failed calls (AccessDenied, MalformedPolicyDocument): nothing changed.
 */
import { KMS_EVENT_NAMES } from './event';

export const KMS_POLICY_CHANGE_EVENT_PATTERN = {
  source: ['aws.kms'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['kms.amazonaws.com'],
    eventName: [...KMS_EVENT_NAMES],
    errorCode: [{ exists: false }],
  },
};
