// Scaled out (issue 18): three smtpc-proxy relays behind HAProxy with deploy/haproxy/haproxy.cfg
// itself (its ports, certificate and log target moved; every other line as written), the page
// loaded through HAProxy over https:// from a relay's --web and driven in Chromium against the
// sandbox. Checks: Test and Send work several times and the sessions spread over the relays; the
// per-client limit holds across relays (the 5th concurrent /smtp of one client is refused by
// HAProxy while no relay is at its own limit); a relay stopped (SIGTERM) mid-session ends the
// page's run with the page's plain words for it, and new sessions go to the two others; and
// between the relays and the server a TCP tap sees nothing but TLS records after STARTTLS's 220
// (no AUTH, no form of the password in clear).
//
//   node tests/e2e/haproxy.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy [--only NAME[,NAME...]]
// HAProxy (Debian haproxy), the relays and the sandbox bind free loopback ports and are stopped here.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fill, launchChromium, openPage, option as arg, press, root, runScenarios, spkiHash, startRun, startSandbox, stop, tap,
  waitForRun } from './harness.mjs';
import { findSecret } from './secret_leaks.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const haproxyBin = arg('haproxy', '/usr/sbin/haproxy');
const only = arg('only', '').split(',').filter(Boolean);
const example = path.join(root, 'deploy/haproxy/haproxy.cfg');
for (const f of [path.join(webDir, 'smtpc.wasm'), proxyBin, haproxyBin, example]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does; haproxy: scripts/setup)`); process.exit(2); }
}

const USER = 'demo';
const PASSWORD = 'haproxy-Secret-Pa55';
const PER_CLIENT = 4;  // the example's "sc0_conn_cur gt 4"

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const mine = [];  // processes this file starts itself (the harness stops its own)
let scratch = null;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// One relay as the example's comment starts it: its page, its metrics, HAProxy's X-Forwarded-For,
// and 2 s of draining after SIGTERM (503 on /healthz while it still relays) before it closes.
// {port, metrics, child, log (its stderr so far), sessions() (logged sessions)}.
async function startRelay(origin, destinations) {
  const args = ['--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--web', webDir, '--trust-forwarded-for', '127.0.0.1',
    '--allow-origin', origin, '--max-per-client', String(PER_CLIENT), '--shutdown-delay', '2'];
  for (const d of destinations) args.push('--allow-private', d);
  const child = spawn(proxyBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  mine.push(child);
  const relay = { child, log: '' };
  child.stderr.on('data', (d) => { relay.log += d; });
  relay.sessions = () => relay.log.split('\n').filter((l) => / destination localhost:\d+ up \d+/.test(l));
  const lines = readline.createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('smtpc-proxy did not start: ' + relay.log)), 20000);
    lines.on('line', (line) => {
      const m = /^(listening|metrics) on \S+:(\d+)$/.exec(line);
      if (m) relay[m[1] === 'listening' ? 'port' : 'metrics'] = Number(m[2]);
      if (relay.port && relay.metrics) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => reject(new Error(`smtpc-proxy exited (${code}): ${relay.log}`)));
  });
  return relay;
}

async function gauge(relay, name) {
  const text = await (await fetch(`http://127.0.0.1:${relay.metrics}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

// deploy/haproxy/haproxy.cfg with only what a test must change; each replacement must match as
// often as said, so the example and this test cannot drift apart silently.
function templated(relays, port, pem) {
  let text = fs.readFileSync(example, 'utf8');
  const replace = (pattern, by, count) => {
    let n = 0;
    text = text.replace(pattern, (...m) => { ++n; return typeof by === 'function' ? by(...m) : by; });
    if (n !== count) throw new Error(`${example}: expected ${count} match(es) of ${pattern}, found ${n}`);
  };
  replace(/^ {4}log \/dev\/log local0$/m, '    log stderr format raw local0', 1);
  replace(/^ {4}(chroot|user|group) .*\n/gm, '', 3);  // the test runs it as it is, without a chroot
  replace(/^ {4}maxconn 50000$/m, '    maxconn 2000', 1);  // a test machine's descriptor limit may be below 2 x 50,000
  replace(/^ {4}bind :443 ssl crt \S+/m, `    bind 127.0.0.1:${port} ssl crt ${pem}`, 1);
  replace(/^ {4}server relay(\d) 127\.0\.0\.1:\d+ check port \d+$/gm,
    (line, n) => `    server relay${n} 127.0.0.1:${relays[n - 1].port} check port ${relays[n - 1].metrics}`, 3);
  replace(/sc0_conn_cur gt (\d+)/g, (m, n) => { check(Number(n) === PER_CLIENT, `the example's limit is ${PER_CLIENT}`); return m; }, 1);
  return text;
}

