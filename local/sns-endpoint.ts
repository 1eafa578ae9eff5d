// The local SNS endpoint: SNS Publish as @aws-sdk/client-sns speaks it (the AWS Query protocol: a form-encoded
// POST answered with XML), each message appended to $DATA_DIR/alerts.jsonl and summarised on one printed line.
//
// Verified against @aws-sdk/client-sns 3.1169: its protocol is AwsQueryProtocol (Content-Type
// application/x-www-form-urlencoded, `Action=Publish&Version=2010-03-31&TopicArn=…&Message=…&Subject=…&
// MessageAttributes.entry.N.Name=…&MessageAttributes.entry.N.Value.DataType=…&…StringValue=…`); it sends no
// `x-amzn-query-mode` header and no JSON. A JSON request (should a later SDK switch SNS to the JSON protocol) is
// refused with a message saying so, rather than misread.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';

export interface SnsEndpoint {
  url: string;
  topicArn: string;
  /** Stops answering (connections refused) until resume(): simulates an SNS outage. */
  pause(): Promise<void>;
  /** Listens again, on the same port. */
  resume(): Promise<void>;
  /**
   * Answers every Publish `ms` late, after keeping the message (SNS accepted it; only the answer is slow): a slow SNS.
   * 0 answers at once again.
   */
  setLatency(ms: number): void;
  /** Refuses every Publish with this SNS error (for example `KMSDisabled`, 400) until called with undefined. */
  refuseWith(error: { code: string; statusCode: number } | undefined): void;
  stop(): Promise<void>;
}

/** One line of alerts.jsonl (API.md §5). */
export interface PublishedAlertLine {
  subject: string | null;
  /** The Message, parsed when it is JSON (Tollgate's always is), else the text. */
  message: unknown;
  messageAttributes: Record<string, string>;
}

const XML_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** SNS's limit on a message (256 KiB); form encoding can triple it, hence the request cap. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_REQUEST_BYTES = 3 * MAX_MESSAGE_BYTES;

class SnsError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new SnsError(413, 'InvalidParameter', 'Invalid parameter: Message too long'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue | Value.BinaryValue}, N from 1. */
function readMessageAttributes(params: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let n = 1; ; n += 1) {
    const prefix = `MessageAttributes.entry.${n}`;
    const name = params.get(`${prefix}.Name`);
    if (name === null) break;
    const dataType = params.get(`${prefix}.Value.DataType`);
    const value = params.get(`${prefix}.Value.StringValue`) ?? params.get(`${prefix}.Value.BinaryValue`);
    if (!dataType || value === null) {
      throw new SnsError(400, 'ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value and type.`);
    }
    attributes[name] = value;
  }
  return attributes;
}

function parseMessage(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:tollgate-alerts';

/** Checks a Publish as SNS does, appends the alert to alerts.jsonl and prints it; returns the MessageId. */
function publish(params: URLSearchParams, options: { alertsFile: string; print: (line: string) => void }): string {
  const arn = params.get('TopicArn') ?? params.get('TargetArn');
  if (!arn) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
  if (arn !== TOPIC_ARN) throw new SnsError(404, 'NotFound', 'Topic does not exist');
  const message = params.get('Message');
  if (!message) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
  if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
  const subject = params.get('Subject');
  // SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long."
  // As SNS: printable ASCII only, fewer than 100 characters.
  if (subject !== null && (subject.length === 0 || subject.length >= 100 || /[^\x20-\x7e]/.test(subject))) {
    throw new SnsError(400, 'InvalidParameter', 'Invalid parameter: Subject');
  }
  const messageAttributes = readMessageAttributes(params);
  const line: PublishedAlertLine = { subject, message: parseMessage(message), messageAttributes };
  appendFileSync(options.alertsFile, `${JSON.stringify(line)}\n`);
  const label = [messageAttributes.severity, messageAttributes.type].filter(Boolean).join(' ');
  options.print(`SNS alert${label ? ` [${label}]` : ''}: ${subject ?? message.slice(0, 80)}`);
  return randomUUID();
}

function answer(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(xml);
}

/** What a test made of this endpoint: a slow answer, a refusal. */
interface Behaviour {
  latencyMs: number;
  refusal?: { code: string; statusCode: number };
}

/** One request in the AWS Query protocol: a Publish answered with its MessageId, anything else with SNS's error. */
async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: { alertsFile: string; print: (line: string) => void },
  behaviour: Behaviour = { latencyMs: 0 },
): Promise<void> {
  const requestId = randomUUID();
  try {
    if (req.method !== 'POST') throw new SnsError(405, 'InvalidAction', 'Only POST is supported by the local SNS endpoint');
    const contentType = String(req.headers['content-type'] ?? '');
    if (/json|cbor/i.test(contentType) || req.headers['x-amz-target'] || req.headers['x-amzn-query-mode']) {
      throw new SnsError(400, 'InvalidAction', 'The local SNS endpoint speaks the AWS Query protocol (form-encoded POST) only');
    }
    const params = new URLSearchParams(await readBody(req));
    const action = params.get('Action');
    if (action !== 'Publish') throw new SnsError(400, 'InvalidAction', `The action ${action ?? '(none)'} is not valid for this endpoint`);
    if (behaviour.refusal) throw new SnsError(behaviour.refusal.statusCode, behaviour.refusal.code, `Refused (${behaviour.refusal.code})`);
    const messageId = publish(params, options);
    if (behaviour.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, behaviour.latencyMs));
    answer(
      res,
      200,
      `<PublishResponse xmlns="${XML_NAMESPACE}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  } catch (error) {
    const e = error instanceof SnsError ? error : new SnsError(500, 'InternalError', 'Internal error', 'Receiver');
    if (!(error instanceof SnsError)) options.print(`SNS endpoint failed: ${(error as Error)?.message ?? error}`);
    if (res.headersSent) return void res.end();
    answer(
      res,
      e.statusCode,
      `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${e.type}</Type><Code>${e.code}</Code>` +
        `<Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  }
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeAll(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive connections would otherwise keep answering: an outage refuses and drops everything.
    server.closeAllConnections();
  });
}

export async function startSnsEndpoint(options: { port: number; alertsFile: string; print: (line: string) => void }): Promise<SnsEndpoint> {
  mkdirSync(dirname(options.alertsFile), { recursive: true });
  const behaviour: Behaviour = { latencyMs: 0 };
  const server: Server = createServer((req, res) => void handleRequest(req, res, options, behaviour));
  const port = await listenOn(server, options.port);
  return {
    url: `http://127.0.0.1:${port}`,
    topicArn: TOPIC_ARN,
    pause: () => closeAll(server),
    resume: async () => {
      if (!server.listening) await listenOn(server, port);
    },
    stop: () => closeAll(server),
    setLatency: (ms) => {
      behaviour.latencyMs = ms;
    },
    refuseWith: (error) => {
      behaviour.refusal = error;
    },
  };
}
