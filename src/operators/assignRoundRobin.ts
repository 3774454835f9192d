import { map, type OperatorFunction } from 'rxjs';
import type { Assignment, SourceFile } from '../types.js';

/**
 * Tag each file with the next target in turn.
 *
 *   files:   a b c d      targets = [X, Y]
 *   result:  aX bY cX dY
 *
 * The counter lives in the subscription (map's index), so two runs never share it.
 */
export function assignRoundRobin(targets: readonly string[]): OperatorFunction<SourceFile, Assignment> {
  if (targets.length === 0) throw new RangeError('assignRoundRobin needs at least one target');
  return map((file, i) => ({ file, target: targets[i % targets.length] }));
}