// A WebSocket upgrade to HAProxy's /smtp from this process (Node's own TLS client), held open:
// {status, socket} (status 101 when a relay took it).
function openSmtp(port, origin, target) {
  return new Promise((resolve, reject) => {
    const request = https.request({ host: '127.0.0.1', port, path: `/smtp?host=localhost&port=${target}`, rejectUnauthorized: false,
      agent: false, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), Origin: origin } });
    request.on('upgrade', (res, socket) => { socket.on('error', () => {}); resolve({ status: res.statusCode, socket }); });
    request.on('response', (res) => { res.resume(); resolve({ status: res.statusCode, socket: null }); });
    request.on('error', reject);
    request.end();
  });
}

// What crossed the tap after STARTTLS's 220 (server to client) must be TLS records only; before
// it, no AUTH and no form of the password.
function checkTlsAfterStartTls(timeline, what) {
  const at = timeline.findIndex((c, i) => !c.up && /^220 /m.test(c.bytes.toString('latin1')) &&
    timeline.slice(0, i).some((u) => u.up && u.bytes.toString('latin1').includes('STARTTLS\r\n')));
  check(at >= 0, `${what}: a STARTTLS / 220 exchange`);
  const before = Buffer.concat(timeline.slice(0, at + 1).map((c) => c.bytes));
  const up = Buffer.concat(timeline.slice(at + 1).filter((c) => c.up).map((c) => c.bytes));
  const down = Buffer.concat(timeline.slice(at + 1).filter((c) => !c.up).map((c) => c.bytes));
  check(!/^AUTH\b/im.test(before.toString('latin1')) && !findSecret(before, PASSWORD), `${what}: no login before TLS`);
  // Each direction parses as TLS records: type 20-23, version 3.x, a length, back to back.
  for (const [name, bytes] of [['up', up], ['down', down]]) {
    check(bytes.length > 0, `${what}: bytes ${name} after STARTTLS`);
    for (let i = 0; i < bytes.length;) {
      check(i + 5 <= bytes.length && bytes[i] >= 20 && bytes[i] <= 23 && bytes[i + 1] === 3,
        `${what}: a TLS record ${name} at byte ${i}: ${bytes.subarray(i, i + 16).toString('latin1')}`);
      i += 5 + bytes.readUInt16BE(i + 3);
    }
    for (const clear of ['AUTH', 'EHLO', 'MAIL FROM', USER]) check(!bytes.toString('latin1').includes(clear), `${what}: "${clear}" in clear`);
    check(!findSecret(bytes, PASSWORD), `${what}: the password in clear`);
  }
}

let failures = 0;
let ran = 0;

