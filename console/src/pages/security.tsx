// The Security pane (API.md §6): the settings, read-only until Edit; while editing, the impact preview of the
// pending change and the 422 rules next to their controls; Save under If-Match, with the other writer's change
// shown on 412; Cancel discards.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ImpactPreview, SettingsDocument, StoredSettings } from '../../../lib/http/api-types.ts';
import { ApiError, describeError, get, request, SessionEnded, StoreUnreachable } from '../api.ts';
import { FieldError, Loading, Notice, whileAsked } from '../ui.tsx';
import { MODE_CHOICES, PACKAGE_CHOICES, SETTING_LABELS, SSL_CHOICES, valueWords, violationWords, when } from '../words.ts';

// The API's bodies, typed from the schemas the server validates with: a renamed field breaks this build.
type Settings = SettingsDocument;

/** The form as typed: numbers stay text until Save, so that what a person typed is never rewritten. */
interface Draft {
  certificateBasedAuthentication: boolean;
  pushNotifications: boolean;
  sslCertificateVerification: string;
  packageValidation: string;
  maxClockSkewSeconds: string;
  requireImagingAuthentication: boolean;
  mode: string;
  certificateExpiryAlertDays: string;
}

interface HistoryEntry {
  version: number;
  changedAt: string;
  actor: string;
  changes: { field: string; from: unknown; to: unknown }[];
}

type Impact = ImpactPreview;

type Preview =
  | { state: 'none' }
  | { state: 'loading' }
  | { state: 'ready'; impact: Impact }
  | { state: 'invalid' }
  | { state: 'unavailable' }
  | { state: 'failed'; message: string };

const FIELDS = Object.keys(SETTING_LABELS) as (keyof Settings)[];

const toDraft = (settings: Settings): Draft => ({
  ...settings,
  maxClockSkewSeconds: String(settings.maxClockSkewSeconds),
  certificateExpiryAlertDays: settings.certificateExpiryAlertDays.join(', '),
});

/** The merge patch from the stored settings to the draft, or the fields the console cannot read as numbers. */
function patchFrom(base: Settings, draft: Draft): { patch: Partial<Settings>; problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const wanted: Record<string, unknown> = { ...draft };
  const skew = draft.maxClockSkewSeconds.trim();
  if (!/^-?\d+(\.\d+)?$/.test(skew)) problems.maxClockSkewSeconds = 'Enter the maximum clock skew as a whole number of seconds, from 1 to 86400.';
  else wanted.maxClockSkewSeconds = Number(skew);
  const days = draft.certificateExpiryAlertDays.split(/[\s,]+/).filter(Boolean);
  if (days.length === 0 || days.some((day) => !/^-?\d+$/.test(day))) {
    problems.certificateExpiryAlertDays = 'Enter the days before expiry as whole numbers separated by commas, such as 30, 14, 7.';
  } else wanted.certificateExpiryAlertDays = days.map(Number);
  const patch: Partial<Settings> = {};
  for (const field of FIELDS) {
    if (field in problems) continue;
    if (JSON.stringify(wanted[field]) !== JSON.stringify(base[field])) (patch as Record<string, unknown>)[field] = wanted[field];
  }
  return { patch, problems };
}

/** The messages of a 400/422 by field (details, or the one field named). */
function fieldMessages(error: ApiError): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const detail of error.details) messages[detail.field] = detail.message;
  if (error.field) messages[error.field] = error.message;
  return messages;
}

