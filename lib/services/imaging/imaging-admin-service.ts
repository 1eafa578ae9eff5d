// The admin side of imaging (API.md §3): imaging accounts (passwords kept only as salted scrypt hashes), PreStages
// (at most MAX_PRESTAGES) and Autorun documents.
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import { type ImagingDocumentKind, MAX_PRESTAGES } from '../../domain/imaging.ts';
import type { ChangeAudit, DocumentContent, ImagingAccountSummary, ImagingDocument, ImagingStore } from '../../ports/imaging-store.ts';
import { missingDocument } from './imaging-service.ts';
import { hashPassword } from './passwords.ts';

export class AdminImagingService {
  constructor(private readonly store: ImagingStore) {}

  listAccounts(): Promise<ImagingAccountSummary[]> {
    return this.store.listAccounts();
  }

  /** Creates or replaces an account; the store sees the hash only. */
  async putAccount(username: string, password: string, audit: ChangeAudit): Promise<{ created: boolean; account: ImagingAccountSummary }> {
    return this.store.putAccount(username, await hashPassword(password), audit);
  }

  async deleteAccount(username: string, audit: ChangeAudit): Promise<void> {
    if (!(await this.store.deleteAccount(username, audit))) throw new NotFoundError(`No imaging account "${username}"`);
  }

  /**
   * Creates or replaces a document; a new PreStage once MAX_PRESTAGES exist is 409 TOO_MANY_PRESTAGES. The same
   * document sent again changes nothing (no history line, `updatedAt` kept), as identical settings, packages and
   * certificates do.
   */
  async putDocument(kind: ImagingDocumentKind, id: string, document: DocumentContent, audit: ChangeAudit): Promise<{ created: boolean; document: ImagingDocument }> {
    const current = await this.store.getDocument(kind, id);
    if (current && isSameDocument(current, document)) return { created: false, document: current };
    if (kind === 'PRESTAGE' && !current && (await this.store.countDocuments(kind)) >= MAX_PRESTAGES) {
      throw new ConflictError('TOO_MANY_PRESTAGES', `At most ${MAX_PRESTAGES} PreStages can be stored; delete one first`);
    }
    return this.store.putDocument(kind, id, document, audit);
  }

  async deleteDocument(kind: ImagingDocumentKind, id: string, audit: ChangeAudit): Promise<void> {
    if (!(await this.store.deleteDocument(kind, id, audit))) throw missingDocument(kind, id);
  }
}

/** Same stored text (its digest first: the text is compared only when the digests agree). */
function isSameDocument(stored: ImagingDocument, sent: DocumentContent): boolean {
  return stored.sha256 === sent.sha256 && stored.json === sent.json;
}
