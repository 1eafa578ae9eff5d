// scripts/write-truststore.ts: the mutual TLS truststore from the device CA set (config table, admin API or a PEM
// bundle), with every chain up to its root, as API Gateway needs it.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';
import { buildTruststore, deviceCasFromDynamoDb, main, TruststoreError } from '../../scripts/write-truststore.ts';
import { CertificateFactory, type MadeCertificate } from '../support/certificates.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

let factory: CertificateFactory;
let root: MadeCertificate;
let issuing: MadeCertificate;
let otherRoot: MadeCertificate;
let device: MadeCertificate;
let work: string;

beforeAll(() => {
  factory = CertificateFactory.create();
  root = factory.makeRootCa({ cn: 'Tollgate Test Device Root', keyType: 'ec384' });
  issuing = factory.makeIntermediateCa(root, { cn: 'Tollgate Test Device Issuing CA' });
  otherRoot = factory.makeRootCa({ cn: 'Tollgate Test Admin Clients Root', keyType: 'ec256' });
  device = factory.makeDeviceCertificate(issuing, { cn: 'C02XK1JHJG5J' });
  work = mkdtempSync(join(tmpdir(), 'tollgate-truststore-'));
}, 60_000);

afterAll(() => {
  factory?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

const fingerprintsOf = (pem: string) =>
  pem
    .split(/(?<=-----END CERTIFICATE-----\n)/)
    .filter((block) => block.trim())
    .map((block) => new X509Certificate(block).fingerprint256.replace(/:/g, '').toLowerCase());

describe('buildTruststore', () => {
  it('holds the device CAs, then the extra CAs, each once, and certificates only', () => {
    const truststore = buildTruststore([root.pem, issuing.pem, root.pem], [otherRoot.pem]);
    expect(truststore.entries.map((e) => [e.origin, e.sha256])).toEqual([
      ['device-ca', root.fingerprint],
      ['device-ca', issuing.fingerprint],
      ['extra-ca', otherRoot.fingerprint],
    ]);
    expect(fingerprintsOf(truststore.pem)).toEqual([root.fingerprint, issuing.fingerprint, otherRoot.fingerprint]);
    expect(truststore.pem.replace(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n/g, '')).toBe('');
    expect(truststore.warnings).toEqual([]);
  });

  it('refuses an issuing CA without its root, and takes the root from --extra-ca', () => {
    expect(() => buildTruststore([issuing.pem])).toThrow(/not a root CA.*add the issuer with --extra-ca/);
    expect(buildTruststore([issuing.pem], [root.pem]).entries.map((e) => e.origin)).toEqual(['device-ca', 'extra-ca']);
  });

  it('refuses an empty set and certificates that are not CAs', () => {
    expect(() => buildTruststore([])).toThrow(TruststoreError);
    expect(() => buildTruststore([root.pem], [device.pem])).toThrow(/extra-ca certificate cannot go into the truststore.*not a CA certificate/);
  });

  it('warns about CAs that expire soon or have expired', () => {
    const soon = new Date(root.notAfter.getTime() - 10 * 86_400_000);
    expect(buildTruststore([root.pem], [], soon).warnings).toEqual([expect.stringMatching(/expires in (9|10) days/)]);
    expect(buildTruststore([root.pem], [], new Date(root.notAfter.getTime() + 86_400_000)).warnings).toEqual([expect.stringMatching(/expired on/)]);
  });
});

describe('sources', () => {
  let tables: TestTables;

  beforeAll(async () => {
    tables = await createTestTables();
  });

  it('reads the device CA set from the config table', async () => {
    await tables.client.send(
      new PutItemCommand({
        TableName: tables.names.configTable,
        Item: marshall({
          pk: 'CONFIG',
          sk: 'DEVICE_CA',
          certificates: [root, issuing].map((c) => ({ pem: c.pem, subject: c.cn, notAfter: c.notAfter.toISOString(), sha256: c.fingerprint })),
        }),
      }),
    );
    const pems = await deviceCasFromDynamoDb(tables.client, tables.names.configTable);
    expect(fingerprintsOf(buildTruststore(pems).pem)).toEqual([root.fingerprint, issuing.fingerprint]);
  });

  it('a table that does not exist is a one-line configuration error, not "retry shortly"', async () => {
    await expect(deviceCasFromDynamoDb(tables.client, 'nosuch')).rejects.toThrow(
      new TruststoreError(
        'There is no table "nosuch" in us-east-1: give --table the config table\'s name (the stack output ConfigTableName, such as tollgate-prod-config) and --region its region',
      ),
    );
  });

  it('npm run truststore -- --table nosuch prints that one line and exits 1', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
        [join(PROJECT_ROOT, 'scripts/write-truststore.ts'), '--table', 'nosuch', '--region', 'us-east-1', '--out', join(work, 'never.pem')],
        {
          cwd: work,
          env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: tables.endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          timeout: 120_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'There is no table "nosuch" in us-east-1: give --table the config table\'s name (the stack output ConfigTableName, such as tollgate-prod-config) and --region its region\n',
    });
  }, 150_000);

  describe('admin API', () => {
    let server: Server;
    let url: string;
    let withPems = false;

    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url !== '/admin/device-ca' || request.headers.authorization !== 'Bearer test-token') {
          response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHENTICATED"}}');
          return;
        }
        const certificates = [root, issuing].map((c) => ({ subject: c.cn, notAfter: c.notAfter.toISOString(), sha256: c.fingerprint, ...(withPems ? { pem: c.pem } : {}) }));
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ certificates }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const quiet = () => undefined;
    const env = { TOLLGATE_TOKEN: 'test-token' };

    it('checks a PEM bundle against the fingerprints GET /admin/device-ca lists, and writes the file', async () => {
      const bundle = join(work, 'device-cas.pem');
      writeFileSync(bundle, `${issuing.pem}${root.pem}`);
      const out = join(work, 'truststore.pem');
      await main(['--admin-url', url, '--from-pem', bundle, '--out', out], env, quiet);
      expect(fingerprintsOf(readFileSync(out, 'utf8'))).toEqual([issuing.fingerprint, root.fingerprint]);
    });

    it('refuses a bundle that is not the set Tollgate trusts', async () => {
      const bundle = join(work, 'partial.pem');
      writeFileSync(bundle, root.pem);
      await expect(main(['--admin-url', url, '--from-pem', bundle, '--out', join(work, 'x.pem')], env, quiet)).rejects.toThrow(/only in the admin API/);
    });

    it('uses the PEMs of the admin API when it returns them, and says what to do when it does not', async () => {
      const out = join(work, 'from-api.pem');
      withPems = false;
      await expect(main(['--admin-url', url, '--out', out], env, quiet)).rejects.toThrow(/--from-pem/);
      withPems = true;
      await main(['--admin-url', url, '--out', out], env, quiet);
      expect(fingerprintsOf(readFileSync(out, 'utf8'))).toEqual([root.fingerprint, issuing.fingerprint]);
    });

    it('finds the admin token as the tollgate command line does: TOLLGATE_TOKEN, else the token saved in $DATA_DIR', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-truststore-data-'));
      writeFileSync(join(dataDir, 'admin-token'), 'test-token\n');
      withPems = true;
      const out = join(work, 'saved-token.pem');
      await main(['--admin-url', url, '--out', out], { DATA_DIR: dataDir }, quiet);
      expect(fingerprintsOf(readFileSync(out, 'utf8'))).toEqual([root.fingerprint, issuing.fingerprint]);
    });

    it('needs the token, and one source', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'tollgate-truststore-empty-'));
      await expect(main(['--admin-url', url], { DATA_DIR: empty }, quiet)).rejects.toThrow(
        new TruststoreError(
          `To read the admin API, an admin or auditor token is needed: TOLLGATE_TOKEN is not set, and there is no token saved by \`npm start\` in ${join(empty, 'admin-token')} (DATA_DIR=${empty}). ` +
            'Set TOLLGATE_TOKEN to an admin token, or DATA_DIR to the data folder of the running `npm start` (and TOLLGATE_URL or PORT to its address)',
        ),
      );
      await expect(main(['--admin-url', url], { TOLLGATE_ADMIN_TOKEN: 'test-token' }, quiet)).rejects.toThrow(
        new TruststoreError('TOLLGATE_ADMIN_TOKEN is not read: set TOLLGATE_TOKEN instead, the variable every Tollgate tool reads the admin token from'),
      );
      await expect(main(['--out', join(work, 'y.pem')], env, quiet)).rejects.toThrow(/exactly one source/);
    });
  });
});
