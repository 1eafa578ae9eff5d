// What `npm start` prints while it runs: one readable line per request instead of the handlers' JSON logs (those stay
// JSON with LOG_FORMAT=json, and in Lambda always), warnings and errors made readable, and a word when it has stopped.

/** One answered request, as the local API Gateway saw it. */
export interface RequestSummary {
  method: string;
  path: string;
  status: number;
  /** The check-in's ACCEPT or BLOCK, when the answer carries one. */
  decision?: string;
  ms: number;
}

/** `POST /checkin 403 BLOCK 12 ms`. */
export function requestLine(summary: RequestSummary): string {
  return [summary.method, summary.path, String(summary.status), summary.decision, `${Math.round(summary.ms)} ms`].filter(Boolean).join(' ');
}

export type LogFormat = 'text' | 'json';

/** LOG_FORMAT: `text` (the default) or `json`; anything else is undefined. */
export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === 'text') return 'text';
  if (text === 'json') return 'json';
  return undefined;
}

/** Keys of a Powertools log line that say nothing a person at the terminal needs. */
const ROUTINE_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id', 'cold_start', 'function_arn', 'function_memory_size', 'function_name', 'function_request_id']);
const QUIET_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO']);

/**
 * A handler's JSON log line as the text terminal shows it: undefined to drop it (routine INFO, which the request line
 * sums up), a readable line for a warning or an error, or the line itself when it is not a log line.
 */
export function readableLogLine(line: string): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || typeof (entry as any).level !== 'string' || !('message' in entry)) return line;
  const { level, message } = entry as { level: string; message: unknown };
  if (QUIET_LEVELS.has(level.toUpperCase())) return undefined;
  const extras = Object.entries(entry as Record<string, unknown>)
    .filter(([key]) => !ROUTINE_KEYS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [`${level.toUpperCase()} ${String(message)}`, ...extras].join(' ').replace(/\s*\n\s*/g, ' ');
}

/**
 * Routes what the handlers log (Powertools writes JSON lines to stdout and stderr) through readableLogLine. Returns
 * the function that undoes it.
 */
export function installReadableLogs(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): () => void {
  const restores = streams.map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{')) return (write as any)(chunk, ...rest);
      const lines = text.split('\n').filter((l) => l.length > 0).map(readableLogLine).filter((l): l is string => l !== undefined);
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (lines.length === 0) {
        callback?.();
        return true;
      }
      return write(`${lines.join('\n')}\n`, callback as any);
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  });
  return () => restores.forEach((restore) => restore());
}

/** The last line of `npm start`. */
export function stoppedLine(dataDir: string): string {
  return `Stopped: the HTTP and HTTPS servers, DynamoDB Local and the alert endpoint are down. The data is kept in ${dataDir}; \`npm start\` carries on from it.`;
}
