// `npm start`: runs the whole service locally (API.md §5) until Ctrl-C.
import { ConfigError } from '../lib/config.ts';
import { LocalSetupError } from './dynamodb-local.ts';
import { startLocalStack } from './stack.ts';
import { installReadableLogs, parseLogFormat, requestLine, stoppedLine } from './terminal.ts';

function portFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${name} must be a port number, got "${text}"`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  const logFormat = parseLogFormat(process.env.LOG_FORMAT);
  if (!logFormat) {
    console.error(`LOG_FORMAT must be text (one line per request, the default) or json (the handlers' JSON logs), got "${process.env.LOG_FORMAT}"`);
    process.exit(2);
  }
  if (logFormat === 'text') installReadableLogs();
  const stack = await startLocalStack({
    port: portFromEnv('PORT', 3000),
    tlsPort: portFromEnv('TLS_PORT', 3443),
    dynamoDbPort: portFromEnv('DYNAMODB_PORT', 8000),
    dataDir: process.env.DATA_DIR || '.data',
    adminToken: process.env.ADMIN_TOKEN || undefined,
    adminTokens: process.env.ADMIN_TOKENS || undefined,
    params: process.env.TRUSTED_CLIENT_CERT_HEADER ? { trustedClientCertHeader: process.env.TRUSTED_CLIENT_CERT_HEADER } : undefined,
    trustedProxySecret: process.env.TRUSTED_PROXY_SECRET || undefined,
    onRequest: logFormat === 'text' ? (summary) => console.log(requestLine(summary)) : undefined,
  });
  const health = await fetch(`${stack.httpUrl}/health`);
  if (health.status !== 200) throw new Error(`GET /health answered ${health.status}`);
  console.log(`HTTPS (client certificates passed on as API Gateway mTLS does): ${stack.httpsUrl}`);
  console.log(`DynamoDB Local: ${stack.dynamoDbEndpoint}; alerts are appended to ${stack.dataDir}/alerts.jsonl`);
  console.log(`Admin console: ${stack.httpUrl}/console/ (sign in with the admin token)`);
  console.log(`Ready: ${stack.httpUrl}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping…`);
    await stack.stop();
    console.log(stoppedLine(stack.dataDir));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  if (error instanceof LocalSetupError) console.error(error.message);
  else console.error(`Tollgate could not start: ${(error as Error)?.message ?? error}`);
  process.exit(1);
});
