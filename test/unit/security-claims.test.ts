// SECURITY.md names the test behind each claim: every file it names exists, and every test name it quotes
// (after "›", several separated by ";" or " / ") is the start of a test title in that file — so a renamed or
// deleted test cannot leave a claim standing on nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/serverless-config.ts';

const security = readFileSync(join(PROJECT_ROOT, 'SECURITY.md'), 'utf8');

/** Each `test/…` reference, with the test names quoted after "›" up to the next reference, cell or line end. */
function references(): { file: string; names: string[] }[] {
  const found: { file: string; names: string[] }[] = [];
  const pattern = /`(test\/[^`]+\.ts)`((?:(?!`test\/|\. [A-Z])[^|\n])*)/g;
  for (const [, file, tail] of security.matchAll(pattern)) {
    const quoted = tail.includes('›') ? tail.slice(tail.indexOf('›') + 1) : '';
    const names = quoted
      .split(/;|›| \/ /)
      .map((name) => name.replace(/[.,;]\s*$/, '').trim())
      .filter((name) => name.length >= 12 && !name.startsWith('`'));
    found.push({ file, names });
  }
  return found;
}

const normalise = (text: string) => text.replace(/[’']/g, "'").replace(/\s+/g, ' ');

describe('SECURITY.md', () => {
  const refs = references();

  it('names tests for its claims', () => {
    expect(refs.length).toBeGreaterThan(20);
  });

  it.each(refs.map((r) => [r.file, r]))('%s exists and holds the tests it quotes', (_file, ref) => {
    const path = join(PROJECT_ROOT, ref.file);
    expect(existsSync(path), ref.file).toBe(true);
    const source = normalise(readFileSync(path, 'utf8'));
    for (const name of ref.names) {
      // A title may be built by it.each ('blocks %s' + 'no signature'): look for its distinctive last words.
      const words = normalise(name).split(' ');
      const probe = words.slice(words.length <= 3 ? -2 : -3).join(' ');
      expect(source.includes(probe), `${ref.file} has no test titled like "${name}"`).toBe(true);
    }
  });
});
