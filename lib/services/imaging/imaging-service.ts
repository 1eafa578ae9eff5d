// The imaging read side (API.md §2): PreStages and Autorun information as admins stored them, behind the imaging
// login when the settings require it.
import { NotFoundError } from '../../domain/errors.ts';
import { type ImagingDocumentKind, isValidImagingId } from '../../domain/imaging.ts';
import type { LoginAttempt, LoginGuard } from './login-guard.ts';
import type { ImagingStore } from '../../ports/imaging-store.ts';
import type { SettingsCache } from './settings-cache.ts';

export interface ImagingServiceDeps {
  settings: Pick<SettingsCache, 'get'>;
  store: Pick<ImagingStore, 'getDocument' | 'listDocuments'>;
  guard: Pick<LoginGuard, 'authenticate'>;
}

/** Who is asking: an imaging account, or nobody when the settings allow anonymous access. */
export interface ImagingCaller {
  username: string | null;
}

export interface ImagingAnswer {
  /** JSON text of the answer body. */
  body: string;
  caller: ImagingCaller;
}

export function missingDocument(kind: ImagingDocumentKind, id: string | undefined): NotFoundError {
  return new NotFoundError(kind === 'PRESTAGE' ? `No PreStage "${id}"` : `No Autorun information for device "${id}"`);
}

export function makeImagingService(deps: ImagingServiceDeps) {
  /** Applies requireImagingAuthentication as the settings say now (at most 5 s old). */
  async function authorize(attempt: LoginAttempt): Promise<ImagingCaller> {
    const { settings } = await deps.settings.get();
    if (!settings.requireImagingAuthentication) return { username: null };
    return { username: await deps.guard.authenticate(attempt) };
  }

  async function getDocument(kind: ImagingDocumentKind, id: string | undefined, attempt: LoginAttempt): Promise<ImagingAnswer> {
    const caller = await authorize(attempt);
    // An id outside the alphabet can name nothing stored: 404 without asking the store.
    const document = isValidImagingId(id) ? await deps.store.getDocument(kind, id) : undefined;
    if (!document) throw missingDocument(kind, id);
    return { body: document.json, caller };
  }

  return {
    /** GET /imaging/prestages → { "items": [{ "id": <path id>, …the stored object }] }, ordered by id. */
    async listPrestages(attempt: LoginAttempt): Promise<ImagingAnswer> {
      const caller = await authorize(attempt);
      const documents = await deps.store.listDocuments('PRESTAGE');
      const items = documents.map((d) => Object.assign({ id: d.id }, JSON.parse(d.json) as Record<string, unknown>, { id: d.id }));
      return { body: JSON.stringify({ items }), caller };
    },
    /** GET /imaging/prestages/{id} → the stored object, as stored. */
    getPrestage: (id: string | undefined, attempt: LoginAttempt) => getDocument('PRESTAGE', id, attempt),
    /** GET /imaging/autorun/{deviceId} → the stored object, as stored. */
    getAutorun: (deviceId: string | undefined, attempt: LoginAttempt) => getDocument('AUTORUN', deviceId, attempt),
  };
}

export type ImagingService = ReturnType<typeof makeImagingService>;
