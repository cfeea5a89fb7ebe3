// What the browser tests and the page benchmark start around the page: the aiosmtpd sandbox, TCP
// taps that record every byte, a static server for build/wasm/web, smtpc-proxy, a hostile relay
// of our own, and Chromium. Every server binds port 0 on loopback; stop() ends them all.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function option(name, otherwise) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : otherwise;
}

const children = [];
const servers = [];
let browser = null;

export async function stop() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  for (const s of servers.splice(0)) s.close();
  for (const c of children.splice(0)) { try { c.stdin?.end(); c.kill('SIGTERM'); } catch (e) { /* gone */ } }
}
process.on('SIGINT', () => stop().then(() => process.exit(130)));

function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), 20000);
    rl.once('line', (line) => { clearTimeout(timer); resolve(line); });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${stderr}`)));
  });
}

// The sandbox's JSON: {host, plain, starttls, tls, ca_file, maildir}.
export async function startSandbox(args = []) {
  const child = spawn('/usr/bin/python3', [path.join(root, 'tests/servers/sandbox.py'), '--exit-on-stdin-eof', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return JSON.parse(await firstLine(child, 'the sandbox'));
}

// The local OAuth 2 authorization server (tests/servers/oauth_server.py): {issuer, port, ...}.
export async function startOAuthServer(args = []) {
  const child = spawn('/usr/bin/python3', [path.join(root, 'tests/servers/oauth_server.py'), '--exit-on-stdin-eof', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return JSON.parse(await firstLine(child, 'the authorization server'));
}

// The loopback Internet for settings discovery (tests/servers/discovery_world.py): {dns, web,
// http, ispdb, ca_file, smtp: {host, tls, starttls}, domains}. It needs root (port 53, 443, 80).
export async function startDiscoveryWorld() {
  const child = spawn('/usr/bin/python3', [path.join(root, 'tests/servers/discovery_world.py'), '--exit-on-stdin-eof'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return JSON.parse(await firstLine(child, 'the discovery world'));
}

// base64(SHA-256(SPKI)) of the certificate a TLS server on 127.0.0.1:port presents: what
// Chromium's --ignore-certificate-errors-spki-list takes, to trust exactly that key and no other.
export function spkiHash(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const der = new crypto.X509Certificate(socket.getPeerCertificate(true).raw).publicKey.export({ type: 'spki', format: 'der' });
      socket.end();
      resolve(crypto.createHash('sha256').update(der).digest('base64'));
    });
    socket.on('error', reject);
  });
}

// A TCP relay to targetPort that keeps every byte in order, per connection:
// {port, connections: [[{up: bool, bytes: Buffer}, ...], ...]}.
export function tap(targetPort) {
  const connections = [];
  const server = net.createServer((client) => {
    const timeline = [];
    connections.push(timeline);
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.setNoDelay(true);  // a tap must not add Nagle delays of its own to the timings
    upstream.setNoDelay(true);
    client.on('data', (d) => { timeline.push({ up: true, bytes: Buffer.from(d) }); upstream.write(d); });
    upstream.on('data', (d) => { timeline.push({ up: false, bytes: Buffer.from(d) }); client.write(d); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, connections })));
}

// The page's Content-Security-Policy as its own <meta> states it; servers send it as a header too
// (plus what only a header can say), so the policy is written once.
export function pageCsp(html) {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  return m ? m[1] + "; frame-ancestors 'none'" : null;
}

// Serves `dir`, plus `extra` {name: file path | {body, type}} (read at each request, so a test
// may add to it later; extras are sent as they are, without the CSP header). Returns the port.
export function staticServer(dir, extra = {}) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
    '.pem': 'text/plain', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const name = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const given = extra[name];
    if (given && typeof given === 'object') {
      res.writeHead(200, { 'Content-Type': given.type || types[path.extname(name)] || 'application/octet-stream' });
      res.end(given.body);
      return;
    }
    const file = given || path.join(dir, path.basename(name));
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end(); return; }
      const headers = { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'X-Content-Type-Options': 'nosniff' };
      const csp = path.extname(file) === '.html' && pageCsp(data.toString('utf8'));
      if (csp) headers['Content-Security-Policy'] = csp;
      res.writeHead(200, headers);
      res.end(data);
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// A WebSocket relay of our own (RFC 6455, just what the page's binary frames need) that answers
// as `peer` says instead of relaying: a hostile relay, or a recorder. `peer(connection)` is
// called for every connection {url, received: [Buffer], send(bytes), close()} and returns a
// function for each received message. Returns {port, connections}.
export function fakeRelay(peer) {
  const connections = [];
  const frame = (opcode, payload) => {
    const length = payload.length;
    const head = length < 126 ? Buffer.from([0x80 | opcode, length])
      : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
    return Buffer.concat([head, payload]);
  };
  const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
  server.on('upgrade', (req, socket) => {
    const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const connection = {
      url: req.url,
      received: [],
      send: (bytes) => socket.write(frame(0x2, Buffer.from(bytes))),
      close: () => { socket.end(frame(0x8, Buffer.from([0x03, 0xe8]))); },
    };
    connections.push(connection);
    socket.on('error', () => {});
    const onMessage = peer(connection);
    let buffer = Buffer.alloc(0);
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      while (buffer.length >= 2) {
        const opcode = buffer[0] & 0x0f;
        let length = buffer[1] & 0x7f;
        let at = 2;
        if (length === 126) { if (buffer.length < 4) return; length = buffer.readUInt16BE(2); at = 4; }
        if (length === 127) { if (buffer.length < 10) return; length = Number(buffer.readBigUInt64BE(2)); at = 10; }
        const mask = buffer.subarray(at, at + 4);  // browsers always mask
        at += 4;
        if (buffer.length < at + length) return;
        const payload = Buffer.from(buffer.subarray(at, at + length));
        for (let i = 0; i < length; ++i) payload[i] ^= mask[i & 3];
        buffer = buffer.subarray(at + length);
        if (opcode === 0x8) { socket.end(); return; }
        if (opcode === 0x0 || opcode === 0x2) { connection.received.push(payload); onMessage(payload); }
      }
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, connections })));
}

// An SMTP server behind a fake relay, in clear text: `greeting`, the `ehlo` reply lines, and for
// AUTH CRAM-MD5 the `challenge`; any SASL answer is "accepted". Everything is recorded.
export function smtpPeer({ greeting = 'hostile ESMTP', ehlo = ['hostile', 'AUTH CRAM-MD5'], challenge = '<1896.697170952@hostile>' } = {}) {
  return (connection) => {
    connection.send(`220 ${greeting}\r\n`);
    let pending = '';
    let inAuth = false;
    return (bytes) => {
      pending += bytes.toString('latin1');
      for (let i; (i = pending.indexOf('\r\n')) >= 0;) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (inAuth) { inAuth = false; connection.send('235 2.7.0 accepted\r\n'); }
        else if (verb === 'EHLO') connection.send(ehlo.map((l, n) => `250${n === ehlo.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
        else if (verb === 'AUTH') { inAuth = true; connection.send(`334 ${Buffer.from(challenge).toString('base64')}\r\n`); }
        else if (verb === 'QUIT') { connection.send('221 bye\r\n'); connection.close(); }
        else connection.send('250 ok\r\n');
      }
    };
  };
}

