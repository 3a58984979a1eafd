/**
 * The EventBridge pattern of the drift rule: successful KMS calls that set or create a key policy,
 * as CloudTrail reports them. serverless.yml repeats it (YAML cannot import TypeScript); the template
 * test proves the packaged rule equals this constant, and the moto harness routes events with it.
 * `errorCode: [{exists: false}]` drops failed calls (AccessDenied, MalformedPolicyDocument): nothing changed.
 */
export const KMS_POLICY_CHANGE_EVENT_PATTERN = {
  source: ['aws.kms'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['kms.amazonaws.com'],
    eventName: ['PutKeyPolicy', 'CreateKey', 'ReplicateKey'],
    errorCode: [{ exists: false }],
  },
} as const;
