// The page in a real browser: Debian's Chromium, driven by playwright-core, talking through
// smtpc-proxy to the aiosmtpd sandbox. Between the proxy and the server sits a TCP tap (this
// file) that records every byte, so the test can assert what the proxy could see: before TLS
// no AUTH and no form of the password; after the STARTTLS 220 (or from the first byte with
// implicit TLS) nothing is plaintext. The page gets its relay and the sandbox's CA from its own
// settings.json, as scripts/demo serves it; links, hostile relays and hostile servers of our
// own (harness.mjs) check that the address bar is input, never trust (DESIGN.md).
//
//   node tests/e2e/run.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy \
//        [--shots DIR] [--only NAME[,NAME...]]
// Every server it starts binds port 0 on loopback and is stopped when it ends.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fakeRelay, fill, launchChromium, newContext, openPage as open, option as arg, press, root, runScenarios, smtpPeer, spkiHash, startOAuthServer, startProxy, startRun,
  startSandbox, staticServer, stop, tap, waitForRun } from './harness.mjs';
import { discoveryScenarios } from './discovery.mjs';
import { findSecret } from './secret_leaks.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const shots = path.resolve(arg('shots', path.join(root, 'build/wasm/screenshots')));
const only = arg('only', '').split(',').filter(Boolean);
for (const f of [path.join(webDir, 'smtpc.wasm'), proxyBin]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does)`); process.exit(2); }
}

// The sandbox's user: a password of its own (the leak search needs 6 bytes or more, and one that
// differs from the user name). Never the password a hostile relay hopes for.
const USER = 'demo';
const PASSWORD = 'e2e-Secret-Pa55';

// What the proxy relayed after TLS began: after the server's 220 to STARTTLS, or everything
// with implicit TLS. Returns {before, after} as Buffers (both directions, in order), and fails
// when anything that logs in crossed before TLS: an AUTH command or any encoding of the password.
function splitAtTls(timeline, implicit) {
  const checked = (before, after) => {
    check(!/^AUTH\b/im.test(before.toString('latin1')), 'no AUTH command before TLS');
    const leak = findSecret(before, PASSWORD);
    check(!leak, `the password crossed before TLS (as "${leak}")`);
    return { before, after };
  };
  if (implicit) return checked(Buffer.alloc(0), Buffer.concat(timeline.map((c) => c.bytes)));
  let seenStartTls = false;
  for (let i = 0; i < timeline.length; ++i) {
    const c = timeline[i];
    if (c.up && c.bytes.toString('latin1').includes('STARTTLS\r\n')) seenStartTls = true;
    if (seenStartTls && !c.up && /^220 /m.test(c.bytes.toString('latin1'))) {
      return checked(Buffer.concat(timeline.slice(0, i + 1).map((x) => x.bytes)),
        Buffer.concat(timeline.slice(i + 1).map((x) => x.bytes)));
    }
  }
  checked(Buffer.concat(timeline.map((x) => x.bytes)), Buffer.alloc(0));
  throw new Error('no STARTTLS / 220 exchange on the wire');
}

let failures = 0;
let ran = 0;
let tokenDir = null;
function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

async function main() {
  const user = ['--user', `${USER}:${PASSWORD}`];
  const sandbox = await startSandbox(user);
  const caPem = fs.readFileSync(sandbox.ca_file, 'utf8');
  const starttlsTap = await tap(sandbox.starttls);
  const tlsTap = await tap(sandbox.tls);
  const served = { 'sandbox-ca.pem': sandbox.ca_file };
  const web = await staticServer(webDir, served);
  const origin = `http://127.0.0.1:${web}`;
  const slow = await startSandbox(['--slow', '5', ...user]);  // 5 s before every reply: time to press Cancel
  const mutual = await startSandbox(['--require-client-cert', ...user]);  // mutual TLS: wants a client certificate
  // OAuth: a sandbox that takes the tokens of a local authorization server (and one of those
  // that refuses consent, one that sends no CORS headers), all under the sandbox's CA.
  const oauthSandbox = await startSandbox(['--oauth', ...user]);
  const issuerArgs = ['--ca-cert', oauthSandbox.ca_file, '--ca-key', oauthSandbox.ca_key, '--token-key-file',
    oauthSandbox.oauth_key_file, '--user', USER];
  const issuer = await startOAuthServer(issuerArgs);
  const refusingIssuer = await startOAuthServer([...issuerArgs, '--refuse-consent']);
  const corslessIssuer = await startOAuthServer([...issuerArgs, '--no-cors']);
  const proxyPort = await startProxy(proxyBin, origin, [`localhost:${starttlsTap.port}`, `localhost:${tlsTap.port}`,
    `localhost:${slow.starttls}`, `localhost:${mutual.starttls}`, `localhost:${oauthSandbox.starttls}`]);
  const relayUrl = `ws://127.0.0.1:${proxyPort}`;
  // The page's own settings, as scripts/demo serves them: the relay and the sandbox with its CA.
  served['settings.json'] = { body: JSON.stringify({ relay: relayUrl, server: 'localhost', port: starttlsTap.port,
    security: 'starttls', user: USER, caFile: 'sandbox-ca.pem' }) };
  const pageUrl = `${origin}/`;
  // A relay that answers in clear text itself and offers only CRAM-MD5, and one whose "server"
  // greets with markup; a second site whose settings name a relay token and a recording relay.
  const challenge = '<4242.1700000000@hostile.example>';
  const hostile = await fakeRelay(smtpPeer({ challenge }));
  const hostileUrl = `ws://127.0.0.1:${hostile.port}`;
  const markup = await fakeRelay(smtpPeer({ greeting: '<img src=x onerror=window.pwned=1> <b>bold</b> ESMTP',
    ehlo: ['<b>mx</b> <img src=x onerror=window.pwned=2>', 'X-<i>EVIL</i> <img src=y>', 'SIZE 1000'] }));
  const cramRelay = await fakeRelay(smtpPeer({ challenge }));  // for the leak checks' own test
  const siteRelay = await fakeRelay(smtpPeer({ ehlo: ['recorder'] }));
  const otherRelay = await fakeRelay(smtpPeer({ ehlo: ['recorder'] }));
  const TOKEN = 'relay tok/en+&=?é';
  const web2 = await staticServer(webDir, { 'settings.json': { body: JSON.stringify({ relay: `ws://127.0.0.1:${siteRelay.port}`,
    token: TOKEN, server: 'localhost', port: 25, security: 'none' }) } });
  // A site whose relay is a real smtpc-proxy that asks for a token (--token-file).
  const PROXY_TOKEN = 'e2e relay+token/ü';
  tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtpc-e2e-'));
  const tokenFile = path.join(tokenDir, 'token');
  fs.writeFileSync(tokenFile, PROXY_TOKEN + '\n');
  const web3Files = { 'sandbox-ca.pem': sandbox.ca_file };
  const web3 = await staticServer(webDir, web3Files);
  const tokenRelayUrl = `ws://127.0.0.1:${await startProxy(proxyBin, `http://127.0.0.1:${web3}`, [`localhost:${starttlsTap.port}`],
    ['--token-file', tokenFile])}`;
  web3Files['settings.json'] = { body: JSON.stringify({ relay: tokenRelayUrl, token: PROXY_TOKEN, server: 'localhost',
    port: starttlsTap.port, security: 'starttls', user: USER, caFile: 'sandbox-ca.pem' }) };
  console.log(`page ${pageUrl} (relay ${relayUrl}); sandbox STARTTLS ${sandbox.starttls} via tap ${starttlsTap.port}, TLS ${sandbox.tls} via tap ${tlsTap.port}`);

  await launchChromium(await Promise.all([issuer, refusingIssuer, corslessIssuer].map((i) => spkiHash(i.port))));
  fs.mkdirSync(shots, { recursive: true });
  const openPage = () => open(pageUrl);
  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  const value = (page, id) => page.inputValue(`[data-testid=${id}]`);
  const steps = (page) => page.$$eval('[data-testid=steps] li', (lis) => lis.map((li) => `${li.dataset.step}:${li.dataset.status}`).join(' '));
  const sandboxForm = (port, extra = {}) => ({ server: 'localhost', port, security: 'starttls', username: USER, password: PASSWORD, caPem, ...extra });
  const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('smtpc.settings') || 'null'));

  const scenarios = {
    async oauthSignInPkce() {
      // "Sign in…": authorization code + PKCE in a popup that comes back to the page, the token
      // exchange by fetch, then the test logs in with the token; the token is shown nowhere.
      const page = await openPage();
      const oauthForm = { server: 'localhost', port: oauthSandbox.starttls, security: 'starttls', username: USER, password: '',
        caPem: fs.readFileSync(oauthSandbox.ca_file, 'utf8') };
      await fill(page, oauthForm);
      check(await page.isVisible('[data-testid=signInButton]'), 'Sign in is offered beside Auto');
      await page.selectOption('[data-testid=auth]', 'PLAIN');
      check(!(await page.isVisible('[data-testid=signInButton]')), 'and not beside a password-only method');
      await page.selectOption('[data-testid=auth]', 'AUTO');
      await page.selectOption('[data-testid=oauthProvider]', 'custom');
      check(await page.isVisible('[data-testid=oauthIssuer]') && !(await page.isVisible('[data-testid=tenant]')), 'the issuer field for custom');
      await fill(page, { oauthIssuer: issuer.issuer, clientId: issuer.client_id });
      const r = await press(page, 'signInButton');
      const transcript = await text(page, 'transcript');
      check(r.ok, 'signed in and tested: ' + (await text(page, 'status')) + ' / ' + (await text(page, 'explanation')) + '\n' + transcript);
      for (const step of ['Discovery', 'Browser', 'Redirect', 'Exchange', 'Signed in', 'AUTH OAUTHBEARER ********', '235'])
        check(transcript.includes(step), `the transcript shows "${step}":\n${transcript}`);
      const token = await value(page, 'token');
      check(token.startsWith('smtpc-sandbox.'), 'the token is in the token field');
      check(!findSecret(transcript, token), 'the token is not in the transcript: ' + findSecret(transcript, token));
      check(!JSON.stringify(await stored(page)).includes(token.slice(14, 40)), 'the token is not remembered');
      check(page.context().pages().length === 1, 'the popup closed');
      await page.screenshot({ path: path.join(shots, 'page-oauth-signed-in.png'), fullPage: true });
      // A sign-in whose consent is refused, and a provider that does not let pages call it.
      await fill(page, { oauthIssuer: refusingIssuer.issuer, token: '' });
      check(!(await press(page, 'signInButton')).ok, 'a refused consent fails');
      check((await text(page, 'status')).includes('Consent refused'), await text(page, 'status'));
      await fill(page, { oauthIssuer: corslessIssuer.issuer });
      check(!(await press(page, 'signInButton')).ok, 'no CORS fails');
      check((await text(page, 'explanation')).includes('does not let web pages call it (no CORS)'), await text(page, 'explanation'));
    },

    async dontStopQuitsWhenReady() {
      // "Don't stop": the test logs in, reaches the ready state and says QUIT itself, without
      // the "Stopping after" of a chosen phase (core's planRun: quitWhenReady).
      const page = await openPage();
      await fill(page, sandboxForm(starttlsTap.port));
      check((await page.$$eval('[data-testid=stopAfter] option', (o) => o.map((x) => x.value))).includes('none'),
        'the list offers "don\'t stop"');
      await page.selectOption('[data-testid=stopAfter]', 'none');
      const r = await press(page, 'testButton');
      const transcript = await text(page, 'transcript');
      check(r.ok, 'the test succeeds: ' + (await text(page, 'status')) + ' / ' + (await text(page, 'explanation')));
      check(/~> QUIT/.test(transcript) && !transcript.includes('Stopping after'), transcript);
      check(/235 /.test(transcript), 'it logged in first');
    },

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
      check(!findSecret(transcript, PASSWORD), 'no credentials in the transcript: ' + findSecret(transcript, PASSWORD));
      const tls = await text(page, 'tls');
      check(tls.includes('verified') && tls.includes('CN=localhost') && tls.includes('sha256//') && /TLSv1\.[23]/.test(tls), tls);
      check((await text(page, 'capabilities')).includes('AUTH'), 'capabilities shown');
      // What the proxy relayed: after the STARTTLS 220, ciphertext only.
      check(starttlsTap.connections.length === before + 1, 'one connection through the tap');
      const { before: clear, after } = splitAtTls(starttlsTap.connections[before], false);
      check(clear.toString('latin1').includes('EHLO'), 'EHLO in clear before STARTTLS (as it must be)');
      const wire = after.toString('latin1');
      check(after.length > 1000 && after[0] === 0x16, 'TLS records after the 220 (ClientHello first)');
      for (const secret of ['AUTH', 'PLAIN', USER, 'EHLO', '235 ', '221 ', 'QUIT']) {
        check(!wire.includes(secret), `"${secret}" must not cross the proxy after STARTTLS`);
      }
      check(!findSecret(after, PASSWORD), 'no form of the password crosses the proxy: ' + findSecret(after, PASSWORD));
      // Press Test to AUTH done, from the page's transcript clock.
      const times = await page.$$eval('[data-testid=transcript] > div', (lines) => lines.map((l) => l.textContent));
      const authLine = times.find((l) => l.includes('=== Logged in'));
      if (process.env.SMTPC_E2E_VERBOSE) console.log(times.join('\n'));
      console.log(`  press → finished ${r.ms} ms; connect → AUTH done ${authLine ? authLine.trim().split(' ')[0] : '?'} s (page transcript)`);
      await page.screenshot({ path: path.join(shots, 'page-success.png'), fullPage: true });
      check(page.consoleErrors.length === 0, 'no page errors: ' + page.consoleErrors.join('; '));
      const refused = page.consoleLines.filter((l) => l.includes('Content Security Policy'));
      check(refused.length === 0, 'the page works within its own policy: ' + refused.join('; '));
    },

    async wrongPassword() {
      const page = await openPage();
      await fill(page, sandboxForm(starttlsTap.port, { password: 'not-the-password' }));
      const r = await press(page, 'testButton');
      check(!r.ok, 'refused');
      check((await text(page, 'status')).includes('Login refused'), await text(page, 'status'));
      check((await steps(page)).includes('Auth:failed'), await steps(page));
      check((await text(page, 'explanation')).includes('535'), 'the server reply is shown');
      check(!findSecret(await text(page, 'transcript'), 'not-the-password'), 'the password is not shown');
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
      for (const clear of ['220 ', 'EHLO', 'AUTH', USER]) check(!wire.includes(clear), `"${clear}" never in clear`);
      check(!findSecret(after, PASSWORD), 'no form of the password in clear');
    },

    async transcriptFollowsNewestLine() {
      // The transcript shows its newest line unless the person scrolled up; it learns which from
      // its scroll events and scrolls once per frame (results.js), never reading the layout per line.
      const page = await openPage();
      const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const add = (n) => page.evaluate((k) => { for (let i = 0; i < k; ++i) window.smtpcResults.addLine([[`line ${i}`, 'info']]); }, n);
      const gap = () => page.$eval('[data-testid=transcript]', (t) => t.scrollHeight - t.clientHeight - t.scrollTop);
      await add(200);
      await frames();
      check(await gap() <= 4, 'at the newest line: ' + (await gap()));
      await page.$eval('[data-testid=transcript]', (t) => { t.scrollTop = 0; });
      await frames();
      await add(20);
      await frames();
      check(await page.$eval('[data-testid=transcript]', (t) => t.scrollTop) === 0, 'scrolled up: stays where the person put it');
      await page.$eval('[data-testid=transcript]', (t) => { t.scrollTop = t.scrollHeight; });
      await frames();
      await add(20);
      await frames();
      check(await gap() <= 4, 'back at the bottom: follows again: ' + (await gap()));
    },

    async cancel() {
      const page = await openPage();
      await fill(page, sandboxForm(slow.starttls, { caPem: fs.readFileSync(slow.ca_file, 'utf8') }));
      const id = await startRun(page, 'testButton');
      await page.waitForSelector('[data-testid=cancelButton]:not([disabled])', { timeout: 10000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=transcript]').textContent.includes('waiting for the server'), null, { timeout: 10000 });
      await page.click('[data-testid=cancelButton]');
      await waitForRun(page, id, 10000);
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

    async secondPressShowsItsOwnResult() {
      // A second press in the same page: the first run's result is gone the moment the button
      // is pressed (before the page awaits anything), and this run's id is what ends the wait.
      const page = await openPage();
      await fill(page, sandboxForm(starttlsTap.port, { password: 'not-the-password' }));
      check(!(await press(page, 'testButton')).ok, 'the first run is refused');
      await fill(page, { password: PASSWORD });
      const atClick = await page.evaluate(() => {
        const before = document.body.dataset.runId;
        document.querySelector('[data-testid=testButton]').click();
        return { before, id: document.body.dataset.runId, finished: document.body.dataset.finished ?? null,
          status: document.querySelector('[data-testid=status]').textContent };
      });
      check(atClick.finished === null, `the first run's result is still there at the click: ${JSON.stringify(atClick)}`);
      check(atClick.id && atClick.id !== atClick.before, `a new run id at the click: ${JSON.stringify(atClick)}`);
      check(!atClick.status.includes('Login refused'), `the first run's headline is still there at the click: ${atClick.status}`);
      const r = await waitForRun(page, atClick.id);
      check(r.ok, 'the second run\'s own result: ' + (await text(page, 'status')));
    },

    async hostileRelayLink() {
      // A password is remembered for the site's relay and the sandbox. A link then asks for a
      // hostile relay (clear text, only CRAM-MD5), a weaker security mode and a CA from data:.
      // Nothing reaches the hostile relay before the person presses Apply; and even after it, no
      // AUTH and no SASL answer do: the password belongs to the relay it was saved for.
      const context = await newContext();
      const first = await open(pageUrl, context);
      await fill(first, sandboxForm(starttlsTap.port));
      await first.check('[data-testid=rememberPassword]');
      check((await text(first, 'rememberNote')).includes('localStorage') && await first.isVisible('[data-testid=rememberNote]'),
        'the page says where the password is kept');
      check((await press(first, 'testButton')).ok, 'the remembered setup works: ' + (await text(first, 'status')));
      const remembered = await stored(first);
      check(remembered.password?.relay === relayUrl, 'the password is remembered with its relay');
      const fakeCa = 'data:,' + encodeURIComponent('-----BEGIN CERTIFICATE-----\nMIIBhostile\n-----END CERTIFICATE-----\n');
      const link = `${origin}/?proxy=${encodeURIComponent(hostileUrl)}&server=localhost&port=${starttlsTap.port}` +
        `&security=starttls-if-offered&user=${USER}&ca=${encodeURIComponent(fakeCa)}`;

      // 1. The person presses Test without confirming: the run goes where it went before.
      let page = await open(link, context);
      check(await page.isVisible('[data-testid=linkPanel]'), 'the link\'s changes are shown');
      const listed = await text(page, 'linkChanges');
      check(listed.includes(hostileUrl) && listed.includes('STARTTLS if offered'), 'each change is listed: ' + listed);
      check((await text(page, 'linkRefused')).includes('not a file of this page'), 'the data: CA is refused: ' + (await text(page, 'linkRefused')));
      await page.screenshot({ path: path.join(shots, 'page-link-confirm.png') });
      check(await value(page, 'proxy') === relayUrl && await value(page, 'security') === 'starttls', 'nothing applied before Apply');
      check(!(await value(page, 'caPem')).includes('MIIBhostile'), 'no CA from the link');
      check(await value(page, 'password') === PASSWORD, 'the password, for its own relay, server, port and user');
      check((await press(page, 'testButton')).ok, 'the run went to the remembered relay: ' + (await text(page, 'status')));
      check(hostile.connections.length === 0, 'nothing reached the hostile relay without Apply');
      check((await stored(page)).proxy === relayUrl, 'no relay remembered from the link');

      // 2. The person applies the link: the relay changes, the password does not follow it.
      page = await open(link, context);
      const before = JSON.stringify(await stored(page));
      await page.click('[data-testid=linkApply]');
      check(!(await page.isVisible('[data-testid=linkPanel]')), 'the panel closes');
      check(await value(page, 'proxy') === hostileUrl && await value(page, 'security') === 'starttls-if-offered', 'applied');
      check(await value(page, 'password') === '', 'the remembered password is not filled in for another relay');
      check(!(await value(page, 'caPem')).includes('MIIBhostile'), 'a data: CA is never trusted');
      check(JSON.stringify(await stored(page)) === before, 'Apply changes nothing remembered');
      check(!(await page.evaluate(() => location.search)), 'the link is gone from the address bar once decided');
      await press(page, 'testButton');
      // 3. Without a login, the person's own choice reaches the relay, and the page says it was not encrypted.
      await fill(page, { username: '' });
      await press(page, 'testButton');
      check(hostile.connections.length >= 1, 'the confirmed relay was used');
      check(await page.isVisible('[data-testid=resultWarning]') && (await text(page, 'resultWarning')).includes('Not encrypted'),
        'the clear-text run is flagged: ' + (await text(page, 'resultWarning')));
      await page.screenshot({ path: path.join(shots, 'page-not-encrypted.png'), fullPage: true });
      const seen = Buffer.concat(hostile.connections.flatMap((c) => c.received));
      check(!/^AUTH\b/im.test(seen.toString('latin1')), 'no AUTH reached the hostile relay: ' + seen.toString('latin1'));
      const leak = findSecret(seen, PASSWORD, [challenge]);
      check(!leak, `a SASL answer reached the hostile relay (${leak})`);
      check(hostile.connections.every((c) => !c.url.includes('token')), 'no relay token to another relay');
    },

    async rememberedPasswordBinding() {
      // Remembered only when asked; then filled in only while relay, server, port and user are
      // all the ones it was saved with.
      const context = await newContext();
      const first = await open(pageUrl, context);
      check(!(await first.isChecked('[data-testid=rememberPassword]')) && !(await first.isVisible('[data-testid=rememberNote]')),
        'nothing is remembered by default');
      await fill(first, sandboxForm(starttlsTap.port));
      await press(first, 'testButton');
      check((await stored(first)).password === undefined, 'no password kept without the tick');
      await first.check('[data-testid=rememberPassword]');
      const kept = (await stored(first)).password;
      check(kept?.value === PASSWORD && kept.relay === relayUrl && kept.server === 'localhost' && kept.port === String(starttlsTap.port) &&
        kept.user === USER, 'kept with its relay, server, port and user: ' + JSON.stringify({ ...kept, value: '…' }));
      const page = await open(pageUrl, context);
      check(await value(page, 'password') === PASSWORD, 'filled in when all four match');
      for (const [id, other] of [['proxy', hostileUrl], ['server', '127.0.0.1'], ['port', String(tlsTap.port)], ['username', 'ada']]) {
        const was = await value(page, id);
        await page.fill(`[data-testid=${id}]`, other);
        check(await value(page, 'password') === '', `not filled in with another ${id}`);
        await page.fill(`[data-testid=${id}]`, was);
        check(await value(page, 'password') === PASSWORD, `filled in again with the same ${id}`);
      }
      served['other-ca.pem'] = mutual.ca_file;  // a CA file of the page's own site: offered, applied on Apply
      const linked = await open(`${origin}/?port=${tlsTap.port}&security=tls&ca=other-ca.pem`, context);
      check(await value(linked, 'password') === PASSWORD, 'a link changes nothing before Apply');
      check((await text(linked, 'linkChanges')).includes('/other-ca.pem'), 'the CA is listed: ' + (await text(linked, 'linkChanges')));
      await linked.click('[data-testid=linkApply]');
      check(await value(linked, 'port') === String(tlsTap.port), 'the port applied');
      check(await value(linked, 'caPem') === fs.readFileSync(mutual.ca_file, 'utf8'), 'the CA applied');
      check(await value(linked, 'password') === '', 'and the password stays with the port it was saved for');
    },

    async contentSecurityPolicy() {
      // The policy is in force: a copy of the page with an inline script injected (what a markup
      // injection would do) loads and works, and the script does not run. The <meta> alone holds
      // (a plain static server sends no header); our servers send the header as well.
      const html = fs.readFileSync(path.join(webDir, 'index.html'), 'utf8');
      served['inline.html'] = { body: html.replace('</body>', '<script>document.body.dataset.inline = "ran";</script>\n</body>') };
      const page = await open(`${origin}/inline.html`);
      check(await page.getAttribute('body', 'data-inline') === null, 'the injected inline script ran');
      check(page.consoleLines.some((l) => l.includes('Content Security Policy')), 'refused by the policy: ' + page.consoleLines.join(' | '));
      const index = await open(pageUrl);
      check((index.response.headers()['content-security-policy'] || '').includes("script-src 'self'"), 'the server sends the policy');
    },

    async hostileServerText() {
      // Server text is shown as text: a greeting and EHLO full of markup create no element and
      // appear literally.
      const page = await openPage();
      await fill(page, { proxy: `ws://127.0.0.1:${markup.port}`, server: 'localhost', port: 25, security: 'none', username: '', password: '' });
      check((await press(page, 'testButton')).ok, 'the run ends: ' + (await text(page, 'status')));
      const found = await page.evaluate(() => ({ images: document.querySelectorAll('img').length, pwned: window.pwned ?? null,
        markup: document.querySelectorAll('#transcript b, #transcript i, #capabilities b, #capabilities i, #capabilitiesNote b').length }));
      check(found.images === 0 && found.markup === 0 && found.pwned === null, 'server markup became elements: ' + JSON.stringify(found));
      check((await text(page, 'transcript')).includes('<-  220 <img src=x onerror=window.pwned=1> <b>bold</b> ESMTP'), 'the greeting, literally');
      await page.click('#tabButtonServer');
      check((await page.textContent('#capabilitiesNote')).includes('<b>mx</b>'), await page.textContent('#capabilitiesNote'));
      check((await text(page, 'capabilities')).includes('X-<I>EVIL</I>'), await text(page, 'capabilities'));  // keywords are upper-cased
    },

    async leakChecksSeeLeaks() {
      // The checks above must be able to fail: with "allow the password without TLS" ticked, a
      // CRAM-MD5 login in clear text is seen both as an AUTH before TLS and as the password's HMAC.
      const page = await openPage();
      await fill(page, { proxy: `ws://127.0.0.1:${cramRelay.port}`, server: 'localhost', port: 25, security: 'none', username: USER,
        password: PASSWORD });
      await page.selectOption('[data-testid=auth]', 'CRAM-MD5');
      await page.check('[data-testid=allowPlaintext]');
      check((await press(page, 'testButton')).ok, 'the opted-in clear-text login: ' + (await text(page, 'status')));
      const timeline = cramRelay.connections.flatMap((c) => c.received.map((bytes) => ({ up: true, bytes })));
      let caught = '';
      try { splitAtTls(timeline, false); } catch (e) { caught = e.message; }
      check(caught.includes('no AUTH command before TLS'), 'the tap check sees AUTH in clear: ' + caught);
      check(findSecret(Buffer.concat(timeline.map((c) => c.bytes)), PASSWORD, [challenge]), 'the leak search finds the CRAM-MD5 answer');
      check(!findSecret(Buffer.concat(timeline.map((c) => c.bytes)), PASSWORD), 'and only through the challenge (no other form travelled)');
    },

    async relayTokenToSmtpcProxy() {
      // smtpc-proxy --token-file: the page from a site whose settings carry the token logs in
      // through it; the same relay named by hand (so no token goes with it) is refused, and the
      // page says why.
      const page = await open(`http://127.0.0.1:${web3}/`);
      await fill(page, { password: PASSWORD });
      check((await press(page, 'testButton')).ok, 'through the relay that asks for a token: ' + (await text(page, 'status')) +
        ' / ' + (await text(page, 'explanation')));
      await fill(page, { proxy: tokenRelayUrl + '/' });
      check(!(await press(page, 'testButton')).ok, 'a relay named by hand gets no token');
      check((await text(page, 'explanation')).includes('token refused'), await text(page, 'explanation'));
    },

    async relayToken() {
      // The site's relay token (its settings.json) goes to the site's relay as the query
      // parameter token, URL-encoded, and to no other relay; never into the address bar or the transcript.
      const page = await open(`http://127.0.0.1:${web2}/`);
      check(await value(page, 'proxy') === `ws://127.0.0.1:${siteRelay.port}`, 'the relay from settings.json');
      await fill(page, { username: '' });
      check((await press(page, 'testButton')).ok, 'through the site\'s relay: ' + (await text(page, 'status')));
      const url = new URL(siteRelay.connections.at(-1).url, 'http://x');
      check(url.pathname === '/smtp' && url.searchParams.get('host') === 'localhost' && url.searchParams.get('token') === TOKEN,
        'the token, URL-encoded: ' + url);
      check(!page.url().includes('tok') && !(await text(page, 'transcript')).includes('tok'), 'the token is not shown');
      await fill(page, { proxy: `ws://127.0.0.1:${otherRelay.port}` });
      check((await press(page, 'testButton')).ok, 'through another relay: ' + (await text(page, 'status')));
      check(otherRelay.connections.length === 1 && !otherRelay.connections[0].url.includes('token'),
        'no token for another relay: ' + otherRelay.connections.map((c) => c.url));
    },
  };

  Object.assign(scenarios, discoveryScenarios({ webDir, proxyBin, shots }));  // "Find settings" (discovery.mjs)

  ({ ran, failures } = await runScenarios(scenarios, only));
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    if (tokenDir) fs.rmSync(tokenDir, { recursive: true, force: true });
    console.log(`${ran - failures}/${ran} browser scenarios passed; screenshots in ${shots}`);
    process.exit(failures || ran === 0 ? 1 : 0);
  });
