// One deadline per invocation: set when the function starts (from the Lambda context's remaining time, minus the time
// kept to answer), carried through the invocation's async work by AsyncLocalStorage, and read by the SDK clients so
// that every call (its retries and their back-off included) is aborted when the deadline passes or when the
// invocation has answered. An aborted call fails with an AbortError, which the adapters report as unavailable (503).
// No AWS import here: lib/http sets the deadline, lib/adapters/deadline.ts hooks the SDK clients to it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';

/** What the Lambda context offers (absent in hand-written contexts: then there is no deadline). */
export interface RemainingTime {
  getRemainingTimeInMillis?: () => number;
}

/**
 * Time kept before the function's own timeout to answer: map the error, write the response and the log line, and
 * let a timer that fell due during a CPU-bound step (a certificate check) run late without missing the timeout.
 */
export const ANSWER_MARGIN_MS = 500;

export interface InvocationDeadline {
  /** epoch ms at which the invocation's calls are aborted */
  readonly at: number;
  /** Aborted at `at`, or as soon as the invocation has answered, whichever comes first. */
  readonly signal: AbortSignal;
}

const current = new AsyncLocalStorage<InvocationDeadline>();

/** The deadline of the invocation running now; undefined outside one (tests, scripts, the local tooling). */
export function currentDeadline(): InvocationDeadline | undefined {
  return current.getStore();
}

/** The signal to give an SDK call: the invocation's, or `own` too when the caller has one; undefined for neither. */
export function deadlineSignal(own?: AbortSignal): AbortSignal | undefined {
  const invocation = current.getStore()?.signal;
  if (!invocation) return own;
  if (!own) return invocation;
  return AbortSignal.any([invocation, own]);
}

/**
 * Runs one invocation's work under a deadline of `context.getRemainingTimeInMillis() - marginMs` from now. `also`
 * (middy's own timeout signal) aborts it too. When `work` settles, the signal is aborted: anything the invocation
 * left running is cut off rather than left to outlive the answer. Without getRemainingTimeInMillis, `work` runs
 * without a deadline, only cut off when it settles.
 */
export async function runWithDeadline<T>(context: RemainingTime | undefined, work: () => Promise<T>, options: { marginMs?: number; also?: AbortSignal } = {}): Promise<T> {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const budget = remaining === undefined || !Number.isFinite(remaining) ? undefined : Math.max(0, remaining - (options.marginMs ?? ANSWER_MARGIN_MS));
  const controller = new AbortController();
  // Every call in flight listens on the one signal (a preview reads many pages side by side); each removes its
  // listener when it ends, so many at once is no leak.
  setMaxListeners(0, controller.signal);
  const timer = budget === undefined ? undefined : setTimeout(() => controller.abort(deadlineReached(budget)), budget);
  const onAlso = () => controller.abort(options.also?.reason);
  if (options.also?.aborted) onAlso();
  else options.also?.addEventListener('abort', onAlso, { once: true });
  const deadline: InvocationDeadline = { at: budget === undefined ? Number.POSITIVE_INFINITY : Date.now() + budget, signal: controller.signal };
  try {
    return await current.run(deadline, work);
  } finally {
    clearTimeout(timer);
    options.also?.removeEventListener('abort', onAlso);
    if (!controller.signal.aborted) controller.abort(invocationAnswered());
  }
}

function deadlineReached(budgetMs: number): Error {
  return Object.assign(new Error(`The invocation's deadline passed (${budgetMs} ms after it started)`), { name: 'TimeoutError' });
}

function invocationAnswered(): Error {
  return Object.assign(new Error('The invocation has answered'), { name: 'AbortError' });
}
