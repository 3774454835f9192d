import { map, type OperatorFunction } from 'rxjs';
import type { Assignment, SourceFile } from '../types.js';

/**
 * Leave the target open: the upload stage gives the file to whichever healthy target's
 * slot frees first (pull: the next free slot wins), so a slow host simply takes fewer files.
 *
 *   files:   a b c
 *   result:  a? b? c?     (? = chosen when a slot frees)
 */
export function assignLeastLoaded(): OperatorFunction<SourceFile, Assignment> {
  return map((file) => ({ file, target: null }));
}