// smtpc-proxy for pages from `origin`, to the `allowPrivate` HOST:PORTs, plus `extra` arguments
// (e.g. --token-file F). Returns its port.
export async function startProxy(binary, origin, allowPrivate, extra = []) {
  const args = ['--listen', '127.0.0.1:0', '--allow-origin', origin, ...extra];
  for (const a of allowPrivate) args.push('--allow-private', a);
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const listening = await firstLine(child, 'smtpc-proxy');
  return Number(listening.split(':').pop());
}

// Debian's Chromium, headless, as root: the flags the machine notes ask for.
// `trustedKeys`: SPKI hashes (spkiHash) of test servers whose certificates the browser accepts.
export async function launchChromium(trustedKeys = []) {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      ...(trustedKeys.length ? [`--ignore-certificate-errors-spki-list=${trustedKeys.join(',')}`] : [])],
  });
  return browser;
}

// A fresh browser profile (its own localStorage), or the one `page` lives in.
export function newContext() {
  return browser.newContext({ viewport: { width: 1360, height: 860 } });
}

// A page of the app, loaded and ready; `page.consoleErrors` collects its errors and
// `page.consoleLines` everything it logged. `context`: open it in that profile (default: a new one).
export async function openPage(url, context = null) {
  const page = await (context || await newContext()).newPage();
  const consoleErrors = [];
  const consoleLines = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('console', (m) => consoleLines.push(m.text()));
  page.response = await page.goto(url);
  try {
    await page.waitForSelector('body[data-ready=yes]', { state: 'attached', timeout: 30000 });
  } catch (e) {
    throw new Error(`the page did not load: ${await page.textContent('#loading')}; console: ${consoleLines.concat(consoleErrors).join(' | ')}`);
  }
  page.consoleErrors = consoleErrors;
  page.consoleLines = consoleLines;
  await page.click('#advanced summary');  // the CA field lives under "Advanced", as a person would open it
  return page;
}

// Fills fields by data-testid ({security: 'tls', server: 'localhost', ...}).
export async function fill(page, values) {
  if (values.security) await page.selectOption('[data-testid=security]', values.security);
  for (const [id, v] of Object.entries(values)) if (id !== 'security') await page.fill(`[data-testid=${id}]`, String(v));
}

// Clicks a button and returns the id of the run it started (the page sets data-run-id at once).
export async function startRun(page, button) {
  const previous = await page.getAttribute('body', 'data-run-id');
  await page.click(`[data-testid=${button}]`);
  await page.waitForFunction((p) => document.body.dataset.runId !== undefined && document.body.dataset.runId !== p, previous, { timeout: 10000 });
  return page.getAttribute('body', 'data-run-id');
}

// Waits for the end of run `id`, never an earlier run's result: {ok}.
export async function waitForRun(page, id, timeout = 60000) {
  await page.waitForFunction((i) => document.body.dataset.finishedRun === i, id, { timeout });
  return { ok: (await page.getAttribute('body', 'data-finished')) === 'ok' };
}

// Clicks a button and waits for the run it started to end: {ok, ms}.
export async function press(page, button) {
  const started = Date.now();
  const id = await startRun(page, button);
  const { ok } = await waitForRun(page, id);
  return { ok, ms: Date.now() - started };
}

// Runs `scenarios` ({name: async function}) one after another, those named in `only` when it is
// not empty, printing PASS or FAIL for each. Returns {ran, failures}.
export async function runScenarios(scenarios, only = []) {
  let ran = 0;
  let failures = 0;
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only.length && !only.includes(name)) continue;
    ++ran;
    try {
      await scenario();
      console.log(`PASS ${name}`);
    } catch (e) {
      ++failures;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
  return { ran, failures };
}
