// Every answer the end-to-end tests receive, checked against openapi.yaml: the operation of its method and path
// must document its status, and its body must match the schema documented for that status (an empty body where
// none is documented). A request no operation describes must have been answered by the fallback function, 404 or
// 405 in the error shape. A disagreement throws, so the test that saw it fails, naming the route and the problem.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literalSegments: number;
  responses: Record<string, any>;
}

interface ResponseCheck {
  /** The JSON body's validator, when the status documents a JSON body. */
  validate?: ValidateFunction;
  /** Whether the status documents a body at all (of any media type). */
  hasContent: boolean;
  headers: Record<string, ValidateFunction>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete'];

function load() {
  const document = parse(readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true, unicodeRegExp: false });
  // The components under one id, so that the documents' `#/components/…` references resolve from any schema.
  ajv.addSchema({ $id: 'openapi', components: { schemas: document.components.schemas } });
  const anchored = (schema: unknown): any => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const method of Object.keys(item).filter((key) => HTTP_METHODS.includes(key))) {
      // A parameter marked x-greedy is API Gateway's {proxy+}: the rest of the path, empty included.
      const greedy = new Set([...(item.parameters ?? []), ...(item[method].parameters ?? [])].filter((p: any) => p['x-greedy']).map((p: any) => p.name));
      const regex = template.replace(/[.]/g, '\\.').replace(/\{([^}]+)\}/g, (_whole, name: string) => (greedy.has(name) ? '.*' : '[^/]+'));
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${regex}$`),
        literalSegments: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
        responses: item[method].responses,
      });
    }
  }
  // A literal segment beats a parameter, as API Gateway routes.
  operations.sort((a, b) => b.literalSegments - a.literalSegments);

  const checks = new Map<string, ResponseCheck>();
  const checkFor = (operation: Operation, status: string): ResponseCheck | undefined => {
    const key = `${operation.method} ${operation.template} ${status}`;
    if (checks.has(key)) return checks.get(key);
    let response = operation.responses[status];
    if (response === undefined) return undefined;
    if (response.$ref) response = document.components.responses[response.$ref.split('/').pop()];
    const headers: Record<string, ValidateFunction> = {};
    for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, any>)) {
      const resolved = header.$ref ? document.components.headers[header.$ref.split('/').pop()] : header;
      if (resolved.schema) headers[name.toLowerCase()] = ajv.compile(anchored(resolved.schema));
    }
    const jsonContent = response.content?.['application/json'];
    const check: ResponseCheck = { validate: jsonContent ? ajv.compile(anchored(jsonContent.schema)) : undefined, hasContent: response.content !== undefined, headers };
    checks.set(key, check);
    return check;
  };
  const errorShape = ajv.compile({ $ref: 'openapi#/components/schemas/Error' });
  return { operations, checkFor, errorShape, document };
}

let loaded: ReturnType<typeof load> | undefined;

const describeErrors = (validate: ValidateFunction) => (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`).join('; ');

/** Throws when the answer disagrees with openapi.yaml. */
export function checkAgainstOpenApi(method: string, url: string, status: number, headers: Record<string, string>, text: string): void {
  loaded ??= load();
  const path = new URL(url).pathname;
  const route = `${method} ${path} → ${status}`;
  const body = (() => {
    try {
      return text === '' ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  })();
  const operation = loaded.operations.find((op) => (op.method === method || (method === 'HEAD' && op.method === 'GET')) && op.pattern.test(path));
  if (!operation) {
    if ((status !== 404 && status !== 405) || !loaded.errorShape(body)) {
      throw new Error(`openapi.yaml: ${route} has no operation, and the answer is not the fallback's 404/405 error: ${text.slice(0, 300)}`);
    }
    return;
  }
  const documented = loaded.checkFor(operation, String(status));
  if (!documented) throw new Error(`openapi.yaml: ${operation.method} ${operation.template} does not document status ${status} (body ${text.slice(0, 300)})`);
  for (const [name, validate] of Object.entries(documented.headers)) {
    if (headers[name] !== undefined && !validate(headers[name])) throw new Error(`openapi.yaml: ${route}: header ${name} "${headers[name]}" ${describeErrors(validate)}`);
  }
  if (method === 'HEAD') return;
  if (documented.validate) {
    if (!/^application\/json/i.test(headers['content-type'] ?? '')) throw new Error(`openapi.yaml: ${route}: documented as JSON, sent as ${headers['content-type']}`);
    if (!documented.validate(body)) throw new Error(`openapi.yaml: ${route}: the body does not match the documented schema: ${describeErrors(documented.validate)}\n${text.slice(0, 500)}`);
  } else if (!documented.hasContent && text !== '') {
    throw new Error(`openapi.yaml: ${route} documents no body, and one was sent: ${text.slice(0, 200)}`);
  }
}
