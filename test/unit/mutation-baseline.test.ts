// The merge of the mutation baseline's groups (scripts/mutation-baseline.ts): Stryker numbers tests per run, so the
// same test has another id in each group's report; the merged report must still name, for every mutant, the tests
// that covered and killed it, or `npm run mutation` would retest (or wrongly reuse) it.
import { describe, expect, it } from 'vitest';
import { MUTATION_GROUPS, mergeReports } from '../../scripts/mutation-baseline.ts';

const test = (id: string, name: string) => ({ id, name });

describe('the mutation baseline', () => {
  it('renumbers each test once across groups and keeps every mutant its covering and killing tests', () => {
    const first = {
      schemaVersion: '1.0',
      files: { 'lib/domain/a.ts': { source: 'a', mutants: [{ id: '1', coveredBy: ['0', '1'], killedBy: ['1'] }] } },
      testFiles: { 'test/unit/a.test.ts': { source: 'ta', tests: [test('0', 'a reads'), test('1', 'a refuses')] } },
    };
    const second = {
      schemaVersion: '1.0',
      files: { 'lib/domain/b.ts': { source: 'b', mutants: [{ id: '1', coveredBy: ['0', '7'], killedBy: ['7'] }, { id: '2', coveredBy: [], killedBy: [] }] } },
      testFiles: {
        // the same test as the first group's '1', numbered 0 here
        'test/unit/a.test.ts': { source: 'ta', tests: [test('0', 'a refuses')] },
        'test/unit/b.test.ts': { source: 'tb', tests: [test('7', 'b refuses')] },
      },
    };
    const merged = mergeReports([first, second]);
    expect(merged.testFiles).toEqual({
      'test/unit/a.test.ts': { source: 'ta', tests: [test('0', 'a reads'), test('1', 'a refuses')] },
      'test/unit/b.test.ts': { source: 'tb', tests: [test('2', 'b refuses')] },
    });
    expect(merged.files['lib/domain/a.ts']!.mutants).toEqual([{ id: '1', coveredBy: ['0', '1'], killedBy: ['1'] }]);
    expect(merged.files['lib/domain/b.ts']!.mutants).toEqual([
      { id: '1', coveredBy: ['1', '2'], killedBy: ['2'] },
      { id: '2', coveredBy: [], killedBy: [] },
    ]);
    expect(merged.schemaVersion).toBe('1.0');
  });

  it("leaves out a group's tests of another version of a test file, so that what they killed is retested", () => {
    const older = {
      files: { 'lib/domain/a.ts': { mutants: [{ id: '1', coveredBy: ['0'], killedBy: ['0'] }] } },
      testFiles: { 'test/unit/a.test.ts': { source: 'expect(a).toBe(1)', tests: [test('0', 'a reads')] } },
    };
    // the same test, since weakened: the mutant the older version killed must not be credited to it
    const newer = {
      files: { 'lib/domain/b.ts': { mutants: [{ id: '1', coveredBy: ['0', '1'], killedBy: ['1'] }, { id: '2', coveredBy: ['0'], killedBy: ['0'] }] } },
      testFiles: {
        'test/unit/a.test.ts': { source: 'expect(a).toBeDefined()', tests: [test('0', 'a reads')] },
        'test/unit/b.test.ts': { source: 'expect(b).toBe(2)', tests: [test('1', 'b reads')] },
      },
    };
    const merged = mergeReports([older, newer]);
    expect(merged.testFiles!['test/unit/a.test.ts']).toEqual({ source: 'expect(a).toBe(1)', tests: [test('0', 'a reads')] });
    expect(merged.files['lib/domain/a.ts']!.mutants).toEqual([{ id: '1', coveredBy: ['0'], killedBy: ['0'] }]);
    expect(merged.files['lib/domain/b.ts']!.mutants).toEqual([
      { id: '1', coveredBy: ['1'], killedBy: ['1'] },
      { id: '2', coveredBy: [], killedBy: [] },
    ]);
  });

  it('refuses two groups that mutated the same file', () => {
    const report = { files: { 'lib/domain/a.ts': { mutants: [] } }, testFiles: {} };
    expect(() => mergeReports([report, report])).toThrow('lib/domain/a.ts is in two groups');
  });

  it('has a group for every file of lib/domain that is mutated', async () => {
    const { readdirSync } = await import('node:fs');
    const mutated = readdirSync('lib/domain', { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.startsWith('generated'))
      .map((file) => file.replace(/\.ts$/, '').replace(/^rules\/.*/, 'rules/*'));
    expect(new Set(Object.values(MUTATION_GROUPS).flat())).toEqual(new Set(mutated));
  });
});
