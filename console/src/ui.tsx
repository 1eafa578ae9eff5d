// Small shared pieces of the console's pages: messages, field errors, tables, the store-unreachable notice.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, get, SessionEnded } from './api.ts';

/** A message tied to a control by id (aria-describedby), shown right under it. */
export function FieldError({ id, message }: { id: string; message?: string }) {
  return (
    <p id={id} class="field-error" role={message ? 'alert' : undefined} hidden={!message}>
      {message ?? ''}
    </p>
  );
}

/** A notice for the whole form: an error (role=alert) or a success (role=status). */
export function Notice({ kind, children }: { kind: 'error' | 'success' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="loading" role="status">Loading {what}…</p>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

/** A scrollable table wrapper, so that narrow screens scroll the table and not the page. */
export function TableBox({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-box" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

/** "Newer" / "Older" paging over nextToken (API pages are newest first). */
export function Pager({ hasPrevious, hasNext, onFirst, onNext, label }: { hasPrevious: boolean; hasNext: boolean; onFirst: () => void; onNext: () => void; label: string }) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" onClick={onFirst} disabled={!hasPrevious}>
        First page
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}

/**
 * One effect's request, current until the effect is cleaned up (its inputs changed, or the page was left): an answer
 * handed to `ifCurrent(...)` after that is dropped, so that a late answer to an earlier request never overwrites a newer one.
 */
export function whileAsked() {
  let current = true;
  return {
    ifCurrent:
      <A extends unknown[]>(use: (...answer: A) => void) =>
      (...answer: A) => {
        if (current) use(...answer);
      },
    forget: () => {
      current = false;
    },
  };
}

/**
 * Requests whose answers replace each other's (a list read on arrival, read again or answered after a change): each
 * call marks a request as the latest, making every earlier one stale, and returns whether it is still the latest when
 * its answer comes. Leaving the page makes none the latest. An action calls it once its change has been answered, so
 * that reads sent before are dropped, while a failed action leaves them be.
 */
export function useLatestRequest(): () => () => boolean {
  const latest = useRef(0);
  useEffect(
    () => () => {
      latest.current += 1;
    },
    [],
  );
  return () => {
    const request = ++latest.current;
    return () => request === latest.current;
  };
}

/**
 * A list read on arrival and again (`load`) after each change: the items of the latest read (useLatestRequest). A
 * change awaits `load()`, which throws only while its read is the latest; a failed read on arrival shows an empty list.
 */
export function useLatestList<T>(path: string): { items?: T[]; load: () => Promise<void> } {
  const [items, setItems] = useState<T[]>();
  const latest = useLatestRequest();
  const load = async () => {
    const isLatest = latest();
    try {
      const body = await get<{ items: T[] }>(path);
      if (isLatest()) setItems(body.items);
    } catch (error) {
      if (isLatest()) throw error;
    }
  };
  useEffect(() => {
    load().catch(() => setItems([]));
  }, [path]);
  return { items, load };
}

/**
 * A listing read a page at a time (`limit` 50, then each `nextToken`): the page shown, its error, and the pager's
 * wiring (first page, next page).
 */
export function usePagedList<T>(path: string) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: T[]; nextToken?: string }>();
  const [error, setError] = useState<string>();
  const current = tokens[tokens.length - 1];
  useEffect(() => {
    setPage(undefined);
    const query = new URLSearchParams({ limit: '50' });
    if (current) query.set('nextToken', current);
    const asked = whileAsked();
    get<{ items: T[]; nextToken?: string }>(`${path}?${query}`).then(
      asked.ifCurrent((body) => setPage(body)),
      asked.ifCurrent((caught) => {
        if (!(caught instanceof SessionEnded)) setError(describeError(caught));
      }),
    );
    return asked.forget;
  }, [path, current]);
  const pager = {
    hasPrevious: tokens.length > 1,
    hasNext: Boolean(page?.nextToken),
    onFirst: () => setTokens([undefined]),
    onNext: () => page?.nextToken && setTokens([...tokens, page.nextToken]),
  };
  return { page, error, pager };
}

/** The outcome of one form's last action: its error (next to the form) or what it did. */
export interface ActionState {
  busy: boolean;
  error?: string;
  done?: string;
}

/**
 * Runs a form's action and keeps its outcome: the API's message on an error, the store sentence on a 503 or a lost
 * connection (the form keeps what was typed either way). A token that stopped working is the app's business.
 */
export function useAction() {
  const [state, setState] = useState<ActionState>({ busy: false });
  const run = async (action: () => Promise<string | undefined>) => {
    setState({ busy: true });
    try {
      const done = await action();
      setState({ busy: false, done });
      return true;
    } catch (error) {
      setState({ busy: false, error: error instanceof SessionEnded ? undefined : describeError(error) });
      return false;
    }
  };
  return { state, run, reset: () => setState({ busy: false }) };
}

export function ActionOutcome({ id, state }: { id: string; state: ActionState }) {
  return (
    <>
      <FieldError id={id} message={state.error} />
      {state.done && <p class="done" role="status">{state.done}</p>}
    </>
  );
}
