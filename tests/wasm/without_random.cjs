// Preloaded (node --require) by examples_js.mjs to take random sources from the module.
//   SMTPC_WITHOUT_RANDOM=web-crypto  no globalThis.crypto, as in Node 18: the module's Node
//                                    branch (-sENVIRONMENT=node) must fall back to require('crypto')
//   SMTPC_WITHOUT_RANDOM=all         require('crypto') refused to smtpc.js too (ws still needs it)
'use strict';
const Module = require('node:module');

delete globalThis.crypto;
if (process.env.SMTPC_WITHOUT_RANDOM === 'all') {
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    const fromModule = parent && String(parent.filename).endsWith('smtpc.js');
    if (fromModule && (request === 'crypto' || request === 'node:crypto')) throw new Error('no crypto module here');
    return load.call(this, request, parent, ...rest);
  };
}
