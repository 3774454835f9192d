import { UploadError } from '../errors.js';
import type { Logger } from '../logger.js';
import { WAIT_MARGIN, chooseByFinish, slotsFreeIn, type Choice } from './limits/chooseByFinish.js';
import { fixedLimit, type Limit } from './limits/limit.js';
import { eventLoopSaturation } from './limits/ownLoad.js';
import { TargetLoad, type LoadView } from './limits/targetLoad.js';

export interface FleetOptions {
  /** max uploads in flight per target (with `limit`, its cap) */
  perTarget: number;
  /** a new limit for each target (adaptive); default: `perTarget`, fixed */
  limit?: (target: string) => Limit;
  /** the clock of samples, ms */
  now?: () => number;
  /** whether this process is saturated now (its latency is in every sample); default: its event loop's busy share */
  selfBound?: () => boolean;
  /** max uploads in flight overall */
  concurrency: number;
  /** consecutive failures that mark a target down */
  downAfter: number;
  /** how often a down target is probed */
  probeMs: number;
  /** resolves true if the target answers at all */
  probe: (target: string) => Promise<boolean>;
  /** how long the fleet waits with no target up before it gives up (default: for ever) */
  maxWaitMs?: number;
  /** told once, with why, when the fleet gives up: no target answered for maxWaitMs, or every one refused us */
  onGiveUp?: (reason: string) => void;
  logger?: Logger;
  batchId?: string;
  /** sees each target going down and coming back up (the run records them for the report) */
  onTargetState?: (target: string, state: 'down' | 'up', at: number) => void;
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
  /** the target's limit on uploads in flight when this slot was granted (the report plots it) */
  readonly limit: number;
  /** give the slot back; with an outcome, it is a sample for the target's limit (none: says nothing of the host) */
  release(outcome?: Outcome): void;
}

interface Waiter {
  preferred: string | null;
  /** targets this file has used up; forgiven if it has to wait out an outage */
  exclude: ReadonlySet<string>;
  /** the file's size, when known: lets an open request wait for a faster busy target */
  bytes?: number;
  /** the busy target it waits for, and its estimated ms there (counted in that target's queue) */
  aim?: { target: string; ms: number };
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

/** Thrown to waiters when the run stops taking files. */
/** waiters per target up to which the size-aware choice is weighed (see nearTheEnd) */
const END_GAME_WAITERS_PER_TARGET = 8;

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
 * a waiter takes the healthy target with the most free slots: the next free slot wins;
 * once the targets are measured and the file's size is known, it takes the target that
 * would have it done soonest, and may wait for a busy faster one (chooseByFinish: the
 * end of a batch no longer waits on a big last file at the slowest host).
 *
 * With no target up, files wait (probes go on) rather than fail: a fleet-wide blip is
 * not the files' fault. The fleet gives up only after `maxWaitMs` with nothing up, or
 * once every target has refused our credentials; then, as after stop(), the waiters
 * are released to end pending.
 */
export class Fleet {
  private readonly states = new Map<string, TargetState>();
  private readonly waiters: Waiter[] = [];
  private readonly probes = new Map<string, NodeJS.Timeout>();
  /** targets that answered 401/403: out for the rest of the run, never probed back */
  private readonly refused = new Set<string>();
  private readonly loads = new Map<string, TargetLoad>();
  /** each target's uploads in flight: when they started and their size (for chooseByFinish) */
  private readonly running = new Map<string, Set<{ startMs: number; bytes: number }>>();
  /** estimated ms of the waiters that wait for each target */
  private readonly aimed = new Map<string, number>();
  private readonly now: () => number;
  private readonly selfBound: () => boolean;
  private inFlight = 0;
  private stopped = false;
  /** runs while no target is up; gives up when it fires */
  private outage: NodeJS.Timeout | undefined;

