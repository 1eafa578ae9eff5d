// The check-in bundle's cold start: what it evaluates when Lambda imports it. Two parts are counted apart from the
// bundle's size (bench/RESULTS.md, docs/decisions.md) because they are not run at import: the SSM client, run only
// when a parameter must be read (TRUSTED_PROXY_SECRET_PARAMETER), and the ASN.1 parser, run only on the first
// certificate not seen before. This file pins both, on the bundle `osls package` zips: esbuild's metafile of the same
// build (bench/bundle.ts) shows how each is reached, and importing the packaged bundle under V8's coverage shows
// which of their functions ran.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleMeasure, buildCheckinBundle, modulesEvaluatedAtImport, removeBundle } from '../../bench/bundle.ts';
import { cleanupPackages, packageService } from './osls-package.ts';

const ENTRY = 'functions/check-in.ts';
const SSM_CLIENT = /^node_modules\/@aws-sdk\/client-ssm\//;
const ASN1_PARSER = /^node_modules\/(asn1js|pvtsutils|pvutils|@peculiar\/[^/]+)\//;

/** The packaged check-in bundle, written out with its source map so that a fresh process can import it. */
let packagedFile: string;
let packagedSources: string[];
let workDir: string;
/** The same build with esbuild's metafile (serverless.yml's custom.esbuild and its plugins, as serverless-esbuild gives them). */
let built: BundleMeasure;

beforeAll(async () => {
  const prod = await packageService('prod', { adminTokensParameter: '/tollgate/prod/admin-tokens' });
  const artifact = prod.artifacts.get('checkin')!;
  workDir = await mkdtemp(join(tmpdir(), 'tollgate-bundle-test-'));
  packagedFile = join(workDir, 'check-in.mjs');
  await writeFile(packagedFile, artifact.get('functions/check-in.mjs')!);
  const map = artifact.get('functions/check-in.mjs.map')!;
  await writeFile(`${packagedFile}.map`, map);
  packagedSources = (JSON.parse(map.toString('utf8')) as SourceMapPayload).sources.map(projectPath);
  built = await buildCheckinBundle(ENTRY);
}, 300_000);

afterAll(async () => {
  if (built) removeBundle(built);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await cleanupPackages();
});

describe('the check-in bundle bench/bundle.ts measures', () => {
  it('is the one osls packages: the same source files', () => {
    const output = Object.values(built.metafile.outputs).find((o) => o.entryPoint)!;
    const measured = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path);
    expect([...new Set(packagedSources)].sort()).toEqual(measured.sort());
  });
});

describe('the check-in bundle reaches the SSM client and the ASN.1 parser only from code run later, never at import', () => {
  // name, the part's modules, the edges from code evaluated at import into the part (what loads it, and how)
  it.each([
    ['the SSM client', SSM_CLIENT, /^lib\/adapters\/ssm-client\.ts$/, [{ from: 'lib/adapters/ssm.ts', to: 'lib/adapters/ssm-client.ts', kind: 'dynamic-import' }]],
    [
      'the ASN.1 parser',
      ASN1_PARSER,
      ASN1_PARSER,
      [
        { from: 'lib/domain/certificate-extensions.ts', to: 'node_modules/@peculiar/asn1-schema/build/es2015/index.js', kind: 'require-call' },
        { from: 'lib/domain/certificate-extensions.ts', to: 'node_modules/@peculiar/asn1-x509/build/es2015/index.js', kind: 'require-call' },
      ],
    ],
  ] as const)('%s', (_name, modules, entryModules, edges) => {
    const evaluated = modulesEvaluatedAtImport(built.metafile, ENTRY);
    expect([...evaluated].filter((path) => modules.test(path) || entryModules.test(path))).toEqual([]);
    expect(edgesInto(built.metafile, evaluated, entryModules)).toEqual(edges);
    // The part is in the bundle (so the checks above look at real modules).
    expect(Object.keys(built.metafile.inputs).filter((path) => modules.test(path)).length).toBeGreaterThan(0);
  });
});

