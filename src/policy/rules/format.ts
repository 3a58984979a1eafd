/**
 * KMS0xx, document format: is the text JSON, is it an object, does it fit KMS's size and
 * character limits, does an in-memory value have a JSON form?
 */
import { formatCodePoint } from '../json/text';
import { reportCharacters, visibleForm } from './characters';
import { type Rule, shapeRule } from './rule';

/** KMS rejects larger documents with LimitExceededException. */
export const MAX_POLICY_BYTES = 32_768;

const notJson: Rule = {
  code: 'KMS001',
  check(ctx, sink) {
    const error = ctx.source.kind === 'text' ? ctx.source.read.error : undefined;
    if (error) sink.add('$', `Not JSON: ${error.message}`);
  },
};

const tooLarge: Rule = {
  code: 'KMS003',
  check({ byteLength }, sink) {
    if (byteLength <= MAX_POLICY_BYTES) return;
    sink.add('$', `The document is ${byteLength} bytes (UTF-8); KMS accepts at most ${MAX_POLICY_BYTES}`);
  },
};

const characterNotAllowed: Rule = {
  code: 'KMS004',
  check(ctx, sink) {
    reportCharacters(
      ctx.source,
      'forbidden',
      sink,
      (codePoint, where) =>
        `Character ${formatCodePoint(codePoint)}${visibleForm(codePoint)} ${where}is not allowed in a key policy (only tab, LF, CR and U+0020-U+00FF)`,
    );
  },
};

const invisibleCharacter: Rule = {
  code: 'KMS005',
  check(ctx, sink) {
    reportCharacters(
      ctx.source,
      'invisible',
      sink,
      (codePoint, where) =>
        `Invisible control character ${formatCodePoint(codePoint)} ${where}(KMS accepts it, but no one can see it)`,
    );
  },
};

const duplicateName: Rule = {
  code: 'KMS006',
  check(ctx, sink) {
    if (ctx.source.kind !== 'text') return;
    for (const { path, key } of ctx.source.read.duplicates) {
      sink.add(path, `"${key}" appears twice in this object; only the last value counts`);
    }
  },
};

const noJsonForm: Rule = {
  code: 'KMS007',
  check(ctx, sink) {
    if (ctx.source.kind !== 'value') return;
    for (const { path, message } of ctx.source.inspection.faults) sink.add(path, message);
  },
};

export const FORMAT_RULES: readonly Rule[] = [
  notJson,
  shapeRule('KMS002'),
  tooLarge,
  characterNotAllowed,
  invisibleCharacter,
  duplicateName,
  noJsonForm,
];
