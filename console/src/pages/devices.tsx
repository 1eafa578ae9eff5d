// Devices (API.md §6): blocked devices first, filtered by status and paged; one device's decisions with their
// violations in words, and its exemption (grant with until and reason, or lift).
import { useEffect, useState } from 'preact/hooks';
import type { Exemption } from '../../../lib/http/api-types.ts';
import { describeError, encodeSegment, get, getOptional, request, SessionEnded } from '../api.ts';
import { ActionOutcome, Loading, Notice, Pager, Section, TableBox, useAction, useLatestRequest, whileAsked } from '../ui.tsx';
import { EXEMPTABLE_CODES, violationWords, when } from '../words.ts';

interface Finding {
  code: string;
  message?: string;
}
interface DeviceRow {
  deviceId: string;
  decision: string;
  violations: (Finding | string)[];
  lastCheckinAt: string;
  checkinId: string;
}
interface DecisionRecord {
  checkinId: string;
  decision: string;
  enforced: boolean;
  violations: Finding[];
  exempted?: Finding[];
  warnings: Finding[];
  settingsVersion: number;
  evaluatedAt: string;
}

const codeOf = (violation: Finding | string) => (typeof violation === 'string' ? violation : violation.code);
const deviceLink = (deviceId: string) => `#/devices/${encodeURIComponent(deviceId)}`;
const PAGE_SIZE = 25;

