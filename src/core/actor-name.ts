/**
 * Who made a change, in a few words for a finding's title and so the SNS subject
 * (docs/architecture.md#findings-and-messages): the principal by type and name, from the CloudTrail
 * `userIdentity.arn`.
 *
 *   arn:aws:sts::1:assumed-role/Admin/alice   role/Admin (session alice)
 *   arn:aws:iam::1:user/ops/alice             user/alice
 *   arn:aws:iam::1:role/ops/Deployer          role/Deployer
 *   arn:aws:iam::1:root                       root
 *   arn:aws:sts::1:federated-user/bob         federated-user/bob   (any other ARN: its resource part)
 *   no ARN, invokedBy kms.amazonaws.com       service kms.amazonaws.com
 *   alice (a forged event: not an ARN)        invalid-arn/alice
 *
 * A role session name is chosen by whoever calls AssumeRole (and a forged event may say anything), so
 * it never stands alone as the actor: it follows the role, in parentheses. Every name keeps only the
 * characters IAM and STS allow in names (`A-Z a-z 0-9 + = , . @ _ -`, and `/` in a resource part);
 * anything else, a space, a parenthesis or a line break included, is shown as its `\uXXXX` escape, so
 * a name can neither pose as another principal nor as another part of the title. Each name is cut to
 * 64 characters (IAM's and STS's own limit) with `...`: the result is printable ASCII.
 */
import type { Actor } from './finding';
import { unicodeEscape } from './plain-text';

const NAME_MAX_CHARS = 64;
const CUT_MARK = '...';
const NOT_IN_NAME = /[^\w+=,.@-]/u;
const NOT_IN_RESOURCE = /[^\w+=,.@/-]/u;

/**
 * `value` with every character `notAllowed` matches escaped, at most NAME_MAX_CHARS long; a cut keeps
 * whole characters and escapes and ends with CUT_MARK.
 */
function shown(value: string, notAllowed: RegExp): string {
  if (value === '') return '-';
  const pieces: string[] = [];
  let length = 0;
  for (const character of value) {
    const piece = notAllowed.test(character) ? unicodeEscape(character) : character;
    pieces.push(piece);
    length += piece.length;
    if (length > NAME_MAX_CHARS) {
      while (length > NAME_MAX_CHARS - CUT_MARK.length) length -= pieces.pop()?.length ?? length;
      return `${pieces.join('')}${CUT_MARK}`;
    }
  }
  return pieces.join('');
}

const name = (value: string): string => shown(value, NOT_IN_NAME);
const resource = (value: string): string => shown(value, NOT_IN_RESOURCE);

/** `arn:partition:service:region:account:resource` (the resource may hold `:` and `/`). */
const ARN = /^arn:[^:]*:([^:]*):[^:]*:[^:]*:(.*)$/s;

function nameOfArn(arn: string): string {
  const parts = ARN.exec(arn);
  if (!parts) return `invalid-arn/${resource(arn)}`;
  const [, service = '', path = ''] = parts;
  if (service === 'sts') {
    const session = /^assumed-role\/([^/]*)\/(.*)$/s.exec(path);
    if (session) return `role/${name(session[1] ?? '')} (session ${name(session[2] ?? '')})`;
  }
  if (service === 'iam') {
    if (path === 'root') return 'root';
    const principal = /^(user|role)\/(?:.*\/)?([^/]*)$/s.exec(path);
    if (principal) return `${principal[1]}/${name(principal[2] ?? '')}`;
  }
  return resource(path);
}

/** The actor as the title names it, or undefined when the record names no principal. */
export function actorName(actor: Actor): string | undefined {
  if (actor.arn !== undefined && actor.arn !== '') return nameOfArn(actor.arn);
  if (actor.invokedBy !== undefined && actor.invokedBy !== '') return `service ${name(actor.invokedBy)}`;
  return undefined;
}
