// Runs `osls package` offline on a private copy of the project and reads what it generated: the CloudFormation
// template and the function zips. The copy keeps concurrent runs (other test files, a developer's own
// `npm run package`) from sharing serverless-esbuild's .esbuild work folder or the project's .serverless folder.
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { readZip } from './zip.ts';

const execFileAsync = promisify(execFile);

const OSLS_BIN = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
/**
 * Top-level entries not copied: dependencies (linked instead), build output, and folders no function bundles.
 * Dot entries (.git, .data, .serverless, .esbuild) are skipped too.
 */
const NOT_COPIED = new Set(['node_modules', 'coverage', 'dist', 'bench', 'test', 'docs', 'cli', 'scripts']);

export interface PackagedService {
  stage: string;
  params: Record<string, string>;
  template: CfnTemplate;
  /** Function artifacts by function name (checkin, admin, …): entry name → bytes. */
  artifacts: Map<string, Map<string, Buffer>>;
  /** Wall time of the osls run, in ms. */
  elapsedMs: number;
  output: string;
}

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties?: Record<string, any>;
}

export interface CfnTemplate {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, any>;
}

/** Temporary folders made by packageService, removed by cleanupPackages(). */
const workDirs: string[] = [];

/**
 * `osls package --stage <stage> --package <tmp> --param=name=value…` with dummy AWS credentials and no AWS
 * configuration, in a temporary copy of the project. Packaging never calls AWS; the dummy credentials only keep
 * osls from looking for real ones (a network call to the instance metadata service, which is disabled too).
 */
