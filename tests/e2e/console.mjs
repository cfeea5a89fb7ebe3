// Type it yourself in the browser (issue 17, part 3): the page's Console tab driven as a learner
// would, against the sandbox through the native smtpc-proxy. A whole session typed by hand (EHLO,
// STARTTLS, EHLO, AUTH PLAIN through the helper, MAIL, RCPT, DATA with a line that begins with a
// dot, QUIT) delivers the message with the dot unstuffed and leaves no form of the password in the
// page (a command typed while the helper asks is refused, with no Send anyway); a MAIL typed before EHLO is held back with a warning and reaches the server (seen by a TCP
// tap) only after Send anyway; a hostile server's markup stays text.
//
//   node tests/e2e/console.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy [--only NAME[,NAME...]]
// Every server it starts binds port 0 on loopback and is stopped when it ends.
import fs from 'node:fs';
import path from 'node:path';
import { fakeRelay, fill, launchChromium, openPage, option as arg, root, runScenarios, smtpPeer, startProxy, startSandbox,
  staticServer, stop, tap } from './harness.mjs';
import { findSecret } from './secret_leaks.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const only = arg('only', '').split(',').filter(Boolean);
for (const f of [path.join(webDir, 'smtpc.wasm'), path.join(webDir, 'console.js'), proxyBin]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does)`); process.exit(2); }
}

// The learner is demo (the form's user, as settings.json gives it); the password is unlike
// anything else in the page, so that a leak search cannot match the user name by chance.
const USER = 'demo';
const SECRET = 'Console-Page-Secret-5520';

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

let failures = 0;
let ran = 0;

async function main() {
  const sandbox = await startSandbox(['--user', `${USER}:${SECRET}`]);
  const served = { 'sandbox-ca.pem': sandbox.ca_file };
  const origin = `http://127.0.0.1:${await staticServer(webDir, served)}`;
  const plainTap = await tap(sandbox.plain);
  const allowed = [...['plain', 'starttls', 'tls'].map((kind) => `${sandbox.host}:${sandbox[kind]}`), `127.0.0.1:${plainTap.port}`];
  const relay = `ws://127.0.0.1:${await startProxy(proxyBin, origin, allowed)}`;
  served['settings.json'] = { body: JSON.stringify({ relay, server: sandbox.host, port: sandbox.starttls, security: 'starttls',
    user: USER, caFile: 'sandbox-ca.pem' }) };
  await launchChromium();
  console.log(`console: page ${origin}/, relay ${relay}, sandbox on ${sandbox.host} ${allowed.join(' ')}`);

  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  const state = (page) => page.getAttribute('body', 'data-console-state');
  const untilState = (page, wanted) => page.waitForFunction((w) => document.body.dataset.consoleState === w, wanted, { timeout: 20000 })
    .catch(async () => { throw new Error(`no state ${wanted} (${await state(page)}): ${await text(page, 'consoleState')}\n${await text(page, 'consoleTranscript')}`); });
  const connect = async (page) => {
    await page.click('[data-testid=tabConsole]');
    await page.click('[data-testid=consoleConnect]');
    await untilState(page, 'command');  // the greeting came
  };
  // Types `line`, presses Enter, and waits until the console is in state `then`.
  const type = async (page, line, then = 'command') => {
    await page.fill('[data-testid=consoleInput]', line);
    await page.press('[data-testid=consoleInput]', 'Enter');
    check(!(await page.isVisible('[data-testid=consoleWarning]')), `"${line}" was held back: ${await text(page, 'consoleWarningText')}`);
    await untilState(page, then);
    check((await page.inputValue('[data-testid=consoleInput]')) === '', `"${line}" left the box`);
  };
  const lines = (page, kind) => page.$$eval(`[data-testid=consoleTranscript] > div[data-kind=${kind}]`, (ds) => ds.map((d) => d.dataset.text));

  const scenarios = {
    async typedSessionDelivers() {
      const page = await openPage(`${origin}/`);
      await connect(page);
      await type(page, 'EHLO learner.example');
      await type(page, 'STARTTLS');
      check((await text(page, 'consoleTranscript')).includes('TLS'), 'the TLS boundary is shown');
      await type(page, 'EHLO learner.example');
      await page.fill('[data-testid=consoleInput]', 'AUTH PLAIN');
      await page.press('[data-testid=consoleInput]', 'Enter');
      await untilState(page, 'credentials');
      check(await page.isVisible('[data-testid=consoleCredentials]'), 'the AUTH helper asks');
      check((await page.inputValue('[data-testid=consoleUser]')) === USER, 'the user from the form');
      check((await page.getAttribute('[data-testid=consolePassword]', 'type')) === 'password', 'the password is masked');
      // While the helper asks, a typed command can never go: no Send anyway.
      await page.fill('[data-testid=consoleInput]', 'NOOP');
      await page.press('[data-testid=consoleInput]', 'Enter');
      check(await page.isVisible('[data-testid=consoleWarning]'), 'NOOP held while the helper asks');
      check(!(await page.isVisible('[data-testid=consoleSendAnyway]')), 'no Send anyway: ' + (await text(page, 'consoleWarningText')));
      await page.click('[data-testid=consoleDontSend]');
      await page.fill('[data-testid=consoleInput]', '');
      await page.fill('[data-testid=consolePassword]', SECRET);
      await page.click('[data-testid=consoleCredentialsOk]');
      await untilState(page, 'command');
      check((await lines(page, 'server')).some((l) => l.startsWith('235')), 'logged in: ' + (await text(page, 'consoleTranscript')));
      check((await page.inputValue('[data-testid=consolePassword]')) === '', 'the page keeps no copy of the password');
      const subject = `Typed by hand ${Date.now()}`;
      await type(page, 'MAIL FROM:<a@example.org>');
      await type(page, 'RCPT TO:<b@example.net>');
      await type(page, 'DATA', 'content');
      await type(page, `Subject: ${subject}`, 'content');
      await type(page, '', 'content');
      await type(page, '.signature starts with a dot', 'content');
      await type(page, '.');
      check((await lines(page, 'server')).some((l) => l.startsWith('250') && /queued|accepted|ok/i.test(l)), 'the message accepted');
      await type(page, 'QUIT', 'closed');
      check(await page.isEnabled('[data-testid=consoleConnect]'), 'Connect again once closed');
      check(!(await page.isEnabled('[data-testid=consoleClose]')), 'nothing to close');

      const stored = fs.readdirSync(sandbox.maildir).filter((f) => f.endsWith('.eml'))
        .map((f) => fs.readFileSync(path.join(sandbox.maildir, f), 'latin1')).find((m) => m.includes(subject));
      check(stored, 'the message is in the sandbox\'s maildir');
      check(/(^|\n)\.signature starts with a dot\r?\n/.test(stored) && !stored.includes('..signature'), 'the dot line unstuffed: ' + stored);

      // A click on the AUTH line explains it, with the secret masked; nowhere in the console a form of it.
      const auth = page.locator('[data-testid=consoleTranscript] > div[data-kind=client][data-text^="AUTH PLAIN"]');
      check((await auth.count()) === 1, 'one AUTH PLAIN line: ' + (await lines(page, 'client')).join(' | '));
      await auth.click();
      check((await text(page, 'consoleExplanation')).includes('RFC 4954'), 'AUTH explained: ' + (await text(page, 'consoleExplanation')));
      const shown = await page.evaluate(() => document.getElementById('tabConsole').innerText + '\n' +
        [...document.querySelectorAll('#tabConsole [data-text]')].map((d) => d.dataset.text).join('\n') + '\n' +
        [...document.querySelectorAll('#tabConsole input')].map((i) => i.value).join('\n'));
      const leak = findSecret(shown, SECRET);
      check(!leak, `the password in the console (as "${leak}")`);
      check(page.consoleErrors.length === 0, page.consoleErrors.join(' | '));
      const refused = page.consoleLines.filter((l) => /Content.Security.Policy/i.test(l));
      check(!refused.length, 'the page keeps its Content-Security-Policy: ' + refused.join(' | '));
    },

    async warningHoldsTheCommand() {
      const page = await openPage(`${origin}/`);
      await fill(page, { security: 'none', port: plainTap.port });
      const before = plainTap.connections.length;
      await connect(page);
      const upstream = () => Buffer.concat((plainTap.connections[before] || []).filter((c) => c.up).map((c) => c.bytes)).toString('latin1');
      const mail = 'MAIL FROM:<a@example.org>';
      for (const answer of ['consoleDontSend', 'consoleSendAnyway']) {
        await page.fill('[data-testid=consoleInput]', mail);
        await page.press('[data-testid=consoleInput]', 'Enter');
        await page.waitForSelector('[data-testid=consoleWarning]', { state: 'visible' });
        check(/EHLO/.test(await text(page, 'consoleWarningText')), 'the warning says why: ' + (await text(page, 'consoleWarningText')));
        check(await page.isVisible('[data-testid=consoleSendAnyway]'), 'it may be sent anyway');
        check((await page.inputValue('[data-testid=consoleInput]')) === mail, 'the line stays in the box');
        check(await state(page) === 'command', 'nothing awaited');
        check(!(await lines(page, 'client')).length, 'nothing sent: ' + (await lines(page, 'client')));
        check(!upstream().includes('MAIL'), 'nothing reached the server: ' + JSON.stringify(upstream()));
        await page.click(`[data-testid=${answer}]`);
        check(!(await page.isVisible('[data-testid=consoleWarning]')), 'the warning goes');
      }
      await untilState(page, 'command');
      check((await lines(page, 'client')).includes(mail), 'sent anyway: ' + (await lines(page, 'client')));
      await page.waitForFunction(() => [...document.querySelectorAll('#consoleTranscript > div[data-kind=server]')].length >= 2);
      check(upstream().split('MAIL').length === 2, 'the server received MAIL once, after Send anyway: ' + JSON.stringify(upstream()));
      await page.click('[data-testid=consoleClose]');
      await untilState(page, 'closed');
    },

    async hostileServerStaysText() {
      const markup = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>';
      const hostile = await fakeRelay(smtpPeer({ greeting: markup }));
      const page = await openPage(`${origin}/`);
      await fill(page, { proxy: `ws://127.0.0.1:${hostile.port}`, server: 'hostile.test', port: 25, security: 'none' });
      await connect(page);
      await type(page, 'EHLO learner.example');
      await page.locator('[data-testid=consoleTranscript] > div[data-kind=server]').first().click();
      check((await text(page, 'consoleTranscript')).includes(markup), 'the greeting as text');
      check((await text(page, 'consoleExplanation')).includes(markup), 'its explanation as text');
      check(await page.evaluate(() => !document.body.dataset.pwned &&
        ![...document.querySelectorAll('#tabConsole *')].some((e) => e.tagName === 'IMG' || e.textContent === 'bold')), 'no element of its words');
      await type(page, 'QUIT', 'closed');
    },
  };

  ({ ran, failures } = await runScenarios(scenarios, only));
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    console.log(`${ran - failures}/${ran} console scenarios passed`);
    process.exit(failures || ran === 0 ? 1 : 0);
  });
