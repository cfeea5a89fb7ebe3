// "Find settings" in the browser (issue 15): the page's discovery flow runs inside the module,
// asks smtpc-proxy's lookup endpoint for DNS answers and documents, and probes the servers it
// finds through the same relay — all against the loopback Internet of
// tests/servers/discovery_world.py (its DNS server, its HTTPS autoconfig and ISPDB mirror, its
// plain-HTTP host and its sandbox SMTP servers, under the sandbox's CA). run.mjs runs these
// scenarios beside its own; the world and its relay start with the first of them.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { openPage, press, startDiscoveryWorld, startProxy, startRun, staticServer, waitForRun } from './harness.mjs';

const TOKEN = 'discovery tok/en+&=?é';

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
}

// {webDir, proxyBin, shots} as run.mjs has them. Returns the scenarios, by name.
export function discoveryScenarios({ webDir, proxyBin, shots }) {
  let world = null;  // {world, pageUrl, relayUrl}, once started

  async function start() {
    if (world) return world;
    const w = await startDiscoveryWorld();
    const site = {};
    const web = await staticServer(webDir, site);
    const origin = `http://127.0.0.1:${web}`;
    const { tls, starttls } = w.smtp;
    // What the relay may reach: the documents' hosts (private addresses, so listed one by one) and
    // every SMTP server the flow may probe, guesses included (those of empty.test do not resolve).
    const allowed = ['autoconfig.own.test:443', 'wellknown.test:443', 'ispdb.test:443', 'autoconfig.plainhttp.test:80'];
    for (const host of ['smtp.own.test', 'mail.srv.test', 'smtp.mailhost.test', 'mx1.mailhost.test', 'smtp.plainhttp.test',
      'smtp.elsewhere.test']) allowed.push(`${host}:${tls}`, `${host}:${starttls}`);
    for (const domain of ['empty.test', 'plainhttp.test']) {
      for (const host of [`smtp.${domain}`, `mail.${domain}`]) allowed.push(`${host}:465`, `${host}:587`);
    }
    const lookup = ['--lookup', '--dns-server', w.dns, '--ispdb', w.ispdb, '--ca-file', w.ca_file,
      '--max-lookups-per-minute', '1000', '--lookup-timeout', '5'];
    const relayUrl = `ws://127.0.0.1:${await startProxy(proxyBin, origin, allowed, lookup)}`;
    // The page's own settings: this relay, the sandbox's CA (for the probes' TLS), the relay's ISPDB.
    site['world-ca.pem'] = w.ca_file;
    site['settings.json'] = { body: JSON.stringify({ relay: relayUrl, caFile: 'world-ca.pem', ispdb: w.ispdb }) };
    // A second site whose relay asks for a token (--token-file) for lookups and relaying alike.
    const tokenSite = { 'world-ca.pem': w.ca_file };
    const tokenOrigin = `http://127.0.0.1:${await staticServer(webDir, tokenSite)}`;
    const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtpc-e2e-discovery-'));
    fs.writeFileSync(path.join(tokenDir, 'token'), TOKEN + '\n');
    const tokenRelayUrl = `ws://127.0.0.1:${await startProxy(proxyBin, tokenOrigin, allowed,
      [...lookup, '--token-file', path.join(tokenDir, 'token')])}`;
    process.on('exit', () => fs.rmSync(tokenDir, { recursive: true, force: true }));
    tokenSite['settings.json'] = { body: JSON.stringify({ relay: tokenRelayUrl, token: TOKEN, caFile: 'world-ca.pem', ispdb: w.ispdb }) };
    world = { world: w, pageUrl: `${origin}/`, relayUrl, tokenPageUrl: `${tokenOrigin}/`, tokenRelayUrl };
    console.log(`discovery: page ${world.pageUrl}, relay ${relayUrl} --lookup, DNS ${w.dns}, SMTP TLS ${tls} STARTTLS ${starttls}`);
    return world;
  }

  const text = (page, id) => page.textContent(`[data-testid=${id}]`);
  const value = (page, id) => page.inputValue(`[data-testid=${id}]`);
  const form = async (page) => ({ server: await value(page, 'server'), port: await value(page, 'port'),
    security: await value(page, 'security'), username: await value(page, 'username') });
  // The transcript's discovery steps: [{source, found, text}].
  const steps = (page) => page.$$eval('[data-testid=transcript] > .discoveryStep',
    (lines) => lines.map((l) => ({ source: l.dataset.source, found: l.dataset.found === 'yes', text: l.textContent })));
  const listed = async (page, id) => ((await page.$(`[data-testid=${id}]`)) ? text(page, id) : '');

  // Opens the page, types the address, presses Find settings: {page, ok, ms, form, transcript,
  // steps, status, questions}. `answer`: the person's answer to "use plain HTTP?" (window.confirm),
  // asked whenever the HTTPS autoconfig gave nothing.
  async function discover(address, answer = false, pageUrl = null) {
    const w = await start();
    const page = await openPage(pageUrl || w.pageUrl);
    const questions = [];
    page.on('dialog', (d) => { questions.push(d.message()); return answer ? d.accept() : d.dismiss(); });
    await page.fill('[data-testid=emailAddress]', address);
    const r = await press(page, 'discoverButton');
    const transcript = await text(page, 'transcript');
    const explanation = await text(page, 'explanation');
    if (process.env.SMTPC_E2E_VERBOSE) console.log(transcript + '\n' + explanation);
    check(page.consoleErrors.length === 0, 'no page errors: ' + page.consoleErrors.join('; '));
    const refused = page.consoleLines.filter((l) => l.includes('Content Security Policy'));
    check(refused.length === 0, 'the lookups pass the page\'s own policy: ' + refused.join('; '));
    return { page, ...r, form: await form(page), transcript, explanation, steps: await steps(page), status: await text(page, 'status'), questions };
  }

  const shot = (page, name) => page.screenshot({ path: path.join(shots, name), fullPage: true });
  const port = (kind) => String(world.world.smtp[kind]);

  return {
    async discoverXmlRules() {
      // The page's reader of clientConfig documents (discover.js, DOMParser): SMTP servers only,
      // in order; a DOCTYPE (entities: the "billion laughs"), broken XML, another root or an
      // oversized document are refused with a sentence for the transcript.
      const w = await start();
      const page = await openPage(w.pageUrl);
      const read = async (body, max = 65536) => ({ error: '', ...await page.evaluate(([b, m]) => window.smtpcDiscover.readClientConfig(b, m), [body, max]) });
      const good = '<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="x.test"><domain>x.test</domain>' +
        '<displayName>X</displayName><incomingServer type="imap"><hostname>imap.x.test</hostname></incomingServer>' +
        '<outgoingServer type="smtp"><hostname>a.x.test</hostname><port>465</port><socketType>SSL</socketType>' +
        '<username>%EMAILADDRESS%</username><authentication>OAuth2</authentication><authentication>password-cleartext</authentication>' +
        '</outgoingServer><outgoingServer type="smtp"><hostname> b.x.test </hostname><port>587</port><socketType>STARTTLS</socketType>' +
        '</outgoingServer></emailProvider></clientConfig>';
      const ok = await read(good);
      check(JSON.stringify(ok) === JSON.stringify({ error: '', config: { providerId: 'x.test', displayName: 'X', domains: ['x.test'], outgoing: [
        { hostname: 'a.x.test', port: '465', socketType: 'SSL', username: '%EMAILADDRESS%', authentication: ['OAuth2', 'password-cleartext'] },
        { hostname: 'b.x.test', port: '587', socketType: 'STARTTLS', username: '', authentication: [] }] } }), JSON.stringify(ok));
      const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>' +
        '<clientConfig><emailProvider id="&lol2;"/></clientConfig>';
      check((await read(laughs)).error.includes('DOCTYPE'), 'entities refused: ' + JSON.stringify(await read(laughs)));
      check((await read('<clientConfig><emailProvider>')).error.startsWith('not XML'), JSON.stringify(await read('<clientConfig><emailProvider>')));
      check((await read('<html><body/></html>')).error.includes('not a clientConfig'), JSON.stringify(await read('<html/>')));
      check((await read(good, 100)).error.includes('larger than 100 bytes'), JSON.stringify(await read(good, 100)));
    },

    async discoverOwnAutoconfig() {
      // The domain's own autoconfig over HTTPS names two servers; implicit TLS comes first and a
      // probe through the relay verifies it. The form takes it; the result says why.
      const r = await discover('alice@own.test');
      check(r.ok, `found: ${r.status} / ${r.explanation}\n${r.transcript}`);
      check(JSON.stringify(r.form) === JSON.stringify({ server: 'smtp.own.test', port: port('tls'), security: 'tls', username: 'alice@own.test' }),
        'the form is filled in: ' + JSON.stringify(r.form));
      check(r.status.includes('smtp.own.test port ' + port('tls')), r.status);
      const decided = await text(r.page, 'discoveryDecidedBy');
      check(decided.includes('https://autoconfig.own.test/mail/config-v1.1.xml') && decided.includes('a probe verified it'), decided);
      check((await text(r.page, 'discoveryReasons')).includes('Implicit TLS'), await text(r.page, 'discoveryReasons'));
      check((await text(r.page, 'discoveryAdvice')).includes('Log in as alice@own.test'), await text(r.page, 'discoveryAdvice'));
      check(r.questions.length === 0, 'no question about plain HTTP when HTTPS answered: ' + r.questions);
      check(!(await listed(r.page, 'discoveryWarnings')), 'no warning for the domain\'s own server: ' + (await listed(r.page, 'discoveryWarnings')));
      // Every source appears live in the transcript, with what was asked and what came back.
      const autoconfig = r.steps.find((s) => s.source === 'autoconfig');
      check(autoconfig && autoconfig.found && autoconfig.text.includes('autoconfig.own.test') && / ms /.test(autoconfig.text),
        'the autoconfig step: ' + JSON.stringify(r.steps));
      for (const source of ['provider', 'well-known', 'ispdb', 'srv', 'mx', 'probe', 'decision'])
        check(r.steps.some((s) => s.source === source), `a ${source} step in the transcript:\n${r.transcript}`);
      check(r.steps.some((s) => s.source === 'srv' && s.text.includes('_submissions._tcp.own.test')), r.transcript);
      await shot(r.page, 'page-discover-own.png');
    },

    async discoverSrvOnly() {
      // Only SRV records: RFC 8314's _submissions (implicit TLS) before RFC 6186's _submission.
      const r = await discover('bob@srv.test');
      check(r.ok, `found: ${r.status} / ${r.explanation}\n${r.transcript}`);
      check(r.form.server === 'mail.srv.test' && r.form.port === port('tls') && r.form.security === 'tls', JSON.stringify(r.form));
      const decided = await text(r.page, 'discoveryDecidedBy');
      check(decided.includes('DNS SRV') && decided.includes('_submissions._tcp.srv.test'), decided);
      check(r.steps.some((s) => s.source === 'srv' && s.found && s.text.includes('mail.srv.test')), r.transcript);
      check(r.steps.some((s) => s.source === 'autoconfig' && !s.found), 'autoconfig was asked and had nothing: ' + r.transcript);
      check(!(await listed(r.page, 'discoveryWarnings')), 'mail.srv.test is srv.test\'s own: ' + (await listed(r.page, 'discoveryWarnings')));
      // autoconfig.srv.test does not exist (the relay says nxdomain): there is nothing to ask over plain HTTP.
      check(r.questions.length === 0, 'no question about plain HTTP for a host that does not exist: ' + r.questions);
      await shot(r.page, 'page-discover-srv.png');
    },

    async discoverHostedByMx() {
      // Nothing but an MX: the MX host's domain is found in the ISPDB. The server is in another
      // domain and came from a source a DNS spoofer could have chosen: the page says so.
      const r = await discover('carol@hosted.test');
      check(r.ok, `found: ${r.status} / ${r.explanation}\n${r.transcript}`);
      check(r.form.server === 'smtp.mailhost.test' && r.form.port === port('tls') && r.form.security === 'tls' &&
        r.form.username === 'carol@hosted.test', JSON.stringify(r.form));
      check(r.steps.some((s) => s.source === 'mx' && s.found && s.text.includes('mx1.mailhost.test')), r.transcript);
      check((await text(r.page, 'discoveryDecidedBy')).includes('ISPDB'), await text(r.page, 'discoveryDecidedBy'));
      const warnings = await listed(r.page, 'discoveryWarnings');
      check(warnings.includes('smtp.mailhost.test is not in hosted.test\'s domain'), 'the other-domain warning: ' + warnings);
      check(await r.page.isVisible('[data-testid=resultWarning]') && (await text(r.page, 'resultWarning')).includes('not in hosted.test'),
        'and it is shown above the result: ' + (await text(r.page, 'resultWarning')));
      check((await text(r.page, 'discoveryAdvice')).includes('OAuth 2'), await text(r.page, 'discoveryAdvice'));
      await shot(r.page, 'page-discover-hosted.png');
    },

    async discoverNothing() {
      // A domain with nothing: no settings are invented, the form keeps what it had, and the
      // failure says what was asked and tried.
      const w = await start();
      const before = await form(await openPage(w.pageUrl));
      const r = await discover('dave@empty.test');
      check(!r.ok, 'nothing is found: ' + r.status);
      check(r.status.includes('No settings found'), r.status);
      check(JSON.stringify(r.form) === JSON.stringify(before), 'the form is unchanged: ' + JSON.stringify([r.form, before]));
      const failure = await text(r.page, 'discoveryFailure');
      for (const asked of ['no working submission server for empty.test', 'autoconfig.empty.test', '_submissions._tcp.empty.test',
        '_submission._tcp.empty.test', 'smtp.empty.test'])
        check(failure.includes(asked), `the failure names "${asked}": ${failure}`);
      check(r.steps.some((s) => s.source === 'guess'), 'guesses were made: ' + r.transcript);
      check(r.questions.length === 0, 'no question about plain HTTP for a host that does not exist: ' + r.questions);
      await shot(r.page, 'page-discover-nothing.png');
    },

    async discoverCancel() {
      // Cancel while the lookups are out: the flow ends at once ("cancelled"), and every request
      // the page still had open is aborted. The relay here takes the requests and never answers.
      const w = await start();
      const held = [];
      const silent = http.createServer((req) => { held.push(req); });
      await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const page = await openPage(w.pageUrl);
        await page.fill('[data-testid=proxy]', `ws://127.0.0.1:${silent.address().port}`);
        await page.fill('[data-testid=emailAddress]', 'frank@own.test');
        const id = await startRun(page, 'discoverButton');
        for (let i = 0; i < 100 && held.length < 6; ++i) await new Promise((r) => setTimeout(r, 50));
        check(held.length === 6 && held.every((r) => r.url.startsWith('/lookup?type=')),
          'the lookups reached the relay: ' + held.map((r) => r.url).join(' '));
        check(await page.isEnabled('[data-testid=cancelButton]') && await page.isDisabled('[data-testid=discoverButton]'), 'Cancel offered while it runs');
        await page.click('[data-testid=cancelButton]');
        const r = await waitForRun(page, id, 5000);
        check(!r.ok && (await text(page, 'discoveryFailure')).includes('cancelled'), await text(page, 'explanation'));
        for (let i = 0; i < 40 && !held.every((q) => q.socket.destroyed); ++i) await new Promise((res) => setTimeout(res, 50));
        check(held.every((q) => q.socket.destroyed), 'every open lookup was aborted');
      } finally {
        silent.closeAllConnections();
        silent.close();
      }
    },

    async discoverThroughTokenRelay() {
      // The site's relay token goes with every lookup (URL-encoded), as with relaying; the same
      // relay typed in by hand gets no token, and the steps say that the relay refused.
      const w = await start();
      const r = await discover('alice@own.test', false, w.tokenPageUrl);
      check(r.ok && r.form.server === 'smtp.own.test', `found through the token relay: ${r.status}\n${r.transcript}`);
      check(!r.transcript.includes('tok'), 'the token is not shown');
      await r.page.fill('[data-testid=proxy]', w.tokenRelayUrl + '/');
      const id = await startRun(r.page, 'discoverButton');
      check(!(await waitForRun(r.page, id)).ok, 'no token: nothing found');
      const steps = await r.page.$$eval('[data-testid=transcript] > .discoveryStep', (lines) => lines.map((l) => l.textContent).join('\n'));
      check(steps.includes('the relay refused the lookup (HTTP 403'), steps);
    },

    async discoverPlainHttpAsks() {
      // Autoconfig only over plain HTTP: used only after the person says yes, and then flagged.
      const r = await discover('erin@plainhttp.test', true);
      check(r.questions.length === 1 && r.questions[0].includes('http://autoconfig.plainhttp.test/'), 'the person was asked: ' + r.questions);
      check(r.ok && r.form.server === 'smtp.plainhttp.test' && r.form.security === 'starttls' && r.form.port === port('starttls'),
        `found after yes: ${r.status} ${JSON.stringify(r.form)}\n${r.transcript}`);
      check((await listed(r.page, 'discoveryWarnings')).includes('plain HTTP'), await listed(r.page, 'discoveryWarnings'));
      // Saying no: the document is not fetched over HTTP at all.
      const no = await discover('erin@plainhttp.test', false);
      check(!no.ok && no.steps.some((s) => s.text.includes('you chose not to trust')), `refused: ${no.status}\n${no.transcript}`);
    },
  };
}
