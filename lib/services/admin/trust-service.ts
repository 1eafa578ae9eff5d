// Admin use cases for certificates: the device CA set, the server certificate and the APNs push certificate.
import { X509Certificate } from 'node:crypto';
import { findDeviceCaNonconformance, type RuleBreak } from '../../domain/certificate-path.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { PushCertificateSummary } from '../../domain/push-certificate.ts';
import { checkTrustChange, type TrustItem } from '../../domain/settings-requirements.ts';
import { daysRemaining, describeServerCertificate, formatDistinguishedName, parseDeviceCaBundle } from '../../domain/trust-material.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConfigChange, ConfigWriter, RevisionReader, SettingsReader, StoredCertificate, TrustMaterialReader } from '../../ports/config-store.ts';
import { asRead, type ConfigState, commitOptimistically, type Plan, readConfigState, trustFactsOf } from './optimistic.ts';

export interface DeviceCaView {
  /**
   * `nonconforming` only for a stored CA that breaks a device CA rule added after it was uploaded: it keeps anchoring
   * until replaced, and the admin is told here, in the CLI and by a daily CERTIFICATE_NONCONFORMING alert.
   */
  certificates: { subject: string; notAfter: string; sha256: string; nonconforming?: RuleBreak[] }[];
}

export interface ServerCertificateView {
  subject: string;
  issuer: string;
  notAfter: string;
  selfSigned: boolean;
  sha256: string;
}

/** What the admin API shows of the push certificate: its summary without the PEM. */
export type PushCertificateView = Omit<PushCertificateSummary, 'pem'>;

export interface TrustChangeContext {
  actor: string;
  /** Read after each attempt's reads, so that history times grow with versions even when writers race. */
  clock: Clock;
}

export type TrustStore = SettingsReader & RevisionReader & TrustMaterialReader & ConfigWriter;

function viewDeviceCas(certificates: StoredCertificate[] | undefined): DeviceCaView {
  return {
    certificates: (certificates ?? []).map(({ pem, subject, notAfter, sha256 }) => {
      const nonconforming = findDeviceCaNonconformance(pem);
      return nonconforming.length > 0 ? { subject, notAfter, sha256, nonconforming } : { subject, notAfter, sha256 };
    }),
  };
}

function viewServerCertificate(certificate: StoredCertificate): ServerCertificateView {
  return {
    subject: certificate.subject,
    issuer: certificate.issuer ?? certificate.subject,
    notAfter: certificate.notAfter,
    selfSigned: certificate.selfSigned === true,
    sha256: certificate.sha256,
  };
}

function viewPushCertificate(certificate: StoredCertificate, now: Date): PushCertificateView {
  return {
    topic: certificate.topic ?? '',
    subject: certificate.subject,
    notBefore: certificate.notBefore ?? '',
    notAfter: certificate.notAfter,
    daysRemaining: daysRemaining(certificate.notAfter, now),
    sha256: certificate.sha256,
  };
}

/** The trust facts after replacing (or removing) one item, for the rules of settings-requirements.ts. */
function factsAfter(state: ConfigState, item: TrustItem, certificates: readonly StoredCertificate[]) {
  const facts = trustFactsOf(state);
  if (item === 'deviceCas') return { ...facts, deviceCaCount: certificates.length };
  if (item === 'serverCertificate') return { ...facts, serverCertificateSelfSigned: certificates[0]?.selfSigned };
  return { ...facts, pushCertificateNotAfter: certificates[0]?.notAfter };
}

/**
 * The plan of one trust change: refused if the settings in force rely on the item and the change would leave their
 * rule unmet; otherwise committed with its history line, expecting the config revision, the item and the settings
 * version as read (the history line carries that version, which a trust change does not move).
 */
function planTrustChange<T>(
  state: ConfigState,
  context: TrustChangeContext,
  change: { item: TrustItem; to: readonly StoredCertificate[]; commit: ConfigChange; history: { field: string; from: unknown; to: unknown } },
  result: T,
): Plan<T> {
  const now = context.clock.now();
  checkTrustChange(state.stored.settings, change.item, factsAfter(state, change.item, change.to), now);
  return {
    result,
    commit: {
      change: change.commit,
      expect: { configVersion: state.configVersion, settingsVersion: state.stored.version, ...asRead(state, change.item) },
      history: { version: state.stored.version, changedAt: now.toISOString(), actor: context.actor, changes: [change.history] },
    },
  };
}

export class AdminTrustService {
  constructor(private readonly store: TrustStore) {}

  async getDeviceCas(): Promise<DeviceCaView> {
    return viewDeviceCas(await this.store.getDeviceCas());
  }

