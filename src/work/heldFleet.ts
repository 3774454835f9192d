import { Fleet, type FleetOptions, type Lease } from '../http/fleet.js';

/**
 * A fleet that grants slots only on the targets this worker holds a lease on. Every
 * target is driven by one worker at a time, so each target's per-target limit holds
 * across the cluster. A file fails over only among the held targets.
 */
export class HeldFleet extends Fleet {
  constructor(
    private readonly all: readonly string[],
    private readonly held: () => ReadonlySet<string>,
    /** held targets being handed to another worker: only the files already claimed for them go there */
    private readonly closing: () => ReadonlySet<string>,
    opts: FleetOptions,
  ) {
    super(all, opts);
  }

  override acquire(preferred: string | null, exclude: ReadonlySet<string> = new Set(), bytes?: number): Promise<Lease> {
    const held = this.held();
    const keep = preferred !== null && held.has(preferred) ? preferred : null;
    const closed = [...this.closing()].filter((t) => t !== keep);
    const notHeld = this.all.filter((t) => !held.has(t));
    return super.acquire(keep, new Set([...exclude, ...notHeld, ...closed]), bytes);
  }
}
