/**
 * The key-policy grammar's element names: one list for the shape checker (shape/check.ts) and the
 * rules (rules/), so the two can never disagree about which names KMS understands.
 */

/** Top-level elements of a policy document. */
export const DOCUMENT_ELEMENTS = ['Version', 'Id', 'Statement'] as const;

/** Elements of a statement, in the order the policy grammar lists them. */
export const STATEMENT_ELEMENTS = [
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
] as const;

/** The keys a `Principal`/`NotPrincipal` object may have. */
export const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
