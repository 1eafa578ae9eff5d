// Text a device or a certificate chose, as a message may quote it: what an attacker sends must not write prose.

/** Control, format, separator, private-use, surrogate and unassigned characters: none of them is printable. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]/gu;

/** Longest excerpt of untrusted text that a message may quote (API.md: attacker-made names write no prose). */
export const MAX_QUOTED_LENGTH = 64;

/** Printable characters only, at most 64 of them (then "…"); `empty` when nothing printable is left. */
export function quoteUntrusted(text: string, empty: string): string {
  const printable = [...text.replace(NOT_PRINTABLE, '')];
  if (printable.length === 0) return empty;
  return printable.length > MAX_QUOTED_LENGTH ? `${printable.slice(0, MAX_QUOTED_LENGTH).join('')}…` : printable.join('');
}
