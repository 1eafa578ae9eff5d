// The imaging lock-out (API.md §2: 10 failed logins for a username within 15 minutes) holds while the store fails to
// record outcomes: faults DynamoDB Local cannot produce on demand are injected with aws-sdk-client-mock in front of
// it, and a guesser keeps trying every 6 seconds for 45 minutes (450 guesses). However the faults fall, no more than
// 10 guesses are checked within any 15 minutes.
import { DynamoDBClient, GetItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLoginAttemptStore } from '../../lib/adapters/dynamodb/login-attempt-store.ts';
import { HttpError } from '../../lib/domain/errors.ts';
import { LOGIN_ATTEMPT_LIMIT, LOGIN_FAILURE_WINDOW_MS } from '../../lib/domain/imaging.ts';
import { StoreUnavailableError } from '../../lib/ports/errors.ts';
import { LoginGuard } from '../../lib/services/imaging/login-guard.ts';
import { createTestTables, type TestTables } from '../support/dynamodb.ts';

const RIGHT = 'the right password of alice';
const GUESS_EVERY_MS = 6_000;
const GUESSES = 450; // 45 minutes: three windows

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});

/** Which UpdateItem a call is: a reservation (SET of a PENDING entry with the revision), a failure, or a release. */
function updateKind(input: UpdateItemCommandInput): 'reserve' | 'markFailed' | 'release' {
  const expression = input.UpdateExpression ?? '';
  if (expression.startsWith('REMOVE #attempts.#id')) return 'release';
  if (expression.startsWith('SET #attempts.#id = :entry')) return 'markFailed';
  return 'reserve';
}

type Kind = ReturnType<typeof updateKind>;
/**
 * A fault for the n-th call of one kind: REFUSED (the write does not happen; a 500 from DynamoDB), LOST (the write
 * happens but its answer never comes back: a request timeout), or undefined (the call goes through).
 */
type Fault = (kind: Kind, n: number) => 'REFUSED' | 'LOST' | undefined;

/** A client of the shared DynamoDB Local whose UpdateItem calls suffer `fault`. */
function faultyClient(fault: Fault): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: tables.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const calls: Record<Kind, number> = { reserve: 0, markFailed: 0, release: 0 };
  const mock = mockClient(client);
  mock.on(GetItemCommand).callsFake((input) => send(new GetItemCommand(input)));
  mock.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
    const kind = updateKind(input);
    const injected = fault(kind, (calls[kind] += 1));
    if (injected === 'REFUSED') throw Object.assign(new Error('We encountered an internal error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    const answer = await send(new UpdateItemCommand(input));
    if (injected === 'LOST') throw Object.assign(new Error('Request timed out'), { name: 'TimeoutError', $metadata: {} });
    return answer;
  });
  return client;
}

/** The guesser: one wrong password every 6 s (the right one now and then for `rightEvery`), on a clock of its own. */
async function guessFor45Minutes(username: string, fault: Fault, rightEvery?: number) {
  const clock = { ms: Date.now(), now: () => new Date(clock.ms) };
  const checked: number[] = [];
  const answers: Record<string, number> = {};
  const guard = new LoginGuard({
    accounts: { getAccount: async () => ({ username, passwordHash: 'the stored hash' }) as never },
    attempts: new DynamoDbLoginAttemptStore(faultyClient(fault), tables.names.configTable),
    passwords: {
      verify: async (password: string) => {
        checked.push(clock.ms);
        return password === RIGHT;
      },
    },
    clock,
    log: { warn: () => undefined },
  });
  const start = clock.ms;
  for (let i = 0; i < GUESSES; i += 1) {
    clock.ms = start + i * GUESS_EVERY_MS;
    const password = rightEvery !== undefined && i % rightEvery === 0 ? RIGHT : `guess ${i}`;
    let answer: string;
    try {
      await guard.authenticate({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, sourceIp: '192.0.2.7', requestId: `r${i}` });
      answer = '200';
    } catch (error) {
      if (error instanceof HttpError) answer = String(error.statusCode);
      else if (error instanceof StoreUnavailableError) answer = '503';
      else throw error;
    }
    answers[answer] = (answers[answer] ?? 0) + 1;
  }
  return { checked, answers, start };
}

/** The most checks that fell within any 15 minutes (a window ending at each check). */
function mostChecksInAnyWindow(checked: number[]): number {
  return Math.max(0, ...checked.map((end) => checked.filter((at) => at > end - LOGIN_FAILURE_WINDOW_MS && at <= end).length));
}

describe('the lock-out while the store fails to record outcomes', () => {
  it.each<[string, Fault, number | undefined]>([
    // [what fails, the fault, guesses checked in 45 minutes: 10 per window when every counted attempt was checked]
    ['every failure is refused by the store (answered 503, the attempt stays PENDING)', (kind) => (kind === 'markFailed' ? 'REFUSED' : undefined), 30],
    ['every failure is recorded but its answer lost', (kind) => (kind === 'markFailed' ? 'LOST' : undefined), 30],
    ['every reservation lands but its answer is lost (503 before any check)', (kind) => (kind === 'reserve' ? 'LOST' : undefined), 0],
    ['every other failure is refused, every third reservation answer lost', (kind, n) => (kind === 'markFailed' && n % 2 === 0 ? 'REFUSED' : kind === 'reserve' && n % 3 === 0 ? 'LOST' : undefined), undefined],
    ['nothing fails (the baseline)', () => undefined, 30],
  ])('%s: at most 10 guesses checked within any 15 minutes', async (_what, fault, expectedChecks) => {
    const { checked, answers } = await guessFor45Minutes(`alice-${Math.random().toString(36).slice(2)}`, fault);
    expect(mostChecksInAnyWindow(checked)).toBeLessThanOrEqual(LOGIN_ATTEMPT_LIMIT);
    if (expectedChecks === undefined) expect(checked.length).toBeGreaterThan(0);
    else expect(checked).toHaveLength(expectedChecks);
    expect(Object.values(answers).reduce((a, b) => a + b, 0)).toBe(GUESSES);
  }, 120_000);

  it('the refused failures are answered 503 and everything after them 429, window after window', async () => {
    const { checked, answers, start } = await guessFor45Minutes('bob', (kind) => (kind === 'markFailed' ? 'REFUSED' : undefined));
    expect(answers).toEqual({ '503': 30, '429': GUESSES - 30 });
    // Ten in the first minute of each window, then nothing until it has passed.
    const windowOf = (at: number) => Math.floor((at - start) / LOGIN_FAILURE_WINDOW_MS);
    expect([0, 1, 2].map((w) => checked.filter((at) => windowOf(at) === w).length)).toEqual([10, 10, 10]);
  }, 120_000);

  it('a right password whose reservation cannot be removed still logs in, and counts against the limit for the window', async () => {
    const { checked, answers } = await guessFor45Minutes('carol', (kind) => (kind === 'release' || kind === 'markFailed' ? 'REFUSED' : undefined), 5);
    expect(mostChecksInAnyWindow(checked)).toBeLessThanOrEqual(LOGIN_ATTEMPT_LIMIT);
    expect(checked).toHaveLength(30);
    expect(answers['200']).toBeGreaterThan(0);
  }, 120_000);
});
