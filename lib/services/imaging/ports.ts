// The stores the imaging use cases need (kept here, beside their only users, rather than in lib/ports.ts).
import type { ImagingDocumentKind, LoginAttemptDecision, LoginAttemptEntry, PasswordHash } from '../../domain/imaging.ts';

/** What an admin may see of an imaging account: never the hash. */
export interface ImagingAccountSummary {
  username: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

export interface ImagingAccount extends ImagingAccountSummary {
  passwordHash: PasswordHash;
}

export interface ImagingDocument {
  kind: ImagingDocumentKind;
  id: string;
  /** The stored JSON text, served as it is. */
  json: string;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

/** Who changes what when; every change is written with its history line in one transaction. */
export interface ChangeAudit {
  actor: string;
  changedAt: string;
}

export interface ImagingStore {
  getAccount(username: string): Promise<ImagingAccount | undefined>;
  listAccounts(): Promise<ImagingAccountSummary[]>;
  /** Creates or replaces the account; `created` tells which. */
  putAccount(username: string, passwordHash: PasswordHash, audit: ChangeAudit): Promise<{ created: boolean; account: ImagingAccountSummary }>;
  /** False when there was no such account. */
  deleteAccount(username: string, audit: ChangeAudit): Promise<boolean>;

  getDocument(kind: ImagingDocumentKind, id: string): Promise<ImagingDocument | undefined>;
  /** Every document of the kind, ordered by id. */
  listDocuments(kind: ImagingDocumentKind): Promise<ImagingDocument[]>;
  countDocuments(kind: ImagingDocumentKind): Promise<number>;
  putDocument(
    kind: ImagingDocumentKind,
    id: string,
    document: { json: string; sha256: string; sizeBytes: number },
    audit: ChangeAudit,
  ): Promise<{ created: boolean; document: ImagingDocument }>;
  deleteDocument(kind: ImagingDocumentKind, id: string, audit: ChangeAudit): Promise<boolean>;
}

/** The outcome of LoginAttemptStore.reserve. */
export type LoginReservation =
  /** The attempt may be checked; `counted` is how many count now, this one included. */
  | { reserved: true; counted: number }
  /** 10 attempts already count: refused, not recorded. */
  | { reserved: false; reason: 'LOCKED'; decision: Extract<LoginAttemptDecision, { allowed: false }> }
  /** Other reservations for the username kept winning the race: refused, not recorded (fail closed). */
  | { reserved: false; reason: 'CONTENDED' };

/**
 * Imaging login attempts per username, shared by every container (the login guard's memory). An attempt is
 * reserved before its password is checked, so that at most 10 can be failed or in flight within 15 minutes.
 */
export interface LoginAttemptStore {
  /** Atomically: unless 10 attempts count at nowMs, records a PENDING attempt with this id. */
  reserve(username: string, attemptId: string, nowMs: number): Promise<LoginReservation>;
  /** The attempt's password was wrong: it now counts as a failure at atMs, for 15 minutes. */
  markFailed(username: string, attemptId: string, atMs: number): Promise<void>;
  /** The attempt succeeded: it is removed and never counts. */
  release(username: string, attemptId: string): Promise<void>;
  /** Every recorded entry, counted or not (for tests and operators). */
  getAttempts(username: string): Promise<LoginAttemptEntry[]>;
}
