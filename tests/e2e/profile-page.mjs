// Where the page's press -> AUTH time goes: presses Test (STARTTLS + AUTH PLAIN against the
// sandbox, through smtpc-proxy) RUNS times under Chromium's sampling profiler (CDP Profiler, 50 us)
// and prints each function's self and inclusive time per run, after the last run's transcript.
// Wasm functions have names only in a module linked with --profiling-funcs, e.g. relink
// build/wasm's objects with it into another folder and give that as --web.
//   node tests/e2e/profile-page.mjs [--web DIR] [--proxy BIN] [--runs N] [--top N]
//        [--sandbox-args "--key-type rsa-2048"] [--save FILE.cpuprofile]
import fs from 'node:fs';
import path from 'node:path';
import { fill, launchChromium, openPage, option, press, root, startProxy, startSandbox, staticServer, stop } from './harness.mjs';

const webDir = path.resolve(option('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(option('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const runs = Number(option('runs', 20));
const sandboxArgs = (option('sandbox-args', '') || '').split(' ').filter(Boolean);
const top = Number(option('top', 40));
try {
  const sandbox = await startSandbox(sandboxArgs);
  const caPem = fs.readFileSync(sandbox.ca_file, 'utf8');
  const served = {};
  const web = await staticServer(webDir, served);
  const origin = `http://127.0.0.1:${web}`;
  const proxyPort = await startProxy(proxyBin, origin, [`localhost:${sandbox.starttls}`]);
  served['settings.json'] = { body: JSON.stringify({ relay: `ws://127.0.0.1:${proxyPort}` }) };
  await launchChromium();
  const page = await openPage(`${origin}/`);
  await fill(page, { server: 'localhost', port: sandbox.starttls, security: 'starttls', username: 'demo', password: 'demo', caPem });
  for (let i = 0; i < 3; ++i) await press(page, 'testButton');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  const auths = [];
  for (let i = 0; i < runs; ++i) {
    const r = await press(page, 'testButton');
    if (!r.ok) throw new Error('failed');
    const lines = await page.$$eval('[data-testid=transcript] > div', (ls) => ls.map((l) => l.textContent));
    auths.push(Number(lines.find((l) => l.includes('=== Logged in')).trim().split(' ')[0]) * 1000);
    if (i === runs - 1) console.log(lines.map((l) => l.slice(0, 110)).join('\n'));
  }
  const { profile } = await cdp.send('Profiler.stop');
  auths.sort((a, b) => a - b);
  console.log(`to AUTH median ${auths[Math.floor(auths.length / 2)]} ms over ${runs}: ${auths.join(' ')}`);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const self = new Map(), incl = new Map();
  const name = (n) => n.callFrame.functionName || `(anon ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber})`;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const n = byId.get(id);
    total += dt;
    self.set(name(n), (self.get(name(n)) || 0) + dt);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const nm = name(byId.get(x));
      if (seen.has(nm)) continue;
      seen.add(nm);
      incl.set(nm, (incl.get(nm) || 0) + dt);
    }
  });
  const show = (m, title) => {
    console.log(`\n${title} (ms per run)`);
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, v]) => console.log(`${(v / runs).toFixed(2).padStart(8)}  ${k}`));
  };
  console.log(`profiled ${total.toFixed(0)} ms total`);
  show(self, 'self');
  show(incl, 'inclusive');
  const save = option('save', '');
  if (save) fs.writeFileSync(save, JSON.stringify(profile));  // opens in Chromium's DevTools (Performance)
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await stop();
}
