/**
 * Reads a plain CloudFormation YAML template (deploy/spoke.yml) and renders it for one stack instance, offline:
 * parameters (with their defaults, AllowedPattern and AllowedValues), Conditions, Rules, and the intrinsic
 * functions the template uses, so tests can assert on the documents and names CloudFormation would create in a
 * given account and Region. Only what the spoke template needs is supported; anything else throws, so a template
 * change the renderer does not understand fails loudly instead of being asserted wrongly.
 */
import { readFileSync } from 'node:fs';
import { type CollectionTag, parse, type ScalarTag } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  Properties: JsonObject;
}

export interface Template {
  Parameters: Record<string, JsonObject>;
  Rules: Record<string, JsonObject>;
  Conditions: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, JsonObject>;
}

/** The account, Region and parameter values of one stack instance. */
export interface StackInstance {
  accountId: string;
  region: string;
  partition?: string;
  parameters: Record<string, string>;
}

export interface RenderedResource {
  logicalId: string;
  Type: string;
  Properties: JsonObject;
}

export interface RenderedStack {
  conditions: Record<string, boolean>;
  /** Only the resources whose Condition holds, with every intrinsic function resolved. */
  resources: RenderedResource[];
}

const SHORT_FORMS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
};

/** CloudFormation's short-form tags, each as a scalar and as a sequence (`!GetAtt A.B` is `[A, B]`). */
const CLOUDFORMATION_TAGS: (ScalarTag | CollectionTag)[] = Object.entries(SHORT_FORMS).flatMap(
  ([tag, name]): (ScalarTag | CollectionTag)[] => [
    {
      tag,
      resolve: (value: string) => ({
        [name]:
          name === 'Fn::GetAtt'
            ? [value.slice(0, value.indexOf('.')), value.slice(value.indexOf('.') + 1)]
            : value,
      }),
    },
    { tag, collection: 'seq', resolve: (value) => ({ [name]: value.toJSON() }) },
  ],
);

/** Any YAML with CloudFormation's short-form tags (serverless.yml too), as JSON. */
export function parseCloudFormationYaml(text: string): Json {
  return asJson(parse(text, { customTags: CLOUDFORMATION_TAGS }));
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Narrows what the YAML parser returned to JSON, refusing anything JSON cannot hold. */
export function asJson(value: unknown, path = '$'): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((item, index) => asJson(item, `${path}[${index}]`));
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, asJson(item, `${path}.${key}`)]),
    );
  }
  throw new Error(`${path} is not JSON: ${String(value)}`);
}

function objectAt(value: Json | undefined, path: string): JsonObject {
  if (!isObject(value)) throw new Error(`${path} must be an object`);
  return value;
}

function objectsAt(value: Json | undefined, path: string): Record<string, JsonObject> {
  if (value === undefined) return {};
  return Object.fromEntries(
    Object.entries(objectAt(value, path)).map(([key, item]) => [key, objectAt(item, `${path}.${key}`)]),
  );
}

export function parseTemplate(text: string): Template {
  const root = objectAt(asJson(parse(text, { customTags: CLOUDFORMATION_TAGS })), 'template');
  const resources = Object.fromEntries(
    Object.entries(objectsAt(root.Resources, 'Resources')).map(([id, resource]): [string, Resource] => {
      const { Type, Condition, Properties } = resource;
      if (typeof Type !== 'string') throw new Error(`Resources.${id}.Type must be a string`);
      if (Condition !== undefined && typeof Condition !== 'string') {
        throw new Error(`Resources.${id}.Condition must be a condition name`);
      }
      return [
        id,
        {
          Type,
          ...(Condition === undefined ? {} : { Condition }),
          Properties: objectAt(Properties ?? {}, `Resources.${id}.Properties`),
        },
      ];
    }),
  );
  return {
    Parameters: objectsAt(root.Parameters, 'Parameters'),
    Rules: objectsAt(root.Rules, 'Rules'),
    Conditions: root.Conditions === undefined ? {} : objectAt(root.Conditions, 'Conditions'),
    Resources: resources,
    Outputs: objectsAt(root.Outputs, 'Outputs'),
  };
}

export function loadTemplate(file: string): Template {
  return parseTemplate(readFileSync(file, 'utf8'));
}

const NO_VALUE = Symbol('AWS::NoValue');
type Value = Json | typeof NO_VALUE;

function present(value: Value, path: string): Json {
  if (value === NO_VALUE) throw new Error(`${path} evaluates to AWS::NoValue`);
  return value;
}

/** The parameter values CloudFormation would use: given or default, checked against the template's constraints. */
export function parameterValues(template: Template, given: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!(name in template.Parameters)) throw new Error(`the template has no parameter ${name}`);
  }
  return Object.fromEntries(
    Object.entries(template.Parameters).map(([name, parameter]) => {
      const value = given[name] ?? parameter.Default;
      if (typeof value !== 'string') throw new Error(`parameter ${name} has no value and no default`);
      const { AllowedPattern, AllowedValues } = parameter;
      if (typeof AllowedPattern === 'string' && !new RegExp(AllowedPattern).test(value)) {
        throw new Error(`parameter ${name}=${JSON.stringify(value)} does not match ${AllowedPattern}`);
      }
      if (Array.isArray(AllowedValues) && !AllowedValues.includes(value)) {
        throw new Error(
          `parameter ${name}=${JSON.stringify(value)} is not one of ${JSON.stringify(AllowedValues)}`,
        );
      }
      return [name, value];
    }),
  );
}

