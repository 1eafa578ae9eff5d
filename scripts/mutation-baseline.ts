// `npm run mutation:baseline [-- --resume]`: the whole mutation run of lib/domain, made in groups of files, merged
// into the incremental report that `npm run mutation` starts from (mutation/stryker-incremental.json).
//
// The whole run takes hours on two cores (docs/testing.md, "The whole run"), so it is made once per change of the
// baseline, not per test run: one Stryker run per group of files, one after another, each keeping its own report
// (a group that finished is not lost when a later one is stopped; `--resume` skips the groups whose report
// exists). The groups' reports are then merged: their mutants are disjoint, and a test is the same test in every
// group that ran it (Stryker numbers tests per run, so each is renumbered by its file and name).
//
// `npm run mutation` then reads the merged report and retests only the mutants whose code changed, or whose
// covering tests were added or changed since, and prints the table of every file of lib/domain.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

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

function runGroup(name: string, files: string[]): void {
  const report = `${GROUP_REPORTS}/${name}.json`;
  if (process.argv.includes('--resume') && existsSync(report)) {
    console.log(`${name}: kept from an earlier run (${report})`);
    return;
  }
  const mutate = files.map((file) => `lib/domain/${file}.ts`).join(',');
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', '--incremental', '--force', '--incrementalFile', report, '--mutate', mutate], {
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error(`the mutation run of ${name} ended with exit code ${run.status}`);
  console.log(`${name}: ${Math.round((Date.now() - started) / 1000)} s`);
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
  for (const [name, files] of Object.entries(MUTATION_GROUPS)) runGroup(name, files);
  const reports = Object.keys(MUTATION_GROUPS).map((name) => JSON.parse(readFileSync(`${GROUP_REPORTS}/${name}.json`, 'utf8')) as Report);
  mkdirSync('mutation', { recursive: true });
  writeFileSync(BASELINE, JSON.stringify(mergeReports(reports), null, 2));
  console.log(`${BASELINE}: the merged report of ${reports.length} groups; npm run mutation starts from it`);
}
