/**
 * A principal's name for people. A module of its own, without the policy engine: the alert texts name principals
 * (./render.ts), and a function that sends only account findings (the audit's fan-out) should not compile the
 * diff to do so (docs/architecture.md#what-loads-when).
 */

/** A canonical principal as people know it: the ARN for AWS principals, `Service:…` etc. otherwise. */
export function displayPrincipal(principal: string): string {
  return principal.startsWith('AWS:') ? principal.slice(4) : principal;
}
