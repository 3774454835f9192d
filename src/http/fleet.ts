import { AllTargetsDownError, UploadError } from '../errors.js';
import type { Logger } from '../logger.js';
import { fixedLimit, type Limit } from './limits/limit.js';
import { TargetLoad, type LoadView } from './limits/targetLoad.js';

export interface FleetOptions {
  /** max uploads in flight per target (with `limit`, its cap) */
  perTarget: number;
  /** a new limit for each target (adaptive); default: `perTarget`, fixed */
  limit?: (target: string) => Limit;
  /** the clock of samples, ms */
  now?: () => number;
  /** max uploads in flight overall */
  concurrency: number;
  /** consecutive failures that mark a target down */
  downAfter: number;
  /** how often a down target is probed */
  probeMs: number;
  /** resolves true if the target answers at all */
  probe: (target: string) => Promise<boolean>;
  logger?: Logger;
  batchId?: string;
}

export interface TargetState {
  target: string;
  up: boolean;
  inFlight: number;
  uploaded: number;
  failed: number;
  consecutiveFailures: number;
}

/** A target's state with its load: limit now, recent bytes/s and latency. */
export type TargetSnapshot = TargetState & Partial<LoadView>;

/** How an attempt ended, for its target's limit: moved `bytes`, or failed as the host's fault. */
export interface Outcome {
  bytes: number;
  dropped: boolean;
}

export interface Lease {
  readonly target: string;
  /** give the slot back; with an outcome, it is a sample for the target's limit (none: says nothing of the host) */
  release(outcome?: Outcome): void;
}

interface Waiter {
  preferred: string | null;
  exclude: ReadonlySet<string>;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

/** Thrown to waiters when the run stops taking files. */
export class FleetStoppedError extends UploadError {
  override readonly code = 'FANOUT_STOPPED';
  constructor() {
    super('stopped before the upload started', false);
  }
}

/**
 * The slot pool of the fleet: per-target and global in-flight limits, and target health.
 * A file waiting for a busy or slow target holds a place in the queue, never a slot,
 * so one slow host cannot stall the others. With no preferred target (least-loaded)
 * a waiter takes the healthy target with the most free slots: the next free slot wins.
 */
export class Fleet {
  private readonly states = new Map<string, TargetState>();
  private readonly waiters: Waiter[] = [];
  private readonly probes = new Map<string, NodeJS.Timeout>();
  private readonly loads = new Map<string, TargetLoad>();
  private readonly now: () => number;
  private inFlight = 0;
  private stopped = false;

