/**
 * Fuzzing `kms-guard validate` and `kms-guard diff` in-process (`run(argv, io)`) on temp files holding
 * damaged real policies, arbitrary JSON and binary text. Fewer cases than the engine fuzzers: each
 * one writes files and runs commander.
 *
 * Property: the exit code is one of the documented ones (0, 1, 2), never "unexpected failure", and a
 * non-zero exit always says why (a finding line on stdout or a message on stderr).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli, tempFiles } from '../cli/helpers';
import { FUZZ_RUNS, loadJsonFiles, mutatedDocument, mutatedText } from './mutate';

const SEEDS = loadJsonFiles('policies', 'test/fixtures/cli').filter(
  (entry) => typeof entry.value === 'object' && entry.value !== null && 'Statement' in entry.value,
);

const fileContent: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: mutatedDocument(
      SEEDS.map((entry) => entry.value),
      3,
    ).map((value) => JSON.stringify(value) ?? 'undefined'),
  },
  { weight: 3, arbitrary: mutatedText(SEEDS.map((entry) => entry.text)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SEEDS.map((entry) => entry.text)) },
);

const DIRECTORY = tempFiles({});

describe('kms-guard validate and diff on arbitrary files (fuzz)', () => {
  it(`exit with a documented code and an explanation (${FUZZ_RUNS.cliValidateAndDiff} cases)`, async () => {
    let index = 0;
    await fc.assert(
      fc.asyncProperty(fileContent, fileContent, fc.boolean(), async (desired, live, json) => {
        // Prepare
        index += 1;
        const desiredFile = join(DIRECTORY, `desired-${index}.json`);
        const liveFile = join(DIRECTORY, `live-${index}.json`);
        writeFileSync(desiredFile, desired);
        writeFileSync(liveFile, live);
        const format = json ? ['--json'] : [];
        // Act
        const validated = await runCli(['validate', ...format, desiredFile]);
        const diffed = await runCli(['diff', ...format, desiredFile, liveFile]);
        // Assess
        for (const result of [validated, diffed]) {
          expect([0, 1, 2]).toContain(result.code);
          expect(result.stderr).not.toContain('unexpected failure');
          if (result.code !== 0) expect(`${result.stdout}${result.stderr}`.trim()).not.toBe('');
          if (json && result.stdout !== '') expect(() => JSON.parse(result.stdout)).not.toThrow();
        }
        // Exit 1 names the problem: a catalogue finding, or (templates) an unknown placeholder.
        if (validated.code === 1 && !json) {
          expect(validated.stdout).toMatch(/ {2}error {2}(KMS\d{3} {2}\$|\S+: unknown placeholder )/);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
          expect(validated.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
        }
      }),
      { numRuns: FUZZ_RUNS.cliValidateAndDiff },
    );
  });
});
