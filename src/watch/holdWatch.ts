import type { Knex } from 'knex';
import { ConfigError, describeError } from '../errors.js';
import { deadOnThisHost } from '../runs/processAlive.js';
import os from 'node:os';

export interface WatchHold {
  /** the watch's worker id: the same across restarts, so its claims are its own again */
  id: string;
  takenOver?: { host: string; pid: number };
  lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * One watch per prefix at a time: a `workers` row with a fixed id (`watch:<prefix>`) and a
 * heartbeat. Taken when free, stopped, stale (no heartbeat for leaseMs) or its process is
 * gone on this host (a SIGKILLed watch restarts at once); a live one is a ConfigError
 * naming it. Renewed every leaseMs/3; `lost` fires if someone else took it meanwhile.
 */
export async function holdWatch(knex: Knex, prefix: string, leaseMs: number): Promise<WatchHold> {
  const id = `watch:${prefix}`;
  const me = { host: os.hostname(), pid: process.pid };
  const now = Date.now();
  const row = (await knex('workers').where({ id }).first()) as Record<string, unknown> | undefined;
  let takenOver: WatchHold['takenOver'];
  if (row) {
    const host = String(row.host);
    const pid = Number(row.pid);
    const live = row.stopped_at === null && Number(row.heartbeat_at) > now - leaseMs && !deadOnThisHost(host, pid);
    if (live) throw new ConfigError(`watch "${prefix}" is running on ${host} pid ${pid}: not starting a second one`);
    if (row.stopped_at === null) takenOver = { host, pid };
    const took = await knex('workers').where({ id, heartbeat_at: row.heartbeat_at }).update({ host: me.host, pid: me.pid, started_at: now, heartbeat_at: now, stopped_at: null });
    if (took !== 1) throw new ConfigError(`watch "${prefix}" was just started elsewhere: not starting a second one`);
  } else {
    await knex('workers').insert({ id, batch_id: prefix, host: me.host, pid: me.pid, started_at: now, heartbeat_at: now, stopped_at: null })
      .catch((err: unknown) => {
        throw new ConfigError(`watch "${prefix}" was just started elsewhere: not starting a second one (${describeError(err)})`);
      });
  }
  const lost = new AbortController();
  const beat = setInterval(() => {
    knex('workers').where({ id, host: me.host, pid: me.pid }).update({ heartbeat_at: Date.now() }).then(
      (n: number) => {
        if (n === 0 && !lost.signal.aborted) lost.abort();
      },
      () => undefined, // a database away for a moment: the next beat tries again
    );
  }, Math.max(50, Math.floor(leaseMs / 3)));
  beat.unref();
  return {
    id, takenOver, lost: lost.signal,
    release: async () => {
      clearInterval(beat);
      await knex('workers').where({ id, host: me.host, pid: me.pid }).update({ stopped_at: Date.now() });
    },
  };
}
