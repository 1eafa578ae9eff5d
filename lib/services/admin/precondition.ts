// The precondition a settings write may carry (If-Match), in the service's terms: which versions it may replace.

export interface VersionPrecondition {
  /** The versions the client accepts (strong tags only); `any` for `*`. */
  versions: number[] | 'any';
  /** The header named weak tags (`W/"3"`), which never match under strong comparison; kept to explain the 412. */
  weakTags?: boolean;
}

/** Strong comparison (RFC 9110 §13.1.1 requires it for If-Match): only the strong tags named can match. */
export function matchesVersion(precondition: VersionPrecondition | undefined, version: number): boolean {
  if (!precondition || precondition.versions === 'any') return true;
  return precondition.versions.includes(version);
}
