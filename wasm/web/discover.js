// The SMTPc page's settings discovery ("Find settings", issue 15): DOM and network glue over
// core's flow (smtpc.Discovery, smtpc/discovery.h), which runs inside the module and probes the
// servers it finds through the relay, as the Test button connects. This file only
//   - asks the relay's lookup endpoint (smtpc-proxy --lookup) for the DNS answers and documents
//     the flow wants: the module hands over each request with its lookupUrl ready;
//   - reads an autoconfig document with DOMParser into the plain ClientConfig core reasons about,
//     refusing a DOCTYPE (entities) and anything that is not XML;
//   - asks the person before settings over plain HTTP are used;
//   - shows each step in the transcript as it comes, fills in the form from the outcome and shows
//     the reasoning core wrote (decidedBy, reasons, warnings, advice, disagreements, or failure).
'use strict';

window.smtpcDiscover = (function () {
  const $ = (id) => document.getElementById(id);
  let suffixes = null;  // the Public Suffix List, once loaded into the module (a promise)
  let current = null;   // the running smtpc.Discovery

  // ---------------------------------------------------------------------------------------------
  // The relay's lookup endpoint (smtpc/relay.h, kLookupPath)

  // The relay's JSON answer, or {status: 'failed', error} in words a person can act on.
  async function askRelay(url, signal) {
    let r = null;
    try {
      r = await fetch(url, { signal, credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer' });
    } catch (e) {
      if (signal.aborted) return null;
      return { status: 'failed', error: `the relay's lookup endpoint gave no answer (${e && e.message || e}): check that ` +
        'smtpc-proxy runs with --lookup and allows this page\'s origin' };
    }
    let json = null;
    try { json = await r.json(); } catch (e) { /* said below */ }
    if (signal.aborted) return null;
    if (r.status === 404) return { status: 'failed', error: 'the relay offers no lookups (smtpc-proxy without --lookup)' };
    if (!r.ok) return { status: 'failed', error: `the relay refused the lookup (HTTP ${r.status}${json && json.error ? ': ' + json.error : ''})` };
    if (!json || typeof json !== 'object' || typeof json.status !== 'string') return { status: 'failed', error: 'the relay\'s answer was not JSON' };
    return json;
  }

  // ---------------------------------------------------------------------------------------------
  // Thunderbird's clientConfig (config-v1.1.xml), read into discovery.h's ClientConfig

  const children = (parent, name) => [...parent.children].filter((e) => e.localName === name);
  const text = (parent, name) => { const e = children(parent, name)[0]; return e ? e.textContent.trim() : ''; };

  // {config} or {error}: one sentence, as core puts it in the transcript.
  function readClientConfig(body, maxBytes) {
    const bytes = new TextEncoder().encode(body).length;
    if (bytes > maxBytes) return { error: `larger than ${maxBytes} bytes (${bytes}): refused` };
    // Entities are refused before any parser sees them: no expansion, no external fetch.
    if (/<!DOCTYPE|<!ENTITY/i.test(body)) return { error: 'a DOCTYPE (entities) is refused: a settings document needs none' };
    const doc = new DOMParser().parseFromString(body, 'application/xml');
    const broken = doc.getElementsByTagName('parsererror')[0];
    if (broken) return { error: 'not XML: ' + broken.textContent.trim().split('\n')[0].slice(0, 200) };
    if (doc.doctype) return { error: 'a DOCTYPE (entities) is refused: a settings document needs none' };
    const root = doc.documentElement;
    if (!root || root.localName !== 'clientConfig') return { error: `not a clientConfig document (its root is <${root ? root.localName : '?'}>)` };
    const provider = children(root, 'emailProvider')[0];
    if (!provider) return { error: 'a clientConfig without an emailProvider' };
    return {
      config: {
        providerId: provider.getAttribute('id') || '',
        displayName: text(provider, 'displayName'),
        domains: children(provider, 'domain').map((d) => d.textContent.trim()),
        outgoing: children(provider, 'outgoingServer').filter((s) => s.getAttribute('type') === 'smtp').map((s) => ({
          hostname: text(s, 'hostname'), port: text(s, 'port'), socketType: text(s, 'socketType'), username: text(s, 'username'),
          authentication: children(s, 'authentication').map((a) => a.textContent.trim()),
        })),
      },
    };
  }

  // The relay's answer for a document, as core's DocumentAnswer {status, config, nameNotFound, error}.
  function documentAnswer(json, maxBytes) {
    if (json.status !== 'ok') return { status: 0, config: null, nameNotFound: json.status === 'nxdomain', error: json.error || json.status };
    if (json.http !== 200) return { status: Number(json.http) || 0, config: null, error: '' };
    const read = readClientConfig(String(json.body || ''), maxBytes);
    return { status: 200, config: read.config || null, error: read.error || '' };
  }

  // ---------------------------------------------------------------------------------------------
  // One run

  function publicSuffixes(smtpc) {
    if (!suffixes) {
      suffixes = fetch('public_suffix_list.dat', { credentials: 'same-origin' })
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => '')
        .then((list) => smtpc.setPublicSuffixList(list));
    }
    return suffixes;
  }

  // Runs one discovery with the form's values; `on` = {step(s), finished(outcome)}.
  // Returns null when started, else the form's problem {field, headline, explanation}.
  function run(smtpc, options, on) {
    const discovery = new smtpc.Discovery();
    const inFlight = new Map();  // id → AbortController
    const perform = async (out, answer) => {
      const abort = new AbortController();
      inFlight.set(out.id, abort);
      const json = await askRelay(out.lookupUrl, abort.signal);
      if (!inFlight.delete(out.id) || !json) return;  // cancelled meanwhile: no answer is expected
      answer(json);
    };
    const problem = discovery.start(options, (out) => {
      if (out.type === 'dns') {
        perform(out, (json) => discovery.onDnsAnswer(out.id, json));
      } else if (out.type === 'document') {
        perform(out, (json) => discovery.onDocument(out.id, documentAnswer(json, out.maxBytes)));
      } else if (out.type === 'confirm') {
        inFlight.set(out.id, new AbortController());
        setTimeout(() => {  // from a fresh turn: never a modal dialog inside the module's call
          if (!inFlight.delete(out.id)) return;
          discovery.onConfirmed(out.id, window.confirm(`${out.question}\n\n${out.url}`));
        }, 0);
      } else if (out.type === 'cancel') {
        const abort = inFlight.get(out.id);
        inFlight.delete(out.id);
        if (abort) abort.abort();
      } else if (out.type === 'step') {
        on.step(out);
      } else if (out.type === 'finished') {
        for (const abort of inFlight.values()) abort.abort();
        inFlight.clear();
        current = null;
        on.finished(out.outcome);
        setTimeout(() => discovery.delete(), 0);  // not from inside its own call
      }
    });
    if (problem) discovery.delete();
    else if (current === null && discovery.running()) current = discovery;
    return problem;
  }

  // ---------------------------------------------------------------------------------------------
  // The view: steps in the transcript, the outcome beside it

  const ms = (n) => `${Math.round(n)} ms`.padStart(8);

  function showStep(view, s) {
    const line = view.addLine([[ms(s.ms) + '  ', 't'], [s.label.padEnd(24) + ' ', 'info'], [s.query, 'client'],
      ['  →  ' + s.result, s.found ? 'server' : 'info']]);
    line.title = s.what;
    Object.assign(line.dataset, { source: s.source, found: s.found ? 'yes' : 'no' });
    line.classList.add('discoveryStep');
  }

  function list(el, title, items, testid, className) {
    if (!items.length) return [];
    const ul = el('ul', undefined, className);
    ul.dataset.testid = testid;
    ul.append(...items.map((i) => el('li', i)));
    return [el('p', title), ul];
  }

  function showOutcome(view, o) {
    const { el } = view;
    if (!o.found) {
      view.setStatus('✗ No settings found', 'failed');
      const p = el('p', o.failure);
      p.dataset.testid = 'discoveryFailure';
      $('explanation').replaceChildren(p, ...list(el, 'What was tried:', o.tried.map((t) => `${t.candidate}, from ${t.source}: ${t.detail}`), 'discoveryTried'));
      return;
    }
    view.setStatus(`✓ Found: ${o.chosen}`, 'ok');
    const decided = el('p', o.decidedBy);
    decided.dataset.testid = 'discoveryDecidedBy';
    $('explanation').replaceChildren(decided,
      ...list(el, 'Warnings:', o.warnings, 'discoveryWarnings', 'warning'),
      ...list(el, 'Why this one:', o.reasons, 'discoveryReasons'),
      ...list(el, 'What the provider wants:', o.advice, 'discoveryAdvice'),
      ...list(el, 'Where the sources disagree:', o.disagreements, 'discoveryDisagreements'),
      ...list(el, 'Servers, best first:', o.tried.map((t) => `${t.candidate}, from ${t.source}: ${t.verdict}${t.detail ? ' — ' + t.detail : ''}`), 'discoveryTried'));
    view.show('resultWarning', o.warnings.length ? '⚠ ' + o.warnings[0] : '');
  }

  // page: {smtpc, view, formValues(), relayToken(), site, fill(values), save()} from app.js.
  function wire(page) {
    const { smtpc, view } = page;
    const start = async () => {
      if (document.body.dataset.running === 'yes') return;
      view.begin(false);
      const values = page.formValues();
      view.addLine([[`Finding the settings for ${values.emailAddress.trim() || '(no address)'}, through ${values.proxy}`, 'title']]);
      view.setStatus('Looking up the settings…', 'busy');
      await publicSuffixes(smtpc);
      const options = { address: values.emailAddress.trim(), proxy: values.proxy, relayToken: page.relayToken(),
        caPem: values.caPem, ehlo: values.ehlo, ispdbBase: page.site.ispdb || '' };
      const problem = run(smtpc, options, {
        step: (s) => showStep(view, s),
        finished: (outcome) => {
          if (outcome.found) {
            page.fill(outcome.settings);
            view.showSteps(smtpc.plannedSteps(page.formValues(), false));  // what Test will now do
            view.addLine([[`=== Filled in: ${outcome.chosen}${outcome.settings.username ? ', user ' + outcome.settings.username : ''}. Press Test connection to log in.`, 'info']]);
            page.save();
          }
          showOutcome(view, outcome);
          view.end(outcome.found);
        },
      });
      if (problem) return [view.problem(problem), view.end(false)];
      page.save();  // the address, remembered as a run remembers its form
    };
    $('discoverButton').addEventListener('click', start);
    $('emailAddress').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { ev.preventDefault(); start(); }
    });
    $('cancelButton').addEventListener('click', () => current && current.cancel());
    document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && current) current.cancel(); });
  }

  return { wire, readClientConfig };
}());
