/** EventBridge/CloudTrail events (test/events, shaped after the KMS Developer Guide examples) -> what to check. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { classifyKmsEvent, roleIdentity } from '../../../src/guard/event';
import { EVENTS, GUARD_ROLE_ARN, KEY_ARN } from './harness';

function event(name: string): unknown {
  return JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8'));
}

const IN_OREGON = { region: 'us-west-2', guardRoleArn: GUARD_ROLE_ARN };

describe('classifyKmsEvent', () => {
  it.each([
    ['put-key-policy.json', 'PutKeyPolicy', 'c217db1f-903f-4a2f-8f88-9580182d6313'],
    ['create-key.json', 'CreateKey', '36327b37-f4f6-40a9-92ab-48064ec905a2'],
  ])('takes the key ARN and the actor from %s', (file, eventName, eventId) => {
    // Act
    const classified = classifyKmsEvent(event(file), IN_OREGON);

    // Assess
    expect(classified).toEqual({
      outcome: 'check',
      eventName,
      eventId,
      keyRef: KEY_ARN,
      recipientAccountId: '111122223333',
      recordRegion: 'us-west-2',
      ...(eventName === 'PutKeyPolicy'
        ? { writtenPolicySha256: expect.stringMatching(/^[0-9a-f]{64}$/) }
        : {}),
      actor: expect.objectContaining({
        arn: 'arn:aws:iam::111122223333:user/Alice',
        type: 'IAMUser',
        accountId: '111122223333',
        principalId: 'EX_PRINCIPAL_ID',
        sourceIPAddress: '192.0.2.0',
        userAgent: 'AWS Internal',
        eventID: eventId,
        eventName,
        isGuard: false,
      }),
    });
  });

  it('recognises the guard’s own PutKeyPolicy by the assumed role’s session issuer', () => {
    // Act
    const classified = classifyKmsEvent(event('put-key-policy-by-guard.json'), IN_OREGON);

    // Assess
    expect(classified.outcome).toBe('check');
    expect(classified.outcome === 'check' && classified.actor.isGuard).toBe(true);
  });

  it('derives the guard role from the event account and Region when none is configured', () => {
    // Act
    const guard = classifyKmsEvent(event('put-key-policy-by-guard.json'), { region: 'us-west-2' });
    const alice = classifyKmsEvent(event('put-key-policy.json'), { region: 'us-west-2' });

    // Assess
    expect(guard.outcome === 'check' && guard.actor.isGuard).toBe(true);
    expect(alice.outcome === 'check' && alice.actor.isGuard).toBe(false);
  });

  it('checks the primary key of a ReplicateKey, with the replica’s Region, in the Region that records it', () => {
    // Act
    const classified = classifyKmsEvent(event('replicate-key.json'), { region: 'us-east-1' });

    // Assess
    expect(classified).toMatchObject({
      outcome: 'check',
      eventName: 'ReplicateKey',
      keyRef: KEY_ARN.replace('us-west-2', 'us-east-1'),
      replicaRegion: 'us-west-2',
    });
  });

  it.each([
    ['tag-resource.json', 'TagResource', KEY_ARN, undefined],
    ['untag-resource.json', 'UntagResource', KEY_ARN, undefined],
    ['create-alias.json', 'CreateAlias', KEY_ARN, 'alias/payments-data'],
    [
      'update-alias.json',
      'UpdateAlias',
      KEY_ARN.replace('1234abcd-12ab-34cd-56ef-1234567890ab', '0987dcba-09ba-76dc-65fe-0987654321ba'),
      'alias/payments-data',
    ],
    ['delete-alias.json', 'DeleteAlias', KEY_ARN, 'alias/payments-data'],
    ['create-grant.json', 'CreateGrant', KEY_ARN, undefined],
    ['schedule-key-deletion.json', 'ScheduleKeyDeletion', KEY_ARN, undefined],
    ['disable-key.json', 'DisableKey', KEY_ARN, undefined],
    ['enable-key-rotation.json', 'EnableKeyRotation', KEY_ARN, undefined],
    ['disable-key-rotation.json', 'DisableKeyRotation', KEY_ARN, undefined],
  ])('takes the key (and the alias) from %s', (file, eventName, keyRef, aliasName) => {
    // Act
    const classified = classifyKmsEvent(event(file), IN_OREGON);

    // Assess
    expect(classified).toMatchObject({
      outcome: 'check',
      eventName,
      keyRef,
      recipientAccountId: '111122223333',
      recordRegion: 'us-west-2',
    });
    expect(classified.outcome === 'check' && classified.aliasName).toBe(aliasName ?? undefined);
  });

  it('classifies a DeleteAlias whose record names no key by its alias alone (the bound keys are checked)', () => {
    // Prepare
    const record = event('delete-alias.json') as { detail: Record<string, unknown> };
    record.detail.resources = [];

    // Act
    const classified = classifyKmsEvent(record, IN_OREGON);

    // Assess
    expect(classified).toMatchObject({
      outcome: 'check',
      eventName: 'DeleteAlias',
      aliasName: 'alias/payments-data',
    });
    expect(classified.outcome === 'check' && classified.keyRef).toBeUndefined();
  });

  it.each([
    ['a key ID that is neither an ID nor an ARN', 'alias/payments-data'],
    ['an ARN that is not a key ARN', 'arn:aws:kms:us-west-2:111122223333:alias/payments-data'],
  ])('rejects a record naming %s as missing-key, never to be retried', (_case, keyId) => {
    // Prepare
    const record = event('disable-key.json') as { detail: Record<string, unknown> };
    record.detail.resources = [];
    record.detail.requestParameters = { keyId };

    // Act
    const classified = classifyKmsEvent(record, IN_OREGON);

    // Assess
    expect(classified).toMatchObject({ outcome: 'rejected', reason: 'missing-key' });
  });

  it.each([
    ['put-key-policy-error.json', 'api-call-failed', /AccessDeniedException/],
    ['malformed-wrong-source.json', 'wrong-source', /aws\.s3/],
    ['malformed-unknown-event-name.json', 'unsupported-event-name', /UpdateKeyDescription/],
    ['malformed-missing-key.json', 'missing-key', /names no key/],
    ['malformed-detail.json', 'malformed-detail', /eventID/],
    ['malformed-no-envelope.json', 'malformed-envelope', /detail-type/],
  ])('rejects %s as %s', (file, reason, message) => {
    // Act
    const classified = classifyKmsEvent(event(file), IN_OREGON);

    // Assess
    expect(classified).toMatchObject({ outcome: 'rejected', reason });
    expect(classified.outcome === 'rejected' && classified.message).toMatch(message);
  });

  it.each([
    [
      'an event ID',
      (record: { id: string; detail: Record<string, unknown> }) => {
        record.detail.eventID = 'x'.repeat(200_000);
      },
    ],
    [
      'an envelope ID',
      (record: { id: string; detail: Record<string, unknown> }) => {
        record.id = 'x'.repeat(200_000);
      },
    ],
    [
      'an event name',
      (record: { id: string; detail: Record<string, unknown> }) => {
        record.detail.eventName = 'PutKeyPolicy'.repeat(20_000);
      },
    ],
  ])(
    'rejects %s of hundreds of kilobytes (forged: it would bloat every record and finding ID)',
    (_what, forge) => {
      // Prepare
      const record = event('put-key-policy.json') as { id: string; detail: Record<string, unknown> };
      forge(record);

      // Act
      const classified = classifyKmsEvent(record, IN_OREGON);

      // Assess
      expect(classified.outcome).toBe('rejected');
      expect(JSON.stringify(classified).length).toBeLessThan(2_000);
    },
  );

  it('rejects an empty eventID as a malformed detail: it could neither be deduplicated nor traced', () => {
    // Prepare
    const record = event('put-key-policy.json') as { detail: Record<string, unknown> };
    record.detail.eventID = '';

    // Act
    const classified = classifyKmsEvent(record, IN_OREGON);

    // Assess
    expect(classified).toMatchObject({ outcome: 'rejected', reason: 'malformed-detail' });
    expect(classified.outcome === 'rejected' && classified.message).toMatch(/eventID/);
  });

  it.each([null, 42, 'text', [], {}])('rejects %p without throwing', (input) => {
    expect(classifyKmsEvent(input, IN_OREGON)).toMatchObject({
      outcome: 'rejected',
      reason: 'malformed-envelope',
    });
  });

  it('completes requestParameters.keyId into an ARN when a PutKeyPolicy record has no resources', () => {
    // Prepare
    const record = event('put-key-policy.json') as { detail: Record<string, unknown> };
    delete record.detail.resources;

    // Act
    const classified = classifyKmsEvent(record, IN_OREGON);

    // Assess
    expect(classified).toMatchObject({ outcome: 'check', keyRef: KEY_ARN });
  });
});

describe('roleIdentity', () => {
  it.each([
    [
      'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2',
      'aws:111122223333:kms-policy-guard-us-west-2',
    ],
    [
      'arn:aws:iam::111122223333:role/service/kms-policy-guard-us-west-2',
      'aws:111122223333:kms-policy-guard-us-west-2',
    ],
    [
      'arn:aws:sts::111122223333:assumed-role/kms-policy-guard-us-west-2/session',
      'aws:111122223333:kms-policy-guard-us-west-2',
    ],
    ['arn:aws:iam::111122223333:user/Alice', undefined],
  ])('reads %s as %p', (arn, identity) => {
    expect(roleIdentity(arn)).toBe(identity);
  });
});
