/** Both charts share one horizontal layout, so a moment lines up across them. */
export const LAYOUT = {
  width: 1200,
  /** left column for lane labels and the y axis */
  gutter: 230,
  right: 20,
  get plot(): number {
    return this.width - this.gutter - this.right;
  },
} as const;

/** Beyond this many uploads the timeline merges bars that touch on screen (per sub-lane and outcome). */
export const MAX_BARS = 20_000;
