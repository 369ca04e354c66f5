// Node (CommonJS) entry of the npm package `tablesync`: the module loads
// synchronously on require, so `init()` is a no-op kept for portable code.
'use strict';
const raw = require('./tablesync_wasm.js');
const { createApi } = require('../api.cjs');

// Node 18 has no global `crypto` without a flag; session ids come from node:crypto.
const api = createApi(raw, undefined, { crypto: require('node:crypto').webcrypto });
module.exports = api;
module.exports.default = api.init;
