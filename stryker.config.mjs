// Mutation testing of the pure domain (npm run mutation; never part of npm test). Stryker changes one operator,
// condition or literal at a time and runs the tests that cover it; a mutant no test notices marks a rule the tests
// cannot see broken. How to run it, the scores, and the survivors left and why: docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The unit tests of the domain and services and the contract suites on the in-memory adapters; no globalSetup, so
  // no DynamoDB Local.
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // Generated code (the JSON-Schema request validators) is not written by hand and has no rules of its own to test.
  // Nothing else is left out: every other file of lib/domain decides a verdict or words one, and a mutant that can
  // only change a message's wording is reported and listed with its reason in docs/testing.md, not hidden here.
  mutate: ['lib/domain/**/*.ts', '!lib/domain/generated/**', '!lib/generated/**', '!**/*.generated.ts'],
  // The sandbox gets the project's own directories and files only: several people work in this tree, and a
  // scratch file that appears and vanishes while Stryker copies the project would break the copy (or be mutated).
  ignorePatterns: [
    '/*',
    ...['lib', 'test', 'functions', 'cli', 'local', 'console', 'bin', 'scripts', 'schemas', 'agent'].map((dir) => `!/${dir}/`),
    ...['package.json', 'tsconfig.json', 'vitest.mutation.config.ts', 'openapi.yaml', 'README.md', 'SECURITY.md', 'serverless.yml'].map(
      (file) => `!/${file}`,
    ),
    '!/docs/',
    '**/zz-*',
    '**/*.tmp.*',
    '**/lint-tmp*',
  ],
  // Each mutant runs only the tests that reached it in the dry run (a name filter), in the files that hold them.
  // That works only as far as fixtures are made inside the hooks and tests that use them, and cached by request
  // (test/support/mutation-fixture-cache.ts): code of lib/ run at a module's top level counts as no test's.
  coverageAnalysis: 'perTest',
  // A static mutant (in code that runs when a module loads: constant tables, regular expressions, defaults) cannot be
  // traced to the tests that cover it, so Stryker reloads everything and runs every related test file for it,
  // certificate fixtures included: ~5% of the mutants, well over half of the time. Left out unless asked for with
  // MUTATION_STATIC=include (see docs/testing.md).
  ignoreStatic: process.env.MUTATION_STATIC !== 'include',
  // Stryker rewrites the tsconfig's `extends` and `references` for its sandbox with TypeScript's JavaScript API
  // (ts.parseConfigFileTextToJson), which the `typescript` package of TypeScript 7 no longer has: the step fails.
  // Our tsconfig.json has neither, so there is nothing to rewrite: point the step at a file that does not exist and
  // it is skipped. The typescript-checker plugin needs that API too, so there is none: a mutant that would not
  // type-check is run like any other (esbuild strips the types), and the tests judge it.
  tsconfigFile: 'no-tsconfig-for-stryker.json',
  // clear-text prints the per-file table and every surviving mutant; html and json land in reports/ (not committed).
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, allowEmojis: false, reportTests: false, reportMutants: true, reportScoreTable: true },
  // Two test runners for the machine's two cores.
  concurrency: 2,
  // A mutant that makes a loop endless is stopped after its tests' usual time plus this (ms); generous, since the
  // openssl-made certificate fixtures take seconds on a busy machine.
  timeoutMS: 10_000,
  // `npm run mutation` (--incremental) starts from the committed report of the last whole run and retests only the
  // mutants whose code changed or whose covering tests were added or changed; it writes the report back, with every
  // file's results. The whole run, in groups: `npm run mutation:baseline` (hours; docs/testing.md).
  incrementalFile: 'mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
