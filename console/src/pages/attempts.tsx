// Attempts (API.md §6): check-ins that failed the identity check, newest first (kept 7 days).
import { Loading, Notice, Pager, TableBox, usePagedList } from '../ui.tsx';
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
  const { page, error, pager } = usePagedList<Attempt>('/admin/unauthenticated-attempts');
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
      <Pager label="Attempt pages" {...pager} />
    </section>
  );
}
