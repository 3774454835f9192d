// usage: node db.mjs reset mysql://USER[:PASS]@HOST:PORT/DB
//   drops and re-creates DB (the bench's scratch database); exit 1 with a one-line reason
//   if the server can't be reached.
// mysql2 comes from the project's own dependencies.
import mysql from 'mysql2/promise';

const [cmd, url] = process.argv.slice(2);
if (cmd !== 'reset' || !url) {
  console.error('usage: node db.mjs reset mysql://USER[:PASS]@HOST:PORT/DB');
  process.exit(2);
}
const u = new URL(url);
const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
if (!/^[A-Za-z0-9_]+$/.test(db)) {
  console.error(`refusing odd database name "${db}"`);
  process.exit(2);
}
try {
  const conn = await mysql.createConnection({
    host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), connectTimeout: 3000,
  });
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.end();
} catch (err) {
  console.error(`${u.host}: ${err.code ?? ''} ${err.message}`.trim());
  process.exit(1);
}