  /** Replaces the device CA set (1–10 CA certificates, else 422 INVALID_CERTIFICATE). The same set again records nothing. */
  replaceDeviceCas(pemBundle: string, context: TrustChangeContext): Promise<DeviceCaView> {
    const certificates: StoredCertificate[] = parseDeviceCaBundle(pemBundle).map((summary) => ({ ...summary }));
    const to = certificates.map((c) => c.sha256);
    return commitOptimistically<DeviceCaView>(this.store, async () => {
      const state = await readConfigState(this.store);
      const from = state.deviceCas?.map((c) => c.sha256) ?? null;
      if (from !== null && from.join(',') === to.join(',')) return { unchanged: viewDeviceCas(state.deviceCas) };
      return planTrustChange(
        state,
        context,
        { item: 'deviceCas', to: certificates, commit: { kind: 'DEVICE_CAS', certificates }, history: { field: 'deviceCa', from, to } },
        viewDeviceCas(certificates),
      );
    });
  }

  async getServerCertificate(): Promise<ServerCertificateView> {
    const certificate = await this.store.getServerCertificate();
    if (!certificate) throw new NotFoundError('No server certificate is stored; PUT /admin/server-certificate to register one');
    return viewServerCertificate(certificate);
  }

  /**
   * Registers the server certificate devices see. A self-signed one while sslCertificateVerification is ALWAYS is
   * 422 INVALID_SETTINGS (devices could never verify it), checked against the settings as they are when it lands.
   */
  replaceServerCertificate(pem: string, context: TrustChangeContext): Promise<ServerCertificateView> {
    const certificate: StoredCertificate = { ...describeServerCertificate(pem) };
    return commitOptimistically<ServerCertificateView>(this.store, async () => {
      const state = await readConfigState(this.store);
      // Before the "unchanged" answer: the same self-signed certificate sent again is refused too.
      checkTrustChange(state.stored.settings, 'serverCertificate', factsAfter(state, 'serverCertificate', [certificate]), context.clock.now());
      const current = state.serverCertificate;
      if (current?.sha256 === certificate.sha256) return { unchanged: viewServerCertificate(current) };
      const history = { field: 'serverCertificate', from: current?.sha256 ?? null, to: certificate.sha256 };
      const change = { item: 'serverCertificate', to: [certificate], commit: { kind: 'SERVER_CERTIFICATE', certificate }, history } as const;
      return planTrustChange(state, context, change, viewServerCertificate(certificate));
    });
  }

  async getPushCertificate(now: Date): Promise<PushCertificateView> {
    const certificate = await this.store.getPushCertificate();
    if (!certificate) throw new NotFoundError('No push certificate is stored; PUT /admin/push-certificate to upload one');
    return viewPushCertificate(certificate, now);
  }

  /**
   * Opens the PKCS#12 upload and keeps the certificate and its metadata only. node-forge is loaded here, on first
   * use, so that it stays out of every other code path. The password and the key live only in this call's frame.
   */
  async replacePushCertificate(p12Base64: string, password: string, context: TrustChangeContext): Promise<PushCertificateView> {
    const { openPushCertificate } = await import('../../domain/push-certificate.ts');
    const summary = await openPushCertificate(p12Base64, password, context.clock.now());
    const certificate: StoredCertificate = {
      pem: summary.pem,
      subject: summary.subject,
      issuer: formatDistinguishedName(new X509Certificate(summary.pem).issuer),
      notBefore: summary.notBefore,
      notAfter: summary.notAfter,
      sha256: summary.sha256,
      topic: summary.topic,
    };
    return commitOptimistically<PushCertificateView>(this.store, async () => {
      const state = await readConfigState(this.store);
      const current = state.pushCertificate;
      if (current?.sha256 === certificate.sha256) return { unchanged: viewPushCertificate(current, context.clock.now()) };
      const history = { field: 'pushCertificate', from: current?.sha256 ?? null, to: certificate.sha256 };
      const change = { item: 'pushCertificate', to: [certificate], commit: { kind: 'PUSH_CERTIFICATE', certificate }, history } as const;
      return planTrustChange(state, context, change, viewPushCertificate(certificate, context.clock.now()));
    });
  }

  /** Deletes the push certificate: 404 when there is none, 409 PUSH_CERTIFICATE_IN_USE while pushNotifications is on. */
  deletePushCertificate(context: TrustChangeContext): Promise<void> {
    return commitOptimistically(this.store, async () => {
      const state = await readConfigState(this.store);
      const current = state.pushCertificate;
      if (!current) throw new NotFoundError('No push certificate is stored');
      const history = { field: 'pushCertificate', from: current.sha256, to: null };
      const change = { item: 'pushCertificate', to: [], commit: { kind: 'PUSH_CERTIFICATE', certificate: null }, history } as const;
      return planTrustChange(state, context, change, undefined);
    });
  }
}