  constructor(targets: readonly string[], private readonly opts: FleetOptions) {
    const { perTarget, concurrency, downAfter } = opts;
    for (const [name, v] of Object.entries({ perTarget, concurrency, downAfter })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    this.now = opts.now ?? (() => performance.now());
    for (const t of targets) {
      this.states.set(t, { target: t, up: true, inFlight: 0, uploaded: 0, failed: 0, consecutiveFailures: 0 });
      this.loads.set(t, new TargetLoad(opts.limit ? opts.limit(t) : fixedLimit(perTarget)));
    }
  }

  snapshot(): TargetSnapshot[] {
    return [...this.states.values()].map((s) => ({ ...s, ...this.load(s).view() }));
  }

  private load(s: TargetState): TargetLoad {
    return this.loads.get(s.target) as TargetLoad;
  }

  /** a target's limit now: its own, never above --per-target(-max) */
  private limitOf(s: TargetState): number {
    return Math.min(this.opts.perTarget, this.load(s).limit.limit);
  }

  /** Wait for a slot: on `preferred` while it is up, else on the least-loaded healthy target not in `exclude`. */
  acquire(preferred: string | null, exclude: ReadonlySet<string> = new Set()): Promise<Lease> {
    if (this.stopped) return Promise.reject(new FleetStoppedError());
    return new Promise<Lease>((resolve, reject) => {
      const w: Waiter = { preferred, exclude, resolve, reject };
      if (!this.tryGrant(w)) this.waiters.push(w);
    });
  }

  /** Count an attempt's outcome against its target's health. */
  reportSuccess(target: string): void {
    const s = this.states.get(target);
    if (!s) return;
    s.consecutiveFailures = 0;
    s.uploaded++;
    if (!s.up) this.markUp(s);
  }

  reportFailure(target: string, hostFault: boolean): void {
    const s = this.states.get(target);
    if (!s || !hostFault) return;
    s.consecutiveFailures++;
    if (s.up && s.consecutiveFailures >= this.opts.downAfter) this.markDown(s);
  }

  /** A file that ends failed on this target (for the per-target counts). */
  countFailed(target: string): void {
    const s = this.states.get(target);
    if (s) s.failed++;
  }

  isUp(target: string): boolean {
    return this.states.get(target)?.up ?? false;
  }

  /** Stop granting slots: every waiter is rejected; in-flight leases finish normally. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiters.splice(0)) w.reject(new FleetStoppedError());
    this.close();
  }

  close(): void {
    for (const t of this.probes.values()) clearInterval(t);
    this.probes.clear();
  }

  private candidates(w: Waiter): TargetState[] {
    const pref = w.preferred === null ? undefined : this.states.get(w.preferred);
    if (pref && pref.up && !w.exclude.has(pref.target)) return [pref];
    return [...this.states.values()].filter((s) => s.up && !w.exclude.has(s.target));
  }

  private tryGrant(w: Waiter): boolean {
    const cands = this.candidates(w);
    if (cands.length === 0) {
      const anyUp = [...this.states.values()].some((s) => s.up);
      w.reject(anyUp ? new UploadError('no healthy target left to try', false) : new AllTargetsDownError());
      return true;
    }
    if (this.inFlight >= this.opts.concurrency) return false;
    let best: TargetState | undefined;
    for (const s of cands) if (s.inFlight < this.limitOf(s) && (!best || s.inFlight < best.inFlight)) best = s;
    if (!best) return false;
    const s = best;
    s.inFlight++;
    this.inFlight++;
    const load = this.load(s);
    const attempt = load.start(this.now());
    let released = false;
    w.resolve({
      target: s.target,
      release: (outcome?: Outcome) => {
        if (released) return;
        released = true;
        s.inFlight--;
        this.inFlight--;
        load.finish(attempt, this.now(), outcome);
        this.drain();
      },
    });
    return true;
  }

  /** Serve waiters in arrival order; one that cannot be served yet does not block those behind it. */
  private drain(): void {
    for (let i = 0; i < this.waiters.length && this.inFlight < this.opts.concurrency; ) {
      if (this.tryGrant(this.waiters[i])) this.waiters.splice(i, 1);
      else i++;
    }
  }

  private markDown(s: TargetState): void {
    s.up = false;
    this.opts.logger?.warn('target_down', { event: 'target_down', batchId: this.opts.batchId, target: s.target, consecutiveFailures: s.consecutiveFailures });
    const timer = setInterval(() => {
      void this.opts.probe(s.target).then((ok) => {
        // a probe still out when the fleet closed must not bring a target up after the run
        if (ok && !s.up && this.probes.get(s.target) === timer) this.markUp(s);
      });
    }, this.opts.probeMs);
    timer.unref();
    this.probes.set(s.target, timer);
    // waiters that preferred it, or that now have nowhere to go, are re-examined
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i];
      if (this.candidates(w).length === 0 || w.preferred === s.target) {
        if (this.tryGrant(w)) {
          this.waiters.splice(i, 1);
          continue;
        }
      }
      i++;
    }
  }

  private markUp(s: TargetState): void {
    s.up = true;
    this.load(s).reset(); // back from down: start small again
    s.consecutiveFailures = 0;
    clearInterval(this.probes.get(s.target));
    this.probes.delete(s.target);
    this.opts.logger?.info('target_up', { event: 'target_up', batchId: this.opts.batchId, target: s.target });
    this.drain();
  }
}
