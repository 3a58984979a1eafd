import { readFileSync } from 'node:fs';
import {
  RULES_DOC_PATH,
  renderRulesDoc,
  renderRuleTable,
  TABLE_END,
  TABLE_START,
} from '../../../scripts/gen-rules-doc';
import { RULES } from '../../../src/policy/catalogue';

const committed = readFileSync(RULES_DOC_PATH, 'utf8');

describe('docs/rules.md (generated from RULES by scripts/gen-rules-doc.ts)', () => {
  it('is current: regenerating it from RULES changes nothing (else run npm run gen:docs)', () => {
    // Act
    const regenerated = renderRulesDoc(committed, RULES);
    // Assess
    expect(regenerated).toBe(committed);
  });

  it('lists every rule of the catalogue with its code, level and title, in catalogue order', () => {
    // Prepare
    const rows = committed.split('\n').filter((line) => /^\| KMS\d{3} /.test(line));
    // Assess
    expect(rows.map((row) => row.split('|').map((cell) => cell.trim())[1])).toEqual(
      RULES.map((rule) => rule.code),
    );
    for (const [index, rule] of RULES.entries()) {
      expect(rows[index]).toContain(` ${rule.level} `);
      expect(rows[index]).toContain(` ${rule.title} `);
    }
  });

  it('is stale as soon as a rule title changes in the catalogue', () => {
    // Prepare
    const renamed = RULES.map((rule, index) =>
      index === 0 ? { ...rule, title: `${rule.title} (renamed)` } : rule,
    );
    // Act
    const regenerated = renderRulesDoc(committed, renamed);
    // Assess
    expect(regenerated).not.toBe(committed);
    expect(regenerated).toContain(`| ${renamed[0]?.title} `);
  });

  it('replaces only the text between the markers, keeping the prose around them', () => {
    // Prepare
    const document = `# Title\n\nBefore.\n\n${TABLE_START}\n\nold table\n\n${TABLE_END}\n\nAfter.\n`;
    // Act
    const rendered = renderRulesDoc(document, RULES);
    // Assess
    expect(rendered).toBe(
      `# Title\n\nBefore.\n\n${TABLE_START}\n\n${renderRuleTable(RULES)}\n\n${TABLE_END}\n\nAfter.\n`,
    );
  });

  it('refuses a document without the markers instead of guessing where the table goes', () => {
    expect(() => renderRulesDoc('# Rules\n', RULES)).toThrow(/must contain the markers/);
  });

  it('pads every column like Biome, so the generated table needs no formatting', () => {
    // Prepare
    const rules = [{ code: 'KMS999', level: 'error' as const, title: 'A | B', description: 'é' }];
    // Act
    const rendered = renderRuleTable(rules);
    // Assess
    expect(rendered.split('\n')).toEqual([
      '| Code   | Level | Rule   | What it means |',
      '| ------ | ----- | ------ | ------------- |',
      '| KMS999 | error | A \\| B | é             |',
    ]);
  });
});
