// openapi.yaml: it lints clean, describes exactly the routes of serverless.yml, and what `npm run generate` writes
// from schemas/api.ts (its components.schemas, the validators, the served copy) is committed as generated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lint, loadConfig } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_ROUTES } from '../../lib/http/routes.ts';
import { loadServerlessConfig, PROJECT_ROOT } from '../../local/serverless-config.ts';
import { generatedFiles } from '../../scripts/generate-api.ts';
import { COMPONENT_SCHEMAS } from '../../schemas/api.ts';

const OPENAPI_PATH = join(PROJECT_ROOT, 'openapi.yaml');
const document = parse(readFileSync(OPENAPI_PATH, 'utf8'));
const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

/** A route with its path parameters unnamed: `GET /admin/packages/{}`; API Gateway's greedy `{proxy+}` too. */
const routeShape = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`;

describe('openapi.yaml', () => {
  it('lints without a problem under redocly.yaml (recommended rules)', async () => {
    const config = await loadConfig({ configPath: join(PROJECT_ROOT, 'redocly.yaml') });
    const problems = (await lint({ ref: OPENAPI_PATH, config })).filter((problem) => !problem.ignored);
    expect(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  }, 60_000);

  it('describes exactly the HTTP routes of serverless.yml, method by method', () => {
    const fromServerlessYml = loadServerlessConfig()
      .functions.flatMap((fn) => fn.httpRoutes)
      .filter((route) => route.routeKey !== '$default')
      .map((route) => routeShape(route.method, route.path));
    const fromDocument = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.includes(key))
        .map((method) => routeShape(method, path)),
    );
    expect(new Set(fromDocument).size).toBe(fromDocument.length);
    expect([...fromDocument].sort()).toEqual([...fromServerlessYml].sort());
  });

  it('serves itself where the fallback function answers: GET /openapi.json is a known route', () => {
    expect(KNOWN_ROUTES).toContain('GET /openapi.json');
    expect(document.paths['/openapi.json'].get.security).toBeUndefined();
    expect(document.security).toEqual([]);
  });

  it('takes every component schema from schemas/api.ts', () => {
    expect(document.components.schemas).toEqual(JSON.parse(JSON.stringify(COMPONENT_SCHEMAS)));
  });

  it('documents every status an operation answers with a body of a described schema, or none for 204 and 301', () => {
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const method of Object.keys(item).filter((key) => HTTP_METHODS.includes(key))) {
        for (const [status, response] of Object.entries(item[method].responses as Record<string, any>)) {
          const resolved = response.$ref ? document.components.responses[response.$ref.split('/').pop()] : response;
          expect(resolved, `${method} ${path} ${status}`).toBeDefined();
          expect(resolved.content === undefined, `${method} ${path} ${status}`).toBe(status === '204' || status === '301');
        }
      }
    }
  });
});

describe('generated files', () => {
  it.each(Object.entries(generatedFiles()))('%s is as `npm run generate` writes it', (path, expected) => {
    expect(readFileSync(join(PROJECT_ROOT, path), 'utf8') === expected, `${path} is out of date: run npm run generate`).toBe(true);
  });

  it('the validators need no ajv runtime: the generated module imports nothing', () => {
    const code = readFileSync(join(PROJECT_ROOT, 'lib/domain/generated/validators.js'), 'utf8');
    expect(code).not.toMatch(/\brequire\(|^import /m);
  });
});

describe('bundles', () => {
  it('the check-in function bundles the generated validators and no ajv', async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [join(PROJECT_ROOT, 'functions/check-in.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('lib/domain/generated/validators.js');
    expect(inputs.filter((input) => input.includes('node_modules/ajv'))).toEqual([]);
  }, 60_000);
});
