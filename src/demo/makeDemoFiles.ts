import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DemoFile {
  /** relative, `/`-separated */
  rel: string;
  abs: string;
  size: number;
}

/**
 * `count` files of random bytes, `size` each, spread over ten day folders the way call
 * recordings arrive: calls/day_03/call_00042.wav. Returned in the walker's order.
 */
export async function makeDemoFiles(dir: string, count: number, size: number): Promise<DemoFile[]> {
  const files: DemoFile[] = [];
  for (let i = 0; i < count; i++) {
    const rel = `calls/day_${String(i % 10).padStart(2, '0')}/call_${String(i).padStart(5, '0')}.wav`;
    files.push({ rel, abs: path.join(dir, ...rel.split('/')), size });
  }
  for (let d = 0; d < Math.min(10, count); d++) await mkdir(path.join(dir, 'calls', `day_${String(d).padStart(2, '0')}`), { recursive: true });
  for (const f of files) await writeFile(f.abs, randomBytes(size));
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
}
