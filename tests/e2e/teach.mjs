// Teaching mode in the browser (issue 17), driven as a teacher would, against one sandbox started
// with --lessons: a step-through run pressed Next by Next to the end, a click on the 235 line that
// shows what it means, every lesson from the Lessons panel (greylisting twice: the second run is
// accepted), and the run downloaded as an HTML page and an SVG diagram that parsers other than
// ours read (tests/core/check_report.py) and that hold no secret. The page learns the relay, the
// sandbox's CA and the lessons' ports from its settings.json, as scripts/demo serves it.
//
//   node tests/e2e/teach.mjs --web build/wasm/web --proxy build/native/proxy/smtpc-proxy [--only NAME[,NAME...]]
// Every server it starts binds port 0 on loopback and is stopped when it ends.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeRelay, fill, launchChromium, openPage, option as arg, press, root, runScenarios, smtpPeer, startProxy, startRun,
  startSandbox, staticServer, stop, waitForRun } from './harness.mjs';
import { findSecret } from './secret_leaks.mjs';

const webDir = path.resolve(arg('web', path.join(root, 'build/wasm/web')));
const proxyBin = path.resolve(arg('proxy', path.join(root, 'build/native/proxy/smtpc-proxy')));
const only = arg('only', '').split(',').filter(Boolean);
for (const f of [path.join(webDir, 'smtpc.wasm'), path.join(webDir, 'teach.js'), proxyBin]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: build it first (scripts/test does)`); process.exit(2); }
}

// The learner's own login for the runs that are not lessons: a password unlike anything else, so
// that a leak search cannot match by chance. The lessons log in as demo (core's lessons table).
const USER = 'learner';
const SECRET = 'Teach-Page-Secret-4471';

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

let failures = 0;
let ran = 0;
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'smtpc-e2e-teach-'));

async function main() {
  const sandbox = await startSandbox(['--lessons', '--user', 'demo:demo', '--user', `${USER}:${SECRET}`]);
  const served = { 'sandbox-ca.pem': sandbox.ca_file };
  const origin = `http://127.0.0.1:${await staticServer(webDir, served)}`;
  const allowed = ['plain', 'starttls', 'tls'].map((kind) => `${sandbox.host}:${sandbox[kind]}`);
  const relay = `ws://127.0.0.1:${await startProxy(proxyBin, origin, allowed)}`;
  served['settings.json'] = { body: JSON.stringify({ relay, server: sandbox.host, port: sandbox.starttls, security: 'starttls',
    user: USER, caFile: 'sandbox-ca.pem', sandbox: { host: sandbox.host, plain: sandbox.plain, starttls: sandbox.starttls, tls: sandbox.tls } }) };
  await launchChromium();
  console.log(`teach: page ${origin}/, relay ${relay}, sandbox --lessons on ${sandbox.host} ${allowed.join(' ')}`);

  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  // The page with the learner's login filled in (settings.json gave the rest: server, port, CA).
  const learnerPage = async () => {
    const page = await openPage(`${origin}/`);
    await page.fill('[data-testid=password]', SECRET);
    return page;
  };
  // Until the run pauses (Next enabled: true) or ends (false).
  const pausedOrEnded = async (page, id) => {
    await page.waitForFunction((i) => !document.querySelector('[data-testid=nextButton]').disabled ||
      document.body.dataset.finishedRun === i, id, { timeout: 30000 });
    return page.isEnabled('[data-testid=nextButton]');
  };

  const scenarios = {
    async stepThroughToTheEnd() {
      const page = await learnerPage();
      await page.check('[data-testid=stepMode]');
      const id = await startRun(page, 'testButton');
      const pauses = [];
      while (await pausedOrEnded(page, id)) {
        check(await page.isVisible('[data-testid=pauseExplanation]'), 'the pause is explained');
        pauses.push(await text(page, 'pauseExplanation'));
        check(pauses.length < 100, 'no end in sight');
        if (pauses.length === 3) {  // while paused nothing moves on by itself
          const before = await text(page, 'transcript');
          await page.waitForTimeout(300);
          check((await text(page, 'transcript')) === before, 'the transcript stood still while paused');
        }
        await page.click('[data-testid=nextButton]');
      }
      const { ok } = await waitForRun(page, id);
      check(ok, 'the run succeeded: ' + (await text(page, 'status')));
      const all = pauses.join('\n----\n');
      for (const command of ['EHLO', 'STARTTLS', 'AUTH PLAIN', 'QUIT']) check(all.includes('next we send: ' + command), `a stop before ${command}:\n${all.slice(0, 3000)}`);
      check(all.includes('What will the server say? It may answer:'), 'the replies that may come');
      check(all.includes('the server answered') && all.includes('RFC 3207'), 'the replies explained, with their RFC');
      check(pauses.length >= 10, `${pauses.length} stops`);
      const leak = findSecret(all, SECRET);
      check(!leak, `the password in a pause (as "${leak}")`);
      check(!(await page.isEnabled('[data-testid=nextButton]')), 'Next is off once the run ended');
      check(page.consoleErrors.length === 0, page.consoleErrors.join(' | '));
      const refused = page.consoleLines.filter((l) => /Content.Security.Policy/i.test(l));
      check(!refused.length, 'the page keeps its Content-Security-Policy: ' + refused.join(' | '));
    },

    async continueThenRunToEnd() {
      const page = await learnerPage();
      await page.check('[data-testid=stepMode]');
      const id = await startRun(page, 'testButton');
      check(await pausedOrEnded(page, id), 'a first stop');
      const first = await text(page, 'pauseExplanation');
      await page.click('[data-testid=continueButton]');
      check(await pausedOrEnded(page, id), 'a stop after Continue');
      check((await text(page, 'pauseExplanation')) !== first, 'Continue moved on');
      await page.click('[data-testid=runToEndButton]');
      check(!(await page.isChecked('[data-testid=stepMode]')), 'Run to end leaves step mode');
      check(!(await pausedOrEnded(page, id)), 'no stop after Run to end');
      check((await waitForRun(page, id)).ok, 'the run succeeded: ' + (await text(page, 'status')));
    },

    async clickALineExplainsIt() {
      const page = await learnerPage();
      check((await press(page, 'testButton')).ok, 'the test succeeded: ' + (await text(page, 'status')));
      const line = page.locator('[data-testid=transcript] > div[data-kind=server][data-text^="235 "]');
      check((await line.count()) === 1, 'one 235 line: ' + (await text(page, 'transcript')));
      await line.click();
      const shown = await text(page, 'lineExplanation');
      check(/235/.test(shown) && shown.includes('RFC 4954'), 'the 235 line explained: ' + shown);
      const starttls = page.locator('[data-testid=transcript] > div[data-kind=client][data-text=STARTTLS]');
      await starttls.click();
      check((await text(page, 'lineExplanation')).includes('RFC 3207'), 'then STARTTLS: ' + (await text(page, 'lineExplanation')));
    },

    async eachLesson() {
      const page = await openPage(`${origin}/`);
      const ids = await page.$$eval('[data-testid=lessons] option', (options) => options.map((o) => o.value).filter(Boolean));
      check(ids.length >= 7, 'the lessons: ' + ids);
      // A run the form refuses (no server) leaves Start lesson ready.
      await page.selectOption('[data-testid=lessons]', ids[0]);
      await page.fill('[data-testid=server]', '');
      await page.click('[data-testid=testButton]');
      await page.waitForFunction(() => document.body.dataset.finished === 'failed');
      check(await page.isEnabled('[data-testid=startLesson]'), 'Start lesson after a refused run');
      for (const id of ids) {
        await page.selectOption('[data-testid=lessons]', id);
        check((await text(page, 'lessonWatch')).startsWith('What to watch: '), `${id}: what to watch`);
        for (let run = 0; run < (id === 'greylisting' ? 2 : 1); ++run) {
          check(await page.isEnabled('[data-testid=startLesson]'), `${id}: Start lesson is on`);
          const runId = await startRun(page, 'startLesson');
          await waitForRun(page, runId);
          const result = await text(page, 'lessonResult');
          check(result.startsWith('✓'), `${id} (run ${run + 1}): ${result}\n${(await text(page, 'transcript')).slice(-1500)}`);
          if (id === 'greylisting') check(run === 0 ? result.includes('Now start it again') : result.includes('accepted'), `${id}: ${result}`);
        }
        check((await page.getAttribute('[data-testid=password]', 'type')) === 'password', 'the password stays masked');
      }
      const leak = findSecret(await text(page, 'transcript'), 'not-the-password');
      check(!leak, `the wrong password in the transcript (as "${leak}")`);
    },

    async hostileServerStaysText() {
      // A "server" behind a relay of our own greets with markup: the pause, the line's explanation
      // and the report show it as text, and no element of it appears in the page.
      const markup = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>';
      const hostile = await fakeRelay(smtpPeer({ greeting: markup }));
      const page = await openPage(`${origin}/`);
      await fill(page, { proxy: `ws://127.0.0.1:${hostile.port}`, server: 'hostile.test', port: 25, security: 'none', username: '', password: '' });
      await page.check('[data-testid=stepMode]');
      const id = await startRun(page, 'testButton');
      // No element made of the server's words in the teaching panels, and no handler that ran.
      const noMarkup = () => page.evaluate(() => !document.body.dataset.pwned &&
        ![...document.querySelectorAll('#pauseExplanation *, #lineExplanation *')].some((e) => e.tagName === 'IMG' || e.textContent === 'bold'));
      let greeting = '';
      while (await pausedOrEnded(page, id)) {
        const shown = await text(page, 'pauseExplanation');
        if (shown.includes('the server answered') && shown.includes(markup)) {
          greeting = shown;
          check(await noMarkup(), 'the greeting\'s stop made no element of its words');
        }
        await page.click('[data-testid=nextButton]');
      }
      await waitForRun(page, id);
      check(greeting, 'the greeting\'s stop shows its words as text');
      await page.locator('[data-testid=transcript] > div[data-kind=server]').first().click();
      check((await text(page, 'lineExplanation')).includes(markup), 'the greeting explained, as text: ' + (await text(page, 'lineExplanation')));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=reportHtml]')]);
      const file = path.join(downloads, 'hostile.html');
      await download.saveAs(file);
      try {
        execFileSync('/usr/bin/python3', [path.join(root, 'tests/core/check_report.py'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        throw new Error('check_report.py: ' + e.stderr);
      }
      check(await noMarkup(), 'the line\'s explanation made no element of its words');
    },

    async savesReports() {
      const page = await learnerPage();
      check(!(await page.isEnabled('[data-testid=reportHtml]')), 'no report before a run');
      check((await press(page, 'testButton')).ok, 'the test succeeded: ' + (await text(page, 'status')));
      const files = [];
      for (const button of ['reportHtml', 'reportSvg']) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${button}]`)]);
        const file = path.join(downloads, download.suggestedFilename());
        await download.saveAs(file);
        check(file.endsWith(button === 'reportHtml' ? '.html' : '.svg'), file);
        const leak = findSecret(fs.readFileSync(file), SECRET);
        check(!leak, `${file} holds the password (as "${leak}")`);
        files.push(file);
      }
      check(fs.readFileSync(files[0], 'utf8').includes('RFC 3207'), 'each line explained in the HTML');
      try {
        execFileSync('/usr/bin/python3', [path.join(root, 'tests/core/check_report.py'), '--absent', SECRET, '--present', 'STARTTLS', ...files],
          { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        throw new Error('check_report.py: ' + e.stderr);
      }
    },
  };

  ({ ran, failures } = await runScenarios(scenarios, only));
}

main().catch((e) => { ++failures; console.error('FAIL setup:', e); })
  .finally(async () => {
    await stop();
    fs.rmSync(downloads, { recursive: true, force: true });
    console.log(`${ran - failures}/${ran} teaching scenarios passed`);
    process.exit(failures || ran === 0 ? 1 : 0);
  });
