// PLACEHOLDER (to be replaced by the alerts work): the local SNS endpoint.
import { createServer, type Server } from 'node:http';

export interface SnsEndpoint {
  url: string;
  topicArn: string;
  /** Stops answering (connections refused) until resume(): simulates an SNS outage. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSnsEndpoint(options: { port: number; alertsFile: string; print: (line: string) => void }): Promise<SnsEndpoint> {
  const server: Server = createServer((_req, res) => res.writeHead(501).end());
  await new Promise<void>((r) => server.listen(options.port, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    topicArn: 'arn:aws:sns:us-east-1:000000000000:tollgate-alerts',
    pause: async () => undefined,
    resume: async () => undefined,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
