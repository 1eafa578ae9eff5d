// Turns `key=value` words of `tollgate settings set` into a typed JSON merge patch, using the settings' own types.
import { SETTINGS_FIELDS, settingsFieldKind } from '../lib/domain/settings.ts';
import { UsageError } from './client.ts';

const TRUE_WORDS = new Set(['true', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'off']);
const NUMBER = /^-?\d+(\.\d+)?$/;

/** The JSON value for one setting, typed by settingsFieldKind: booleans, enums (any case), numbers, lists of numbers. */
export function parseSettingValue(field: string, text: string): unknown {
  const kind = settingsFieldKind(field);
  if (!kind) throw new UsageError(`unknown setting "${field}"; settings are ${SETTINGS_FIELDS.join(', ')}`);
  const value = text.trim();
  switch (kind.type) {
    case 'boolean': {
      const word = value.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new UsageError(`${field} is true or false, not "${text}"`);
    }
    case 'enum': {
      const match = kind.values.find((v) => v.toLowerCase() === value.toLowerCase().replace(/-/g, '_'));
      if (!match) throw new UsageError(`${field} is one of ${kind.values.join(', ')}, not "${text}"`);
      return match;
    }
    case 'number':
      if (!NUMBER.test(value)) throw new UsageError(`${field} is a number, not "${text}"`);
      return Number(value);
    case 'number[]': {
      const inner = value.replace(/^\[(.*)\]$/, '$1').trim();
      if (inner === '') return [];
      const parts = inner.split(/[\s,]+/).filter(Boolean);
      if (!parts.every((part) => NUMBER.test(part))) throw new UsageError(`${field} is a comma-separated list of numbers, such as 60,30,14,7,1; not "${text}"`);
      return parts.map(Number);
    }
  }
}

/** `key=value …` → a merge patch; a word without `=` or a key given twice is a usage error. */
export function parseSettingAssignments(words: string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${word}" is not key=value (for example maxClockSkewSeconds=120)`);
    const field = word.slice(0, eq).trim();
    if (field in patch) throw new UsageError(`${field} is given twice`);
    patch[field] = parseSettingValue(field, word.slice(eq + 1));
  }
  return patch;
}