class Renderer {
  private readonly partition: string;
  private readonly parameters: Record<string, string>;
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    private readonly template: Template,
    private readonly stack: StackInstance,
  ) {
    this.partition = stack.partition ?? 'aws';
    this.parameters = parameterValues(template, stack.parameters);
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions[name];
    if (definition === undefined) throw new Error(`the template has no condition ${name}`);
    const result = this.boolean(definition, `Conditions.${name}`);
    this.conditionCache.set(name, result);
    return result;
  }

  boolean(value: Json, path: string): boolean {
    const result = this.evaluate(value, path);
    if (typeof result !== 'boolean') throw new Error(`${path} must evaluate to true or false`);
    return result;
  }

  private ref(name: string, path: string): Value {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.stack.region,
      'AWS::AccountId': this.stack.accountId,
      'AWS::Partition': this.partition,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (name === 'AWS::NoValue') return NO_VALUE;
    const value = pseudo[name] ?? this.parameters[name];
    if (value !== undefined) return value;
    const resource = this.template.Resources[name];
    if (resource === undefined) throw new Error(`${path}: Ref to unknown ${name}`);
    if (resource.Type === 'AWS::SQS::Queue') {
      return `https://sqs.${this.stack.region}.amazonaws.com/${this.stack.accountId}/${this.physicalName(name)}`;
    }
    return this.physicalName(name);
  }

  /** The name CloudFormation gives a resource: this template names every resource it creates. */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    const property = {
      'AWS::IAM::Role': 'RoleName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::Events::Rule': 'Name',
    }[resource?.Type ?? ''];
    if (resource === undefined || property === undefined)
      throw new Error(`no physical name for ${logicalId}`);
    const name = this.evaluate(resource.Properties[property] ?? null, `Resources.${logicalId}.${property}`);
    if (typeof name !== 'string') throw new Error(`Resources.${logicalId} must set ${property}`);
    return name;
  }

  arn(logicalId: string): string {
    const { partition } = this;
    const { region, accountId } = this.stack;
    const name = this.physicalName(logicalId);
    switch (this.template.Resources[logicalId]?.Type) {
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${accountId}:role/${name}`;
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${region}:${accountId}:${name}`;
      case 'AWS::Events::Rule':
        return `arn:${partition}:events:${region}:${accountId}:rule/${name}`;
      default:
        throw new Error(`no ARN for ${logicalId}`);
    }
  }

  private getAtt(logicalId: string, attribute: string, path: string): string {
    if (attribute === 'Arn') return this.arn(logicalId);
    if (attribute === 'QueueName') return this.physicalName(logicalId);
    throw new Error(`${path}: unsupported attribute ${logicalId}.${attribute}`);
  }

  private sub(text: string, variables: Record<string, Value>, path: string): string {
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      const variable = variables[name];
      if (variable !== undefined) {
        if (typeof variable !== 'string') throw new Error(`${path}: \${${name}} is not a string`);
        return variable;
      }
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return this.getAtt(name.slice(0, dot), name.slice(dot + 1), path);
      const value = this.ref(name, path);
      if (typeof value !== 'string') throw new Error(`${path}: \${${name}} is not a string`);
      return value;
    });
  }

  private list(value: Json | undefined, length: number, path: string): Json[] {
    if (!Array.isArray(value) || value.length !== length)
      throw new Error(`${path} takes ${length} arguments`);
    return value;
  }

  private string(value: Json | undefined, path: string): string {
    const result = value === undefined ? undefined : this.evaluate(value, path);
    if (typeof result !== 'string') throw new Error(`${path} must be a string`);
    return result;
  }

  evaluate(value: Json, path: string): Value {
    if (Array.isArray(value)) {
      return value
        .map((item, index) => this.evaluate(item, `${path}[${index}]`))
        .filter((item): item is Json => item !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const [fn] = keys;
    if (
      keys.length === 1 &&
      fn !== undefined &&
      (fn === 'Ref' || fn === 'Condition' || fn.startsWith('Fn::'))
    ) {
      return this.intrinsic(fn, value[fn] ?? null, `${path}.${fn}`);
    }
    const entries: [string, Json][] = [];
    for (const [key, item] of Object.entries(value)) {
      const result = this.evaluate(item, `${path}.${key}`);
      if (result !== NO_VALUE) entries.push([key, result]);
    }
    return Object.fromEntries(entries);
  }

  private intrinsic(fn: string, args: Json, path: string): Value {
    switch (fn) {
      case 'Ref':
        if (typeof args !== 'string') throw new Error(`${path} takes a name`);
        return this.ref(args, path);
      case 'Condition':
        if (typeof args !== 'string') throw new Error(`${path} takes a condition name`);
        return this.condition(args);
      case 'Fn::Sub': {
        if (typeof args === 'string') return this.sub(args, {}, path);
        const [text, variables] = this.list(args, 2, path);
        if (typeof text !== 'string' || !isObject(variables))
          throw new Error(`${path} takes [text, {variables}]`);
        const resolved: Record<string, Value> = {};
        for (const [name, item] of Object.entries(variables))
          resolved[name] = this.evaluate(item, `${path}.${name}`);
        return this.sub(text, resolved, path);
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = this.list(args, 2, path);
        if (typeof logicalId !== 'string' || typeof attribute !== 'string')
          throw new Error(`${path} takes [id, attr]`);
        return this.getAtt(logicalId, attribute, path);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = this.list(args, 3, path);
        if (typeof condition !== 'string') throw new Error(`${path} takes a condition name first`);
        return this.condition(condition)
          ? this.evaluate(whenTrue ?? null, `${path}[1]`)
          : this.evaluate(whenFalse ?? null, `${path}[2]`);
      }
      case 'Fn::Equals': {
        const [left, right] = this.list(args, 2, path).map((item, index) =>
          this.evaluate(item, `${path}[${index}]`),
        );
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !this.boolean(this.list(args, 1, path)[0] ?? null, `${path}[0]`);
      case 'Fn::And':
      case 'Fn::Or': {
        if (!Array.isArray(args) || args.length < 2 || args.length > 10)
          throw new Error(`${path} takes 2 to 10 conditions`);
        const results = args.map((item, index) => this.boolean(item, `${path}[${index}]`));
        return fn === 'Fn::And' ? results.every(Boolean) : results.some(Boolean);
      }
      case 'Fn::Join': {
        const [delimiter, items] = this.list(args, 2, path);
        const resolved = this.evaluate(items ?? null, `${path}[1]`);
        if (typeof delimiter !== 'string' || !Array.isArray(resolved))
          throw new Error(`${path} takes [delimiter, list]`);
        return resolved.map((item) => String(item)).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, items] = this.list(args, 2, path);
        const resolved = this.evaluate(items ?? null, `${path}[1]`);
        const item = Array.isArray(resolved) ? resolved[Number(index)] : undefined;
        if (item === undefined) throw new Error(`${path}: index ${String(index)} out of range`);
        return item;
      }
      case 'Fn::Split': {
        const [delimiter, text] = this.list(args, 2, path);
        if (typeof delimiter !== 'string') throw new Error(`${path} takes [delimiter, text]`);
        return this.string(text, `${path}[1]`).split(delimiter);
      }
      default:
        throw new Error(`${path}: unsupported function ${fn}`);
    }
  }
}

/** What one stack instance of the template creates, with every intrinsic function resolved. */
export function renderStack(template: Template, stack: StackInstance): RenderedStack {
  const renderer = new Renderer(template, stack);
  const conditions = Object.fromEntries(
    Object.keys(template.Conditions).map((name) => [name, renderer.condition(name)]),
  );
  const resources = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Condition === undefined || renderer.condition(resource.Condition))
    .map(([logicalId, resource]) => ({
      logicalId,
      Type: resource.Type,
      Properties: objectAt(
        present(renderer.evaluate(resource.Properties, `Resources.${logicalId}.Properties`), logicalId),
        `Resources.${logicalId}.Properties`,
      ),
    }));
  return { conditions, resources };
}

