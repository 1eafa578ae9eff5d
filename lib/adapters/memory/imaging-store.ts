// In-memory ImagingStore: the DynamoDB adapter's behaviour (the shared contract suite proves it). History lines go
// to the in-memory config store it is given, at the settings version in force, as the DynamoDB adapter writes them.
import { accountHistoryChange, documentHistoryChange, type ImagingDocumentKind, type PasswordHash } from '../../domain/imaging.ts';
import type { FieldChange } from '../../domain/settings.ts';
import type { ChangeAudit, DocumentContent, ImagingAccount, ImagingAccountSummary, ImagingDocument, ImagingStore } from '../../ports/imaging-store.ts';
import { InMemoryConfigStore } from './config-store.ts';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class InMemoryImagingStore implements ImagingStore {
  private readonly accounts = new Map<string, ImagingAccount>();
  private readonly documents = new Map<string, ImagingDocument>();

  constructor(private readonly config: InMemoryConfigStore = new InMemoryConfigStore()) {}

  async getAccount(username: string): Promise<ImagingAccount | undefined> {
    return structuredClone(this.accounts.get(username));
  }

  async listAccounts(): Promise<ImagingAccountSummary[]> {
    return [...this.accounts.values()]
      .sort((a, b) => compare(a.username, b.username))
      .map(({ username, createdAt, updatedAt, updatedBy }) => ({ username, createdAt, updatedAt, updatedBy }));
  }

  async putAccount(username: string, passwordHash: PasswordHash, audit: ChangeAudit): Promise<{ created: boolean; account: ImagingAccountSummary }> {
    const previous = this.accounts.get(username);
    const account = { username, createdAt: previous?.createdAt ?? audit.changedAt, updatedAt: audit.changedAt, updatedBy: audit.actor };
    this.accounts.set(username, { ...account, passwordHash: structuredClone(passwordHash) });
    this.record(audit, accountHistoryChange(username, previous ? 'updated' : 'created'));
    return { created: !previous, account };
  }

  async deleteAccount(username: string, audit: ChangeAudit): Promise<boolean> {
    if (!this.accounts.delete(username)) return false;
    this.record(audit, accountHistoryChange(username, 'deleted'));
    return true;
  }

  async getDocument(kind: ImagingDocumentKind, id: string): Promise<ImagingDocument | undefined> {
    return structuredClone(this.documents.get(`${kind}/${id}`));
  }

  async listDocuments(kind: ImagingDocumentKind): Promise<ImagingDocument[]> {
    return structuredClone([...this.documents.values()].filter((d) => d.kind === kind).sort((a, b) => compare(a.id, b.id)));
  }

  async countDocuments(kind: ImagingDocumentKind): Promise<number> {
    return [...this.documents.values()].filter((d) => d.kind === kind).length;
  }

  async putDocument(kind: ImagingDocumentKind, id: string, document: DocumentContent, audit: ChangeAudit): Promise<{ created: boolean; document: ImagingDocument }> {
    const previous = this.documents.get(`${kind}/${id}`);
    const { json, sha256, sizeBytes } = document;
    const stored: ImagingDocument = { kind, id, json, sha256, sizeBytes, createdAt: previous?.createdAt ?? audit.changedAt, updatedAt: audit.changedAt, updatedBy: audit.actor };
    this.documents.set(`${kind}/${id}`, stored);
    this.record(audit, documentHistoryChange(kind, id, previous?.sha256 ?? null, sha256));
    return { created: !previous, document: structuredClone(stored) };
  }

  async deleteDocument(kind: ImagingDocumentKind, id: string, audit: ChangeAudit): Promise<boolean> {
    const previous = this.documents.get(`${kind}/${id}`);
    if (!previous) return false;
    this.documents.delete(`${kind}/${id}`);
    this.record(audit, documentHistoryChange(kind, id, previous.sha256, null));
    return true;
  }

  private record(audit: ChangeAudit, change: FieldChange): void {
    this.config.recordHistory({ changedAt: audit.changedAt, actor: audit.actor, changes: [change] });
  }
}
