// The check-in bundle as `osls package` builds it (serverless.yml's custom.esbuild options, given to esbuild the way
// serverless-esbuild gives them), its size read from esbuild's metafile, and the time a fresh process takes to import
// it, against `node -e 0`-like processes started in the same loop.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { PROJECT_ROOT, SERVERLESS_YML } from '../local/serverless-config.ts';

/** serverless-esbuild's own options, which it removes before calling esbuild (the plugins file is loaded apart). */
const NOT_ESBUILD = new Set(['exclude', 'outputFileExtension', 'plugins', 'packager', 'packagerOptions', 'concurrency', 'zipConcurrency', 'nativeZip']);

/** Packages only reached through a lazy `require` on the first certificate that is not cached (the ASN.1 parser). */
const LAZY_PACKAGES = /node_modules\/(asn1js|pvtsutils|pvutils|tslib|@peculiar\/[^/]+)\//;
/** The SSM client's own modules, imported only when a parameter must be read (lib/adapters/ssm-client.ts). */
const SSM_CLIENT = /node_modules\/@aws-sdk\/client-ssm\//;

export interface BundleMeasure {
  dir: string;
  file: string;
  bytes: number;
  mapBytes: number;
  /** Bytes of code evaluated only when the first new certificate is parsed (counted within `bytes`). */
  lazyBytes: number;
  /** Bytes of the SSM client's modules, evaluated only when a parameter is read (counted within `bytes`). */
  ssmBytes: number;
  /** Bytes of the modules evaluated when the bundle is imported (modulesEvaluatedAtImport; counted within `bytes`). */
  atImportBytes: number;
  /** Output bytes per package (or per project folder), largest first. */
  byPackage: [string, number][];
  /** esbuild's metafile of the build: every module, what it imports and how, and its bytes in the output. */
  metafile: Metafile;
}

export async function buildCheckinBundle(entry = 'functions/check-in.ts'): Promise<BundleMeasure> {
  const custom = (parse(readFileSync(SERVERLESS_YML, 'utf8'), { logLevel: 'silent' }) as { custom: { esbuild: Record<string, unknown> } }).custom.esbuild;
  const options = Object.fromEntries(Object.entries(custom).filter(([key]) => !NOT_ESBUILD.has(key))) as BuildOptions;
  // As serverless-esbuild does: the plugins file's exports (the SSM client's ES modules are chosen there).
  const plugins = typeof custom.plugins === 'string' ? (createRequire(import.meta.url)(join(PROJECT_ROOT, custom.plugins)) as Plugin[]) : [];
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-bundle-'));
  const file = join(dir, 'check-in.mjs');
  const result = await build({
    ...options,
    plugins,
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile: file,
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
    logLevel: 'error',
  });
  const metafile = result.metafile as Metafile;
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint)!;
  const byPackage = new Map<string, number>();
  let lazyBytes = 0;
  let ssmBytes = 0;
  let atImportBytes = 0;
  const evaluated = modulesEvaluatedAtImport(metafile, relative(PROJECT_ROOT, join(PROJECT_ROOT, entry)));
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = match ? match[1] : input.split('/').slice(0, 2).join('/');
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    if (LAZY_PACKAGES.test(input)) lazyBytes += bytesInOutput;
    if (SSM_CLIENT.test(input)) ssmBytes += bytesInOutput;
    if (evaluated.has(input)) atImportBytes += bytesInOutput;
  }
  return {
    dir,
    file,
    bytes: output.bytes,
    mapBytes: readFileSync(`${file}.map`).length,
    lazyBytes,
    ssmBytes,
    atImportBytes,
    byPackage: [...byPackage].sort((a, b) => b[1] - a[1]),
    metafile,
  };
}

/**
 * The modules a bundle evaluates when it is imported: the entry and what it reaches through import statements. esbuild
 * wraps a module reached by `import()` or by `require` and evaluates it only when that code runs (the SSM client, the
 * ASN.1 parser, the SDK's event-stream code), so those are left out. Paths as the metafile gives them.
 */
export function modulesEvaluatedAtImport(metafile: Metafile, entry: string): Set<string> {
  const evaluated = new Set([entry]);
  const pending = [entry];
  while (pending.length > 0) {
    for (const imported of metafile.inputs[pending.pop()!].imports) {
      if (imported.external || imported.kind !== 'import-statement' || evaluated.has(imported.path)) continue;
      evaluated.add(imported.path);
      pending.push(imported.path);
    }
  }
  return evaluated;
}

export function removeBundle(bundle: BundleMeasure): void {
  rmSync(bundle.dir, { recursive: true, force: true });
}

export interface ImportTimes {
  /** Per run: importing process minus the bare process started just before it, in ms. */
  wallMs: number[];
  cpuMs: number[];
  bareWallMs: number[];
  bareCpuMs: number[];
}

/**
 * `runs` pairs, interleaved: a bare process (`node --input-type=module -e <print CPU>`), then one that imports the
 * bundle first. Wall time is measured from here; CPU time (user + system, all threads) is what the child reports at
 * its end, which a loaded machine disturbs far less than wall time.
 */
export function measureImport(file: string, runs = 15): ImportTimes {
  const env = {
    ...process.env,
    CONFIG_TABLE: 'bench-config',
    DECISIONS_TABLE: 'bench-decisions',
    DEVICE_STATUS_TABLE: 'bench-status',
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_SERVICE_NAME: 'tollgate',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    TRUSTED_CLIENT_CERT_HEADER: '',
    TRUSTED_PROXY_SECRET_PARAMETER: '',
  };
  const printCpu = 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000));';
  const run = (code: string) => {
    const started = performance.now();
    const child = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const wall = performance.now() - started;
    if (child.status !== 0) throw new Error(`import failed: ${child.stderr.toString()}`);
    return { wall, cpu: Number(child.stdout.toString()) };
  };
  const times: ImportTimes = { wallMs: [], cpuMs: [], bareWallMs: [], bareCpuMs: [] };
  for (let i = 0; i < runs; i += 1) {
    const bare = run(printCpu);
    const loaded = run(`await import(${JSON.stringify(file)}); ${printCpu}`);
    times.bareWallMs.push(bare.wall);
    times.bareCpuMs.push(bare.cpu);
    times.wallMs.push(loaded.wall - bare.wall);
    times.cpuMs.push(loaded.cpu - bare.cpu);
  }
  return times;
}
