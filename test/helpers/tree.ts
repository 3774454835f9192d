import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Names that break naive code: spaces, unicode (NFC and NFD), #, %, case twins, trailing space. */
export const AWKWARD_NAMES = [
  'call 1.wav', 'über/ça va.wav', 'caf\u00e9.wav', 'cafe\u0301.wav', 'hash#1.wav', 'pct%20.wav', 'pct%.wav',
  'Case.wav', 'case.wav', 'trail .wav', 'deep/er/still/deeper/x.wav', '日本語/通話.wav', 'plus+and&amp.wav', "quote'\".wav",
];

export interface Tree {
  dir: string;
  /** relative path -> sha256 hex */
  files: Map<string, string>;
}

/**
 * A temp tree of `n` files in nested folders with mixed sizes (most small, a few over
 * 1 MiB so they are streamed) plus every awkward name.
 */
export async function makeTree(n: number, opts: { large?: number; sizes?: number[] } = {}): Promise<Tree> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-src-'));
  const files = new Map<string, string>();
  const sizes = opts.sizes ?? [0, 1, 100, 4096, 65_536, 300_000];
  const add = async (rel: string, size: number) => {
    const body = randomBytes(size);
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), body);
    files.set(rel, createHash('sha256').update(body).digest('hex'));
  };
  for (let i = 0; i < n; i++) await add(`part_${i % 4}/sub_${i % 3}/call_${String(i).padStart(5, '0')}.wav`, sizes[i % sizes.length]);
  for (let i = 0; i < (opts.large ?? 0); i++) await add(`large/big_${i}.wav`, (1 << 20) + 12_345 + i);
  for (const name of AWKWARD_NAMES) await add(name, 777);
  return { dir, files };
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
