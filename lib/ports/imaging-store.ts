// Imaging accounts and imaging documents (PreStages, Autorun information), each change recorded in the history.
import type { ImagingDocumentKind, PasswordHash } from '../domain/imaging.ts';

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

/** A document's content as stored: the JSON text, its SHA-256 and its size in bytes. */
export type DocumentContent = Pick<ImagingDocument, 'json' | 'sha256' | 'sizeBytes'>;

/** Who changes what when; every change is written with its history line (at the settings version in force) atomically. */
export interface ChangeAudit {
  actor: string;
  changedAt: string;
}

export interface ImagingStore {
  getAccount(username: string): Promise<ImagingAccount | undefined>;
  /** Ordered by username, without hashes. */
  listAccounts(): Promise<ImagingAccountSummary[]>;
  /** Creates or replaces the account; `created` tells which. */
  putAccount(username: string, passwordHash: PasswordHash, audit: ChangeAudit): Promise<{ created: boolean; account: ImagingAccountSummary }>;
  /** False when there was no such account. */
  deleteAccount(username: string, audit: ChangeAudit): Promise<boolean>;

  getDocument(kind: ImagingDocumentKind, id: string): Promise<ImagingDocument | undefined>;
  /** Every document of the kind, ordered by id. */
  listDocuments(kind: ImagingDocumentKind): Promise<ImagingDocument[]>;
  countDocuments(kind: ImagingDocumentKind): Promise<number>;
  /**
   * Creates or replaces a document; `created` tells which. Two writers of a new id both succeed: one creates, the
   * other replaces. Throws ConcurrentModificationError when the item keeps changing under it.
   */
  putDocument(kind: ImagingDocumentKind, id: string, document: DocumentContent, audit: ChangeAudit): Promise<{ created: boolean; document: ImagingDocument }>;
  /** False when there was no such document. */
  deleteDocument(kind: ImagingDocumentKind, id: string, audit: ChangeAudit): Promise<boolean>;
}