  constructor(targets: readonly string[], private readonly opts: FleetOptions) {
    const { perTarget, concurrency, downAfter, maxWaitMs = Infinity } = opts;
    for (const [name, v] of Object.entries({ perTarget, concurrency, downAfter })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    // setTimeout takes at most 2^31-1 ms (a longer one fires at once)
    if (maxWaitMs !== Infinity && !(Number.isInteger(maxWaitMs) && maxWaitMs >= 1 && maxWaitMs <= 2 ** 31 - 1)) {
      throw new RangeError(`maxWaitMs must be an integer from 1 to ${2 ** 31 - 1}, or Infinity, got ${maxWaitMs}`);
    }
    this.now = opts.now ?? (() => performance.now());
    this.selfBound = opts.selfBound ?? (opts.limit ? eventLoopSaturation() : () => false);
    for (const t of targets) {
      this.states.set(t, { target: t, up: true, inFlight: 0, uploaded: 0, failed: 0, consecutiveFailures: 0 });
      this.loads.set(t, new TargetLoad(opts.limit ? opts.limit(t) : fixedLimit(perTarget)));
      this.running.set(t, new Set());
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

  /**
   * Wait for a slot: on `preferred` while it is up, else on the least-loaded healthy target
   * not in `exclude` (with the file's `bytes`: the one that would finish it soonest).
   */
  acquire(preferred: string | null, exclude: ReadonlySet<string> = new Set(), bytes?: number): Promise<Lease> {
    if (this.stopped) return Promise.reject(new FleetStoppedError());
    return new Promise<Lease>((resolve, reject) => {
      const w: Waiter = { preferred, exclude, bytes, resolve, reject };
      if (!this.tryGrant(w)) this.waiters.push(w);
    });
  }

  /** Count an attempt's outcome against its target's health. */
  reportSuccess(target: string): void {
    const s = this.states.get(target);
    if (!s) return;
    s.consecutiveFailures = 0;
    s.uploaded++;
    if (!s.up && !this.refused.has(target)) this.markUp(s);
  }

  reportFailure(target: string, hostFault: boolean): void {
    const s = this.states.get(target);
    if (!s || !hostFault) return;
    s.consecutiveFailures++;
    if (s.up && s.consecutiveFailures >= this.opts.downAfter) this.markDown(s);
  }

  /** The target answered 401/403: our token is not good there, and will not become good in this run. */
  reportRefused(target: string, status: number): void {
    const s = this.states.get(target);
    if (!s || this.refused.has(target)) return;
    this.refused.add(target);
    this.opts.logger?.error('target_refused', {
      event: 'target_refused', batchId: this.opts.batchId, target, status,
      hint: `the target refused our credentials (HTTP ${status}): check --token; it takes no more files in this run`,
    });
    if (this.refused.size === this.states.size) {
      this.giveUp(`every target refused our credentials (HTTP ${status}): check --token`);
      return;
    }
    if (s.up) this.markDown(s);
    else this.stopProbing(s);
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
    this.aimed.clear();
    this.close();
  }

  close(): void {
    for (const t of this.probes.values()) clearInterval(t);
    this.probes.clear();
    clearTimeout(this.outage);
    this.outage = undefined;
  }

  private giveUp(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.opts.onGiveUp?.(reason);
  }

  private candidates(w: Waiter): TargetState[] {
    const pref = w.preferred === null ? undefined : this.states.get(w.preferred);
    if (pref && pref.up && !w.exclude.has(pref.target)) return [pref];
    return [...this.states.values()].filter((s) => s.up && !w.exclude.has(s.target));
  }

  /** Aim a waiting file at a target (its estimate joins that target's queue), or at none. */
  private aim(w: Waiter, to?: { target: string; ms: number }): void {
    if (w.aim) this.aimed.set(w.aim.target, (this.aimed.get(w.aim.target) ?? 0) - w.aim.ms);
    w.aim = to;
    if (to) this.aimed.set(to.target, (this.aimed.get(to.target) ?? 0) + to.ms);
  }

  /** chooseByFinish over the candidates, as they are now; undefined while one is unmeasured */
  private byFinish(w: Waiter, cands: readonly TargetState[], bytes: number, now: number): Choice | undefined {
    return chooseByFinish(cands.map((s) => {
      const load = this.load(s);
      const running = [...(this.running.get(s.target) ?? [])].map((r) => ({ startMs: r.startMs, estimateMs: load.estimateMs(r.bytes) ?? 0 }));
      const own = w.aim?.target === s.target ? w.aim.ms : 0;
      return { target: s.target, slotsFreeInMs: slotsFreeIn(this.limitOf(s), running, now), queuedMs: Math.max(0, (this.aimed.get(s.target) ?? 0) - own), fileMs: load.estimateMs(bytes) };
    }));
  }

  private tryGrant(w: Waiter): boolean {
    const granted = this.grant(w);
    if (granted) this.aim(w);
    return granted;
  }

  private grant(w: Waiter): boolean {
    const cands = this.candidates(w);
    if (cands.length === 0) {
      if (this.stopped) {
        w.reject(new FleetStoppedError());
        return true;
      }
      // a file that used up every target that is up has failed; with none up, it waits
      // and starts afresh on whichever answers first (the hosts failed, not the file)
      if ([...this.states.values()].some((s) => s.up)) {
        w.reject(new UploadError('no healthy target left to try', false));
        return true;
      }
      w.exclude = new Set();
      return false;
    }
    if (this.inFlight >= this.opts.concurrency) return false;
    const now = this.now();
    let best: TargetState | undefined;
    if (w.preferred === null && w.bytes !== undefined && cands.length > 1 && this.nearTheEnd()) {
      const choice = this.byFinish(w, cands, w.bytes, now);
      if (choice?.wait) {
        // the files after this one see it in that target's queue
        this.aim(w, { target: choice.target, ms: this.load(this.states.get(choice.target) as TargetState).estimateMs(w.bytes) ?? 0 });
        return false;
      }
      // Among free targets least-loaded still decides unless the soonest-finish one is clearly
      // sooner (WAIT_MARGIN): the estimates do not see a link shared by the uploads already on
      // it, so "soonest finish" alone piles files onto whichever looks fastest (measured: 500 x
      // 1 MiB over five equal links, 15.3 s against 9.8 s for least-loaded).
      const ll = this.leastLoaded(cands);
      const llMs = ll && this.load(ll).estimateMs(w.bytes);
      if (choice) best = ll && (llMs === undefined || choice.finishMs * WAIT_MARGIN >= llMs) ? ll : this.states.get(choice.target);
    }
    best ??= this.leastLoaded(cands);
    if (!best) return false;
    const s = best;
    s.inFlight++;
    this.inFlight++;
    const load = this.load(s);
    const attempt = load.start(now);
    const run = { startMs: now, bytes: w.bytes ?? 0 };
    this.running.get(s.target)?.add(run);
    let released = false;
    w.resolve({
      target: s.target,
      limit: this.limitOf(s),
      release: (outcome?: Outcome) => {
        if (released) return;
        released = true;
        s.inFlight--;
        this.inFlight--;
        this.running.get(s.target)?.delete(run);
        load.finish(attempt, this.now(), outcome && { ...outcome, selfBound: this.selfBound() });
        this.drain();
      },
    });
    return true;
  }

  /**
   * A few files waiting per target: the end of a batch (or a quiet stretch), where the
   * size-aware choice pays. Mid-batch the window keeps hundreds waiting, every host has a
   * long queue and least-loaded keeps them all busy; weighing every waiter against every
   * target's slots on each release there cost O(waiters x targets x slots): 100,000 small
   * files took over 4 minutes instead of ~30 s.
   */
  private nearTheEnd(): boolean {
    let up = 0;
    for (const s of this.states.values()) if (s.up) up++;
    return this.waiters.length <= END_GAME_WAITERS_PER_TARGET * up;
  }

  /** The candidate with a free slot and the fewest uploads in flight: the next free slot wins. */
  private leastLoaded(cands: readonly TargetState[]): TargetState | undefined {
    let best: TargetState | undefined;
    for (const s of cands) if (s.inFlight < this.limitOf(s) && (!best || s.inFlight < best.inFlight)) best = s;
    return best;
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
    // the report draws the down period either way: a refused target is down for the rest of the run
    this.opts.onTargetState?.(s.target, 'down', Date.now());
    if (this.refused.has(s.target)) {
      this.stopProbing(s);
    } else {
      this.opts.logger?.warn('target_down', { event: 'target_down', batchId: this.opts.batchId, target: s.target, consecutiveFailures: s.consecutiveFailures });
      const timer = setInterval(() => {
        void this.opts.probe(s.target).then((ok) => {
          // a probe still out when the fleet closed must not bring a target up after the run
          if (ok && !s.up && this.probes.get(s.target) === timer) this.markUp(s);
        });
      }, this.opts.probeMs);
      timer.unref();
      this.probes.set(s.target, timer);
    }
    if (![...this.states.values()].some((x) => x.up)) this.startOutage();
    // waiters that preferred it, or that now have nowhere to go, are re-examined
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i];
      // ...and those that chose to wait for it: no file waits on a down target
      if (this.candidates(w).length === 0 || w.preferred === s.target || w.aim?.target === s.target) {
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
    this.stopProbing(s);
    clearTimeout(this.outage);
    this.outage = undefined;
    for (const t of this.probes.values()) t.unref();
    this.opts.logger?.info('target_up', { event: 'target_up', batchId: this.opts.batchId, target: s.target });
    this.opts.onTargetState?.(s.target, 'up', Date.now());
    this.drain();
  }

  private stopProbing(s: TargetState): void {
    clearInterval(this.probes.get(s.target));
    this.probes.delete(s.target);
  }

  /**
   * Nothing is up: files wait on the probes, so the probes now hold the process open
   * (unref'd, a waiting run could end with nothing left to wake it), and the clock of
   * maxWaitMs starts.
   */
  private startOutage(): void {
    for (const t of this.probes.values()) t.ref();
    const { maxWaitMs = Infinity } = this.opts;
    if (this.outage || maxWaitMs === Infinity) return;
    this.outage = setTimeout(() => this.giveUp(`no target answered for ${maxWaitMs} ms`), maxWaitMs);
  }
}
