/**
 * File names that are not valid UTF-8, carried as strings without losing a byte.
 *
 * Node decodes names as UTF-8 and turns every invalid byte into U+FFFD, so `caf\xE9.wav`
 * and a real `caf\uFFFD.wav` come out as the same string. Here each invalid byte becomes the
 * lone surrogate U+DC80 + (byte - 0x80) instead (Python's "surrogateescape"). Valid UTF-8
 * never decodes to a lone surrogate, so the mapping is one-to-one and reversible.
 *
 *   decodeName(<63 61 66 e9>) -> { name: 'caf\uDCE9', valid: false }
 *   pathBytes('caf\uDCE9')    -> <63 61 66 e9>
 *   printablePath('caf\uDCE9') -> 'caf\\xE9'
 */

/** The name a raw directory entry stands for, and whether it was valid UTF-8. */
export function decodeName(raw: Buffer): { name: string; valid: boolean } {
  const name = raw.toString('utf8');
  if (!name.includes('\uFFFD') || Buffer.from(name, 'utf8').equals(raw)) return { name, valid: true };
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const n = validSequenceLength(raw, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + raw[i]);
      i++;
    } else {
      out += raw.toString('utf8', i, i + n);
      i += n;
    }
  }
  return { name: out, valid: false };
}

/** Bytes in the well-formed UTF-8 sequence starting at `i`, or 0 if none starts there. */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  // the lead byte fixes the length and narrows the second byte (no overlongs, surrogates or > U+10FFFF)
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// String.prototype.isWellFormed is ES2024, past this project's lib
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

const isEscapedByte = (s: string, i: number) => {
  const u = s.charCodeAt(i);
  if (u < 0xdc80 || u > 0xdcff) return false;
  const before = i > 0 ? s.charCodeAt(i - 1) : 0;
  return !(before >= 0xd800 && before <= 0xdbff); // the low half of a pair is a real character
};

/** True when `s` carries bytes that are not valid UTF-8 (as decodeName escapes them). */
export function hasEscapedBytes(s: string): boolean {
  if (wellFormed(s)) return false;
  for (let i = 0; i < s.length; i++) if (isEscapedByte(s, i)) return true;
  return false;
}

/** The real bytes of a path: UTF-8, with escaped bytes put back as they were. */
export function pathBytes(s: string): Buffer {
  if (wellFormed(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (!isEscapedByte(s, i)) continue;
    parts.push(Buffer.from(s.slice(start, i), 'utf8'), Buffer.of(s.charCodeAt(i) - 0xdc00));
    start = i + 1;
  }
  parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * A form of the path any database, log or terminal takes: escaped bytes as `\xE9`. Only for
 * display and the file_path column; rows are told apart by the key of pathBytes().
 */
export function printablePath(s: string): string {
  if (wellFormed(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (isEscapedByte(s, i)) out += `\\x${(u - 0xdc00).toString(16).toUpperCase()}`;
    else if (u >= 0xd800 && u <= 0xdfff && !isPairHalf(s, i)) out += '\uFFFD'; // a lone surrogate not of ours
    else out += s[i];
  }
  return out;
}

const isPairHalf = (s: string, i: number) => {
  const u = s.charCodeAt(i);
  const hi = (x: number) => x >= 0xd800 && x <= 0xdbff;
  const lo = (x: number) => x >= 0xdc00 && x <= 0xdfff;
  return hi(u) ? lo(s.charCodeAt(i + 1)) : lo(u) && hi(s.charCodeAt(i - 1));
};
