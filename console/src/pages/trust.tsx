// Trust material (API.md §6 "Trust"): device CAs, the server and push certificates, packages and revocations, with
// the API's own validation messages next to the form that caused them.
import { useEffect, useState } from 'preact/hooks';
import { encodeSegment, get, getOptional, request } from '../api.ts';
import { ActionOutcome, Loading, Section, TableBox, useAction, useLatestList, useLatestRequest } from '../ui.tsx';
import { daysUntil, when } from '../words.ts';

interface CertificateSummary {
  subject: string;
  notAfter: string;
  sha256: string;
}
interface ServerCertificate extends CertificateSummary {
  issuer: string;
  selfSigned: boolean;
}
interface PushCertificate extends CertificateSummary {
  topic: string;
  notBefore: string;
  daysRemaining: number;
}
interface PackageRecord {
  packageId: string;
  name: string;
  checksum: { type: string; value: string } | null;
}
interface RevocationRecord {
  sha256: string;
  reason: string;
  revokedAt: string;
  revokedBy: string;
}

/** Days remaining, red at or below 7 (API.md §6). */
export function DaysLeft({ days }: { days: number }) {
  const soon = days <= 7;
  return <span class={soon ? 'days soon' : 'days'}>{days < 0 ? `expired ${-days} days ago` : `${days} days left${soon ? ' — renew now' : ''}`}</span>;
}

const shortHash = (hash: string) => `${hash.slice(0, 16)}…`;

function readFileAsText(file: File): Promise<string> {
  return file.text();
}

async function readFileAsBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function DeviceCas({ readOnly }: { readOnly: boolean }) {
  const [cas, setCas] = useState<CertificateSummary[]>();
  const [pem, setPem] = useState('');
  const action = useAction();
  const latest = useLatestRequest();
  useEffect(() => {
    const isLatest = latest();
    get<{ certificates: CertificateSummary[] }>('/admin/device-ca').then(
      (body) => isLatest() && setCas(body.certificates),
      () => isLatest() && setCas([]),
    );
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const { body } = await request<{ certificates: CertificateSummary[] }>('PUT', '/admin/device-ca', { body: { certificates: pem } });
      latest();
      setCas(body.certificates);
      setPem('');
      return `Device CAs replaced: ${body.certificates.length} certificate${body.certificates.length === 1 ? '' : 's'}.`;
    });
  };
  return (
    <Section title="Device CA certificates" id="device-cas">
      {cas === undefined ? (
        <Loading what="device CAs" />
      ) : cas.length === 0 ? (
        <p>No device CA is configured: certificate-based authentication cannot be enabled until one is.</p>
      ) : (
        <TableBox label="Device CA certificates">
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Expires</th>
              <th scope="col">Days remaining</th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {cas.map((ca) => (
              <tr key={ca.sha256}>
                <td>{ca.subject}</td>
                <td>{when(ca.notAfter)}</td>
                <td>
                  <DaysLeft days={daysUntil(ca.notAfter)} />
                </td>
                <td class="hash" title={ca.sha256}>
                  {shortHash(ca.sha256)}
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      {!readOnly && (
        <form onSubmit={submit} noValidate class="upload">
          <label for="device-ca-pem">Device CA certificates (PEM)</label>
          <textarea id="device-ca-pem" rows={4} value={pem} onInput={(e) => setPem(e.currentTarget.value)} aria-describedby="device-ca-error" spellcheck={false} />
          <label for="device-ca-file">Or load a PEM file</label>
          <input
            id="device-ca-file"
            type="file"
            accept=".pem,.crt,.cer,application/x-pem-file"
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0];
              if (file) setPem(await readFileAsText(file));
            }}
          />
          <button type="submit" disabled={action.state.busy || pem.trim() === ''}>
            Replace device CAs
          </button>
          <ActionOutcome id="device-ca-error" state={action.state} />
        </form>
      )}
    </Section>
  );
}

function ServerCertificateSection({ readOnly }: { readOnly: boolean }) {
  const [certificate, setCertificate] = useState<ServerCertificate | null>();
  const [pem, setPem] = useState('');
  const action = useAction();
  const latest = useLatestRequest();
  useEffect(() => {
    const isLatest = latest();
    getOptional<ServerCertificate>('/admin/server-certificate').then(
      (c) => isLatest() && setCertificate(c ?? null),
      () => isLatest() && setCertificate(null),
    );
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const { body } = await request<ServerCertificate>('PUT', '/admin/server-certificate', { body: { certificate: pem } });
      latest();
      setCertificate(body);
      setPem('');
      return 'Server certificate replaced.';
    });
  };
  return (
    <Section title="Server certificate" id="server-certificate">
      {certificate === undefined ? (
        <Loading what="the server certificate" />
      ) : certificate === null ? (
        <p>No server certificate is stored.</p>
      ) : (
        <dl class="facts">
          <dt>Subject</dt>
          <dd>{certificate.subject}</dd>
          <dt>Issuer</dt>
          <dd>{certificate.selfSigned ? 'Self-signed' : certificate.issuer}</dd>
          <dt>Expires</dt>
          <dd>
            {when(certificate.notAfter)} (<DaysLeft days={daysUntil(certificate.notAfter)} />)
          </dd>
          <dt>SHA-256</dt>
          <dd class="hash">{certificate.sha256}</dd>
        </dl>
      )}
      {!readOnly && (
        <form onSubmit={submit} noValidate class="upload">
          <label for="server-certificate-pem">Server certificate (PEM)</label>
          <textarea id="server-certificate-pem" rows={4} value={pem} onInput={(e) => setPem(e.currentTarget.value)} aria-describedby="server-certificate-error" spellcheck={false} />
          <button type="submit" disabled={action.state.busy || pem.trim() === ''}>
            Replace server certificate
          </button>
          <ActionOutcome id="server-certificate-error" state={action.state} />
        </form>
      )}
    </Section>
  );
}

