// Overview (issue 12): blocked devices now by violation as a small bar chart, the certificates with the days they
// have left, and the last changes.
import { useEffect, useState } from 'preact/hooks';
import { describeError, get, getOptional, SessionEnded } from '../api.ts';
import { Loading, Notice, Section, whileAsked } from '../ui.tsx';
import { daysUntil, violationWords, when } from '../words.ts';
import { describeChange, type HistoryEntry } from './history.tsx';
import { DaysLeft } from './trust.tsx';

/** At most this many blocked devices are read for the chart (5 pages of the API's largest). */
const MAX_BLOCKED_READ = 2500;

interface Blocked {
  count: number;
  complete: boolean;
  byViolation: [string, number][];
}

async function readBlocked(): Promise<Blocked> {
  const counts = new Map<string, number>();
  let count = 0;
  let nextToken: string | undefined;
  do {
    const query = new URLSearchParams({ status: 'BLOCKED', limit: '500' });
    if (nextToken) query.set('nextToken', nextToken);
    const page = await get<{ items: { violations: (string | { code: string })[] }[]; nextToken?: string }>(`/admin/devices?${query}`);
    for (const device of page.items) {
      count += 1;
      for (const violation of device.violations) {
        const code = typeof violation === 'string' ? violation : violation.code;
        counts.set(code, (counts.get(code) ?? 0) + 1);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken && count < MAX_BLOCKED_READ);
  return { count, complete: !nextToken, byViolation: [...counts.entries()].sort((a, b) => b[1] - a[1]) };
}

interface CertificateRow {
  kind: string;
  name: string;
  notAfter: string;
}

async function readCertificates(): Promise<CertificateRow[]> {
  const [cas, server, push] = await Promise.all([
    get<{ certificates: { subject: string; notAfter: string }[] }>('/admin/device-ca'),
    getOptional<{ subject: string; notAfter: string }>('/admin/server-certificate'),
    getOptional<{ topic: string; notAfter: string }>('/admin/push-certificate'),
  ]);
  const rows: CertificateRow[] = cas.certificates.map((ca) => ({ kind: 'Device CA', name: ca.subject, notAfter: ca.notAfter }));
  if (server) rows.push({ kind: 'Server', name: server.subject, notAfter: server.notAfter });
  if (push) rows.push({ kind: 'Push', name: push.topic, notAfter: push.notAfter });
  return rows.sort((a, b) => a.notAfter.localeCompare(b.notAfter));
}

function useLoad<T>(load: () => Promise<T>): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    const asked = whileAsked();
    load().then(
      asked.ifCurrent((value) => setState({ value })),
      asked.ifCurrent((error) => {
        if (!(error instanceof SessionEnded)) setState({ error: describeError(error) });
      }),
    );
    return asked.forget;
  }, []);
  return state;
}

function BlockedChart({ blocked }: { blocked: Blocked }) {
  if (blocked.count === 0) return <p class="big-number good">No device is blocked.</p>;
  const largest = Math.max(...blocked.byViolation.map(([, n]) => n));
  return (
    <>
      <p class="big-number bad">
        {blocked.complete ? '' : 'At least '}
        {blocked.count} blocked device{blocked.count === 1 ? '' : 's'}
      </p>
      <ul class="bars" aria-label="Blocked devices by violation">
        {blocked.byViolation.map(([code, n]) => (
          <li key={code}>
            <span class="bar-label">{violationWords(code)}</span>
            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect x="0" y="0" height="10" width={Math.max(2, (n / largest) * 100)} />
            </svg>
            <span class="bar-value">{n}</span>
          </li>
        ))}
      </ul>
      <p>
        <a href="#/devices">See the blocked devices</a>
      </p>
    </>
  );
}

export function OverviewPage() {
  const blocked = useLoad(readBlocked);
  const certificates = useLoad(readCertificates);
  const history = useLoad(() => get<{ items: HistoryEntry[] }>('/admin/settings/history?limit=5'));
  return (
    <div class="overview">
      <Section title="Blocked now" id="blocked-now">
        {blocked.error ? <Notice kind="error">{blocked.error}</Notice> : blocked.value ? <BlockedChart blocked={blocked.value} /> : <Loading what="blocked devices" />}
      </Section>
      <Section title="Certificates" id="certificates">
        {certificates.error ? (
          <Notice kind="error">{certificates.error}</Notice>
        ) : !certificates.value ? (
          <Loading what="certificates" />
        ) : certificates.value.length === 0 ? (
          <p>No certificate is stored yet.</p>
        ) : (
          <ul class="plain">
            {certificates.value.map((row) => (
              <li key={`${row.kind}-${row.name}-${row.notAfter}`}>
                <strong>{row.kind}</strong> {row.name}: <DaysLeft days={daysUntil(row.notAfter)} />
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href="#/trust">Manage trust material</a>
        </p>
      </Section>
      <Section title="Last changes" id="last-changes">
        {history.error ? (
          <Notice kind="error">{history.error}</Notice>
        ) : !history.value ? (
          <Loading what="the history" />
        ) : history.value.items.length === 0 ? (
          <p>Nothing has been changed yet.</p>
        ) : (
          <ul class="plain">
            {history.value.items.map((entry, index) => (
              <li key={index}>
                {when(entry.changedAt)} · {entry.actor}: {entry.changes.map(describeChange).join('; ')}
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href="#/history">All changes</a>
        </p>
      </Section>
    </div>
  );
}
