import { getGlobalDispatcher, type Dispatcher } from 'undici';

/**
 * undici's top-level `request(url, opts)`, on a given dispatcher (the global one by default):
 * the bin bundles only the dispatchers (scripts/undici-lite.mjs), not that wrapper.
 */
export function requestUrl(
  url: string,
  opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>,
  dispatcher: Dispatcher = getGlobalDispatcher(),
): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return dispatcher.request({ ...opts, origin: u.origin, path: u.pathname + u.search });
}
