// One process serves the page and relays (issue 18): smtpc-proxy --web build/wasm/web, with no
// --allow-origin and no settings.json, loads in Chromium with its headers (the page's CSP with
// frame-ancestors, nosniff, application/wasm), and the page's default relay (its own origin,
// /smtp) carries a STARTTLS + AUTH test against the sandbox. A reload revalidates (304s).
//
//   node tests/e2e/web_serve.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy
// Every server it starts binds port 0 on loopback and is stopped when it ends.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fill, launchChromium, newContext, openPage, option as arg, press, root, runScenarios, startSandbox, stop } from './harness.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
for (const f of [path.join(webDir, 'smtpc.wasm'), path.join(webDir, 'index.html'), proxyBin]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does)`); process.exit(2); }
}

const USER = 'demo';
const PASSWORD = 'Web-Serve-Secret-7731';

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

// smtpc-proxy --web: resolves with the page's address from its "page at URL" line.
function startServingProxy(args) {
  const child = spawn(proxyBin, ['--listen', '127.0.0.1:0', '--web', webDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const stopChild = () => { try { child.kill('SIGTERM'); } catch (e) { /* gone */ } };
  process.on('exit', stopChild);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`smtpc-proxy did not start: ${stderr}`)), 20000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^page at (\S+)$/.exec(line);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop: stopChild, log: () => stderr }); }
    });
    child.once('exit', (code) => reject(new Error(`smtpc-proxy exited (${code}): ${stderr}`)));
  });
}

async function main() {
  const sandbox = await startSandbox(['--user', `${USER}:${PASSWORD}`]);
  const proxy = await startServingProxy(['--allow-private', `localhost:${sandbox.starttls}`]);
  await launchChromium();
  console.log(`web_serve: page and relay at ${proxy.url}, sandbox STARTTLS on localhost:${sandbox.starttls}`);
  const caPem = fs.readFileSync(sandbox.ca_file, 'utf8');

  const scenarios = {
    async pageAndDefaultRelayFromOneProcess() {
      const context = await newContext();
      const responses = [];
      context.on('response', (r) => responses.push(r));
      const page = await openPage(proxy.url, context);
      const headers = page.response.headers();
      check(page.response.status() === 200, `the page: HTTP ${page.response.status()}`);
      check((headers['content-security-policy'] || '').includes("frame-ancestors 'none'"), `CSP header: ${headers['content-security-policy']}`);
      check((headers['content-security-policy'] || '').includes("'wasm-unsafe-eval'"), 'the CSP lets the page compile its module');
      check(headers['x-content-type-options'] === 'nosniff', 'nosniff');
      check(headers['referrer-policy'] === 'no-referrer', 'no-referrer');
      check(headers['cross-origin-opener-policy'] === 'same-origin', 'COOP');
      const wasm = responses.find((r) => r.url().endsWith('/smtpc.wasm'));
      check(wasm && wasm.headers()['content-type'] === 'application/wasm', `smtpc.wasm's type: ${wasm && wasm.headers()['content-type']}`);
      // The default relay: this page's own origin.
      const relay = await page.inputValue('[data-testid=proxy]');
      check(relay === proxy.url.replace(/^http/, 'ws').replace(/\/$/, ''), `the default relay is ${relay}`);
      await fill(page, { server: 'localhost', port: sandbox.starttls, security: 'starttls', username: USER, password: PASSWORD, caPem });
      const r = await press(page, 'testButton');
      check(r.ok, `the test through the default relay: ${await page.textContent('[data-testid=summary]').catch(() => '?')}`);
      check(page.consoleErrors.length === 0, `page errors: ${page.consoleErrors.join(' | ')}`);
      check(!page.consoleLines.some((l) => /Content.Security.Policy|Refused to/i.test(l)), `CSP violations: ${page.consoleLines.join(' | ')}`);
      check(proxy.log().includes(`destination localhost:${sandbox.starttls}`), `the relay logged the session: ${proxy.log()}`);
      // A reload asks again and is told nothing changed.
      responses.length = 0;
      await page.reload();
      await page.waitForSelector('body[data-ready=yes]', { state: 'attached', timeout: 30000 });
      const statuses = responses.filter((r) => r.url().startsWith(proxy.url)).map((r) => r.status());
      check(statuses.includes(304), `a reload revalidates: ${statuses.join(',')}`);
      await context.close();
    },
  };
  const result = await runScenarios(scenarios);
  proxy.stop();
  return result;
}

main()
  .then(async ({ ran, failures }) => { await stop(); console.log(`${ran - failures}/${ran} passed`); process.exit(failures ? 1 : 0); })
  .catch(async (e) => { console.error(e); await stop(); process.exit(1); });
