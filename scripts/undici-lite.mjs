// The bin's undici (scripts/bundle.mjs maps `undici` here; the library imports undici itself).
// fanout uses Pool, Agent, the request API, the global dispatcher and buildConnector. undici's index.js also
// evaluates fetch, WebSocket, EventSource, cookies, caches and mocks, and through them Node's
// own copy of undici: ~100 ms of every start-up here. These are the same modules, wired as
// index.js wires them (the request API lives on Dispatcher.prototype).
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import undiciGlobal from 'undici/lib/global.js';
import buildConnector from 'undici/lib/core/connect.js';

Object.assign(Dispatcher.prototype, api);
const { getGlobalDispatcher } = undiciGlobal;

if (typeof Pool.prototype.request !== 'function' || typeof getGlobalDispatcher !== 'function') {
  throw new Error('undici-lite: this undici is not wired like 7.x: drop the alias in scripts/bundle.mjs');
}

export { Agent, Pool, buildConnector, getGlobalDispatcher };
