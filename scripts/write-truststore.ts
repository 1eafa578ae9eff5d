// Writes the truststore PEM of API Gateway's mutual TLS from Tollgate's device CA set, to upload to S3 and name in
// the truststoreUri / truststoreVersion stage parameters (docs/operations.md, "Mutual TLS").
//
//   npx tsx scripts/write-truststore.ts --table <config table name> [--region eu-west-1] [--out truststore.pem]
//   npx tsx scripts/write-truststore.ts --admin-url https://gate.example.com [--from-pem device-cas.pem]
//   npx tsx scripts/write-truststore.ts --from-pem device-cas.pem [--extra-ca admin-clients-ca.pem]
//
// Sources of the device CA set: the config table (DynamoDB, the AWS credentials of the shell), or the admin API
// (`GET /admin/device-ca`, with the admin token the tollgate command line uses: TOLLGATE_TOKEN, else the one `npm start`
// saved in $DATA_DIR/admin-token; used for its PEMs when the response carries them,
// else to check that a --from-pem bundle is exactly the set Tollgate trusts), or a PEM bundle file. --extra-ca adds
// CA certificates for clients that are not devices (admins, imaging clients): mutual TLS is per domain, so every
// route of the API asks for a client certificate that chains to the truststore.
//
// API Gateway needs each chain up to its root in the truststore; a CA whose issuer is missing is refused here
// (add the issuer with --extra-ca). The file holds certificates only, no comments; the summary goes to stderr.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { adminTokenFromEnv, CliError } from '../cli/client.ts';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.ts';
import { DynamoDbConfigStore } from '../lib/adapters/dynamodb/config-store.ts';
import { daysRemaining, parseDeviceCaBundle, splitPemBundle } from '../lib/domain/trust-material.ts';
import { StoreUnavailableError } from '../lib/ports/errors.ts';

/** CAs expiring within this many days are reported (API Gateway refuses clients once a chain's CA has expired). */
const EXPIRY_WARNING_DAYS = 30;

export class TruststoreError extends Error {
  override name = 'TruststoreError';
}

export interface TruststoreEntry {
  origin: 'device-ca' | 'extra-ca';
  subject: string;
  sha256: string;
  notAfter: string;
  pem: string;
}

export interface Truststore {
  /** The file's content: the PEM certificates, device CAs first. */
  pem: string;
  entries: TruststoreEntry[];
  warnings: string[];
}

function readCa(pem: string, origin: TruststoreEntry['origin']): { entry: TruststoreEntry; x509: X509Certificate } {
  const [summary] = parseDeviceCaBundle(pem); // CA:TRUE, parseable, normalised PEM
  return { entry: { origin, subject: summary.subject, sha256: summary.sha256, notAfter: summary.notAfter, pem: summary.pem }, x509: new X509Certificate(summary.pem) };
}

/** Builds the truststore from the device CA certificates (PEMs) and any extra CA certificates (PEM bundles). */
export function buildTruststore(deviceCaPems: readonly string[], extraCaBundles: readonly string[] = [], now = new Date()): Truststore {
  if (deviceCaPems.length === 0) throw new TruststoreError('The device CA set is empty: store it first with PUT /admin/device-ca');
  const candidates = [
    ...deviceCaPems.flatMap((pem) => splitPemBundle(pem)).map((pem) => ({ pem, origin: 'device-ca' as const })),
    ...extraCaBundles.flatMap((bundle) => {
      const pems = splitPemBundle(bundle);
      if (pems.length === 0) throw new TruststoreError('An --extra-ca file holds no PEM certificate');
      return pems.map((pem) => ({ pem, origin: 'extra-ca' as const }));
    }),
  ];
  const read: { entry: TruststoreEntry; x509: X509Certificate }[] = [];
  for (const candidate of candidates) {
    let ca;
    try {
      ca = readCa(candidate.pem, candidate.origin);
    } catch (error) {
      throw new TruststoreError(`A ${candidate.origin} certificate cannot go into the truststore: ${(error as Error).message}`);
    }
    if (!read.some((r) => r.entry.sha256 === ca.entry.sha256)) read.push(ca);
  }

  const warnings: string[] = [];
  for (const { entry, x509 } of read) {
    const days = daysRemaining(entry.notAfter, now);
    if (days < 0) warnings.push(`${entry.subject} (${entry.sha256.slice(0, 16)}…) expired on ${entry.notAfter}`);
    else if (days <= EXPIRY_WARNING_DAYS) warnings.push(`${entry.subject} (${entry.sha256.slice(0, 16)}…) expires in ${days} days (${entry.notAfter})`);
    const selfSigned = x509.checkIssued(x509) && x509.verify(x509.publicKey);
    if (selfSigned) continue;
    const issuer = read.find((other) => other.x509 !== x509 && x509.checkIssued(other.x509) && x509.verify(other.x509.publicKey));
    if (!issuer) {
      throw new TruststoreError(
        `${entry.subject} is not a root CA and its issuer (${x509.issuer.replace(/\n/g, ', ')}) is not in the truststore; ` +
          'API Gateway needs every chain up to its root: add the issuer with --extra-ca <file>',
      );
    }
  }
  return { pem: read.map((r) => r.entry.pem).join(''), entries: read.map((r) => r.entry), warnings };
}

