// The arrows of DESIGN.md, kept by a test over the import graph: event → functions → lib/http → lib/services →
// lib/domain, lib/ports ← lib/adapters → AWS. Every import and export-from of every .ts file under lib/ and functions/
// is read with a regular expression (type-only imports count too: a type names what a layer may know).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';

interface Import {
  /** The importing file, relative to the project root. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** A project file (relative to the root) for a relative specifier; the specifier itself for a package. */
  target: string;
}

/** `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`. */
const SPECIFIER = /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function tsFiles(directory: string): string[] {
  return readdirSync(join(PROJECT_ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const source = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  return [...source.matchAll(SPECIFIER)].map((match) => {
    const specifier = match[1] ?? match[2] ?? match[3];
    const target = specifier.startsWith('.') ? relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(file), specifier)) : specifier;
    return { file, specifier, target };
  });
}

const ALL = ['lib', 'functions'].flatMap(tsFiles).flatMap(importsOf);

const under = (prefix: string) => (path: string) => path.startsWith(`${prefix}/`);
const isProjectFile = (target: string) => !/^(node:|@|[a-z])/.test(target) || /^(lib|functions|local|test|cli|bench|scripts)\//.test(target);
const isAwsMiddyOrPowertools = (target: string) => /^(@aws-sdk\/|@aws-lambda-powertools\/|@middy\/|aws-lambda$|aws-sdk$)/.test(target);

interface Rule {
  /** Which importing files the rule is about. */
  files: (file: string) => boolean;
  /** True for an import the rule forbids. */
  forbids: (target: string) => boolean;
}

const RULES: Record<string, Rule> = {
  // The domain is pure: it reaches nothing outward, not even the ports, and no AWS, middy or Powertools package.
  'lib/domain imports only lib/domain and pure libraries': {
    files: under('lib/domain'),
    forbids: (target) => (isProjectFile(target) && !under('lib/domain')(target)) || isAwsMiddyOrPowertools(target),
  },
  // Ports speak the domain: they may name its types and each other, nothing else of the project.
  'lib/ports imports only lib/domain and lib/ports': {
    files: under('lib/ports'),
    forbids: (target) => (isProjectFile(target) && !under('lib/domain')(target) && !under('lib/ports')(target)) || isAwsMiddyOrPowertools(target),
  },
  // Use cases see ports only: never an adapter (a sort key, a client) or HTTP.
  'lib/services imports no adapter and nothing of lib/http': {
    files: under('lib/services'),
    forbids: (target) => under('lib/adapters')(target) || under('lib/http')(target),
  },
  'lib/http imports no adapter (the composition roots hand it the stores)': {
    files: under('lib/http'),
    forbids: under('lib/adapters'),
  },
  'lib/adapters imports no service and nothing of lib/http': {
    files: under('lib/adapters'),
    forbids: (target) => under('lib/services')(target) || under('lib/http')(target),
  },
  // The AWS SDK is the adapters' alone; the composition roots (functions/*.ts) reach it through them.
  'only lib/adapters imports @aws-sdk': {
    files: (file) => !under('lib/adapters')(file),
    forbids: (target) => target.startsWith('@aws-sdk/'),
  },
};

describe('the import graph', () => {
  it('is read from every file under lib/ and functions/', () => {
    expect(ALL.length).toBeGreaterThan(200);
    expect(new Set(ALL.map((i) => i.file.split('/')[1])).size).toBeGreaterThan(5);
    // The reader sees type-only, multi-line and dynamic imports as well as export-from.
    expect(ALL).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'lib/services/admin/trust-service.ts', target: 'lib/domain/push-certificate.ts' }),
        expect.objectContaining({ file: 'lib/domain/settings.ts', target: 'lib/domain/settings-requirements.ts' }),
        expect.objectContaining({ file: 'lib/adapters/dynamodb/config-store.ts', target: 'lib/ports/config-store.ts' }),
      ]),
    );
  });

  it.each(Object.entries(RULES))('%s', (_rule, { files, forbids }) => {
    const broken = ALL.filter((i) => files(i.file) && forbids(i.target)).map((i) => `${i.file} imports ${i.specifier}`);
    expect(broken).toEqual([]);
  });
});
