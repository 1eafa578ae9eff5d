// Hooks AWS SDK v3 clients to the invocation's deadline (lib/invocation-deadline.ts).
import { deadlineSignal } from '../invocation-deadline.ts';

/** The parts of an AWS SDK v3 client the deadline hooks into. */
export interface SdkClientLike {
  config: { requestHandler?: unknown };
  middlewareStack: { add(middleware: any, options: { step: 'initialize'; name: string; priority: 'high' }): void };
}

/** The SDK's key for a call's own context, where its retry middleware reads the call's abort signal. */
const SMITHY_CONTEXT_KEY = '__smithy_context';

interface HttpHandlerLike {
  handle(request: unknown, options?: { abortSignal?: AbortSignal; [option: string]: unknown }): Promise<unknown>;
}

/**
 * Makes every call of `client` honour the invocation's deadline without each call site passing it: the retry
 * middleware gets the signal (so it neither starts an attempt nor sleeps through a back-off past the deadline), and
 * the HTTP handler gets it (so a request in flight is aborted and its socket closed). Outside an invocation the
 * client behaves as before. Returns the client.
 */
export function applyInvocationDeadline<C extends SdkClientLike>(client: C): C {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) => async (args: unknown) => {
      const signal = deadlineSignal();
      if (signal) {
        const smithy = (context[SMITHY_CONTEXT_KEY] ??= {}) as { abortSignal?: AbortSignal };
        smithy.abortSignal = smithy.abortSignal ? AbortSignal.any([smithy.abortSignal, signal]) : signal;
        if (signal.aborted) throw abortError(signal);
      }
      return next(args);
    },
    { step: 'initialize', name: 'invocationDeadline', priority: 'high' },
  );
  const handler = client.config.requestHandler as HttpHandlerLike | undefined;
  if (handler && typeof handler.handle === 'function') {
    const handle = handler.handle.bind(handler);
    handler.handle = (request, options = {}) => handle(request, { ...options, abortSignal: deadlineSignal(options.abortSignal) });
  }
  return client;
}

/** What an SDK call aborted by the deadline rejects with (the SDK's own aborts have the same name). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('Request aborted: the invocation deadline passed or it has answered'), { name: 'AbortError', cause: signal.reason });
}
