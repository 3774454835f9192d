/** Steps a time axis or a histogram bucket may take, in ms: 1-2-5 up to 10 s, then clock-friendly. */
const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The smallest step (at least `minMs`) that cuts `spanMs` into at most `maxParts` parts. */
export function niceStep(spanMs: number, maxParts: number, minMs = 1): number {
  for (const step of STEPS_MS) if (step >= minMs && Math.ceil(spanMs / step) <= maxParts) return step;
  const day = STEPS_MS[STEPS_MS.length - 1];
  return day * Math.ceil(spanMs / day / maxParts);
}

/** "12.5 s": ms from batch start, as seconds with as many decimals as the step needs. */
export function formatOffset(ms: number, stepMs = 1000): string {
  const decimals = stepMs >= 1000 ? 0 : stepMs >= 100 ? 1 : stepMs >= 10 ? 2 : 3;
  return `${(ms / 1000).toFixed(decimals)} s`;
}

/** Linear map from time (epoch ms) to x pixels, and the axis ticks over it. */
export interface TimeScale {
  t0: number;
  spanMs: number;
  x0: number;
  width: number;
  x(t: number): number;
  ticks: { ms: number; x: number; label: string }[];
}

export function timeScale(t0: number, spanMs: number, x0: number, width: number, maxTicks = 12): TimeScale {
  const span = Math.max(1, spanMs);
  const x = (t: number) => x0 + ((t - t0) / span) * width;
  const step = niceStep(span, maxTicks);
  const ticks = [];
  for (let ms = 0; ms <= span; ms += step) ticks.push({ ms, x: x(t0 + ms), label: formatOffset(ms, step) });
  return { t0, spanMs: span, x0, width, x, ticks };
}

/** A pixel coordinate with one decimal: enough for a screen, short in a page of 20,000 bars. */
export const px = (v: number): string => String(Math.round(v * 10) / 10);
