// DER written by hand, for tests that build certificates, names and signatures byte by byte.

/** The shortest length octets of `length` (X.690 §8.1.3). */
export const lengthOctets = (length: number): number[] => {
  if (length < 0x80) return [length];
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return [0x80 | octets.length, ...octets];
};

export const bytes = (...octets: number[]) => Buffer.from(octets);

/** An element of `tag` around the concatenated `contents`, its length in the shortest form. */
export const tlv = (tag: number, ...contents: Uint8Array[]) => {
  const body = Buffer.concat(contents);
  return Buffer.concat([bytes(tag, ...lengthOctets(body.length)), body]);
};

export const sequence = (...contents: Uint8Array[]) => tlv(0x30, ...contents);
export const set = (...contents: Uint8Array[]) => tlv(0x31, ...contents);

/** An OBJECT IDENTIFIER's content octets: base-128 arcs, the first two joined (X.690 §8.19). */
export const oidContents = (dotted: string) => {
  const [first, second, ...rest] = dotted.split('.').map(BigInt);
  const octets: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups = [Number(arc & 0x7fn)];
    for (let value = arc >> 7n; value > 0n; value >>= 7n) groups.unshift(Number(value & 0x7fn) | 0x80);
    octets.push(...groups);
  }
  return Buffer.from(octets);
};

export const oid = (dotted: string) => tlv(0x06, oidContents(dotted));
