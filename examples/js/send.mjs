// SMTPc's WebAssembly module from Node: send one message, or (without --to) test a server's
// set-up — connect, STARTTLS, AUTH, QUIT — and print the conversation with every step explained.
// The module is the one the web page uses: it reaches the server through smtpc-proxy (a
// WebSocket ↔ TCP relay) and runs TLS itself, so the relay never sees the password or the mail.
//
//   SMTP_PASSWORD=secret node send.mjs --web /usr/local/share/smtpc/web \
//       --relay ws://127.0.0.1:8025 --origin http://localhost:8080 \
//       --server mail.example.com --user me@example.com --password-env SMTP_PASSWORD \
//       --from me@example.com --to you@example.com --subject Hello --text 'Hello from SMTPc'
//
// Exit status: 0 when the run succeeded, 1 when it failed (the output says why), 2 for a usage error.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

function usage(why) {
  console.error(`send.mjs: ${why}`);
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({ options: {
    web: { type: 'string', default: '/usr/local/share/smtpc/web' },  // smtpc.js, smtpc.wasm, ca-bundle.pem
    relay: { type: 'string', default: 'ws://127.0.0.1:8025' },        // smtpc-proxy
    origin: { type: 'string', default: 'http://localhost' },          // one of the relay's --allow-origin
    server: { type: 'string' },
    port: { type: 'string', default: '' },                            // empty: the security mode's default
    security: { type: 'string', default: 'starttls' },                // starttls | tls | starttls-if-offered | none
    user: { type: 'string', default: '' },
    'password-env': { type: 'string', default: 'SMTP_PASSWORD' },     // never a password on the command line
    'ca-file': { type: 'string' },                                    // trust this CA (PEM) too
    from: { type: 'string', default: '' },
    to: { type: 'string', default: '' },
    subject: { type: 'string', default: 'Test from SMTPc' },
    text: { type: 'string', default: 'This message was sent by examples/js/send.mjs.' },
  } }));
} catch (e) {
  usage(e.message);
}
if (!options.server) usage('give --server HOST (and --to ADDRESS to send; without it the connection is tested)');
const password = options.user ? process.env[options['password-env']] : '';
if (options.user && !password) usage(`--user needs the password in the environment variable ${options['password-env']}`);

// Node 20 has no WebSocket of its own; the module opens `new WebSocket(url)`, so lend it the ws
// package's, sending an Origin the relay allows (a browser sends the page's by itself).
globalThis.WebSocket = class extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: options.origin });
  }
};

// The module is a CommonJS script (createSmtpc). Its loader would fetch() the .wasm, which Node
// cannot do for a file path: hand it the bytes instead. TLS needs good random numbers, and Node
// has them (globalThis.crypto.getRandomValues); without any, the module refuses to start TLS.
const require = createRequire(import.meta.url);
const createSmtpc = require(path.resolve(options.web, 'smtpc.js'));
const smtpc = await createSmtpc({ wasmBinary: fs.readFileSync(path.join(options.web, 'smtpc.wasm')) });
smtpc.setCaBundle(fs.readFileSync(path.join(options.web, 'ca-bundle.pem'), 'utf8'));  // the public roots

// The run's settings, named as the page's form names them (smtpc.fields() lists them all).
const now = new Date();
const values = {
  proxy: options.relay,
  server: options.server,
  port: options.port,
  security: options.security,
  username: options.user,
  password,
  caPem: options['ca-file'] ? fs.readFileSync(options['ca-file'], 'utf8') : '',
  from: options.from,
  to: options.to,
  subject: options.subject,
  body: options.text,
  nowSeconds: Math.floor(now / 1000),  // the Date: header
  utcOffsetMinutes: -now.getTimezoneOffset(),
};

const client = new smtpc.SmtpClient();
const sending = options.to !== '';
const result = await new Promise((resolve) => {
  // Every event of the run arrives here ("~>" and "<~" lines are inside TLS); the transcript
  // already hides the password.
  const onEvent = (event) => {
    if (event.type === 'transcript') console.log(`${event.prefix} ${event.text}`);
    if (event.type === 'finished') resolve(event.view);
  };
  const problem = sending ? client.send(values, onEvent) : client.test(values, onEvent);
  if (problem) resolve({ ok: false, headline: problem.headline, explanation: problem.explanation });
});
client.delete();  // objects made by the module are freed by hand

console.log(`\n${result.ok ? '✓' : '✗'} ${result.headline}\n  ${result.explanation}`);
if (result.serverSaid) console.log(`  The server said: ${result.serverSaid}`);
for (const suggestion of result.suggestions || []) console.log(`  - ${suggestion}`);
process.exitCode = result.ok ? 0 : 1;
