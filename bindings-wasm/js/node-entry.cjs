// Node (CommonJS) entry of the npm package `tablesync`: the module loads
// synchronously on require, so `init()` is a no-op kept for portable code.
'use strict';
const raw = require('./tablesync_wasm.js');
const { createApi } = require('../api.cjs');

const api = createApi(raw);
module.exports = api;
module.exports.default = api.init;
