import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * fanout's version from its package.json, found by walking up from this module: the same
 * code runs as src/version.ts, dist/src/version.js and inside the bundle dist/fanout.mjs.
 */
export function fanoutVersion(from: string = import.meta.dirname): string {
  for (let dir = from, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'fanout') return String(pkg.version);
    } catch {
      // no package.json here: look one folder up
    }
  }
  return 'unknown';
}
