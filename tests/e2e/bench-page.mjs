// The page against the native CLI: connect + STARTTLS + AUTH PLAIN, stopping after AUTH, against
// the sandbox, RUNS times each (median). For the page: from pressing Test to "Logged in" (the
// page's own transcript clock, which starts at the press) and to the end of the run; for the CLI:
// the same span from its JSON transcript, and the whole process.
//   node tests/e2e/bench-page.mjs [--web DIR] [--proxy BIN] [--cli BIN] [--runs N] [--key-types ec-p256,rsa-2048]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fill, launchChromium, openPage, option, press, root, startProxy, startSandbox, staticServer, stop } from './harness.mjs';

const webDir = path.resolve(option('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(option('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const cli = path.resolve(option('cli', path.join(root, 'build/native/qtapp/cli/smtpc')));
const runs = Number(option('runs', 10));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Both kinds of chain real mail servers present: the sandbox's ECDSA P-256 CA and server key,
// and RSA-2048 ones (Let's Encrypt's RSA chains, most providers): their handshakes cost the page
// differently (ECDSA verification is P-256 arithmetic; RSA verification is cheap, RSA signing is
// the server's).
const keyTypes = option('key-types', 'ec-p256,rsa-2048').split(',');
const row = (name, auth, total, what) => console.log(`${name.padEnd(30)} ${auth.toFixed(0).padStart(8)} ms ${total.toFixed(0).padStart(10)} ms   ${what}`);

async function measure(keyType) {
  const sandbox = await startSandbox(['--key-type', keyType]);
  const caPem = fs.readFileSync(sandbox.ca_file, 'utf8');
  const served = {};
  const web = await staticServer(webDir, served);
  const origin = `http://127.0.0.1:${web}`;
  const proxyPort = await startProxy(proxyBin, origin, [`localhost:${sandbox.starttls}`]);
  served['settings.json'] = { body: JSON.stringify({ relay: `ws://127.0.0.1:${proxyPort}` }) };  // the page's relay, as scripts/demo says it
  await launchChromium();
  const page = await openPage(`${origin}/`);
  await fill(page, { server: 'localhost', port: sandbox.starttls, security: 'starttls', username: 'demo', password: 'demo', caPem });
  const pageAuth = [], pageTotal = [];
  for (let i = 0; i < runs + 1; ++i) {
    const r = await press(page, 'testButton');
    if (!r.ok) throw new Error('the page test failed: ' + (await page.textContent('[data-testid=status]')));
    const lines = await page.$$eval('[data-testid=transcript] > div', (ls) => ls.map((l) => l.textContent));
    const logged = lines.find((l) => l.includes('=== Logged in'));
    if (i === 0) continue;  // the first run warms the module and the browser's connection setup
    pageAuth.push(Number(logged.trim().split(' ')[0]) * 1000);
    pageTotal.push(r.ms);
  }
  const cliAuth = [], cliTotal = [];
  for (let i = 0; i < runs; ++i) {
    const started = process.hrtime.bigint();
    const out = execFileSync(cli, ['-s', `localhost:${sandbox.starttls}`, '--security', 'starttls', '-u', 'demo',
      '--password-env', 'SMTPC_BENCH_PW', '--ca-file', sandbox.ca_file, '--quit-after', 'auth', '--json'],
    { env: { ...process.env, SMTPC_BENCH_PW: 'demo' } });
    cliTotal.push(Number(process.hrtime.bigint() - started) / 1e6);
    const t = JSON.parse(out).transcript;
    const logged = t.find((e) => e.text.startsWith('Logged in'));
    cliAuth.push(logged.at_ms - t[0].at_ms);
  }
  await stop();
  const pageMs = median(pageAuth), cliMs = median(cliAuth);
  console.log(`connect + STARTTLS + AUTH PLAIN to the sandbox, ${keyType} CA and server key, median of ${runs}`);
  console.log(`${''.padEnd(30)} ${'to AUTH'.padStart(11)} ${'whole run'.padStart(13)}`);
  row('page (Chromium, via proxy)', pageMs, median(pageTotal), 'press Test → finished, as Playwright sees it');
  row('smtpc CLI (native)', cliMs, median(cliTotal), 'whole process');
  console.log(`page / native to AUTH: ${(pageMs / cliMs).toFixed(1)}x (goal: at most 2x)\n`);
}

try {
  for (const keyType of keyTypes) await measure(keyType);
} catch (e) {
  console.error('bench-page:', e);
  process.exitCode = 1;
} finally {
  await stop();
}
