import { ConfigError } from '../errors.js';

/** Decimal (k, M, G, T) and binary (Ki, Mi, Gi, Ti) multipliers; an optional trailing B is allowed. */
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*(k|K|M|G|T|Ki|Mi|Gi|Ti)?B?$/;

/**
 * A byte count from `1048576`, `500k`, `1.5M`, `10Gi`... Throws ConfigError naming the bad
 * value when it is not a whole, non-negative number of bytes.
 */
export function parseBytes(s: string): number {
  const match = SIZE.exec(s.trim());
  const bytes = match ? Number(match[1]) * UNITS[match[2] ?? ''] : Number.NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new ConfigError(`not a byte size: "${s}" (use e.g. 1048576, 500k, 10M, 10Gi)`);
  }
  return bytes;
}
