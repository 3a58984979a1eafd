/**
 * Every relative link in README.md, CONTRIBUTING.md and docs/*.md points to a file that exists and, for
 * `#anchor` links into Markdown, to a heading of that file (GitHub's slugs: lower-case, spaces to '-',
 * punctuation other than '-' and '_' dropped, '-1', '-2' … for repeated headings).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { anchorsOf, githubSlug } from './markdown';

const ROOT = path.join(__dirname, '..', '..', '..');

interface Link {
  target: string;
  line: number;
}

/** The lines outside fenced code blocks, with inline code spans emptied (links in code are not links). */
function proseLines(markdown: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fence: string | undefined;
  for (const [index, raw] of markdown.split('\n').entries()) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    lines.push({ text: raw.replace(/(`+)(?:(?!\1).)+?\1/g, '``'), line: index + 1 });
  }
  return lines;
}

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`. */
function linksIn(markdown: string): Link[] {
  const links: Link[] = [];
  for (const { text, line } of proseLines(markdown)) {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (match[1]) links.push({ target: match[1], line });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (definition?.[1]) links.push({ target: definition[1], line });
  }
  return links;
}

/** What is wrong with each relative link of `file` (a path relative to the repository root). */
function brokenLinks(file: string, read: (absolute: string) => string = readMarkdown): string[] {
  const absolute = path.join(ROOT, file);
  const problems: string[] = [];
  for (const { target, line } of linksIn(read(absolute))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not a file of this repository
    const hashAt = target.indexOf('#');
    const pathPart = decodeURIComponent(hashAt < 0 ? target : target.slice(0, hashAt));
    const anchor = hashAt < 0 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
    const resolved = pathPart === '' ? absolute : path.resolve(path.dirname(absolute), pathPart);
    const where = `${file}:${line} → ${target}`;
    if (pathPart !== '' && !existsSync(resolved)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(anchor)) {
      problems.push(`${where}: no heading with that anchor in ${path.relative(ROOT, resolved)}`);
    }
  }
  return problems;
}

function readMarkdown(absolute: string): string {
  return readFileSync(absolute, 'utf8');
}

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

describe('relative links in the documentation', () => {
  it('covers README.md, CONTRIBUTING.md and every page in docs/', () => {
    expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/architecture.md']));
    expect(DOCS.length).toBeGreaterThan(4);
  });

  it.each(DOCS)('%s links only to files and headings that exist', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('the link checker', () => {
  it.each([
    ['`kms-guard validate --json`', 'kms-guard-validate---json'],
    ["The guard's own role", 'the-guards-own-role'],
    ['3. The demo: `npm start`', '3-the-demo-npm-start'],
    [
      'Idempotency: a duplicated event produces one finding',
      'idempotency-a-duplicated-event-produces-one-finding',
    ],
    ["In a policy repository's CI", 'in-a-policy-repositorys-ci'],
    ['Parameters (`--param="name=value"`)', 'parameters---paramnamevalue'],
    ['snake_case and [a link](x.md)', 'snake_case-and-a-link'],
    ['kms-policy-guard — architecture', 'kms-policy-guard--architecture'],
  ])('turns the heading %s into the anchor %s', (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });

  it('numbers repeated headings and ignores headings inside code blocks', () => {
    // Prepare
    const markdown = '# Notes\n\n## Notes\n\n```md\n## Hidden\n```\n\n## Notes\n';
    // Act
    const anchors = anchorsOf(markdown);
    // Assess
    expect([...anchors]).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('finds inline links, images and reference definitions, but not links inside code', () => {
    // Prepare
    const markdown = [
      'See [the CLI](docs/cli.md#usage) and ![a diagram](img.png "Diagram").',
      '`[not a link](nowhere.md)`',
      '```',
      '[also not](nowhere.md)',
      '```',
      '[ref]: ./CONTRIBUTING.md',
    ].join('\n');
    // Act
    const links = linksIn(markdown);
    // Assess
    expect(links).toEqual([
      { target: 'docs/cli.md#usage', line: 1 },
      { target: 'img.png', line: 1 },
      { target: './CONTRIBUTING.md', line: 6 },
    ]);
  });

  it('reports a missing file and a missing anchor, and accepts external and existing targets', () => {
    // Prepare
    const pages: Record<string, string> = {
      [path.join(ROOT, 'docs/page.md')]: [
        '# Page',
        '[ok](../README.md) [ok too](#page) [web](https://example.com/x.md)',
        '[gone](missing.md) [no anchor](#nowhere)',
      ].join('\n'),
    };
    const read = (absolute: string) => pages[absolute] ?? readMarkdown(absolute);
    // Act
    const problems = brokenLinks('docs/page.md', read);
    // Assess
    expect(problems).toEqual([
      'docs/page.md:3 → missing.md: no such file',
      'docs/page.md:3 → #nowhere: no heading with that anchor in docs/page.md',
    ]);
  });
});
