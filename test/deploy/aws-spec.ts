// Checks a CloudFormation template against AWS's own resource specification (@aws-cdk/aws-service-spec, the
// database the CDK generates its L1 constructs from): every resource type exists, every property exists and has the
// type the specification gives it, and every required property is present. Intrinsic functions (Ref, Fn::*) are
// not evaluated: a value computed by one is taken as right, whatever it resolves to.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { CfnTemplate } from './osls-package.ts';

type SpecDatabase = Awaited<ReturnType<typeof loadAwsServiceSpec>>;
// The database's resource entity, as far as this check reads it.
interface Resource {
  properties: Record<string, PropertySpec>;
}
type PropertyType =
  | { type: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: PropertyType }
  | { type: 'union'; types: PropertyType[] };
interface PropertySpec {
  type: PropertyType;
  required?: boolean;
}

/** One disagreement: the resource's logical id and type, the property path (`Code.S3Bucket`, `Tags[0]`) and what is wrong. */
export interface SpecProblem {
  resource: string;
  type: string;
  property?: string;
  problem: string;
}

let database: Promise<SpecDatabase> | undefined;
/** The specification database, loaded once per test file (≈ 3 s). */
export const awsServiceSpec = (): Promise<SpecDatabase> => (database ??= loadAwsServiceSpec());

/** `{ Ref }`, `{ Fn::… }` and `{ Condition }` (inside Fn::If/And/Or): values CloudFormation computes. */
function isIntrinsic(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function describeType(type: PropertyType, db: SpecDatabase): string {
  switch (type.type) {
    case 'ref':
      return (db.get('typeDefinition', type.reference.$ref) as { name: string }).name;
    case 'array':
      return `list of ${describeType(type.element, db)}`;
    case 'map':
      return `map of ${describeType(type.element, db)}`;
    case 'union':
      return type.types.map((t) => describeType(t, db)).join(' or ');
    default:
      return type.type;
  }
}

/** Problems of `value` against `type` at `path` (empty when it fits). */
function checkValue(value: unknown, type: PropertyType, path: string, db: SpecDatabase): { property: string; problem: string }[] {
  if (isIntrinsic(value)) return [];
  const wrong = () => [{ property: path, problem: `is ${JSON.stringify(value)?.slice(0, 80)}, the specification wants ${describeType(type, db)}` }];
  switch (type.type) {
    // CloudFormation passes scalars on as strings: a number or boolean where a string is wanted is fine.
    case 'string':
    case 'date-time':
      return ['string', 'number', 'boolean'].includes(typeof value) ? [] : wrong();
    case 'number':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) ? [] : wrong();
    case 'integer':
      return Number.isInteger(typeof value === 'string' && value.trim() !== '' ? Number(value) : value) ? [] : wrong();
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? [] : wrong();
    case 'json':
      return isObject(value) || typeof value === 'string' || Array.isArray(value) ? [] : wrong();
    case 'null':
      return value === null ? [] : wrong();
    case 'tag':
      if (!isObject(value)) return wrong();
      return ['Key', 'Value'].flatMap((field) => (value[field] === undefined ? [{ property: `${path}.${field}`, problem: 'is required and missing' }] : []));
    case 'array':
      if (!Array.isArray(value)) return wrong();
      return value.flatMap((element, index) => checkValue(element, type.element, `${path}[${index}]`, db));
    case 'map':
      if (!isObject(value)) return wrong();
      return Object.entries(value).flatMap(([key, element]) => checkValue(element, type.element, `${path}.${key}`, db));
    case 'union': {
      const outcomes = type.types.map((alternative) => checkValue(value, alternative, path, db));
      return outcomes.some((problems) => problems.length === 0) ? [] : wrong();
    }
    case 'ref': {
      if (!isObject(value)) return wrong();
      const definition = db.get('typeDefinition', type.reference.$ref) as { properties: Record<string, PropertySpec> };
      return checkProperties(value, definition.properties, `${path}.`, db);
    }
  }
}

function checkProperties(values: Record<string, unknown>, specs: Record<string, PropertySpec>, prefix: string, db: SpecDatabase): { property: string; problem: string }[] {
  const problems: { property: string; problem: string }[] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (!Object.hasOwn(specs, name)) problems.push({ property: `${prefix}${name}`, problem: 'is not a property of this type' });
    else problems.push(...checkValue(value, spec.type, `${prefix}${name}`, db));
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && values[name] === undefined) problems.push({ property: `${prefix}${name}`, problem: 'is required and missing' });
  }
  return problems;
}

/** Every disagreement of the template with the specification, resource by resource. */
export function checkTemplateAgainstSpec(template: CfnTemplate, db: SpecDatabase): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type.startsWith('Custom::')) continue; // custom resources have whatever properties their function reads
    const [spec] = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type) as unknown as Resource[];
    if (!spec) {
      problems.push({ resource: logicalId, type: resource.Type, problem: 'is not a resource type of the specification' });
      continue;
    }
    const properties = resource.Properties ?? {};
    if (isIntrinsic(properties)) continue;
    for (const found of checkProperties(properties, spec.properties, '', db)) {
      problems.push({ resource: logicalId, type: resource.Type, ...found });
    }
  }
  return problems;
}

/** One line per problem: `AdminLambdaFunction (AWS::Lambda::Function) MemorySize: is "big", the specification wants integer`. */
export const describeSpecProblem = (p: SpecProblem): string => `${p.resource} (${p.type})${p.property ? ` ${p.property}` : ''}: ${p.problem}`;