export async function packageService(stage: string, params: Record<string, string> = {}): Promise<PackagedService> {
  const work = await mkdtemp(join(tmpdir(), 'tollgate-package-'));
  workDirs.push(work);
  const service = join(work, 'service');
  const out = join(work, 'out');
  await cp(PROJECT_ROOT, service, {
    recursive: true,
    filter: (source) => {
      const top = relative(PROJECT_ROOT, source).split(sep)[0];
      return top === '' || (!top.startsWith('.') && !NOT_COPIED.has(top));
    },
  });
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(service, 'node_modules'), 'dir');

  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && !name.startsWith('SLS_') && !name.startsWith('SERVERLESS_')) env[name] = value;
  }
  Object.assign(env, {
    HOME: work, // osls keeps its own settings under the home folder: not the developer's
    AWS_ACCESS_KEY_ID: 'AKIAOFFLINEPACKAGING0',
    AWS_SECRET_ACCESS_KEY: 'offline-packaging-needs-no-real-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    CI: 'true',
    FORCE_COLOR: '0',
  });

  const args = [OSLS_BIN, 'package', '--stage', stage, '--package', out];
  for (const [name, value] of Object.entries(params)) args.push(`--param=${name}=${value}`);
  // Proof of "offline" where the machine allows it: no network interface but loopback in the osls process.
  const [command, commandArgs] = canIsolateNetwork() ? ['unshare', ['-rn', process.execPath, ...args]] : [process.execPath, args];
  const started = performance.now();
  let output: string;
  try {
    const result = await execFileAsync(command, commandArgs, { cwd: service, env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });
    output = `${result.stdout}${result.stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new OslsPackageError(`osls package --stage ${stage} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, `${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const elapsedMs = performance.now() - started;

  const template = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
  const artifacts = new Map<string, Map<string, Buffer>>();
  for (const file of await readdir(out)) {
    if (file.endsWith('.zip')) artifacts.set(file.slice(0, -'.zip'.length), readZip(await readFile(join(out, file))));
  }
  return { stage, params, template, artifacts, elapsedMs, output };
}

/** `osls package` exited with an error; `output` is what it printed. */
export class OslsPackageError extends Error {
  override name = 'OslsPackageError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * Packages with parameters that must be refused, and returns the lines osls printed after "Error:" (the refusal).
 * Fails when packaging succeeds, or fails some other way than with an error message.
 */
export async function packagingRefusal(stage: string, params: Record<string, string>): Promise<string[]> {
  try {
    await packageService(stage, params);
  } catch (error) {
    if (!(error instanceof OslsPackageError)) throw error;
    // The message is the paragraph after "Error:" (osls writes it to stdout, its banner to stderr).
    const match = /^Error:\n([\s\S]*?)(?:\n\s*\n|$)/m.exec(error.output);
    if (!match) throw error;
    return match[1].split('\n').map((line) => line.trim()).filter(Boolean);
  }
  throw new Error(`osls package --stage ${stage} with ${JSON.stringify(params)} was not refused`);
}

let networkIsolation: boolean | undefined;

/** True where `unshare -rn` works (Linux with unprivileged user namespaces, or root). */
export function canIsolateNetwork(): boolean {
  networkIsolation ??= process.platform === 'linux' && spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' }).status === 0;
  return networkIsolation;
}

export async function cleanupPackages(): Promise<void> {
  if (process.env.TOLLGATE_KEEP_PACKAGE) {
    console.log(`Kept packaged output in ${workDirs.join(', ')}`);
    return;
  }
  await Promise.all(workDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

// ------------------------------------------------------------------------------------------------------------------
// Conditions. After packaging, every ${param:…} is a literal, so each condition is a comparison of literals; these
// helpers compute them and give the template as CloudFormation would deploy it with those parameters.

export function evaluateConditions(template: CfnTemplate): Record<string, boolean> {
  const definitions = template.Conditions ?? {};
  const values: Record<string, boolean> = {};
  const evaluate = (expression: any): boolean => {
    if (expression && typeof expression === 'object') {
      if ('Condition' in expression) return condition(expression.Condition);
      if ('Fn::Equals' in expression) {
        const [a, b] = expression['Fn::Equals'].map(literal);
        return a === b;
      }
      if ('Fn::Not' in expression) return !evaluate(expression['Fn::Not'][0]);
      if ('Fn::And' in expression) return expression['Fn::And'].every(evaluate);
      if ('Fn::Or' in expression) return expression['Fn::Or'].some(evaluate);
    }
    throw new Error(`Unsupported condition expression ${JSON.stringify(expression)}`);
  };
  const condition = (name: string): boolean => {
    if (!(name in definitions)) throw new Error(`Unknown condition ${name}`);
    values[name] ??= evaluate(definitions[name]);
    return values[name];
  };
  for (const name of Object.keys(definitions)) condition(name);
  return values;
}

function literal(value: unknown): string {
  if (value !== null && typeof value === 'object') throw new Error(`Condition operand is not a literal: ${JSON.stringify(value)}`);
  return String(value);
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The template with Fn::If resolved, AWS::NoValue dropped, and resources and outputs whose condition is false removed. */
export function deployedView(template: CfnTemplate): CfnTemplate {
  const conditions = evaluateConditions(template);
  const resolve = (value: any): any => {
    if (Array.isArray(value)) return value.map(resolve).filter((v) => v !== NO_VALUE);
    if (value && typeof value === 'object') {
      if ('Fn::If' in value) {
        const [name, whenTrue, whenFalse] = value['Fn::If'];
        if (!(name in conditions)) throw new Error(`Fn::If on unknown condition ${name}`);
        return resolve(conditions[name] ? whenTrue : whenFalse);
      }
      if (value.Ref === 'AWS::NoValue') return NO_VALUE;
      const result: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) {
        const resolved = resolve(inner);
        if (resolved !== NO_VALUE) result[key] = resolved;
      }
      return result;
    }
    return value;
  };
  const keep = <T extends { Condition?: string }>(entries: Record<string, T>) =>
    Object.fromEntries(Object.entries(entries).filter(([, entry]) => entry.Condition === undefined || conditions[entry.Condition]));
  return {
    Resources: resolve(keep(template.Resources)),
    Outputs: resolve(keep(template.Outputs ?? {})),
  };
}

/** "X.Arn" for Fn::GetAtt [X, Arn], "X" for Ref X, the text of Fn::Sub; anything else as JSON. */
export function describeReference(value: unknown): string {
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if (v['Fn::GetAtt']) return Array.isArray(v['Fn::GetAtt']) ? v['Fn::GetAtt'].join('.') : String(v['Fn::GetAtt']);
    if (v.Ref) return String(v.Ref);
    if (typeof v['Fn::Sub'] === 'string') return `Sub(${v['Fn::Sub']})`;
  }
  return JSON.stringify(value);
}

/** The logical ids a reference names (GetAtt, Ref, ${X} / ${X.Attr} in Fn::Sub); AWS:: pseudo parameters excluded. */
export function referencedLogicalIds(value: unknown): string[] {
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if (v['Fn::GetAtt']) return [Array.isArray(v['Fn::GetAtt']) ? v['Fn::GetAtt'][0] : String(v['Fn::GetAtt']).split('.')[0]];
    if (v.Ref) return String(v.Ref).startsWith('AWS::') ? [] : [String(v.Ref)];
    if (typeof v['Fn::Sub'] === 'string') {
      return [...v['Fn::Sub'].matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1].split('.')[0]).filter((id) => !id.startsWith('AWS::'));
    }
  }
  return [];
}
