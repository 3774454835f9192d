import type { OperatorFunction } from 'rxjs';
import type { Assignment, SourceFile } from '../types.js';
import { assignLeastLoaded } from './assignLeastLoaded.js';
import { assignRoundRobin } from './assignRoundRobin.js';

export type AssignStrategy = 'round-robin' | 'least-loaded';
export const ASSIGN_STRATEGIES: readonly AssignStrategy[] = ['round-robin', 'least-loaded'];

/** The assignment operator for a strategy. */
export function assignTargets(strategy: AssignStrategy, targets: readonly string[]): OperatorFunction<SourceFile, Assignment> {
  return strategy === 'least-loaded' ? assignLeastLoaded() : assignRoundRobin(targets);
}
