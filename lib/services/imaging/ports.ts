// The stores the imaging use cases need (kept here, beside their only users, rather than in lib/ports.ts).
import type { ImagingDocumentKind, PasswordHash } from '../../domain/imaging.ts';

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

/** Failed imaging logins per username, shared by every container (the login guard's memory). */
export interface LoginFailureStore {
  /** Times (epoch ms) of the username's recorded failures, oldest first; may include ones outside the window. */
  getFailures(username: string): Promise<number[]>;
  /** Records one failure at atMs atomically and returns the failures now recorded (as getFailures). */
  recordFailure(username: string, atMs: number): Promise<number[]>;
}
