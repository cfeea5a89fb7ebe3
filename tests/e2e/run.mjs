// The page in a real browser: Debian's Chromium, driven by playwright-core, talking through
// smtpc-proxy to the aiosmtpd sandbox. Between the proxy and the server sits a TCP tap (this
// file) that records every byte, so the test can assert what the proxy could see: after the
// STARTTLS 220 (or from the first byte with implicit TLS) nothing is plaintext.
//
//   node tests/e2e/run.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy \
//        [--shots DIR] [--only NAME]
// Every server it starts binds port 0 on loopback and is stopped when it ends.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fill, launchChromium, openPage as open, option as arg, press, root, startProxy, startSandbox, staticServer, stop, tap } from './harness.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const shots = path.resolve(arg('shots', path.join(root, 'build/wasm/screenshots')));
const only = arg('only', '');
for (const f of [path.join(webDir, 'smtpc.wasm'), proxyBin]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does)`); process.exit(2); }
}

// What the proxy relayed after TLS began: after the server's 220 to STARTTLS, or everything
// with implicit TLS. Returns {before, after} as Buffers (both directions, in order).
function splitAtTls(timeline, implicit) {
  if (implicit) return { before: Buffer.alloc(0), after: Buffer.concat(timeline.map((c) => c.bytes)) };
  let seenStartTls = false;
  for (let i = 0; i < timeline.length; ++i) {
    const c = timeline[i];
    if (c.up && c.bytes.toString('latin1').includes('STARTTLS\r\n')) seenStartTls = true;
    if (seenStartTls && !c.up && /^220 /m.test(c.bytes.toString('latin1'))) {
      return { before: Buffer.concat(timeline.slice(0, i + 1).map((x) => x.bytes)),
        after: Buffer.concat(timeline.slice(i + 1).map((x) => x.bytes)) };
    }
  }
  throw new Error('no STARTTLS / 220 exchange on the wire');
}

let failures = 0;
let ran = 0;
function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

async function main() {
  const sandbox = await startSandbox();
  const caPem = fs.readFileSync(sandbox.ca_file, 'utf8');
  const starttlsTap = await tap(sandbox.starttls);
  const tlsTap = await tap(sandbox.tls);
  const web = await staticServer(webDir, { 'sandbox-ca.pem': sandbox.ca_file });
  const origin = `http://127.0.0.1:${web}`;
  const slow = await startSandbox(['--slow', '5']);  // 5 s before every reply: time to press Cancel
  const mutual = await startSandbox(['--require-client-cert']);  // mutual TLS: wants a client certificate
  const proxyPort = await startProxy(proxyBin, origin, [`localhost:${starttlsTap.port}`, `localhost:${tlsTap.port}`,
    `localhost:${slow.starttls}`, `localhost:${mutual.starttls}`]);
  const pageUrl = `${origin}/?proxy=ws://127.0.0.1:${proxyPort}`;
  console.log(`page ${pageUrl}; sandbox STARTTLS ${sandbox.starttls} via tap ${starttlsTap.port}, TLS ${sandbox.tls} via tap ${tlsTap.port}`);

  await launchChromium();
  fs.mkdirSync(shots, { recursive: true });
  const openPage = () => open(pageUrl);
  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  const steps = (page) => page.$$eval('[data-testid=steps] li', (lis) => lis.map((li) => `${li.dataset.step}:${li.dataset.status}`).join(' '));
  const sandboxForm = (port, extra = {}) => ({ server: 'localhost', port, security: 'starttls', username: 'demo', password: 'demo', caPem, ...extra });

  const scenarios = {
    async starttlsAuthPlain() {
      const page = await openPage();
      const before = starttlsTap.connections.length;
      await fill(page, sandboxForm(starttlsTap.port));
      await page.selectOption('[data-testid=auth]', 'PLAIN');
      const r = await press(page, 'testButton');
      const status = await text(page, 'status');
      check(r.ok, 'the test succeeds: ' + status + ' / ' + (await text(page, 'explanation')));
      check(status.includes('The setup works'), status);
      check(await steps(page) === 'Connect:done Greeting:done Ehlo:done StartTls:done TlsHandshake:done EhloAgain:done Auth:done Quit:done', await steps(page));
      const transcript = await text(page, 'transcript');
      check(transcript.includes('~> AUTH PLAIN ********'), 'AUTH masked in the transcript');
      check(!transcript.includes('AGRlbW8AZGVtbw'), 'no credentials in the transcript');
      const tls = await text(page, 'tls');
      check(tls.includes('verified') && tls.includes('CN=localhost') && tls.includes('sha256//') && /TLSv1\.[23]/.test(tls), tls);
      check((await text(page, 'capabilities')).includes('AUTH'), 'capabilities shown');
      // What the proxy relayed: after the STARTTLS 220, ciphertext only.
      check(starttlsTap.connections.length === before + 1, 'one connection through the tap');
      const { before: clear, after } = splitAtTls(starttlsTap.connections[before], false);
      check(clear.toString('latin1').includes('EHLO'), 'EHLO in clear before STARTTLS (as it must be)');
      const wire = after.toString('latin1');
      check(after.length > 1000 && after[0] === 0x16, 'TLS records after the 220 (ClientHello first)');
      for (const secret of ['AUTH', 'PLAIN', 'AGRlbW8AZGVtbw', 'demo', 'EHLO', '235 ', '221 ', 'QUIT']) {
        check(!wire.includes(secret), `"${secret}" must not cross the proxy after STARTTLS`);
      }
      // Press Test to AUTH done, from the page's transcript clock.
      const times = await page.$$eval('[data-testid=transcript] > div', (lines) => lines.map((l) => l.textContent));
      const authLine = times.find((l) => l.includes('=== Logged in'));
      if (process.env.SMTPC_E2E_VERBOSE) console.log(times.join('\n'));
      console.log(`  press → finished ${r.ms} ms; connect → AUTH done ${authLine ? authLine.trim().split(' ')[0] : '?'} s (page transcript)`);
      await page.screenshot({ path: path.join(shots, 'page-success.png'), fullPage: true });
      check(page.consoleErrors.length === 0, 'no page errors: ' + page.consoleErrors.join('; '));
    },

    async wrongPassword() {
      const page = await openPage();
      await fill(page, sandboxForm(starttlsTap.port, { password: 'not-the-password' }));
      const r = await press(page, 'testButton');
      check(!r.ok, 'refused');
      check((await text(page, 'status')).includes('Login refused'), await text(page, 'status'));
      check((await steps(page)).includes('Auth:failed'), await steps(page));
      check((await text(page, 'explanation')).includes('535'), 'the server reply is shown');
      check(!(await text(page, 'transcript')).includes('not-the-password'), 'the password is not shown');
      await page.screenshot({ path: path.join(shots, 'page-wrong-password.png'), fullPage: true });
    },

    async untrustedCertificate() {
      const page = await openPage();
      await fill(page, sandboxForm(starttlsTap.port, { caPem: '' }));
      const r = await press(page, 'testButton');
      check(!r.ok, 'refused');
      const status = await text(page, 'status');
      check(status.includes('certificate is not trusted'), status);
      check((await steps(page)).includes('TlsHandshake:failed'), await steps(page));
      const explanation = await text(page, 'explanation');
      check(explanation.includes('CA bundle does not'), explanation);
      check(!(await text(page, 'transcript')).includes('AUTH'), 'no AUTH after a refused certificate');
      await page.screenshot({ path: path.join(shots, 'page-untrusted.png'), fullPage: true });
    },

    async clientCertificate() {
      // A server that demands a client certificate: without one the page says so (TLS 1.3 hangs
      // up after the handshake, which looks like a dropped connection); with the certificate and
      // key from the server's CA (file inputs, as a person would pick them) the login works.
      const page = await openPage();
      await fill(page, sandboxForm(mutual.starttls, { caPem: fs.readFileSync(mutual.ca_file, 'utf8') }));
      let r = await press(page, 'testButton');
      check(!r.ok, 'refused without a client certificate');
      check((await text(page, 'status')).includes('wants a client certificate'), await text(page, 'status'));
      check((await steps(page)).includes('TlsHandshake:failed EhloAgain:pending'), await steps(page));
      await page.setInputFiles('[data-testid=clientCert]', mutual.client_cert);
      await page.setInputFiles('[data-testid=clientKey]', mutual.client_key);
      r = await press(page, 'testButton');
      check(r.ok, 'accepted with the client certificate: ' + (await text(page, 'status')) + ' / ' + (await text(page, 'explanation')));
      check((await steps(page)).includes('Auth:done'), await steps(page));
      check(!(await text(page, 'transcript')).includes('PRIVATE KEY'), 'no key material in the transcript');
    },

    async destinationRefusedByProxy() {
      const page = await openPage();
      await fill(page, sandboxForm(sandbox.plain, { security: 'none', username: '', password: '' }));
      const r = await press(page, 'testButton');
      check(!r.ok, 'refused');
      const explanation = await text(page, 'explanation');
      check(explanation.includes('allowlist'), explanation);
      check((await steps(page)).startsWith('Connect:failed'), await steps(page));
    },

    async proxyNotRunning() {
      const page = await openPage();
      const closed = await new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
      await fill(page, { ...sandboxForm(starttlsTap.port), proxy: `ws://127.0.0.1:${closed}` });
      const r = await press(page, 'testButton');
      check(!r.ok, 'fails');
      check((await text(page, 'explanation')).includes('could not be reached'), await text(page, 'explanation'));
    },

    async implicitTls() {
      const page = await openPage();
      const before = tlsTap.connections.length;
      await fill(page, sandboxForm(tlsTap.port, { security: 'tls' }));
      const r = await press(page, 'testButton');
      check(r.ok, 'implicit TLS works: ' + (await text(page, 'status')));
      check(await steps(page) === 'Connect:done TlsHandshake:done Greeting:done Ehlo:done Auth:done Quit:done', await steps(page));
      const { after } = splitAtTls(tlsTap.connections[before], true);
      check(after[0] === 0x16, 'the first byte on the wire is a TLS handshake record');
      const wire = after.toString('latin1');
      for (const clear of ['220 ', 'EHLO', 'AUTH', 'demo']) check(!wire.includes(clear), `"${clear}" never in clear`);
    },

    async cancel() {
      const page = await openPage();
      await fill(page, sandboxForm(slow.starttls, { caPem: fs.readFileSync(slow.ca_file, 'utf8') }));
      await page.click('[data-testid=testButton]');
      await page.waitForSelector('[data-testid=cancelButton]:not([disabled])', { timeout: 10000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=transcript]').textContent.includes('waiting for the server'), null, { timeout: 10000 });
      await page.click('[data-testid=cancelButton]');
      await page.waitForSelector('body[data-finished]', { state: 'attached', timeout: 10000 });
      check(!(await text(page, 'transcript')).includes('<-  220'), 'cancelled before the slow greeting came');
      check((await text(page, 'status')).includes('Cancelled'), await text(page, 'status'));
      check((await steps(page)).includes('Greeting:failed'), await steps(page));
      check(await page.isEnabled('[data-testid=testButton]'), 'Test can be pressed again');
    },

    async sendMessage() {
      const page = await openPage();
      const before = starttlsTap.connections.length;
      const subject = `Page test ${Date.now()}`;
      await fill(page, sandboxForm(starttlsTap.port));
      await page.click('#tabButtonMessage');
      await fill(page, { from: 'Ada <ada@example.org>', to: 'one@example.net, "Two, Esq." <two@example.net>', subject, body: 'Secret body text\n.\nwith a dot line' });
      await page.setInputFiles('[data-testid=attachments]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('attached words') });
      const r = await press(page, 'sendButton');
      check(r.ok, 'sent: ' + (await text(page, 'status')) + ' ' + (await text(page, 'explanation')));
      check((await text(page, 'status')).includes('accepted'), await text(page, 'status'));
      const stored = fs.readdirSync(sandbox.maildir).map((f) => fs.readFileSync(path.join(sandbox.maildir, f), 'latin1')).find((m) => m.includes(subject));
      check(stored, 'the message arrived');
      check(stored.includes('"Two, Esq." <two@example.net>'), 'the quoted display name survives');
      // Dot-stuffed on the way, unstuffed by the server: the lone dot line is back as it was.
      check(stored.includes('Secret body text\r\n.\r\nwith a dot line'), 'a body line of a single dot');
      check(stored.includes('notes.txt'), 'the attachment arrived');
      const wire = splitAtTls(starttlsTap.connections[before], false).after.toString('latin1');
      for (const clear of ['MAIL FROM', 'RCPT TO', subject, 'Secret body', 'notes.txt']) check(!wire.includes(clear), `"${clear}" never in clear`);
    },
  };

  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && name !== only) continue;
    ++ran;
    try {
      await scenario();
      console.log(`PASS ${name}`);
    } catch (e) {
      ++failures;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    console.log(`${ran - failures}/${ran} browser scenarios passed; screenshots in ${shots}`);
    process.exit(failures || ran === 0 ? 1 : 0);
  });
