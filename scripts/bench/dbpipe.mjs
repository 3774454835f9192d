// usage: node dbpipe.mjs PORT SOCKET
//   Run inside a worker's network namespace (workers.mjs does): listens on 127.0.0.1:PORT there
//   and pipes each connection to the MariaDB unix SOCKET, which every namespace sees (sockets live
//   in the filesystem, not in a network namespace). So the workers' database traffic never crosses
//   their shaped uplink and they use the same mysql://…@127.0.0.1 URL as everything else.
import net from 'node:net';

const [port, socket] = process.argv.slice(2);
if (!/^\d+$/.test(port ?? '') || !socket) {
  console.error('usage: node dbpipe.mjs PORT SOCKET');
  process.exit(2);
}
const server = net.createServer((client) => {
  const db = net.connect(socket);
  const end = () => {
    client.destroy();
    db.destroy();
  };
  for (const s of [client, db]) s.on('error', end).on('close', end);
  client.pipe(db).pipe(client);
});
server.on('error', (err) => {
  console.error(`dbpipe: ${err.message}`);
  process.exit(1);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`READY 127.0.0.1:${port} -> ${socket}`));
