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
