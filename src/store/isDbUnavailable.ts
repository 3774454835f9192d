/**
 * Error codes that mean the database is away or busy for now, so the same statement may
 * succeed later. Everything else (a value too long, a constraint, a syntax error) will
 * fail the same way every time: retrying it only hides the cause and stalls the batch.
 */
const AWAY = new Set([
  // the network, as Node reports it
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND',
  // mysql2: the connection dropped or a reply never came
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'PROTOCOL_ENQUEUE_AFTER_QUIT',
  // the server: gone, restarting, full of clients, or killed the connection
  'CR_SERVER_GONE_ERROR', 'CR_SERVER_LOST', 'CR_CONNECTION_ERROR', 'CR_CONN_HOST_ERROR',
  'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED',
  'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE', 'ER_NET_WRITE_INTERRUPTED',
  // busy: another transaction holds the rows
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  // read-only while a replica is being promoted (--read-only / super_read_only)
  'ER_OPTION_PREVENTS_STATEMENT', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
]);

/** Kinds of error named by class rather than code: knex's and tarn's pool acquire timeouts. */
const AWAY_NAMES = new Set(['KnexTimeoutError', 'TimeoutError']);

/**
 * Whether `err` means the database is unreachable or busy (retry), rather than that it
 * refused this statement (don't). Looks through `cause` and AggregateError's `errors`,
 * since a failed connect to several addresses reports each one there.
 */
export function isDbUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const { code, fatal } = err as { code?: unknown; fatal?: unknown };
  if (typeof code === 'string' && (AWAY.has(code) || /^SQLITE_(BUSY|LOCKED)/.test(code))) return true;
  // mysql2 marks errors that closed the connection: whatever the statement was, it never ran to an answer
  if (fatal === true) return true;
  if (AWAY_NAMES.has(err.name)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDbUnavailable(e, depth + 1))) return true;
  return err.cause !== undefined && isDbUnavailable(err.cause, depth + 1);
}
