/**
 * docs/operations.md documents the whole configuration: every `serverless.yml` parameter in the parameters table,
 * and every environment variable `src/app/config.ts` reads or `serverless.yml` sets on a function in the
 * environment table; and neither table lists anything that no longer exists.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isObject, type Json, parseCloudFormationYaml } from '../support/cloudformation';

const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** An environment variable's name: upper case, at least one underscore (TOPIC_ARN, AWS_REGION). */
const ENV_NAME = '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+';

/** The variables config.ts reads: the keys of its zod schemas, and every `env.NAME` it reads directly. */
function envNamesReadBy(source: string): string[] {
  const keys = [...source.matchAll(new RegExp(`^\\s+(${ENV_NAME}):`, 'gm'))].map((match) => match[1] ?? '');
  const direct = [...source.matchAll(new RegExp(`\\benv\\.(${ENV_NAME})\\b`, 'g'))].map(
    (match) => match[1] ?? '',
  );
  return [...new Set([...keys, ...direct])].sort();
}

function objectOf(value: Json | undefined): Record<string, Json> {
  return isObject(value) ? value : {};
}

/** serverless.yml's parameters (params.default) and the variables it sets on the functions (and the provider). */
function serverlessConfiguration(text: string): { params: string[]; environment: string[] } {
  const root = objectOf(parseCloudFormationYaml(text));
  const params = Object.keys(objectOf(objectOf(root.params).default));
  const environment = new Set(Object.keys(objectOf(objectOf(root.provider).environment)));
  for (const fn of Object.values(objectOf(root.functions))) {
    for (const name of Object.keys(objectOf(objectOf(fn).environment))) environment.add(name);
  }
  return { params: params.sort(), environment: [...environment].sort() };
}

/** The names in backticks in the first cell of each row of the table under `### <heading>`. */
function tableNames(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`no section "### ${heading}"`);
  const rest = markdown.slice(start + heading.length + 6);
  const end = rest.search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`([^`]+)`/g)) names.push(match[1] ?? '');
  }
  return names;
}

const missingFrom = (documented: readonly string[], names: readonly string[]) =>
  names.filter((name) => !documented.includes(name));

describe('docs/operations.md documents the whole configuration', () => {
  const operations = read('docs/operations.md');
  const serverless = serverlessConfiguration(read('serverless.yml'));
  const readByConfig = envNamesReadBy(read('src/app/config.ts'));
  const parametersTable = tableNames(operations, 'Parameters and outputs');
  const environmentTable = tableNames(operations, 'Environment of the functions');

  it('reads the names it checks from config.ts and serverless.yml (the parsers still find them)', () => {
    // Assess
    expect(readByConfig).toEqual(
      expect.arrayContaining(['TOPIC_ARN', 'AUDIT_QUEUE_URL', 'AUDIT_MAX_RECEIVES', 'SLACK_WEBHOOK_PARAM']),
    );
    expect(serverless.params).toEqual(
      expect.arrayContaining(['alertEmail', 'organizationId', 'auditWorkers']),
    );
    expect(serverless.environment).toEqual(
      expect.arrayContaining(['TOPIC_ARN', 'AUDIT_QUEUE_URL', 'LOG_LEVEL']),
    );
  });

  it('lists every serverless.yml parameter in the parameters table', () => {
    // Assess
    expect(missingFrom(parametersTable, serverless.params)).toEqual([]);
  });

  it('lists every environment variable src/app/config.ts reads in the environment table', () => {
    // Assess
    expect(missingFrom(environmentTable, readByConfig)).toEqual([]);
  });

  it('lists every variable serverless.yml sets on a function in the environment table', () => {
    // Assess
    expect(missingFrom(environmentTable, serverless.environment)).toEqual([]);
  });

  it('lists no parameter or variable that serverless.yml and config.ts no longer have', () => {
    // Assess
    expect(missingFrom(serverless.params, parametersTable)).toEqual([]);
    expect(missingFrom([...readByConfig, ...serverless.environment], environmentTable)).toEqual([]);
  });
});

describe('the configuration-docs parsers', () => {
  it('find a name missing from a table, and every name a row lists', () => {
    // Prepare
    const markdown = [
      '# Page',
      '### Environment of the functions',
      '| Variable | Meaning |',
      '| --- | --- |',
      '| `TOPIC_ARN` | the topic, not `STATE_TABLE` |',
      '| `AWS_REGION`, `AWS_DEFAULT_REGION` | the Region |',
      '### Logs',
      '| `LOG_LEVEL` | not in the section |',
    ].join('\n');
    const source = [
      'const guardEnv = z.object({',
      '  TOPIC_ARN: z.string(),',
      '  STATE_TABLE: optionalText,',
      '});',
      'const flag = env.SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL;',
    ].join('\n');

    // Act
    const documented = tableNames(markdown, 'Environment of the functions');
    const read = envNamesReadBy(source);

    // Assess
    expect(documented).toEqual(['TOPIC_ARN', 'AWS_REGION', 'AWS_DEFAULT_REGION']);
    expect(read).toEqual(['SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL', 'STATE_TABLE', 'TOPIC_ARN']);
    expect(missingFrom(documented, read)).toEqual(['SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL', 'STATE_TABLE']);
  });

  it('find the parameters and every function’s variables of a serverless.yml with CloudFormation tags', () => {
    // Prepare
    const text = [
      'params:',
      '  default:',
      '    alertEmail: ""',
      '    auditWorkers: 5',
      'provider:',
      '  environment:',
      '    LOG_LEVEL: INFO',
      'functions:',
      '  drift:',
      '    environment:',
      '      TOPIC_ARN: !Ref FindingsTopic',
      '  worker:',
      '    environment:',
      '      AUDIT_QUEUE_URL: !GetAtt Queue.Url',
    ].join('\n');

    // Act
    const found = serverlessConfiguration(text);

    // Assess
    expect(found).toEqual({
      params: ['alertEmail', 'auditWorkers'],
      environment: ['AUDIT_QUEUE_URL', 'LOG_LEVEL', 'TOPIC_ARN'],
    });
  });
});