const plural = (count: number, one: string, many: string = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function ImpactPreview({ preview }: { preview: Preview }) {
  let body;
  if (preview.state === 'none') body = <p>Change a setting to see which devices it would block.</p>;
  else if (preview.state === 'loading') body = <p>Working out the impact…</p>;
  else if (preview.state === 'invalid') body = <p>Fix the settings marked above to see their impact.</p>;
  else if (preview.state === 'unavailable') body = <p>The impact preview is not available on this server; the change can still be saved.</p>;
  else if (preview.state === 'failed') body = <p>{preview.message}</p>;
  else {
    const { impact } = preview;
    const blocked = impact.newlyBlocked;
    const accepted = impact.newlyAccepted;
    body = (
      <>
        <p class={blocked.count > 0 ? 'impact-headline bad' : 'impact-headline'}>
          {blocked.count > 0 ? `Would block ${plural(blocked.count, 'more device')}` : 'Would block no more devices'}
        </p>
        {accepted.count > 0 && <p class="impact-headline good">Would accept {plural(accepted.count, 'device')} blocked now</p>}
        <p class="hint">
          Judged on the latest check-in of {plural(impact.devices, 'device')} seen since {when(impact.since)}: {impact.current.blocked} blocked now,{' '}
          {impact.proposed.blocked} with this change.
        </p>
        {blocked.count > 0 && (
          <>
            <h3>Newly blocked, by violation</h3>
            <ul class="by-violation">
              {Object.entries(blocked.byViolation).map(([code, count]) => (
                <li key={code}>
                  {violationWords(code)}: {count}
                </li>
              ))}
            </ul>
            <h3>First devices it would block</h3>
            <ul class="device-list">
              {blocked.devices.map((device) => (
                <li key={device.deviceId}>
                  <a href={`#/devices/${encodeURIComponent(device.deviceId)}`}>{device.deviceId}</a> — {device.violations.map(violationWords).join('; ')}
                </li>
              ))}
            </ul>
          </>
        )}
      </>
    );
  }
  return (
    <section class="card impact" aria-labelledby="impact-heading" aria-live="polite">
      <h2 id="impact-heading">Impact of this change</h2>
      {body}
    </section>
  );
}

function Conflict({ entries, onDismiss }: { entries: HistoryEntry[]; onDismiss: () => void }) {
  return (
    <Notice kind="error">
      <p>
        <strong>Someone else changed the settings while you were editing.</strong> Nothing of yours was saved. Their change:
      </p>
      <ul>
        {entries.map((entry) => (
          <li key={entry.version + entry.changedAt}>
            {entry.actor} at {when(entry.changedAt)} (version {entry.version}):{' '}
            {entry.changes.map((c) => `${SETTING_LABELS[c.field] ?? c.field} from ${valueWords(c.from)} to ${valueWords(c.to)}`).join('; ')}
          </li>
        ))}
      </ul>
      <p>Your edits are kept below on top of their version: check them, then Save again, or Cancel.</p>
      <button type="button" onClick={onDismiss}>
        Understood
      </button>
    </Notice>
  );
}

export function SecurityPage({ readOnly }: { readOnly: boolean }) {
  const [stored, setStored] = useState<StoredSettings>();
  const [loadError, setLoadError] = useState<string>();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Draft>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [conflict, setConflict] = useState<HistoryEntry[]>();
  const [preview, setPreview] = useState<Preview>({ state: 'none' });
  const [saving, setSaving] = useState(false);
  const previewRound = useRef(0);

  useEffect(() => {
    const asked = whileAsked();
    get<StoredSettings>('/admin/settings').then(
      asked.ifCurrent((current) => {
        setStored(current);
        setDraft(toDraft(current.settings));
        setLoadError(undefined);
      }),
      asked.ifCurrent((error) => {
        if (!(error instanceof SessionEnded)) setLoadError(describeError(error));
      }),
    );
    return asked.forget;
  }, []);

  // The impact preview of the pending change, a moment after the last keystroke.
  useEffect(() => {
    if (!editing || !stored || !draft) return;
    const { patch, problems } = patchFrom(stored.settings, draft);
    const round = ++previewRound.current;
    const clientProblems = problems;
    if (Object.keys(patch).length === 0) {
      setPreview({ state: Object.keys(clientProblems).length > 0 ? 'invalid' : 'none' });
      setFieldErrors(clientProblems);
      return;
    }
    const timer = setTimeout(async () => {
      setPreview({ state: 'loading' });
      try {
        const { body } = await request<Impact>('POST', '/admin/settings/preview', { body: patch, headers: { 'content-type': 'application/merge-patch+json' } });
        if (round !== previewRound.current) return;
        setFieldErrors(clientProblems);
        setPreview(Object.keys(clientProblems).length > 0 ? { state: 'invalid' } : { state: 'ready', impact: body });
      } catch (error) {
        if (round !== previewRound.current) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
          setFieldErrors(clientProblems);
          setPreview({ state: 'unavailable' });
        } else if (error instanceof ApiError && (error.status === 422 || error.status === 400)) {
          setFieldErrors({ ...fieldMessages(error), ...clientProblems });
          setPreview({ state: 'invalid' });
        } else if (!(error instanceof SessionEnded)) setPreview({ state: 'failed', message: describeError(error) });
      }
    }, 350);
    return () => {
      clearTimeout(timer);
      // A preview still on its way when the draft changes or the page is left is not shown.
      previewRound.current++;
    };
  }, [editing, draft, stored]);

  if (loadError) return <Notice kind="error">{loadError}</Notice>;
  if (!stored || !draft) return <Loading what="the settings" />;

  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => {
    setDraft({ ...draft, [field]: value });
    setSaved(undefined);
  };

  const startEditing = () => {
    setEditing(true);
    setSaved(undefined);
    setFormError(undefined);
    setPreview({ state: 'none' });
  };

  const cancel = () => {
    previewRound.current++;
    setEditing(false);
    setDraft(toDraft(stored.settings));
    setFieldErrors({});
    setFormError(undefined);
    setConflict(undefined);
    setPreview({ state: 'none' });
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (!editing || saving) return;
    const { patch, problems } = patchFrom(stored.settings, draft);
    setFormError(undefined);
    if (Object.keys(problems).length > 0) {
      setFieldErrors(problems);
      setFormError('Some settings need fixing: see the messages next to them.');
      return;
    }
    if (Object.keys(patch).length === 0) {
      cancel();
      setSaved('Nothing was changed.');
      return;
    }
    setSaving(true);
    try {
      const { body } = await request<StoredSettings>('PATCH', '/admin/settings', {
        body: patch,
        headers: { 'content-type': 'application/merge-patch+json', 'if-match': `"${stored.version}"` },
      });
      previewRound.current++;
      setStored(body);
      setDraft(toDraft(body.settings));
      setEditing(false);
      setFieldErrors({});
      setConflict(undefined);
      setPreview({ state: 'none' });
      setSaved(`Saved. The settings are now at version ${body.version}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) await showConflict(patch);
      else if (error instanceof ApiError && (error.status === 422 || error.status === 400)) {
        const messages = fieldMessages(error);
        setFieldErrors(messages);
        setFormError(Object.keys(messages).length > 0 ? 'The settings were not saved: see the messages next to them.' : error.message);
      } else if (error instanceof StoreUnreachable) setFormError(describeError(error));
      else if (!(error instanceof SessionEnded)) setFormError(describeError(error));
    } finally {
      setSaving(false);
    }
  };

  /** 412: show what the other writer changed, and put this person's edits on top of the settings as they are now. */
  const showConflict = async (mine: Partial<Settings>) => {
    try {
      const [current, history] = await Promise.all([get<StoredSettings>('/admin/settings'), get<{ items: HistoryEntry[] }>('/admin/settings/history?limit=20')]);
      const theirs = history.items.filter((entry) => entry.version > stored.version && entry.changes.some((c) => c.field in SETTING_LABELS));
      setConflict(theirs);
      setStored(current);
      const rebased = toDraft({ ...current.settings, ...mine } as Settings);
      // Keep what was typed (not its parsed form) for the fields this person changed.
      for (const field of Object.keys(mine) as (keyof Draft)[]) (rebased as any)[field] = draft[field];
      setDraft(rebased);
    } catch (error) {
      if (!(error instanceof SessionEnded)) setFormError(describeError(error));
    }
  };

  const disabled = !editing;
  const controls = { draft, errors: fieldErrors, set };

  return (
    <>
      <p class="meta">
        Version {stored.version}
        {stored.updatedBy ? ` · last changed by ${stored.updatedBy}` : ''}
        {stored.updatedAt ? ` on ${when(stored.updatedAt)}` : ''}
      </p>
      {saved && <Notice kind="success">{saved}</Notice>}
      {conflict && <Conflict entries={conflict} onDismiss={() => setConflict(undefined)} />}
      <div class={editing ? 'security editing' : 'security'}>
        <form class="card settings-form" onSubmit={save} noValidate aria-labelledby="settings-heading">
          <h2 id="settings-heading">Computer Management › Security</h2>
          {formError && <Notice kind="error">{formError}</Notice>}
          <fieldset disabled={disabled}>
            <legend class="visually-hidden">Security settings</legend>
            <CheckboxControl field="certificateBasedAuthentication" label="Enable certificate-based authentication" {...controls} />
            <CheckboxControl field="pushNotifications" label="Enable push notifications" {...controls} />
            <ChoiceControl field="sslCertificateVerification" label="SSL certificate verification" choices={SSL_CHOICES} {...controls} />
            <ChoiceControl field="packageValidation" label="Package validation" choices={PACKAGE_CHOICES} {...controls} />
            <TextControl field="maxClockSkewSeconds" label="Maximum clock skew" unit="seconds" numeric {...controls} />
            <CheckboxControl field="requireImagingAuthentication" label="Require login for imaging information" {...controls} />
            <ChoiceControl field="mode" label="Mode" choices={MODE_CHOICES} {...controls} />
            <TextControl field="certificateExpiryAlertDays" label="Certificate expiry alerts" unit="days before expiry, comma-separated" {...controls} />
          </fieldset>
          {!readOnly && (
            <div class="actions">
              {editing ? (
                <>
                  <button key="save" type="submit" class="primary" disabled={saving}>
                    Save
                  </button>
                  <button key="cancel" type="button" onClick={cancel}>
                    Cancel
                  </button>
                </>
              ) : (
                <button key="edit" type="button" class="primary" onClick={startEditing}>
                  Edit
                </button>
              )}
            </div>
          )}
        </form>
        {editing && <ImpactPreview preview={preview} />}
      </div>
    </>
  );
}

// ---- the pane's controls: each labelled as API.md §6 names it, its 422 rule next to it (aria-describedby) ----

type BooleanField = 'certificateBasedAuthentication' | 'pushNotifications' | 'requireImagingAuthentication';
type ChoiceField = 'sslCertificateVerification' | 'packageValidation' | 'mode';
type TextField = 'maxClockSkewSeconds' | 'certificateExpiryAlertDays';

interface ControlProps<K extends keyof Draft> {
  field: K;
  label: string;
  draft: Draft;
  errors: Record<string, string | undefined>;
  set: <F extends keyof Draft>(field: F, value: Draft[F]) => void;
}

const errorId = (field: string) => `${field}-error`;
const invalidFlag = (errors: ControlProps<keyof Draft>['errors'], field: string) => (errors[field] ? 'true' : undefined);

function CheckboxControl({ field, label, draft, errors, set }: ControlProps<BooleanField>) {
  return (
    <div class="control check">
      <input
        id={field}
        type="checkbox"
        checked={draft[field]}
        onChange={(e) => set(field, e.currentTarget.checked)}
        aria-describedby={errorId(field)}
        aria-invalid={invalidFlag(errors, field)}
      />
      <label for={field}>{label}</label>
      <FieldError id={errorId(field)} message={errors[field]} />
    </div>
  );
}

function ChoiceControl({ field, label, choices, draft, errors, set }: ControlProps<ChoiceField> & { choices: readonly (readonly [string, string])[] }) {
  return (
    <div class="control">
      <label for={field}>{label}</label>
      <select id={field} value={draft[field]} onChange={(e) => set(field, e.currentTarget.value)} aria-describedby={errorId(field)} aria-invalid={invalidFlag(errors, field)}>
        {choices.map(([value, words]) => (
          <option key={value} value={value}>
            {words}
          </option>
        ))}
      </select>
      <FieldError id={errorId(field)} message={errors[field]} />
    </div>
  );
}

function TextControl({ field, label, unit, numeric, draft, errors, set }: ControlProps<TextField> & { unit: string; numeric?: boolean }) {
  return (
    <div class="control">
      <label for={field}>{label}</label>
      <span class="with-unit">
        <input
          id={field}
          type="text"
          inputMode={numeric ? 'numeric' : undefined}
          value={draft[field]}
          onInput={(e) => set(field, e.currentTarget.value)}
          aria-describedby={`${field}-unit ${errorId(field)}`}
          aria-invalid={invalidFlag(errors, field)}
        />
        <span id={`${field}-unit`}>{unit}</span>
      </span>
      <FieldError id={errorId(field)} message={errors[field]} />
    </div>
  );
}