/**
 * The device CA PEMs stored in the config table (item CONFIG / DEVICE_CA). A table that does not exist, or that
 * cannot be read, is a TruststoreError of one line: a configuration error, not something to retry.
 */
export async function deviceCasFromDynamoDb(client: DynamoDBClient, configTable: string): Promise<string[]> {
  try {
    return ((await new DynamoDbConfigStore(client, configTable).getDeviceCas()) ?? []).map((c) => c.pem);
  } catch (error) {
    const cause = (error instanceof StoreUnavailableError ? error.cause : error) as { name?: string; message?: string } | undefined;
    const region = await client.config.region().catch(() => 'the configured region');
    if (cause?.name === 'ResourceNotFoundException') {
      throw new TruststoreError(
        `There is no table "${configTable}" in ${region}: give --table the config table's name (the stack output ConfigTableName, such as tollgate-prod-config) and --region its region`,
      );
    }
    throw new TruststoreError(`Cannot read the config table "${configTable}" in ${region}: ${cause?.name ?? 'Error'}: ${String(cause?.message ?? error).split('\n')[0]}`);
  }
}

export interface AdminDeviceCas {
  sha256: string[];
  /** Present when the admin API returns the certificates themselves. */
  pems?: string[];
}

/** `GET /admin/device-ca` with the bearer token. */
export async function deviceCasFromAdminApi(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): Promise<AdminDeviceCas> {
  const url = `${baseUrl.replace(/\/+$/, '')}/admin/device-ca`;
  const response = await fetchImpl(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  if (!response.ok) throw new TruststoreError(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const body = (await response.json()) as { certificates?: { sha256?: string; pem?: string }[] };
  const certificates = body.certificates ?? [];
  const pems = certificates.every((c) => typeof c.pem === 'string') && certificates.length > 0 ? certificates.map((c) => c.pem!) : undefined;
  return { sha256: certificates.map((c) => String(c.sha256)), pems };
}

/** Refuses a PEM bundle that is not exactly the device CA set the admin API reports. */
export function checkSameSet(fromPem: readonly string[], fromApi: AdminDeviceCas): void {
  const bundle = new Set(parseDeviceCaBundle(fromPem.join('')).map((c) => c.sha256));
  const api = new Set(fromApi.sha256);
  const onlyBundle = [...bundle].filter((s) => !api.has(s));
  const onlyApi = [...api].filter((s) => !bundle.has(s));
  if (onlyBundle.length > 0 || onlyApi.length > 0) {
    throw new TruststoreError(
      `The PEM bundle is not the device CA set Tollgate trusts: only in the bundle ${JSON.stringify(onlyBundle)}, only in the admin API ${JSON.stringify(onlyApi)}`,
    );
  }
}

const USAGE = `Usage: tsx scripts/write-truststore.ts (--table <config table> [--region <region>] | --admin-url <url> | --from-pem <file>)
       [--admin-url <url> with --from-pem: check the bundle against GET /admin/device-ca]
       [--extra-ca <file>]... [--out <file>|-]   (default truststore.pem)
The admin token for --admin-url is the one the tollgate command line uses: TOLLGATE_TOKEN, else $DATA_DIR/admin-token.`;

export async function main(argv: string[], env: Record<string, string | undefined> = process.env, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Truststore> {
  const { values } = parseArgs({
    args: argv,
    options: {
      table: { type: 'string' },
      region: { type: 'string' },
      'admin-url': { type: 'string' },
      'from-pem': { type: 'string' },
      'extra-ca': { type: 'string', multiple: true },
      out: { type: 'string', default: 'truststore.pem' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    log(USAGE);
    return { pem: '', entries: [], warnings: [] };
  }
  const sources = [values.table, values['admin-url'] && !values['from-pem'], values['from-pem']].filter(Boolean).length;
  if (sources !== 1) throw new TruststoreError(`Give exactly one source of the device CA set.\n${USAGE}`);

  let deviceCas: string[];
  if (values.table) {
    if (values.region) env.AWS_REGION = values.region;
    deviceCas = await deviceCasFromDynamoDb(createDynamoDbClient(), values.table);
  } else {
    const fromApi = values['admin-url'] ? await readAdminApi(values['admin-url'], env) : undefined;
    if (values['from-pem']) {
      deviceCas = splitPemBundle(readFileSync(values['from-pem'], 'utf8'));
      if (deviceCas.length === 0) throw new TruststoreError(`${values['from-pem']} holds no PEM certificate`);
      if (fromApi) checkSameSet(deviceCas, fromApi);
    } else if (fromApi?.pems) {
      deviceCas = fromApi.pems;
    } else {
      throw new TruststoreError(
        'GET /admin/device-ca lists fingerprints but not the certificates; give the bundle you uploaded with --from-pem ' +
          '(it is checked against the admin API), or read the config table with --table',
      );
    }
  }

  const truststore = buildTruststore(deviceCas, (values['extra-ca'] ?? []).map((file) => readFileSync(file, 'utf8')));
  if (values.out === '-') process.stdout.write(truststore.pem);
  else writeFileSync(values.out!, truststore.pem, { mode: 0o644 });
  log(`Truststore with ${truststore.entries.length} CA certificate(s)${values.out === '-' ? '' : ` written to ${values.out}`}:`);
  for (const e of truststore.entries) log(`  ${e.origin.padEnd(9)} ${e.sha256}  until ${e.notAfter}  ${e.subject}`);
  for (const warning of truststore.warnings) log(`WARNING: ${warning}`);
  if (values.out !== '-') {
    log('Next: upload it to a versioned bucket and deploy with its version, for example');
    log(`  aws s3 cp ${values.out} s3://<bucket>/truststore.pem`);
    log('  aws s3api head-object --bucket <bucket> --key truststore.pem --query VersionId --output text');
    log('  npx osls deploy --stage prod --param="truststoreUri=s3://<bucket>/truststore.pem" --param="truststoreVersion=<VersionId>"');
  }
  return truststore;
}

async function readAdminApi(url: string, env: Record<string, string | undefined>): Promise<AdminDeviceCas> {
  if (env.TOLLGATE_ADMIN_TOKEN !== undefined && !env.TOLLGATE_TOKEN) {
    throw new TruststoreError('TOLLGATE_ADMIN_TOKEN is not read: set TOLLGATE_TOKEN instead, the variable every Tollgate tool reads the admin token from');
  }
  let token: string;
  try {
    token = adminTokenFromEnv(env);
  } catch (error) {
    if (error instanceof CliError) throw new TruststoreError(`To read the admin API, ${error.message.replace(/^no admin token: /, 'an admin or auditor token is needed: ')}`);
    throw error;
  }
  return deviceCasFromAdminApi(url, token);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const wrongUsage = String((error as { code?: string })?.code ?? '').startsWith('ERR_PARSE_ARGS');
    if (wrongUsage) process.stderr.write(`${(error as Error).message.split('\n')[0]}\n${USAGE}\n`);
    else process.stderr.write(`${error instanceof TruststoreError ? error.message : (error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = wrongUsage ? 2 : 1;
  });
}