describe('importing the packaged check-in bundle in a fresh process', () => {
  let ssm: Server;
  let ssmRequests: { target: string | undefined; body: unknown }[];
  const PARAMETER = '/tollgate/prod/trusted-proxy-secret';

  beforeAll(async () => {
    ssmRequests = [];
    // Stands in for SSM's GetParameter: the one call check-in makes when it reads its parameter.
    ssm = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        ssmRequests.push({ target: request.headers['x-amz-target'] as string | undefined, body: JSON.parse(body) });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ Parameter: { Name: PARAMETER, Type: 'SecureString', Value: 'a-proxy-secret-of-forty-two-characters-xx', Version: 1 } }));
      });
    });
    await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => ssm.close(resolve));
  });

  const ssmEndpoint = () => `http://127.0.0.1:${(ssm.address() as { port: number }).port}`;

  it('without TRUSTED_PROXY_SECRET_PARAMETER runs no function of the SSM client or of the ASN.1 parser, and reads no parameter', async () => {
    ssmRequests = [];
    const ran = await sourcesRunAtImport(packagedFile, { AWS_ENDPOINT_URL_SSM: ssmEndpoint() });
    expect(ran.filter((source) => SSM_CLIENT.test(source))).toEqual([]);
    expect(ran.filter((source) => ASN1_PARSER.test(source))).toEqual([]);
    expect(ssmRequests).toEqual([]);
    // The coverage does attribute what ran: the handler's own module and the DynamoDB client it makes at import.
    expect(ran).toEqual(expect.arrayContaining(['functions/check-in.ts', 'node_modules/@aws-sdk/client-dynamodb/dist-es/DynamoDBClient.js']));
  });

  it('with TRUSTED_PROXY_SECRET_PARAMETER reads the parameter once, through the SSM client, and still runs no ASN.1 code', async () => {
    ssmRequests = [];
    const ran = await sourcesRunAtImport(packagedFile, {
      AWS_ENDPOINT_URL_SSM: ssmEndpoint(),
      TRUSTED_CLIENT_CERT_HEADER: 'x-client-cert',
      TRUSTED_PROXY_SECRET_PARAMETER: PARAMETER,
    });
    expect(ssmRequests).toEqual([{ target: 'AmazonSSM.GetParameter', body: { Name: PARAMETER, WithDecryption: true } }]);
    expect(ran).toEqual(
      expect.arrayContaining(['node_modules/@aws-sdk/client-ssm/dist-es/SSMClient.js', 'node_modules/@aws-sdk/client-ssm/dist-es/commands/GetParameterCommand.js']),
    );
    expect(ran.filter((source) => ASN1_PARSER.test(source))).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------------------------
// esbuild's metafile (modulesEvaluatedAtImport: what an import statement reaches is evaluated with its importer).

/** The edges from modules evaluated at import to modules matching `target`, each once. */
function edgesInto(metafile: Metafile, evaluated: Set<string>, target: RegExp): { from: string; to: string; kind: string }[] {
  const edges = new Map<string, { from: string; to: string; kind: string }>();
  for (const from of evaluated) {
    for (const { path: to, kind, external } of metafile.inputs[from].imports) {
      if (!external && target.test(to)) edges.set(`${from} ${to} ${kind}`, { from, to, kind });
    }
  }
  return [...edges.values()].sort((a, b) => a.to.localeCompare(b.to));
}

// ------------------------------------------------------------------------------------------------------------------
// V8's coverage of a fresh process that imports the bundle: every function V8 compiled, with how often it ran. A
// function's source is the source-map entry of its first mapped position.

interface SourceMapPayload {
  sources: string[];
  mappings: string;
}

interface ScriptCoverage {
  url: string;
  functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[];
}

/** The sources (project paths) of the bundle's functions that ran while a fresh process imported it, each once. */
async function sourcesRunAtImport(bundle: string, env: Record<string, string>): Promise<string[]> {
  const coverageDir = await mkdtemp(join(tmpdir(), 'tollgate-bundle-coverage-'));
  try {
    const url = pathToFileURL(bundle).href;
    await promisify(execFile)(process.execPath, ['--no-warnings', '--input-type=module', '-e', `await import(${JSON.stringify(url)}); process.exit(0);`], {
      env: {
        PATH: process.env.PATH,
        NODE_V8_COVERAGE: coverageDir,
        CONFIG_TABLE: 'config',
        DECISIONS_TABLE: 'decisions',
        DEVICE_STATUS_TABLE: 'status',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAIMPORTONLY000000',
        AWS_SECRET_ACCESS_KEY: 'no-call-is-made-but-to-the-local-ssm',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        ...env,
      },
      timeout: 60_000,
    });
    const scripts: ScriptCoverage[] = [];
    for (const file of await readdir(coverageDir)) scripts.push(...(JSON.parse(await readFile(join(coverageDir, file), 'utf8')).result as ScriptCoverage[]));
    const script = scripts.find((s) => s.url === url);
    if (!script) throw new Error(`No coverage of ${url}`);
    const code = await readFile(bundle, 'utf8');
    const map = JSON.parse(await readFile(`${bundle}.map`, 'utf8')) as SourceMapPayload;
    const positions = mappedPositions(code, map);
    const ran = new Set<string>();
    for (const fn of script.functions) {
      const { startOffset, endOffset, count } = fn.ranges[0];
      if (startOffset === 0 || count === 0) continue; // the module's top level, or a function that never ran
      const first = firstAtOrAfter(positions, startOffset);
      if (first && first.offset < endOffset) ran.add(projectPath(map.sources[first.source]));
    }
    return [...ran].sort();
  } finally {
    await rm(coverageDir, { recursive: true, force: true });
  }
}

/** "node_modules/…" for a dependency, the path from the project's root for its own files. */
function projectPath(source: string): string {
  const inDependency = source.indexOf('node_modules/');
  return inDependency >= 0 ? source.slice(inDependency) : source.replace(/^(\.\.\/)+/, '');
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Every mapped position of the generated code, as a character offset and a source index, in order. */
function mappedPositions(code: string, map: SourceMapPayload): { offset: number; source: number }[] {
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const positions: { offset: number; source: number }[] = [];
  let source = 0;
  map.mappings.split(';').forEach((line, lineIndex) => {
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      // Base64 VLQ: 5 bits per digit, the sixth says another digit follows; the lowest bit of a value is its sign.
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const digit of segment) {
        const bits = BASE64.indexOf(digit);
        value += (bits & 31) << shift;
        if (bits & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0];
      if (values.length > 1) {
        source += values[1];
        positions.push({ offset: lineStarts[lineIndex] + column, source });
      }
    }
  });
  return positions.sort((a, b) => a.offset - b.offset);
}

function firstAtOrAfter<T extends { offset: number }>(sorted: T[], offset: number): T | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle].offset < offset) low = middle + 1;
    else high = middle;
  }
  return sorted[low];
}
