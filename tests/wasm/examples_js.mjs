// examples/js/send.mjs run as a user runs it: the module installed into a temporary prefix
// (`cmake --install` of the wasm build), the native smtpc-proxy and the sandbox (started by
// tests/e2e/harness.mjs on free loopback ports). Checks what arrived at the sandbox (with TLS and
// AUTH), what the example printed and its exit status, and that no form of the password is in
// its output.
//
//   node tests/wasm/examples_js.mjs --proxy build/native/proxy/smtpc-proxy
//        (--install-from build/wasm [--cmake cmake] | --web build/wasm/web)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { option, root, startProxy, startSandbox, stop } from '../e2e/harness.mjs';
import { findSecret } from '../e2e/secret_leaks.mjs';

const example = path.join(root, 'examples/js/send.mjs');
const proxyBin = path.resolve(option('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const USER = 'demo';
const PASSWORD = 'example-Secret-Pa55';  // 6 bytes or more, for the leak search
const ORIGIN = 'http://example.test';    // what the example sends as its Origin, and the relay allows

let failures = 0;
function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

// The web folder the example loads the module from: installed into `prefix`, or the build's own.
function webFolder(prefix) {
  const build = option('install-from', '');
  if (!build) return path.resolve(option('web', path.join(root, 'build/wasm/web')));
  const cmake = option('cmake', 'cmake');
  const installed = spawnSync(cmake, ['--install', build, '--prefix', prefix], { encoding: 'utf8' });
  check(installed.status === 0, `cmake --install ${build}: ${installed.stdout}${installed.stderr}`);
  return path.join(prefix, 'share/smtpc/web');  // CMAKE_INSTALL_DATADIR/smtpc/web
}

// Runs the example with `args`, the password in its environment; resolves to {status, output}
// (standard output and error together, as a person sees them). `withoutRandom`: the random
// sources taken from the module first (without_random.cjs: 'web-crypto' or 'all').
function runExample(args, { password = PASSWORD, withoutRandom = '' } = {}) {
  const preload = withoutRandom ? ['--require', path.join(root, 'tests/wasm/without_random.cjs')] : [];
  const env = { ...process.env, SMTP_PASSWORD: password, SMTPC_WITHOUT_RANDOM: withoutRandom };
  const child = spawn(process.execPath, [...preload, example, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

function noLeak(output, ...passwords) {
  for (const p of passwords) {
    const leak = findSecret(output, p);
    check(!leak, `a password is in the output (as "${leak}")`);
  }
}

function delivered(maildir) {
  return fs.readdirSync(maildir).filter((f) => f.endsWith('.eml')).sort();
}

async function main() {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'smtpc-example-js-'));
  try {
    const web = webFolder(prefix);
    console.log(`the module from ${web}`);
    for (const f of ['smtpc.js', 'smtpc.wasm', 'ca-bundle.pem']) check(fs.existsSync(path.join(web, f)), `${web}/${f} exists`);
    check(fs.existsSync(path.join(root, 'examples/js/node_modules/ws')), 'examples/js/node_modules/ws: run scripts/setup (npm ci there)');
    const sandbox = await startSandbox(['--user', `${USER}:${PASSWORD}`]);
    const relay = `ws://127.0.0.1:${await startProxy(proxyBin, ORIGIN, [`localhost:${sandbox.starttls}`])}`;
    const common = ['--web', web, '--relay', relay, '--origin', ORIGIN, '--server', 'localhost',
      '--port', String(sandbox.starttls), '--security', 'starttls', '--ca-file', sandbox.ca_file];
    const login = ['--user', USER, '--password-env', 'SMTP_PASSWORD'];

    const scenarios = {
      async sendsOverStartTls() {
        const subject = `From Node ${Date.now()}`;
        const { status, output } = await runExample([...common, ...login, '--from', 'ada@example.org', '--to', 'bob@example.net',
          '--subject', subject, '--text', 'Sent by the JS example.']);
        check(status === 0, `exit status 0, not ${status}: ${output}`);
        check(output.includes(' -> STARTTLS') && output.includes(' ~> AUTH PLAIN'), 'the transcript shows STARTTLS, then AUTH inside TLS');
        check(output.includes('✓ The message was accepted'), 'the result: ' + output);
        noLeak(output, PASSWORD);
        const [eml] = delivered(sandbox.maildir);
        check(eml, 'a message arrived');
        const body = fs.readFileSync(path.join(sandbox.maildir, eml), 'utf8');
        check(body.includes(`Subject: ${subject}`) && body.includes('Sent by the JS example.'), 'the message is the one sent: ' + body);
        const envelope = JSON.parse(fs.readFileSync(path.join(sandbox.maildir, eml.replace('.eml', '.json')), 'utf8'));
        check(envelope.from === 'ada@example.org' && envelope.to.join() === 'bob@example.net', 'the envelope: ' + JSON.stringify(envelope));
        check(envelope.tls && envelope.authenticated, 'it came over TLS, logged in: ' + JSON.stringify(envelope));
      },

      async testsWithoutSending() {
        const before = delivered(sandbox.maildir).length;
        const { status, output } = await runExample([...common, ...login]);
        check(status === 0, `exit status 0, not ${status}: ${output}`);
        check(output.includes('<~  235') && output.includes('✓ The setup works'), 'logged in, and stopped there: ' + output);
        check(!output.includes('MAIL FROM'), 'no envelope in a test');
        check(delivered(sandbox.maildir).length === before, 'nothing was sent');
        noLeak(output, PASSWORD);
      },

      async wrongPasswordFails() {
        const wrong = 'not-the-Pa55word';
        const { status, output } = await runExample([...common, ...login], { password: wrong });
        check(status === 1, `exit status 1, not ${status}: ${output}`);
        check(output.includes('<~  535') && output.includes('✗ '), 'the server refused the login: ' + output);
        noLeak(output, wrong, PASSWORD);
      },

      // TLS needs good random numbers: Node's Web Crypto (globalThis.crypto), or where a Node has
      // none (Node 18), its crypto module, which the module asks for only when built for Node.
      async testsWithoutWebCrypto() {
        const { status, output } = await runExample([...common, ...login], { withoutRandom: 'web-crypto' });
        check(status === 0 && output.includes('✓ The setup works'), `logged in over TLS (exit status ${status}): ${output}`);
      },

      // Without any random source the module refuses TLS before it connects, rather than run it
      // on a guessable seed; a message is refused too (its Message-ID needs random numbers).
      async refusesTlsWithoutRandomNumbers() {
        const before = delivered(sandbox.maildir).length;
        const test = await runExample([...common, ...login], { withoutRandom: 'all' });
        check(test.status === 1, `exit status 1, not ${test.status}: ${test.output}`);
        check(test.output.includes('random numbers') && !test.output.includes('STARTTLS'), 'refused before connecting: ' + test.output);
        const send = await runExample([...common, ...login, '--from', 'ada@example.org', '--to', 'bob@example.net'], { withoutRandom: 'all' });
        check(send.status === 1 && send.output.includes('random numbers'), `refused (exit status ${send.status}): ${send.output}`);
        check(delivered(sandbox.maildir).length === before, 'nothing was sent');
        noLeak(test.output + send.output, PASSWORD);
      },
    };

    for (const [name, scenario] of Object.entries(scenarios)) {
      await scenario().then(() => console.log(`PASS ${name}`), (e) => { ++failures; console.log(`FAIL ${name}: ${e.message}`); });
    }
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    process.exit(failures ? 1 : 0);
  });
