// The body rules of every HTTP function (lib/http/middleware.ts readRequest), and what the middy body parser they
// are not built on does, as measured (the reasons written in middleware.ts): if an upgrade changes that, this says so.
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readRequest } from '../../lib/http/middleware.ts';

function event(body: string | undefined, headers: Record<string, string> = {}, isBase64Encoded = false): APIGatewayProxyEventV2 {
  return { headers, body, isBase64Encoded, requestContext: { requestId: 'r-1', http: { method: 'PUT', path: '/x', sourceIp: '192.0.2.1' } } } as unknown as APIGatewayProxyEventV2;
}

const json = { 'content-type': 'application/json' };

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('readRequest', () => {
  it.each([
    // [case, event, what the contract answers]
    ['malformed JSON', event('{', json), { statusCode: 400, code: 'INVALID_JSON' }],
    ['a body that is not JSON', event('a=1', { 'content-type': 'application/x-www-form-urlencoded' }), { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
    ['a declared length over the limit, before anything is decoded', event('{}', { ...json, 'content-length': '11' }), { statusCode: 413, code: 'PAYLOAD_TOO_LARGE' }],
    ['a body over the limit', event('{"a":"12345"}', json), { statusCode: 413, code: 'PAYLOAD_TOO_LARGE' }],
  ])('refuses %s', (_case, request, answer) => {
    expect(refusal(() => readRequest(request, { maxBodyBytes: 10 }))).toMatchObject(answer);
  });

  it.each([
    // [case, event, parsed body]
    ['JSON with a media type in any case and spacing', event('{"a":1}', { 'content-type': 'Application/JSON ; charset=utf-8' }), { a: 1 }],
    ['a structured +json type', event('{"a":1}', { 'content-type': 'application/merge-patch+json' }), { a: 1 }],
    ['a base64-encoded body', event(Buffer.from('{"a":1}').toString('base64'), json, true), { a: 1 }],
    ['no body, whatever the type', event(undefined, {}), undefined],
    ['an empty body with a JSON type', event('', json), undefined],
  ])('reads %s', (_case, request, parsed) => {
    expect(readRequest(request, { maxBodyBytes: 100 }).json).toEqual(parsed);
  });

  it('keeps the exact bytes (the check-in signature is verified over them)', () => {
    const text = '{ "b": 2,\n  "a": 1 }';
    expect(readRequest(event(text, json), { maxBodyBytes: 100 }).rawBody).toEqual(Buffer.from(text));
  });
});

describe('@middy/http-json-body-parser and http-error-handler 6.4, measured (why readRequest and toErrorResponse stay)', () => {
  async function parse(request: APIGatewayProxyEventV2) {
    let seen: unknown;
    const handler = middy<APIGatewayProxyEventV2>()
      .use(httpJsonBodyParser())
      .handler(async (e) => {
        seen = e.body;
      });
    try {
      await handler(request, {} as never);
      return { seen };
    } catch (error) {
      return { statusCode: (error as { statusCode?: number }).statusCode, message: (error as Error).message };
    }
  }

  it('answers malformed JSON and an empty JSON body with 415, not the contract\'s 400 INVALID_JSON or no body', async () => {
    expect(await parse(event('{', json))).toEqual({ statusCode: 415, message: 'Invalid or malformed JSON was provided' });
    expect(await parse(event('', json))).toEqual({ statusCode: 415, message: 'Invalid or malformed JSON was provided' });
  });

  it('refuses a request without body and type, and media types in another case or spacing', async () => {
    expect(await parse(event(undefined))).toMatchObject({ statusCode: 415 });
    expect(await parse(event('{}', { 'content-type': 'Application/JSON' }))).toMatchObject({ statusCode: 415 });
    expect(await parse(event('{}', { 'content-type': 'application/json ; charset=utf-8' }))).toMatchObject({ statusCode: 415 });
  });

  it('replaces the body with the parsed value, so the bytes a signature covers are gone', async () => {
    expect(await parse(event('{ "a": 1 }', json))).toEqual({ seen: { a: 1 } });
  });

  it('http-error-handler answers an HTTP error with its message as text, without the contract\'s code or request id', async () => {
    const handler = middy()
      .use(httpErrorHandler({ logger: false }))
      .handler(async () => {
        throw Object.assign(new Error('The settings are at version 3'), { statusCode: 412, code: 'PRECONDITION_FAILED' });
      });
    expect(await handler({}, {} as never)).toEqual({ statusCode: 412, headers: { 'Content-Type': 'text/plain' }, body: 'The settings are at version 3' });
  });
});
