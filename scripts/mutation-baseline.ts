// `npm run mutation:baseline [-- --resume] [-- --groups=a,b]`: the whole mutation run of lib/domain, made in groups
// of files, merged into the incremental report that `npm run mutation` starts from (mutation/stryker-incremental.json).
//
// The whole run takes hours on two cores (docs/testing.md, "The whole run"), so it is made once per change of the
// baseline, not per test run: one Stryker run per group of files, one after another, each keeping its own report
// (a group that finished is not lost when a later one is stopped). `--resume` skips the groups whose report exists,
// or whose files the committed baseline already holds; `--groups=` makes only the groups named and keeps the others'
// results from the baseline. The groups' reports are then merged: their mutants are disjoint, and a test is the same
// test in every group that ran it (Stryker numbers tests per run, so each is renumbered by its file and name).
//
// `npm run mutation` then reads the merged report and retests only the mutants whose code changed, or whose
// covering tests were added or changed since, and prints the table of every file of lib/domain.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** Files of lib/domain, by group: the small rule files together, the certificate code a file or two at a time. */
export const MUTATION_GROUPS: Record<string, string[]> = {
  'rules-and-requests': [
    'evaluate',
    'observations',
    'preview',
    'quote',
    'exemptions',
    'settings-requirements',
    'device-identity',
    'rules/*',
    'base64',
    'bounded-cache',
    'errors',
    'checkin',
    'settings',
    'alerts',
    'imaging',
  ],
  'trust-material-and-name-constraints': ['trust-material', 'name-constraints'],
  'certificate-extensions': ['certificate-extensions'],
  'device-certificates': ['device-certificates'],
  'certificate-path': ['certificate-path'],
  'plain-certificate': ['plain-certificate'],
  'push-certificate': ['push-certificate'],
};

const GROUP_REPORTS = 'reports/mutation/groups';
const BASELINE = 'mutation/stryker-incremental.json';

interface TestDefinition {
  id: string;
  name: string;
  location?: { start: { line: number; column: number } };
}
interface MutantResult {
  coveredBy?: string[];
  killedBy?: string[];
  [field: string]: unknown;
}
interface Report {
  files: Record<string, { mutants: MutantResult[]; [field: string]: unknown }>;
  testFiles?: Record<string, { source?: string; tests: TestDefinition[] }>;
  [field: string]: unknown;
}

/**
 * The group's report: made now when `make`, else kept from an earlier run (its own report or its files in the
 * baseline, whichever is newer); undefined when there is nothing to keep.
 */
function groupReport(name: string, files: string[], make: boolean, baseline: Report | undefined): Report | undefined {
  const report = `${GROUP_REPORTS}/${name}.json`;
  const paths = files.map((file) => `lib/domain/${file}.ts`);
  if (!make) {
    // The newer of the two: a group made by an interrupted baseline run, or the results `npm run mutation` wrote since.
    if (existsSync(report) && (!existsSync(BASELINE) || statSync(report).mtimeMs > statSync(BASELINE).mtimeMs)) {
      console.log(`${name}: kept from an earlier run (${report})`);
      return JSON.parse(readFileSync(report, 'utf8')) as Report;
    }
    const kept = Object.keys(baseline?.files ?? {}).filter((fileName) => paths.some((path) => matchesPath(fileName, path)));
    if (baseline && kept.length > 0) {
      console.log(`${name}: kept from ${BASELINE} (${kept.join(', ')})`);
      return { ...baseline, files: Object.fromEntries(kept.map((fileName) => [fileName, baseline.files[fileName]!])) };
    }
    if (!process.argv.includes('--resume')) return undefined;
  }
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', '--incremental', '--force', '--incrementalFile', report, '--mutate', paths.join(',')], {
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error(`the mutation run of ${name} ended with exit code ${run.status}`);
  console.log(`${name}: ${Math.round((Date.now() - started) / 1000)} s`);
  return JSON.parse(readFileSync(report, 'utf8')) as Report;
}

/** A file of the report against a group's path, where `rules/*` stands for every file of lib/domain/rules. */
function matchesPath(fileName: string, path: string): boolean {
  return path.endsWith('/*.ts') ? fileName.startsWith(path.slice(0, -'*.ts'.length)) && !fileName.slice(path.length - 4).includes('/') : fileName === path;
}

/** One report of every group's mutants, each test numbered once by its file, place and name. */
export function mergeReports(reports: Report[]): Report {
  const testFiles: NonNullable<Report['testFiles']> = {};
  const idByKey = new Map<string, string>();
  const files: Report['files'] = {};
  for (const report of reports) {
    const keyById = new Map<string, string>();
    for (const [fileName, testFile] of Object.entries(report.testFiles ?? {})) {
      const merged = (testFiles[fileName] ??= { source: testFile.source, tests: [] });
      for (const test of testFile.tests) {
        const start = test.location?.start;
        const key = `${fileName}@${start?.line ?? 0}:${start?.column ?? 0}\n${test.name}`;
        keyById.set(test.id, key);
        if (!idByKey.has(key)) {
          idByKey.set(key, String(idByKey.size));
          merged.tests.push({ ...test, id: idByKey.get(key)! });
        }
      }
    }
    const renumber = (ids: string[] | undefined) => ids?.map((id) => idByKey.get(keyById.get(id) ?? '')).filter((id) => id !== undefined);
    for (const [fileName, file] of Object.entries(report.files)) {
      if (files[fileName]) throw new Error(`${fileName} is in two groups`);
      files[fileName] = {
        ...file,
        mutants: file.mutants.map((mutant) => ({ ...mutant, coveredBy: renumber(mutant.coveredBy), killedBy: renumber(mutant.killedBy) })),
      };
    }
  }
  return { ...reports[0], files, testFiles };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(GROUP_REPORTS, { recursive: true });
  const baseline = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, 'utf8')) as Report) : undefined;
  const only = process.argv.find((arg) => arg.startsWith('--groups='))?.slice('--groups='.length).split(',');
  const reports: Report[] = [];
  for (const [name, files] of Object.entries(MUTATION_GROUPS)) {
    const make = only ? only.includes(name) : !process.argv.includes('--resume');
    const report = groupReport(name, files, make, baseline);
    if (report) reports.push(report);
  }
  if (reports.length === 0) throw new Error('no group was made or kept: nothing to merge');
  mkdirSync('mutation', { recursive: true });
  writeFileSync(BASELINE, JSON.stringify(mergeReports(reports), null, 2));
  console.log(`${BASELINE}: the merged report of ${reports.length} groups; npm run mutation starts from it`);
}
