// Certificate-based authentication end to end: mutual TLS over HTTPS, the trusted proxy header, signed requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConfigStore } from '../../lib/adapters/dynamodb/config-store.ts';
import { parseDeviceCaBundle } from '../../lib/domain/trust-material.ts';
import { localDynamoDbClient } from '../../local/dynamodb-local.ts';
import type { LocalStack } from '../../local/stack.ts';
import {
  albEscapedPem,
  CertificateFactory,
  deviceCertificateHeader,
  type MadeCertificate,
  nginxEscapedPem,
  rfc9440,
  signBody,
  signBodyWithOpenssl,
} from '../support/certificates.ts';
import { seed, seedSettings } from '../support/config.ts';
import { call, callTls } from '../support/http.ts';
import { startTestStack } from '../support/local-stack.ts';

/** What the proxy sends in X-Tollgate-Proxy-Secret (TRUSTED_PROXY_SECRET). */
const PROXY_SECRET = 'the-proxy-secret-of-this-deployment-0123456789';

let stack: LocalStack;
let factory: CertificateFactory;
let root: MadeCertificate;
let issuing: MadeCertificate;
let rsaDevice: MadeCertificate;
let ecDevice: MadeCertificate;
let revokedDevice: MadeCertificate;
let strangerDevice: MadeCertificate;

beforeAll(async () => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Tollgate Test Device Root', keyType: 'ec384' });
  issuing = factory.makeIntermediateCa(root, { cn: 'Tollgate Test Issuing CA', keyType: 'ec256' });
  rsaDevice = factory.makeDeviceCertificate(root, { cn: 'MAC-RSA', keyType: 'rsa2048' });
  ecDevice = factory.makeDeviceCertificate(issuing, { cn: 'MAC-EC', keyType: 'ec256' });
  revokedDevice = factory.makeDeviceCertificate(root, { cn: 'MAC-REVOKED', keyType: 'ec256' });
  const otherRoot = factory.makeRootCa({ cn: 'Someone Else Root', keyType: 'ec256' });
  strangerDevice = factory.makeDeviceCertificate(otherRoot, { cn: 'MAC-STRANGER', keyType: 'ec256' });

  stack = await startTestStack({ params: { trustedClientCertHeader: 'X-Client-Cert' }, trustedProxySecret: PROXY_SECRET });
  const store = new DynamoDbConfigStore(localDynamoDbClient(stack.dynamoDbEndpoint), stack.tableNames.ConfigTable);
  const changedAt = new Date().toISOString();
  await seed(store, { kind: 'DEVICE_CAS', certificates: parseDeviceCaBundle(root.pem) }, { changedAt });
  const revocation = { sha256: revokedDevice.fingerprint, reason: 'stolen', revokedAt: changedAt, revokedBy: 'test' };
  await seed(store, { kind: 'REVOCATION', sha256: revokedDevice.fingerprint, record: revocation }, { changedAt });
  await seedSettings(store, { certificateBasedAuthentication: true }, { changedAt });
});

afterAll(async () => {
  await stack?.stop();
  factory?.cleanup();
});

function body(deviceId: string): string {
  return JSON.stringify({ checkinId: `c-${Math.random().toString(36).slice(2)}`, deviceId, clientTime: new Date().toISOString(), serverCertificateVerified: true });
}
const codes = (res: { body: any }) => res.body.violations.map((v: { code: string }) => v.code);

describe('mutual TLS (HTTPS, certificate passed on as API Gateway does)', () => {
  it('accepts a device whose certificate chains to the device CA and names it', async () => {
    const res = await callTls(`${stack.httpsUrl}/checkin`, { body: body('MAC-RSA'), clientKeyPem: rsaDevice.keyPem, clientCertPem: rsaDevice.pem, serverCaPem: stack.serverCertificatePem });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'ACCEPT', violations: [], settingsVersion: 2 });
  });

  it.each([
    // [case, certificate, deviceId, expected codes]
    ['a certificate for another device', () => rsaDevice, 'MAC-OTHER', ['CLIENT_CERT_DEVICE_MISMATCH']],
    ['a revoked certificate', () => revokedDevice, 'MAC-REVOKED', ['CLIENT_CERT_REVOKED']],
    ['a certificate from an unknown CA', () => strangerDevice, 'MAC-STRANGER', ['CLIENT_CERT_UNTRUSTED']],
  ])('blocks %s', async (_case, cert, deviceId, expected) => {
    const device = cert();
    const res = await callTls(`${stack.httpsUrl}/checkin`, { body: body(deviceId), clientKeyPem: device.keyPem, clientCertPem: device.pem, serverCaPem: stack.serverCertificatePem });
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(expected);
    expect(res.body.violations[0].fingerprint).toBe(device.fingerprint);
  });

  it('blocks an HTTPS check-in without a client certificate with CLIENT_CERT_MISSING', async () => {
    const res = await callTls(`${stack.httpsUrl}/checkin`, { body: body('MAC-RSA'), serverCaPem: stack.serverCertificatePem });
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(['CLIENT_CERT_MISSING']);
  });
});

