import { ConfigError } from '../errors.js';

const one = (name: string, v: unknown): string => {
  if (Array.isArray(v)) throw new ConfigError(`--${name} given more than once: ${v.join(', ')}`);
  return String(v);
};

/**
 * Options whose values are numbers. They are declared `type: 'string'` so that a bad value
 * reaches the coerce function as typed (yargs' number type turns "abc" into NaN before we
 * see it); the help text still calls them numbers (see numberTags).
 */
export const NUMERIC_OPTIONS = new Set<string>();

/** Help text with `[number]` for the options registered by int() and decimal(). */
export function numberTags(help: string): string {
  let option = '';
  return help
    .split('\n')
    .map((line) => {
      const m = /^ {2,8}(?:-\w, )?--([\w-]+)/.exec(line);
      if (m) option = m[1];
      else if (!/^ {20,}/.test(line)) option = ''; // a section heading or a blank line ends the option
      return NUMERIC_OPTIONS.has(option) ? line.replace('[string]', '[number]') : line;
    })
    .join('\n');
}

/** yargs coerce for an integer option: names the bad value (yargs' own number type turns it into NaN). */
export const int = (name: string, min = 0, max = Number.MAX_SAFE_INTEGER) => {
  NUMERIC_OPTIONS.add(name);
  return (v: unknown): number => {
    const s = one(name, v).trim();
    const n = /^-?\d+$/.test(s) ? Number(s) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(`bad --${name} "${s}": expected an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` >= ${min}`}`);
    }
    return n;
  };
};

/** yargs coerce for an option that is `auto` or what `parse` takes. */
export const autoOr = <T>(parse: (v: unknown) => T) => (v: unknown): T | 'auto' => (typeof v === 'string' && v.trim() === 'auto' ? 'auto' : parse(v));

/** yargs coerce for a non-negative decimal option (seconds, say). */
export const decimal = (name: string) => {
  NUMERIC_OPTIONS.add(name);
  return (v: unknown): number => {
    const s = one(name, v).trim();
    const n = /^\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN;
    if (!Number.isFinite(n)) throw new ConfigError(`bad --${name} "${s}": expected a number >= 0`);
    return n;
  };
};

/** yargs coerce for a single-valued string option. */
export const single = (name: string) => (v: unknown): string => one(name, v);

/** yargs coerce for a repeatable string option. */
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
