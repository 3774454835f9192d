import { createReadStream } from 'node:fs';
import { Agent } from 'undici';
import { requestUrl } from '../http/requestUrl.js';
import { wirePath } from '../http/uploader.js';
import type { DemoFile } from './makeDemoFiles.js';

/** One PUT of one file, the way the before-code does it: a streamed body, no retry; true if stored. */
async function put(dispatcher: Agent, target: string, f: DemoFile, signal?: AbortSignal): Promise<boolean> {
  try {
    const { statusCode, body } = await requestUrl(
      `${target}${wirePath('', f.rel)}`,
      { method: 'PUT', signal, body: createReadStream(f.abs), headers: { 'content-length': String(f.size), 'content-type': 'application/octet-stream' } },
      dispatcher,
    );
    await body.dump();
    return statusCode >= 200 && statusCode < 300;
  } catch {
    return false;
  }
}

/** Run `fn` with a fresh undici Agent (keep-alive, no connection limit: undici's default), closed after. */
async function withAgent<T>(fn: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = new Agent();
  try {
    return await fn(agent);
  } finally {
    await agent.close();
  }
}

/** The loop a script starts with: one file after another, hosts taken in turn. Returns the files stored. */
export function uploadOneAtATime(files: readonly DemoFile[], targets: readonly string[], signal?: AbortSignal): Promise<number> {
  return withAgent(async (agent) => {
    let stored = 0;
    for (const [i, f] of files.entries()) {
      signal?.throwIfAborted();
      if (await put(agent, targets[i % targets.length], f, signal)) stored++;
    }
    return stored;
  });
}

/**
 * The naive fix (`Promise.all` over every file, like the benchmark's gather-undici peer):
 * every upload starts at once, each with its own socket and open file; no limit,
 * no retry. Returns the files stored.
 */
export function uploadAllAtOnce(files: readonly DemoFile[], targets: readonly string[], signal?: AbortSignal): Promise<number> {
  return withAgent(async (agent) => {
    const ok = await Promise.all(files.map((f, i) => put(agent, targets[i % targets.length], f, signal)));
    signal?.throwIfAborted();
    return ok.filter(Boolean).length;
  });
}
