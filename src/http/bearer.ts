import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A check of an `authorization` header against `Bearer <token>`. Both sides are hashed
 * first so the constant-time compare sees equal lengths and leaks neither the token's
 * length nor how much of it matched.
 */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  const want = digest(token);
  return (header) => {
    const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
    const same = timingSafeEqual(digest(match?.[1] ?? ''), want);
    return match !== null && same;
  };
}

export const MIN_TOKEN_LENGTH = 16;

/**
 * Why `token` cannot guard a receiver, or undefined. A short one can be guessed; one with a
 * space or a character outside visible ASCII can never match (the header parser splits on
 * spaces, and clients send headers as Latin-1), so it would lock every client out.
 * The message never repeats the token.
 */
export function weakToken(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `must be at least ${MIN_TOKEN_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'may hold only visible ASCII characters (no spaces, no accents)';
  return undefined;
}
