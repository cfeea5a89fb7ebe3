// What the browser tests and the page benchmark start around the page: the aiosmtpd sandbox, TCP
// taps that record every byte, a static server for build/wasm/web, smtpc-proxy, and Chromium.
// Every server binds port 0 on loopback; stop() ends them all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
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

// Serves `dir`, plus `extra` {name: file}. Returns the port.
export function staticServer(dir, extra = {}) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.pem': 'text/plain' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const name = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = extra[name] || path.join(dir, path.basename(name));
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// smtpc-proxy for pages from `origin`, to the `allowPrivate` HOST:PORTs. Returns its port.
export async function startProxy(binary, origin, allowPrivate) {
  const args = ['--listen', '127.0.0.1:0', '--allow-origin', origin];
  for (const a of allowPrivate) args.push('--allow-private', a);
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const listening = await firstLine(child, 'smtpc-proxy');
  return Number(listening.split(':').pop());
}

// Debian's Chromium, headless, as root: the flags the machine notes ask for.
export async function launchChromium() {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

// A page of the app, loaded and ready; `page.consoleErrors` collects its errors.
export async function openPage(url) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const page = await context.newPage();
  const consoleErrors = [];
  const consoleLines = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('console', (m) => consoleLines.push(m.text()));
  await page.goto(url);
  try {
    await page.waitForSelector('body[data-ready=yes]', { state: 'attached', timeout: 30000 });
  } catch (e) {
    throw new Error(`the page did not load: ${await page.textContent('#loading')}; console: ${consoleLines.concat(consoleErrors).join(' | ')}`);
  }
  page.consoleErrors = consoleErrors;
  await page.click('#advanced summary');  // the CA field lives under "Advanced", as a person would open it
  return page;
}

// Fills fields by data-testid ({security: 'tls', server: 'localhost', ...}).
export async function fill(page, values) {
  if (values.security) await page.selectOption('[data-testid=security]', values.security);
  for (const [id, v] of Object.entries(values)) if (id !== 'security') await page.fill(`[data-testid=${id}]`, String(v));
}

// Clicks a button and waits for the run to end: {ok, ms}.
export async function press(page, button) {
  const started = Date.now();
  await page.click(`[data-testid=${button}]`);
  await page.waitForSelector('body[data-finished]', { state: 'attached', timeout: 60000 });
  return { ok: (await page.getAttribute('body', 'data-finished')) === 'ok', ms: Date.now() - started };
}
