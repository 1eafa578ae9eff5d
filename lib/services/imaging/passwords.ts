// Password hashing for imaging accounts: salted scrypt (async, off the event loop) and constant-time comparison.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { isUsablePasswordHash, type PasswordHash, SALT_BYTES, SCRYPT_PARAMETERS, type ScryptParameters, scryptMemoryBytes } from '../../domain/imaging.ts';

function deriveKey(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: scryptMemoryBytes(params) }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password with a fresh 16-byte salt; the result records every parameter needed to check it later. */
export async function hashPassword(password: string, params: ScryptParameters = SCRYPT_PARAMETERS): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, params);
  return { algorithm: 'scrypt', N: params.N, r: params.r, p: params.p, keylen: params.keylen, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/**
 * Checks passwords so that the time taken does not tell whether the account exists: with no stored hash (unknown
 * user) the same scrypt work runs against a dummy hash of the current parameters, and the answer is false.
 */
export class PasswordVerifier {
  /** Random salt and key: no password matches it, and computing it costs nothing at cold start. */
  private readonly dummy: PasswordHash = {
    algorithm: 'scrypt',
    ...SCRYPT_PARAMETERS,
    salt: randomBytes(SALT_BYTES).toString('base64'),
    hash: randomBytes(SCRYPT_PARAMETERS.keylen).toString('base64'),
  };

  /** True only when a stored hash exists, is usable and matches. Unusable stored hashes never match. */
  async verify(password: string, stored: PasswordHash | undefined): Promise<boolean> {
    const usable = stored !== undefined && isUsablePasswordHash(stored);
    const target = usable ? stored : this.dummy;
    const expected = Buffer.from(target.hash, 'base64');
    const actual = await deriveKey(password, Buffer.from(target.salt, 'base64'), target);
    return timingSafeEqual(actual, expected) && usable;
  }
}
