import { formatDuration } from '../units.js';

/** Wall-clock time of an epoch ms, in UTC, to the millisecond. */
export const formatClock = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC'));

/** 12,345: a count with thousands separators, whatever the locale. */
export const formatCount = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 850 ms below 10 s, else the CLI's "12.3 s" / "4 min 5 s". */
export const formatMs = (n: number | null): string => (n === null ? '—' : n < 10_000 ? `${Math.round(n)} ms` : formatDuration(n));

/** A rate with three significant digits and no trailing zeros: 75, 12.3, 0.125. */
export const formatRate = (v: number): string => String(Number(v.toPrecision(3)));