async function main() {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'smtpc-haproxy-'));
  const user = ['--user', `${USER}:${PASSWORD}`];
  const sandbox = await startSandbox(user);
  const slow = await startSandbox(['--slow', '4', ...user]);  // 4 s before every reply: a session held open
  const wire = await tap(sandbox.starttls);
  const port = await freePort();
  const origin = `https://127.0.0.1:${port}`;
  const relays = [];
  for (let i = 0; i < 3; ++i) relays.push(await startRelay(origin, [`localhost:${wire.port}`, `localhost:${slow.starttls}`]));

  // A throwaway certificate for HAProxy (certificate and key in one PEM, as HAProxy takes them).
  const pem = path.join(scratch, 'haproxy.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
    '-days', '1', '-keyout', path.join(scratch, 'key.pem'), '-out', path.join(scratch, 'cert.pem')], { stdio: 'ignore' });
  fs.writeFileSync(pem, fs.readFileSync(path.join(scratch, 'cert.pem')) + fs.readFileSync(path.join(scratch, 'key.pem')));
  const config = path.join(scratch, 'haproxy.cfg');
  fs.writeFileSync(config, templated(relays, port, pem));
  execFileSync(haproxyBin, ['-c', '-q', '-f', config]);
  const haproxy = spawn(haproxyBin, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  mine.push(haproxy);
  let haproxyLog = '';
  haproxy.stderr.on('data', (d) => { haproxyLog += d; });
  haproxy.once('exit', (code) => { haproxyLog += `\n(haproxy exited: ${code})`; });
  // Up once the page loads through it; then every relay's health checks have passed (rise 2, inter 1 s).
  for (let i = 0; ; ++i) {
    const status = await new Promise((resolve) => https.get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, agent: false },
      (res) => { res.resume(); resolve(res.statusCode); }).on('error', () => resolve(0)));
    if (status === 200) break;
    if (i > 100) throw new Error('HAProxy did not start: ' + haproxyLog);
    await sleep(100);
  }
  await sleep(2500);
  console.log(`haproxy on ${origin} -> relays ${relays.map((r) => `${r.port} (metrics ${r.metrics})`).join(', ')}; sandbox via tap ${wire.port}`);
  await launchChromium([await spkiHash(port)]);

  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  const form = (target, extra = {}) => ({ server: 'localhost', port: target, security: 'starttls', username: USER, password: PASSWORD,
    caPem: fs.readFileSync(sandbox.ca_file, 'utf8'), ...extra });
  const sessions = () => relays.map((r) => r.sessions().length);

  const scenarios = {
    async testAndSendThroughHaproxy() {
      // The page from a relay's --web through HAProxy; its default relay is its own origin (HAProxy).
      const page = await openPage(`${origin}/`);
      check(await page.inputValue('[data-testid=proxy]') === `wss://127.0.0.1:${port}`, 'the page\'s own origin is its relay');
      await fill(page, form(wire.port));
      for (let i = 0; i < 4; ++i) {
        const r = await press(page, 'testButton');
        check(r.ok, `Test ${i + 1}: ${await text(page, 'status')} / ${await text(page, 'explanation')}`);
      }
      await page.click('#tabButtonMessage');
      const subject = `Through HAProxy ${Date.now()}`;
      await fill(page, { from: 'ada@example.org', to: 'one@example.net', subject, body: 'Scaled out' });
      for (let i = 0; i < 2; ++i) {
        const r = await press(page, 'sendButton');
        check(r.ok, `Send ${i + 1}: ${await text(page, 'status')} / ${await text(page, 'explanation')}`);
      }
      const arrived = fs.readdirSync(sandbox.maildir).filter((f) => fs.readFileSync(path.join(sandbox.maildir, f), 'latin1').includes(subject));
      check(arrived.length === 2, `both messages arrived (${arrived.length})`);
      await sleep(300);  // the relays log a session when it has closed
      const spread = sessions();
      check(spread.reduce((a, b) => a + b, 0) >= 6 && spread.filter((n) => n > 0).length >= 2,
        `six sessions, over more than one relay: ${spread}`);
      console.log(`  sessions per relay: ${spread.join(' ')}`);
      check(page.consoleErrors.length === 0, 'no page errors: ' + page.consoleErrors.join('; '));
    },

    async perClientLimitAcrossRelays() {
      // PER_CLIENT sessions from one client are taken, spread so that no relay holds more than
      // its share (each relay's own --max-per-client is PER_CLIENT too: none is at it); the next
      // one is refused by HAProxy's table; once one ends, a new one is taken again.
      const open = [];
      for (let i = 0; i < PER_CLIENT; ++i) open.push(await openSmtp(port, origin, wire.port));
      check(open.every((o) => o.status === 101), `the first ${PER_CLIENT} are relayed: ${open.map((o) => o.status)}`);
      await sleep(200);
      const held = await Promise.all(relays.map((r) => gauge(r, 'smtpc_proxy_connections')));
      check(held.reduce((a, b) => a + b, 0) === PER_CLIENT && held.every((n) => n < PER_CLIENT),
        `spread over the relays, each under its own limit: ${held}`);
      const over = await openSmtp(port, origin, wire.port);
      check(over.status === 429, `the ${PER_CLIENT + 1}th concurrent session is refused across relays: ${over.status}`);
      open.pop().socket.destroy();
      await sleep(300);
      const again = await openSmtp(port, origin, wire.port);
      check(again.status === 101, `taken again once one ended: ${again.status}`);
      for (const o of [...open, again]) o.socket.destroy();
      await sleep(300);
    },

    async relayStoppedMidSession() {
      // A session held open (the slow sandbox waits 4 s before its greeting); the relay holding
      // it is stopped as systemd stops it (SIGTERM): the page's run ends in the page's plain words.
      const page = await openPage(`${origin}/`);
      await fill(page, form(slow.starttls, { caPem: fs.readFileSync(slow.ca_file, 'utf8') }));
      const id = await startRun(page, 'testButton');
      let holder = null;
      for (let i = 0; i < 50 && !holder; ++i) {
        const held = await Promise.all(relays.map((r) => gauge(r, 'smtpc_proxy_connections')));
        holder = relays[held.findIndex((n) => n > 0)] || null;
        if (!holder) await sleep(50);
      }
      check(holder, 'a relay holds the session');
      holder.child.kill('SIGTERM');
      const { ok } = await waitForRun(page, id, 20000);
      const words = `${await text(page, 'status')} ${await text(page, 'explanation')}`;
      check(!ok && words.includes('The proxy is shutting down'), `the page says the relay is shutting down: ${words}`);
      const code = await new Promise((resolve) => holder.child.exitCode !== null ? resolve(holder.child.exitCode) : holder.child.once('exit', resolve));
      check(code === 0, `the stopped relay exited cleanly (${code})`);
      check(/close 1001/.test(holder.log), 'the relay closed the session with 1001: ' + holder.log);
      // New sessions go to the two others, at once (HAProxy retries a refused connection elsewhere).
      const others = relays.filter((r) => r !== holder);
      const before = others.map((r) => r.sessions().length);
      await fill(page, form(wire.port));
      for (let i = 0; i < 4; ++i) {
        const r = await press(page, 'testButton');
        check(r.ok, `Test ${i + 1} after the stop: ${await text(page, 'status')} / ${await text(page, 'explanation')}`);
      }
      await sleep(300);
      const after = others.map((r) => r.sessions().length);
      check(after[0] + after[1] - before[0] - before[1] === 4, `the four went to the two others: ${before} -> ${after}`);
      console.log(`  after the stop: ${before.join(' ')} -> ${after.join(' ')} on the two others`);
    },

    async nothingInClearAfterStartTls() {
      // Every session the relays made to the sandbox (the page's, through each relay), byte for byte.
      const made = wire.connections.filter((t) => t.some((c) => c.up && c.bytes.toString('latin1').includes('STARTTLS\r\n')));
      check(made.length >= 10, `the page's sessions crossed the tap (${made.length})`);
      made.forEach((timeline, i) => checkTlsAfterStartTls(timeline, `session ${i + 1}`));
      const logs = relays.map((r) => r.log).join('\n') + haproxyLog;
      check(!findSecret(logs, PASSWORD) && !/\bAUTH\b|EHLO/.test(logs), 'no payload in the relays\' or HAProxy\'s logs');
    },
  };
  ({ ran, failures } = await runScenarios(scenarios, only));
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    for (const child of mine) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    console.log(`${ran - failures}/${ran} HAProxy scenarios passed`);
    process.exit(failures || ran === 0 ? 1 : 0);
  });
