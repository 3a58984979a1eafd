/**
 * Source comments point readers at docs/architecture.md sections ("docs/architecture.md#sticky-bindings"). Every
 * such anchor in src/ and handlers/ must be a heading of docs/architecture.md (GitHub's slugs), so a renamed or
 * missing section fails here instead of leaving a comment that points nowhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { anchorsOf } from './markdown';

const ROOT = path.join(__dirname, '..', '..', '..');
const ARCHITECTURE = path.join(ROOT, 'docs', 'architecture.md');
const SCANNED = ['src', 'handlers'];

interface AnchorReference {
  anchor: string;
  /** `src/guard/bindings.ts:2`. */
  where: string;
}

/** Every `docs/architecture.md#<anchor>` in one file's text, with its line. */
function anchorReferences(file: string, text: string): AnchorReference[] {
  const references: AnchorReference[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    for (const match of line.matchAll(/docs\/architecture\.md#([A-Za-z0-9_-]+)/g)) {
      if (match[1]) references.push({ anchor: match[1], where: `${file}:${index + 1}` });
    }
  }
  return references;
}

/** Every TypeScript file under a directory of the repository, as a path relative to the root. */
function sourceFiles(directory: string): string[] {
  const entries = readdirSync(path.join(ROOT, directory), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const relative = `${directory}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return /\.[cm]?ts$/.test(entry.name) ? [relative] : [];
  });
}

/** The references whose anchor is not a heading of the page. */
function missingAnchors(references: AnchorReference[], page: string): string[] {
  const anchors = anchorsOf(page);
  return references
    .filter((reference) => !anchors.has(reference.anchor))
    .map((reference) => `${reference.where} → docs/architecture.md#${reference.anchor}: no such heading`);
}

const REFERENCES = SCANNED.flatMap(sourceFiles).flatMap((file) =>
  anchorReferences(file, readFileSync(path.join(ROOT, file), 'utf8')),
);

describe('docs/architecture.md anchors named in src/ and handlers/', () => {
  it('finds the anchors the issue-12 code points at, so the scan reads the sources', () => {
    // Prepare
    const named = new Set(REFERENCES.map((reference) => reference.anchor));

    // Act
    const expected = ['sticky-bindings', 'grants', 'key-state', 'unmanaged-keys', 'event-kinds', 'data-flow'];

    // Assess
    expect([...named]).toEqual(expect.arrayContaining(expected));
  });

  it('names only headings that exist in docs/architecture.md', () => {
    // Prepare
    const page = readFileSync(ARCHITECTURE, 'utf8');

    // Act
    const missing = missingAnchors(REFERENCES, page);

    // Assess
    expect(missing).toEqual([]);
  });

  it('reports a reference to a heading the page does not have, with its file and line', () => {
    // Prepare
    const source = [
      '/** See docs/architecture.md#grants and docs/architecture.md#key-state. */',
      '// docs/architecture.md#no-such-section',
    ].join('\n');
    const page = '# Architecture\n\n## Grants\n\n```md\n## Key state\n```\n';

    // Act
    const missing = missingAnchors(anchorReferences('src/example.ts', source), page);

    // Assess
    expect(missing).toEqual([
      'src/example.ts:1 → docs/architecture.md#key-state: no such heading',
      'src/example.ts:2 → docs/architecture.md#no-such-section: no such heading',
    ]);
  });
});