function DeviceList() {
  const [status, setStatus] = useState('BLOCKED');
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: DeviceRow[]; nextToken?: string }>();
  const [error, setError] = useState<string>();
  const current = tokens[tokens.length - 1];
  useEffect(() => {
    setPage(undefined);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status) query.set('status', status);
    if (current) query.set('nextToken', current);
    const asked = whileAsked();
    get<{ items: DeviceRow[]; nextToken?: string }>(`/admin/devices?${query}`).then(
      asked.ifCurrent((body) => {
        setPage(body);
        setError(undefined);
      }),
      asked.ifCurrent((caught) => {
        if (!(caught instanceof SessionEnded)) setError(describeError(caught));
      }),
    );
    return asked.forget;
  }, [status, current]);
  return (
    <Section title="Device list" id="device-list">
      <div class="filters">
        <label for="device-status">Status</label>
        <select
          id="device-status"
          value={status}
          onChange={(e) => {
            setStatus(e.currentTarget.value);
            setTokens([undefined]);
          }}
        >
          <option value="BLOCKED">Blocked</option>
          <option value="ACCEPTED">Accepted</option>
          <option value="">All</option>
        </select>
      </div>
      {error ? (
        <Notice kind="error">{error}</Notice>
      ) : !page ? (
        <Loading what="devices" />
      ) : page.items.length === 0 ? (
        <p>{status === 'BLOCKED' ? 'No device is blocked.' : status === 'ACCEPTED' ? 'No device is accepted.' : 'No device has checked in yet.'}</p>
      ) : (
        <TableBox label="Devices">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Decision</th>
              <th scope="col">Violations</th>
              <th scope="col">Last check-in</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((device) => (
              <tr key={device.deviceId}>
                <td>
                  <a href={deviceLink(device.deviceId)}>{device.deviceId}</a>
                </td>
                <td>
                  <span class={device.decision === 'BLOCK' ? 'badge bad' : 'badge good'}>{device.decision === 'BLOCK' ? 'Blocked' : 'Accepted'}</span>
                </td>
                <td>{device.violations.length === 0 ? 'none' : device.violations.map((v) => violationWords(codeOf(v))).join('; ')}</td>
                <td>{when(device.lastCheckinAt)}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <Pager
        label="Device pages"
        hasPrevious={tokens.length > 1}
        hasNext={Boolean(page?.nextToken)}
        onFirst={() => setTokens([undefined])}
        onNext={() => page?.nextToken && setTokens([...tokens, page.nextToken])}
      />
    </Section>
  );
}

function Violations({ findings, label }: { findings: Finding[]; label: string }) {
  if (findings.length === 0) return null;
  return (
    <div>
      <h4>{label}</h4>
      <ul class="violations">
        {findings.map((finding, index) => (
          <li key={`${finding.code}-${index}`}>
            <strong>{violationWords(finding.code)}</strong>
            {finding.message ? `: ${finding.message}` : ''} <span class="code">{finding.code}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function inDays(days: number): string {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setSeconds(0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function ExemptionPanel({ deviceId, readOnly, suggested }: { deviceId: string; readOnly: boolean; suggested: string[] }) {
  const [exemption, setExemption] = useState<Exemption | null>();
  const [codes, setCodes] = useState<string[]>([]);
  // The device's latest violations are offered ticked until the person ticks or unticks a box themselves.
  const [codesTouched, setCodesTouched] = useState(false);
  const [until, setUntil] = useState(inDays(7));
  const [reason, setReason] = useState('');
  const grant = useAction();
  const lift = useAction();
  const [fieldError, setFieldError] = useState<{ field?: string; message?: string }>({});
  // The exemption as read on arrival, unless a grant or a lift answered since.
  const latestExemption = useLatestRequest();
  useEffect(() => {
    const isLatest = latestExemption();
    const show = (found: Exemption | null) => isLatest() && setExemption(found);
    getOptional<Exemption>(`/admin/exemptions/${encodeSegment(deviceId)}`).then((found) => show(found ?? null), () => show(null));
  }, [deviceId]);
  useEffect(() => {
    if (!codesTouched) setCodes(suggested.filter((code) => EXEMPTABLE_CODES.includes(code)));
  }, [suggested.join(',')]);
  const submit = (event: Event) => {
    event.preventDefault();
    setFieldError({});
    void grant.run(async () => {
      const untilDate = new Date(until);
      try {
        const { body } = await request<Exemption>('PUT', `/admin/exemptions/${encodeSegment(deviceId)}`, {
          body: { violations: codes, until: Number.isNaN(untilDate.getTime()) ? until : untilDate.toISOString(), reason },
        });
        latestExemption();
        setExemption(body);
        return `Exemption granted until ${when(body.until)}.`;
      } catch (error) {
        const field = (error as { field?: string }).field;
        if (field) setFieldError({ field, message: (error as Error).message });
        throw error;
      }
    });
  };
  const remove = () =>
    void lift.run(async () => {
      await request('DELETE', `/admin/exemptions/${encodeSegment(deviceId)}`);
      latestExemption();
      setExemption(null);
      return 'Exemption lifted.';
    });
  const errorFor = (field: string) => (fieldError.field === field ? fieldError.message : undefined);
  return (
    <Section title="Exemption" id="exemption">
      {exemption === undefined ? (
        <Loading what="the exemption" />
      ) : exemption === null ? (
        <p>This device has no exemption.</p>
      ) : (
        <div>
          <p>
            Exempt from {exemption.violations.map(violationWords).join('; ')} until {when(exemption.until)}.
          </p>
          <p class="hint">
            Reason: {exemption.reason} — granted by {exemption.createdBy} on {when(exemption.createdAt)}
          </p>
          {!readOnly && (
            <div class="inline-action">
              <button type="button" class="danger" onClick={remove} disabled={lift.state.busy} aria-describedby="lift-error">
                Lift exemption
              </button>
              <ActionOutcome id="lift-error" state={lift.state} />
            </div>
          )}
        </div>
      )}
      {!readOnly && (
        <form onSubmit={submit} noValidate class="grid-form">
          <fieldset class="wide" aria-describedby="exemption-violations-error">
            <legend>Violations to exempt</legend>
            {EXEMPTABLE_CODES.map((code) => (
              <div class="check" key={code}>
                <input
                  id={`exempt-${code}`}
                  type="checkbox"
                  checked={codes.includes(code)}
                  onChange={(e) => {
                    setCodesTouched(true);
                    setCodes(e.currentTarget.checked ? [...codes, code] : codes.filter((c) => c !== code));
                  }}
                />
                <label for={`exempt-${code}`}>{violationWords(code)}</label>
              </div>
            ))}
            <p id="exemption-violations-error" class="field-error" hidden={!errorFor('violations')}>
              {errorFor('violations')}
            </p>
          </fieldset>
          <div>
            <label for="exemption-until">Until</label>
            <input id="exemption-until" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} aria-describedby="exemption-until-error" />
            <p id="exemption-until-error" class="field-error" hidden={!errorFor('until')}>
              {errorFor('until')}
            </p>
          </div>
          <div>
            <label for="exemption-reason">Reason</label>
            <input id="exemption-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby="exemption-reason-error" />
            <p id="exemption-reason-error" class="field-error" hidden={!errorFor('reason')}>
              {errorFor('reason')}
            </p>
          </div>
          <div class="actions">
            <button type="submit" disabled={grant.state.busy}>
              {exemption ? 'Replace exemption' : 'Grant exemption'}
            </button>
          </div>
          {fieldError.field ? grant.state.done && <p class="done">{grant.state.done}</p> : <ActionOutcome id="exemption-error" state={grant.state} />}
        </form>
      )}
    </Section>
  );
}

function DeviceDetail({ deviceId, readOnly }: { deviceId: string; readOnly: boolean }) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: DecisionRecord[]; nextToken?: string }>();
  const [error, setError] = useState<string>();
  // The latest decision's violations (the first page's first item), kept while older pages are read.
  const [latestViolations, setLatestViolations] = useState<string[]>([]);
  const current = tokens[tokens.length - 1];
  useEffect(() => {
    setPage(undefined);
    const query = new URLSearchParams({ limit: '20' });
    if (current) query.set('nextToken', current);
    const asked = whileAsked();
    get<{ items: DecisionRecord[]; nextToken?: string }>(`/admin/devices/${encodeSegment(deviceId)}/decisions?${query}`).then(
      asked.ifCurrent((body) => {
        setPage(body);
        if (!current) setLatestViolations(body.items[0]?.violations.map((v) => v.code) ?? []);
      }),
      asked.ifCurrent((caught) => {
        if (!(caught instanceof SessionEnded)) setError(describeError(caught));
      }),
    );
    return asked.forget;
  }, [deviceId, current]);
  return (
    <div class="stack">
      <p>
        <a href="#/devices">← All devices</a>
      </p>
      <h2 class="device-title">Device {deviceId}</h2>
      <ExemptionPanel deviceId={deviceId} readOnly={readOnly} suggested={latestViolations} />
      <Section title="Decisions" id="decisions">
        {error ? (
          <Notice kind="error">{error}</Notice>
        ) : !page ? (
          <Loading what="decisions" />
        ) : page.items.length === 0 ? (
          <p>No decision is recorded for this device.</p>
        ) : (
          <ol class="decisions">
            {page.items.map((decision) => (
              <li key={decision.checkinId} class="decision">
                <h3>
                  <span class={decision.decision === 'BLOCK' ? 'badge bad' : 'badge good'}>{decision.decision === 'BLOCK' ? 'Blocked' : 'Accepted'}</span>{' '}
                  {when(decision.evaluatedAt)}
                </h3>
                <p class="hint">
                  Check-in {decision.checkinId} · settings version {decision.settingsVersion}
                  {decision.enforced ? '' : ' · monitor mode: not enforced'}
                </p>
                <Violations findings={decision.violations} label="Violations" />
                <Violations findings={decision.exempted ?? []} label="Exempted" />
                <Violations findings={decision.warnings} label="Warnings" />
                {decision.violations.length === 0 && (decision.exempted ?? []).length === 0 && <p>No violation.</p>}
              </li>
            ))}
          </ol>
        )}
        <Pager
          label="Decision pages"
          hasPrevious={tokens.length > 1}
          hasNext={Boolean(page?.nextToken)}
          onFirst={() => setTokens([undefined])}
          onNext={() => page?.nextToken && setTokens([...tokens, page.nextToken])}
        />
      </Section>
    </div>
  );
}

export function DevicesPage({ readOnly, deviceId }: { readOnly: boolean; deviceId?: string }) {
  return deviceId ? <DeviceDetail key={deviceId} deviceId={deviceId} readOnly={readOnly} /> : <DeviceList />;
}
