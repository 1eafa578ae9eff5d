// Attempts (API.md §6): check-ins that failed the identity check, newest first (kept 7 days).
import { useEffect, useState } from 'preact/hooks';
import { describeError, get, SessionEnded } from '../api.ts';
import { Loading, Notice, Pager, TableBox } from '../ui.tsx';
import { violationWords, when } from '../words.ts';

interface Attempt {
  deviceId: string;
  checkinId: string;
  violations: string[];
  fingerprint?: string;
  sourceIp: string;
  at: string;
}

export function AttemptsPage() {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: Attempt[]; nextToken?: string }>();
  const [error, setError] = useState<string>();
  const current = tokens[tokens.length - 1];
  useEffect(() => {
    setPage(undefined);
    const query = new URLSearchParams({ limit: '50' });
    if (current) query.set('nextToken', current);
    get<{ items: Attempt[]; nextToken?: string }>(`/admin/unauthenticated-attempts?${query}`).then(setPage, (caught) => {
      if (!(caught instanceof SessionEnded)) setError(describeError(caught));
    });
  }, [current]);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!page) return <Loading what="attempts" />;
  return (
    <section class="card" aria-label="Unauthenticated check-in attempts">
      <p class="hint">Check-ins refused because they could not prove to be the device they named. They changed nothing of that device.</p>
      {page.items.length === 0 ? (
        <p>No unauthenticated check-in in the last 7 days.</p>
      ) : (
        <TableBox label="Attempts, newest first">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Claimed device</th>
              <th scope="col">Why it was refused</th>
              <th scope="col">Certificate</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((attempt) => (
              <tr key={`${attempt.at}-${attempt.checkinId}`}>
                <td>{when(attempt.at)}</td>
                <td>{attempt.deviceId}</td>
                <td>{attempt.violations.map(violationWords).join('; ')}</td>
                <td class="hash" title={attempt.fingerprint}>
                  {attempt.fingerprint ? `${attempt.fingerprint.slice(0, 16)}…` : 'none'}
                </td>
                <td>{attempt.sourceIp}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <Pager label="Attempt pages" hasPrevious={tokens.length > 1} hasNext={Boolean(page.nextToken)} onFirst={() => setTokens([undefined])} onNext={() => page.nextToken && setTokens([...tokens, page.nextToken])} />
    </section>
  );
}
