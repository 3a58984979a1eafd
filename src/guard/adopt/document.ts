/**
 * One live key policy as a desired document (`kms-guard init`): pretty-printed with placeholders for
 * the key's own partition, Region and account (src/manifest/templatize.ts), and proved to render back
 * to a document `comparePolicies` calls equivalent to the live one, which is what makes the first
 * audit report the key in sync. When the template does not prove equivalent, a plainer form is
 * written instead (without placeholders, then byte for byte as KMS returned it), and a note says so.
 * A document with a number JSON.stringify would write differently (`12345678901234567890`, `1.0`) is
 * always written byte for byte: the comparison parses both sides the same lossy way and cannot see it.
 */
import type { KeyLocation } from '../../core/key-arn';
import { renderPlaceholders } from '../../manifest/placeholders';
import { templateDocument } from '../../manifest/templatize';
import { comparePolicies } from '../../policy/compare';

/** How the document was written. */
export type DocumentForm = 'template' | 'literal' | 'verbatim';

export interface AdoptedDocument {
  /** The file's content. */
  text: string;
  form: DocumentForm;
  /** Strings turned into placeholders. */
  replacements: number;
  /** Rendering `text` for the key gives a document equivalent to the live one. */
  equivalent: boolean;
  /** Why the live document could not be matched exactly (only when `equivalent` is false). */
  problem?: string;
  /** Why a `verbatim` document was not pretty-printed. */
  verbatimReason?: string;
}

/** A JSON string (skipped) or number token. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** The first number in the JSON text that a parse and stringify would not write back the same, if any. */
export function rewrittenNumber(text: string): string | undefined {
  for (const [token] of text.matchAll(TOKENS)) {
    if (!token.startsWith('"') && JSON.stringify(Number(token)) !== token) return token;
  }
  return undefined;
}

function pretty(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function comparison(text: string, live: string, location: KeyLocation) {
  return comparePolicies(renderPlaceholders(text, location, 'adopted policy'), live, {
    partition: location.partition,
  });
}

/** Why a comparison is not equivalent, in one line. */
function problemOf(result: ReturnType<typeof comparePolicies>): string {
  const issue = result.problems.flatMap((problem) => problem.issues)[0];
  if (issue) return `${issue.path}: ${issue.message}`;
  return result.diff.statements[0]?.summary ?? 'the documents differ';
}

/** The live document (which must hold no `{{…}}` text) as a desired document; see the module comment. */
export function adoptDocument(live: string, location: KeyLocation): AdoptedDocument {
  const candidates: Omit<AdoptedDocument, 'equivalent'>[] = [];
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(live);
  } catch {
    parses = false;
  }
  const number = rewrittenNumber(live);
  if (parses && number === undefined) {
    const templated = templateDocument(parsed, location);
    if (templated.replacements > 0) {
      candidates.push({
        text: pretty(templated.document),
        form: 'template',
        replacements: templated.replacements,
      });
    }
    candidates.push({ text: pretty(parsed), form: 'literal', replacements: 0 });
  }
  const verbatim = {
    text: live,
    form: 'verbatim' as const,
    replacements: 0,
    verbatimReason:
      number === undefined
        ? 'pretty-printing would not keep it equivalent'
        : `it holds the number ${number}, which pretty-printing would write differently`,
  };
  for (const candidate of [...candidates, verbatim]) {
    if (comparison(candidate.text, live, location).status === 'equivalent') {
      return { ...candidate, equivalent: true };
    }
  }
  return { ...verbatim, equivalent: false, problem: problemOf(comparison(live, live, location)) };
}
