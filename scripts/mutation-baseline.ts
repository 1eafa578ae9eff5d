// `npm run mutation:baseline [-- --resume | --groups=a,b]`: the whole mutation run of lib/domain, made in groups of
// files and merged into the incremental report that `npm run mutation` starts from (mutation/stryker-incremental.json).
//
// The whole run takes hours on two cores (docs/testing.md, "Mutation testing"), so it is made once per change of the
// baseline, not per test run: one Stryker run per group of files, one after another, each keeping its own report in
// reports/mutation/groups/, so that a stopped run loses only the group it was in.
// - no option: every group is made again.
// - `--resume`: continues the last whole run: the groups it finished (their reports are newer than its start) are
//   kept, the others made.
// - `--groups=a,b`: makes the groups named; every other group's results are taken from the committed baseline.
// The reports are then merged (mergeReports): their mutants are disjoint, and a test is the same test in every report
// that ran the same version of its file.
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

function makeGroup(name: string, files: string[]): Report {
  const report = `${GROUP_REPORTS}/${name}.json`;
  const mutate = files.map((file) => `lib/domain/${file}.ts`).join(',');
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', '--incremental', '--force', '--incrementalFile', report, '--mutate', mutate], {
    stdio: 'inherit',
  });
  if (run.status !== 0) throw new Error(`the mutation run of ${name} ended with exit code ${run.status}`);
  console.log(`${name}: ${Math.round((Date.now() - started) / 1000)} s`);
  return readReport(report);
}

/** The group's files as the committed baseline holds them (`rules/*` stands for every file of lib/domain/rules). */
function fromBaseline(baseline: Report, name: string, files: string[]): Report {
  const belongs = (fileName: string) =>
    files.some((file) => (file.endsWith('/*') ? fileName.startsWith(`lib/domain/${file.slice(0, -1)}`) : fileName === `lib/domain/${file}.ts`));
  const kept = Object.keys(baseline.files).filter(belongs);
  if (kept.length === 0) throw new Error(`${BASELINE} holds no file of the group ${name}: make it (--groups=${name})`);
  console.log(`${name}: kept from ${BASELINE}`);
  return { ...baseline, files: Object.fromEntries(kept.map((fileName) => [fileName, baseline.files[fileName]!])) };
}

const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Report;

/** One report of every group's mutants, each test numbered once by its file, place and name. */
export function mergeReports(reports: Report[]): Report {
  const testFiles: NonNullable<Report['testFiles']> = {};
  const idByKey = new Map<string, string>();
  const files: Report['files'] = {};
  for (const report of reports) {
    const keyById = new Map<string, string>();
    for (const [fileName, testFile] of Object.entries(report.testFiles ?? {})) {
      const merged = (testFiles[fileName] ??= { source: testFile.source, tests: [] });
      // Another version of the file: its tests are not those of the merged report, so they are left out, and the
      // mutants they covered or killed are retested by the next run rather than credited to the tests kept.
      if (merged.source !== testFile.source) continue;
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
  const marker = `${GROUP_REPORTS}/.whole-run-started`;
  const resume = process.argv.includes('--resume');
  const only = process.argv.find((arg) => arg.startsWith('--groups='))?.slice('--groups='.length).split(',');
  const unknown = only?.filter((name) => !(name in MUTATION_GROUPS)) ?? [];
  if (unknown.length > 0) throw new Error(`no such group: ${unknown.join(', ')} (groups: ${Object.keys(MUTATION_GROUPS).join(', ')})`);
  if (resume && !existsSync(marker)) throw new Error('no whole run to resume: run npm run mutation:baseline first');
  if (!resume && !only) writeFileSync(marker, new Date().toISOString());
  const baseline = only ? readReport(BASELINE) : undefined;
  // Each report with the time it was made: the newest first in the merge, so that where a test file changed between
  // two reports, the version kept is the one closest to the code as it is now.
  const reports = Object.entries(MUTATION_GROUPS).map(([name, files]): [Report, number] => {
    const report = `${GROUP_REPORTS}/${name}.json`;
    if (only && !only.includes(name)) return [fromBaseline(baseline!, name, files), 0];
    if (resume && existsSync(report) && statSync(report).mtimeMs > statSync(marker).mtimeMs) {
      console.log(`${name}: kept from the run being resumed`);
      return [readReport(report), statSync(report).mtimeMs];
    }
    return [makeGroup(name, files), Date.now()];
  });
  const newestFirst = reports.sort(([, a], [, b]) => b - a).map(([report]) => report);
  mkdirSync('mutation', { recursive: true });
  // Compact: the report is several megabytes (each mutant lists the tests that cover it); Stryker writes it back indented.
  writeFileSync(BASELINE, JSON.stringify(mergeReports(newestFirst)));
  console.log(`${BASELINE}: the merged report of ${reports.length} groups; npm run mutation starts from it`);
}