/** The AssertDescription of every Rules assertion that fails for these parameter values (none: CloudFormation accepts them). */
export function failingRuleAssertions(template: Template, stack: StackInstance): string[] {
  const renderer = new Renderer(template, stack);
  return Object.entries(template.Rules).flatMap(([name, rule]) => {
    if (
      rule.RuleCondition !== undefined &&
      !renderer.boolean(rule.RuleCondition, `Rules.${name}.RuleCondition`)
    ) {
      return [];
    }
    const assertions = Array.isArray(rule.Assertions) ? rule.Assertions : [];
    return assertions.flatMap((assertion, index) => {
      const { Assert, AssertDescription } = objectAt(assertion, `Rules.${name}.Assertions[${index}]`);
      if (Assert === undefined) throw new Error(`Rules.${name}.Assertions[${index}] has no Assert`);
      return renderer.boolean(Assert, `Rules.${name}.Assertions[${index}]`)
        ? []
        : [String(AssertDescription)];
    });
  });
}

/** The ARN of every named resource one stack instance creates (roles, queues, rules). */
export function createdArns(
  template: Template,
  stack: StackInstance,
): { logicalId: string; Type: string; arn: string }[] {
  const renderer = new Renderer(template, stack);
  return renderStack(template, stack).resources.flatMap(({ logicalId, Type }) =>
    ['AWS::IAM::Role', 'AWS::SQS::Queue', 'AWS::Events::Rule'].includes(Type)
      ? [{ logicalId, Type, arn: renderer.arn(logicalId) }]
      : [],
  );
}
