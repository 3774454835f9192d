// Bundle the CLI into one file (dist/fanout.mjs), the package's bin. Loading ~400 modules one
// by one (resolution, file reads, compiles) was most of fanout's start-up: about 0.5 s before
// a batch could begin; one bundle cuts that roughly in half. The library (dist/src) stays
// unbundled for importers. Drivers and native modules stay outside: knex loads them by name.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, URL } from 'node:url';

// rxjs's exports send platform 'node' to its CommonJS build, which esbuild cannot tree-shake:
// all of rxjs was evaluated at every start (~40 ms). Its ES2015 build (same package, same
// version, "sideEffects": false) leaves only the operators fanout uses.
const rxjsDir = path.dirname(createRequire(import.meta.url).resolve('rxjs/package.json'));
const rxjsEsm = {
  name: 'rxjs-esm',
  setup(b) {
    b.onResolve({ filter: /^rxjs$/ }, () => ({ path: path.join(rxjsDir, 'dist/esm/index.js') }));
  },
};

// undici's index.js evaluates all of undici (fetch, WebSocket, caches, mocks...): the bin takes
// only the parts it uses (scripts/undici-lite.mjs). The bundled-bin test uploads through it.
const undiciLite = {
  name: 'undici-lite',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: fileURLToPath(new URL('undici-lite.mjs', import.meta.url)) }));
  },
};

const out = 'dist/fanout.mjs';
await build({
  entryPoints: ['src/cli.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  plugins: [rxjsEsm, undiciLite],
  // knex's optional dialects and the drivers it loads lazily; playwright is a test tool
  external: ['better-sqlite3', 'mysql2', 'mysql', 'mariadb', 'pg', 'pg-query-stream', 'sqlite3', 'tedious', 'oracledb', 'playwright-core'],
  // CommonJS dependencies inside an ES module bundle still call require()
  banner: { js: "import { createRequire as __fanoutRequire } from 'node:module'; const require = __fanoutRequire(import.meta.url);" },
});
await chmod(out, 0o755);
