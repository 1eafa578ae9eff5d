// PLACEHOLDER: replaced by the work on this function.
import { HttpError } from '../lib/domain/errors.ts';
import { httpStack } from '../lib/http/middleware.ts';

export const handler = httpStack(async () => {
  throw new HttpError(501, 'NOT_IMPLEMENTED', 'Not implemented yet');
}, { maxBodyBytes: 1024 * 1024 });
