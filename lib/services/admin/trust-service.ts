// Admin use cases for certificates: the device CA set, the server certificate and the APNs push certificate.
import { findDeviceCaNonconformance, type RuleBreak } from '../../domain/certificate-path.ts';
import { X509Certificate } from 'node:crypto';
import type { DynamoDbConfigStore } from '../../adapters/dynamodb/config-store.ts';
import { configSk } from '../../adapters/dynamodb/keys.ts';
import { ConflictError, NotFoundError, RuleViolationError } from '../../domain/errors.ts';
import { daysRemaining, describeServerCertificate, formatDistinguishedName, parseDeviceCaBundle } from '../../domain/trust-material.ts';
import type { Clock, StoredCertificate } from '../../ports.ts';
import { certificateUnchanged, commitOptimistically, readConfigState, settingsUnchanged } from './optimistic.ts';

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

export interface PushCertificateView {
  topic: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  daysRemaining: number;
  sha256: string;
}

export interface TrustChangeContext {
  actor: string;
  /** Read after each attempt's reads, so that history times grow with versions even when writers race. */
  clock: Clock;
}

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

export class AdminTrustService {
  constructor(private readonly store: DynamoDbConfigStore) {}

  async getDeviceCas(): Promise<DeviceCaView> {
    const item = await this.store.getConfigItem(configSk.deviceCa);
    return viewDeviceCas(item?.certificates as StoredCertificate[] | undefined);
  }

  /** Replaces the device CA set (1–10 CA certificates, else 422 INVALID_CERTIFICATE). The same set again records nothing. */
  replaceDeviceCas(pemBundle: string, context: TrustChangeContext): Promise<DeviceCaView> {
    const certificates: StoredCertificate[] = parseDeviceCaBundle(pemBundle).map((summary) => ({ ...summary }));
    const to = certificates.map((c) => c.sha256);
    return commitOptimistically<DeviceCaView>(this.store, async () => {
      const state = await readConfigState(this.store);
      const from = state.deviceCas?.map((c) => c.sha256) ?? null;
      if (from !== null && from.join(',') === to.join(',')) return { unchanged: viewDeviceCas(state.deviceCas) };
      return {
        result: viewDeviceCas(certificates),
        commit: {
          write: { sk: configSk.deviceCa, item: { certificates }, expect: state.deviceCas ? { kind: 'PRESENT' } : { kind: 'ABSENT' } },
          checks: [settingsUnchanged(state.stored)],
          history: {
            version: state.stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'deviceCa', from, to }],
          },
        },
      };
    });
  }

  async getServerCertificate(): Promise<ServerCertificateView> {
    const item = await this.store.getConfigItem(configSk.serverCertificate);
    if (!item) throw new NotFoundError('No server certificate is stored; PUT /admin/server-certificate to register one');
    return viewServerCertificate(item.certificate as StoredCertificate);
  }

  /**
   * Registers the server certificate devices see. A self-signed one while sslCertificateVerification is ALWAYS is
   * 422 INVALID_SETTINGS (devices could never verify it), checked against the settings as they are when it lands.
   */
  replaceServerCertificate(pem: string, context: TrustChangeContext): Promise<ServerCertificateView> {
    const summary = describeServerCertificate(pem);
    const certificate: StoredCertificate = { ...summary };
    return commitOptimistically<ServerCertificateView>(this.store, async () => {
      const state = await readConfigState(this.store);
      if (summary.selfSigned && state.stored.settings.sslCertificateVerification === 'ALWAYS') {
        throw new RuleViolationError('INVALID_SETTINGS', 'A self-signed server certificate cannot be used while sslCertificateVerification is ALWAYS; nothing was changed', [
          {
            field: 'sslCertificateVerification',
            message:
              'Devices cannot verify a self-signed server certificate during enrollment; set sslCertificateVerification to ALWAYS_EXCEPT_DURING_ENROLLMENT first, or upload a CA-issued certificate',
          },
        ]);
      }
      const current = state.serverCertificate;
      if (current?.sha256 === certificate.sha256) return { unchanged: viewServerCertificate(current) };
      return {
        result: viewServerCertificate(certificate),
        commit: {
          write: { sk: configSk.serverCertificate, item: { certificate }, expect: certificateUnchanged(current) },
          checks: [settingsUnchanged(state.stored)],
          history: {
            version: state.stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'serverCertificate', from: current?.sha256 ?? null, to: certificate.sha256 }],
          },
        },
      };
    });
  }

  async getPushCertificate(now: Date): Promise<PushCertificateView> {
    const item = await this.store.getConfigItem(configSk.pushCertificate);
    if (!item) throw new NotFoundError('No push certificate is stored; PUT /admin/push-certificate to upload one');
    return viewPushCertificate(item.certificate as StoredCertificate, now);
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
      return {
        result: viewPushCertificate(certificate, context.clock.now()),
        commit: {
          write: { sk: configSk.pushCertificate, item: { certificate }, expect: certificateUnchanged(current) },
          checks: [settingsUnchanged(state.stored)],
          history: {
            version: state.stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'pushCertificate', from: current?.sha256 ?? null, to: certificate.sha256 }],
          },
        },
      };
    });
  }

  /** Deletes the push certificate: 404 when there is none, 409 PUSH_CERTIFICATE_IN_USE while pushNotifications is on. */
  deletePushCertificate(context: TrustChangeContext): Promise<void> {
    return commitOptimistically(this.store, async () => {
      const state = await readConfigState(this.store);
      const current = state.pushCertificate;
      if (!current) throw new NotFoundError('No push certificate is stored');
      if (state.stored.settings.pushNotifications) {
        throw new ConflictError(
          'PUSH_CERTIFICATE_IN_USE',
          'Push notifications are on and need this certificate; set pushNotifications to false first, or upload a replacement instead',
        );
      }
      return {
        result: undefined,
        commit: {
          write: { sk: configSk.pushCertificate, expect: certificateUnchanged(current) },
          checks: [settingsUnchanged(state.stored)],
          history: {
            version: state.stored.version,
            changedAt: context.clock.now().toISOString(),
            actor: context.actor,
            changes: [{ field: 'pushCertificate', from: current.sha256, to: null }],
          },
        },
      };
    });
  }
}