describe('signed request (X-Device-Certificate + X-Device-Signature)', () => {
  it('accepts an EC device through a presented intermediate, signed by openssl', async () => {
    const payload = body('MAC-EC');
    const res = await call(`${stack.httpUrl}/checkin`, {
      body: payload,
      headers: {
        'content-type': 'application/json',
        'x-device-certificate': deviceCertificateHeader([ecDevice, issuing]),
        'x-device-signature': signBodyWithOpenssl(payload, ecDevice).toString('base64'),
      },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    // [case, make headers, expected codes]
    ['no signature', (p: string) => ({ 'x-device-certificate': deviceCertificateHeader([rsaDevice]) }), ['CLIENT_SIGNATURE_MISSING']],
    ['a signature over another body (tampered)', (p: string) => ({ 'x-device-certificate': deviceCertificateHeader([rsaDevice]), 'x-device-signature': signBody(p.replace('true', 'false'), rsaDevice).toString('base64') }), ['CLIENT_SIGNATURE_INVALID']],
    ['a signature by another key', (p: string) => ({ 'x-device-certificate': deviceCertificateHeader([rsaDevice]), 'x-device-signature': signBody(p, ecDevice).toString('base64') }), ['CLIENT_SIGNATURE_INVALID']],
    ['an intermediate left out', (p: string) => ({ 'x-device-certificate': deviceCertificateHeader([ecDevice]), 'x-device-signature': signBody(p, ecDevice).toString('base64') }), ['CLIENT_CERT_UNTRUSTED']],
    ['a certificate that is not base64 DER', (p: string) => ({ 'x-device-certificate': 'not-a-certificate', 'x-device-signature': 'AAAA' }), ['CLIENT_CERT_INVALID']],
  ])('blocks %s', async (_case, headers, expected) => {
    const deviceId = _case === 'an intermediate left out' ? 'MAC-EC' : 'MAC-RSA';
    const payload = body(deviceId);
    const res = await call(`${stack.httpUrl}/checkin`, { body: payload, headers: { 'content-type': 'application/json', ...headers(payload) } });
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(expected);
  });
});

describe('trusted proxy header (TRUSTED_CLIENT_CERT_HEADER=X-Client-Cert)', () => {
  const fromProxy = (certificateHeader: string, extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    'x-client-cert': certificateHeader,
    'x-tollgate-proxy-secret': PROXY_SECRET,
    ...extra,
  });

  it.each([
    ['nginx $ssl_client_escaped_cert', () => nginxEscapedPem(rsaDevice.pem)],
    ['the ALB form with + = / unescaped', () => albEscapedPem(rsaDevice.pem)],
    ['RFC 9440 :base64-DER:', () => rfc9440([rsaDevice])],
  ])('accepts %s without a signature, from the proxy', async (_case, header) => {
    const res = await call(`${stack.httpUrl}/checkin`, { body: body('MAC-RSA'), headers: fromProxy(header()) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authenticated: true, violations: [] });
  });

  it.each([
    // [case, headers an attacker sends with the device's PUBLIC certificate]
    ['no proxy secret', { 'x-tollgate-proxy-secret': '' }],
    ['a guessed proxy secret', { 'x-tollgate-proxy-secret': 'x'.repeat(PROXY_SECRET.length) }],
    ['the secret with one character changed', { 'x-tollgate-proxy-secret': `${PROXY_SECRET.slice(0, -1)}X` }],
  ])('ignores the header with %s: 403 CLIENT_CERT_MISSING, and the device is untouched', async (_case, secret) => {
    const res = await call(`${stack.httpUrl}/checkin`, { body: body('MAC-RSA-PROXY'), headers: fromProxy(nginxEscapedPem(rsaDevice.pem), secret) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ authenticated: false });
    expect(codes(res)).toEqual(['CLIENT_CERT_MISSING']);
  });

  it('ignores a certificate header the client sent that the proxy appended to (comma-joined), even with the secret', async () => {
    const appended = `${nginxEscapedPem(strangerDevice.pem)},${nginxEscapedPem(rsaDevice.pem)}`;
    const res = await call(`${stack.httpUrl}/checkin`, { body: body('MAC-RSA'), headers: fromProxy(appended) });
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(['CLIENT_CERT_MISSING']);
  });
});