function PushCertificateSection({ readOnly }: { readOnly: boolean }) {
  const [certificate, setCertificate] = useState<PushCertificate | null>();
  const [file, setFile] = useState<File>();
  const [password, setPassword] = useState('');
  const upload = useAction();
  const removal = useAction();
  const latest = useLatestRequest();
  useEffect(() => {
    const isLatest = latest();
    getOptional<PushCertificate>('/admin/push-certificate').then(
      (c) => isLatest() && setCertificate(c ?? null),
      () => isLatest() && setCertificate(null),
    );
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    void upload.run(async () => {
      if (!file) throw new Error('Choose the .p12 file first.');
      const p12 = await readFileAsBase64(file);
      const { body } = await request<PushCertificate>('PUT', '/admin/push-certificate', { body: { p12, password } });
      latest();
      setCertificate(body);
      setPassword('');
      return `Push certificate for ${body.topic} uploaded.`;
    });
  };
  const remove = () =>
    void removal.run(async () => {
      await request('DELETE', '/admin/push-certificate');
      latest();
      setCertificate(null);
      return 'Push certificate removed.';
    });
  return (
    <Section title="Push certificate" id="push-certificate">
      {certificate === undefined ? (
        <Loading what="the push certificate" />
      ) : certificate === null ? (
        <p>No push certificate is stored: push notifications cannot be enabled until one is.</p>
      ) : (
        <dl class="facts">
          <dt>Topic</dt>
          <dd>{certificate.topic}</dd>
          <dt>Subject</dt>
          <dd>{certificate.subject}</dd>
          <dt>Expires</dt>
          <dd>
            {when(certificate.notAfter)} (<DaysLeft days={certificate.daysRemaining} />)
          </dd>
          <dt>SHA-256</dt>
          <dd class="hash">{certificate.sha256}</dd>
        </dl>
      )}
      {!readOnly && (
        <>
          <form onSubmit={submit} noValidate class="upload">
            <label for="push-p12">Push certificate (.p12)</label>
            <input id="push-p12" type="file" accept=".p12,.pfx,application/x-pkcs12" onChange={(e) => setFile(e.currentTarget.files?.[0])} aria-describedby="push-error" />
            <label for="push-password">Password</label>
            <input id="push-password" type="password" autocomplete="off" value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-describedby="push-error" />
            <button type="submit" disabled={upload.state.busy || !file}>
              Upload push certificate
            </button>
            <ActionOutcome id="push-error" state={upload.state} />
          </form>
          {certificate && (
            <div class="inline-action">
              <button type="button" class="danger" onClick={remove} disabled={removal.state.busy} aria-describedby="push-remove-error">
                Remove push certificate
              </button>
              <ActionOutcome id="push-remove-error" state={removal.state} />
            </div>
          )}
        </>
      )}
    </Section>
  );
}

function Packages({ readOnly }: { readOnly: boolean }) {
  const { items, load } = useLatestList<PackageRecord>('/admin/packages');
  const [form, setForm] = useState({ packageId: '', name: '', type: '', value: '' });
  const save = useAction();
  const removal = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void save.run(async () => {
      const checksum = form.type ? { type: form.type, value: form.value.trim() } : null;
      await request('PUT', `/admin/packages/${encodeSegment(form.packageId.trim())}`, { body: { name: form.name, checksum } });
      await load();
      const done = `Package ${form.packageId.trim()} saved.`;
      setForm({ packageId: '', name: '', type: '', value: '' });
      return done;
    });
  };
  const remove = (packageId: string) =>
    void removal.run(async () => {
      await request('DELETE', `/admin/packages/${encodeSegment(packageId)}`);
      await load();
      return `Package ${packageId} removed.`;
    });
  return (
    <Section title="Packages" id="packages">
      {items === undefined ? (
        <Loading what="packages" />
      ) : items.length === 0 ? (
        <p>No package is registered.</p>
      ) : (
        <TableBox label="Packages">
          <thead>
            <tr>
              <th scope="col">Package ID</th>
              <th scope="col">Name</th>
              <th scope="col">Checksum</th>
              {!readOnly && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.packageId}>
                <td>{item.packageId}</td>
                <td>{item.name}</td>
                <td class="hash">{item.checksum ? `${item.checksum.type} ${shortHash(item.checksum.value)}` : 'none'}</td>
                {!readOnly && (
                  <td>
                    <button type="button" class="danger" onClick={() => remove(item.packageId)} aria-label={`Remove package ${item.packageId}`}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      {!readOnly && <ActionOutcome id="package-remove-error" state={removal.state} />}
      {!readOnly && (
        <form onSubmit={submit} noValidate class="grid-form">
          <div>
            <label for="package-id">Package ID</label>
            <input id="package-id" value={form.packageId} onInput={(e) => setForm({ ...form, packageId: e.currentTarget.value })} aria-describedby="package-error" />
          </div>
          <div>
            <label for="package-name">Name</label>
            <input id="package-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} aria-describedby="package-error" />
          </div>
          <div>
            <label for="package-checksum-type">Checksum type</label>
            <select id="package-checksum-type" value={form.type} onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}>
              <option value="">No checksum</option>
              <option value="MD5">MD5</option>
              <option value="SHA_256">SHA-256</option>
              <option value="SHA_512">SHA-512</option>
            </select>
          </div>
          <div>
            <label for="package-checksum">Checksum</label>
            <input id="package-checksum" value={form.value} disabled={!form.type} onInput={(e) => setForm({ ...form, value: e.currentTarget.value })} aria-describedby="package-error" spellcheck={false} />
          </div>
          <div class="actions">
            <button type="submit" disabled={save.state.busy || form.packageId.trim() === ''}>
              Save package
            </button>
          </div>
          <ActionOutcome id="package-error" state={save.state} />
        </form>
      )}
    </Section>
  );
}

function Revocations({ readOnly }: { readOnly: boolean }) {
  const { items, load } = useLatestList<RevocationRecord>('/admin/revocations');
  const [form, setForm] = useState({ sha256: '', reason: '' });
  const save = useAction();
  const removal = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void save.run(async () => {
      const sha256 = form.sha256.trim().replace(/:/g, '').toLowerCase();
      await request('PUT', `/admin/revocations/${encodeSegment(sha256)}`, { body: { reason: form.reason } });
      await load();
      setForm({ sha256: '', reason: '' });
      return 'Certificate revoked.';
    });
  };
  const remove = (sha256: string) =>
    void removal.run(async () => {
      await request('DELETE', `/admin/revocations/${encodeSegment(sha256)}`);
      await load();
      return 'Revocation removed.';
    });
  return (
    <Section title="Revocations" id="revocations">
      {items === undefined ? (
        <Loading what="revocations" />
      ) : items.length === 0 ? (
        <p>No certificate is revoked.</p>
      ) : (
        <TableBox label="Revocations">
          <thead>
            <tr>
              <th scope="col">SHA-256</th>
              <th scope="col">Reason</th>
              <th scope="col">Revoked</th>
              {!readOnly && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.sha256}>
                <td class="hash" title={item.sha256}>
                  {shortHash(item.sha256)}
                </td>
                <td>{item.reason}</td>
                <td>
                  {when(item.revokedAt)} by {item.revokedBy}
                </td>
                {!readOnly && (
                  <td>
                    <button type="button" class="danger" onClick={() => remove(item.sha256)} aria-label={`Remove revocation ${shortHash(item.sha256)}`}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      {!readOnly && <ActionOutcome id="revocation-remove-error" state={removal.state} />}
      {!readOnly && (
        <form onSubmit={submit} noValidate class="grid-form">
          <div class="wide">
            <label for="revocation-sha256">Certificate SHA-256 fingerprint</label>
            <input id="revocation-sha256" value={form.sha256} onInput={(e) => setForm({ ...form, sha256: e.currentTarget.value })} aria-describedby="revocation-error" spellcheck={false} />
          </div>
          <div class="wide">
            <label for="revocation-reason">Reason</label>
            <input id="revocation-reason" value={form.reason} onInput={(e) => setForm({ ...form, reason: e.currentTarget.value })} aria-describedby="revocation-error" />
          </div>
          <div class="actions">
            <button type="submit" disabled={save.state.busy || form.sha256.trim() === ''}>
              Revoke
            </button>
          </div>
          <ActionOutcome id="revocation-error" state={save.state} />
        </form>
      )}
    </Section>
  );
}

export function TrustPage({ readOnly }: { readOnly: boolean }) {
  return (
    <div class="stack">
      <DeviceCas readOnly={readOnly} />
      <ServerCertificateSection readOnly={readOnly} />
      <PushCertificateSection readOnly={readOnly} />
      <Packages readOnly={readOnly} />
      <Revocations readOnly={readOnly} />
    </div>
  );
}
