import { requestUrl } from './requestUrl.js';

/** Any HTTP answer from the target's base URL (a 404 is an answer) means it is up. */
export async function probeTarget(target: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await requestUrl(target, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}
