/**
 * The database's own message for a failed statement, without the statement. knex puts
 * the SQL with its bindings in front of the driver's message (`<sql> - <message>`): in a
 * log line that is every path of a 500-row batch, on every retry. mysql2 keeps the
 * server's text in `sqlMessage`; otherwise the driver's message follows knex's last ' - '.
 */
export function describeDbError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, sqlMessage } = err as { code?: unknown; sqlMessage?: unknown };
  let text = typeof sqlMessage === 'string' ? sqlMessage : err.message;
  if (typeof sqlMessage !== 'string' && /^\s*(insert|update|delete|select|with|replace|create|alter|drop)\b/i.test(text)) {
    const at = text.lastIndexOf(' - ');
    text = at >= 0 ? text.slice(at + 3) : text.slice(0, 200);
  }
  text = text.split('\n')[0];
  if (text === '') text = err.name;
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}
