/**
 * The SNS filter policies of the two Slack subscriptions in serverless.yml (docs/architecture.md#alerts-by-severity):
 * test/integration/template.test.ts checks the packaged template carries exactly these, and
 * test/integration/severity-routing.test.ts proves on SNS (moto) what they route.
 */
export const SLACK_FILTER_POLICIES = {
  /** notify-slack: routine findings. */
  routine: { severity: ['medium', 'low', 'info'] },
  /** notify-slack-urgent: critical and high findings, and the stack's alarms (they carry no severity attribute). */
  urgent: { $or: [{ severity: ['critical', 'high'] }, { severity: [{ exists: false }] }] },
} as const;
