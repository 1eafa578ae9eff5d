// Human-readable output: aligned tables and key/value blocks. `--json` bypasses all of it.

/** Columns separated by two spaces, padded to the widest cell; the last column is not padded. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key  value` lines, keys aligned. */
export function formatFields(fields: [string, string][]): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

/** A value on one line: strings as they are, fingerprints shortened, the rest as compact JSON. */
export function formatValue(value: unknown, options: { shortenFingerprints?: boolean } = {}): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return options.shortenFingerprints ? shortenFingerprint(value) : value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value.join(', ');
  if (Array.isArray(value) && options.shortenFingerprints) return `[${value.map((v) => formatValue(v, options)).join(', ')}]`;
  return JSON.stringify(value);
}

/**
 * Shortens what the history holds as values to 16 hex digits: a SHA-256 fingerprint (`deviceCa`, certificates,
 * `revocations`), the digest of a package value (`packages`: `"office SHA_512:<128 hex>"` → `"office SHA_512:ab12…"`)
 * and of an imaging document (`imagingPrestages`: `"lab sha256:<64 hex>"` → `"lab sha256:ab12…"`).
 */
export function shortenFingerprint(text: string): string {
  if (/^[0-9a-f]{64}$/.test(text)) return `${text.slice(0, 16)}…`;
  return text.replace(/\b((?:MD5|SHA_256|SHA_512|sha256):)([0-9a-f]{16})[0-9a-f]+$/, '$1$2…');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
