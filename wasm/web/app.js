// The SMTPc page: the desktop GUI's form and panels over the wasm engine (smtpc.js). The engine
// does SMTP, TLS and the diagnosis; this file only reads the form and shows events.
//
// Where settings come from, by trust (DESIGN.md, "Trust rules for the page"):
//   settings.json, next to the page  the site's own: relay, its token, the sandbox and its CA
//   localStorage                     what the person chose here (Test, Send, ticking remember)
//   the address bar                  a proposal: shown change by change, applied only on Apply
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const STORE = 'smtpc.settings';
  let site = {};         // settings.json: {relay, token, server, port, security, user, caFile}
  let smtpc = null;      // the module
  let client = null;     // one SmtpClient for the page's life
  let start = null;      // time of the first transcript entry
  let sending = false;
  let portEdited = false;
  let runs = 0;          // run ids: data-run-id when a run starts, data-finished-run when it ends
  let filledPassword = null;  // the remembered password while it sits, unedited, in the field

  // ---------------------------------------------------------------------------------------------
  // The form

  function defaultProxy() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.host || 'localhost:8025');
  }

  // Files the page trusts (its settings, a CA) come from its own origin only: never data:, blob:
  // or another site, and no redirect away. Resolves to the text, or null.
  async function fetchOwn(address) {
    let url = null;
    try { url = new URL(address, location.href); } catch (e) { return null; }
    if (url.origin !== location.origin || !/^https?:$/.test(url.protocol)) return null;
    const r = await fetch(url, { redirect: 'error', credentials: 'same-origin' }).catch(() => null);
    return r && r.ok ? r.text() : null;
  }

  async function loadSite() {
    try { site = JSON.parse((await fetchOwn('settings.json')) || '{}'); } catch (e) { site = {}; }
    if (site.caFile) site.caPem = (await fetchOwn(site.caFile)) || '';
  }

  // The site's relay token goes to the site's relay only, never to one typed in or linked to.
  function relayToken() {
    return site.token && site.relay && $('proxy').value.trim() === site.relay ? String(site.token) : '';
  }

  function fillPresets() {
    const select = $('preset');
    for (const p of smtpc.presets()) select.add(new Option(p.name, p.id));
    select.add(new Option('Other server', 'custom'));
  }

  function applyPreset(id) {
    const preset = smtpc.presets().find((p) => p.id === id);
    if (!preset) {
      $('presetNote').textContent = 'Enter your provider\'s SMTP server: its help pages name the host, the port and the ' +
        'security mode for "sending mail from other programs".';
      return;
    }
    const own = id === 'sandbox' ? site : {};  // the demo's sandbox: where settings.json says
    $('server').value = own.server || preset.host;
    $('security').value = own.security || preset.security;
    $('port').value = own.port || preset.port;
    if (own.user) $('username').value = own.user;
    portEdited = false;
    $('presetNote').textContent = preset.note;
    syncRememberedPassword();
    updateHints();
  }

  // The hints are core's (smtpc/form.h), as in the desktop app.
  function updateHints() {
    if (!smtpc) return;
    const warning = smtpc.securityHint($('security').value, Number($('port').value));
    $('securityWarning').textContent = warning;
    $('securityWarning').hidden = !warning;
    $('insecureWarning').hidden = !smtpc.insecureSwitches($('acceptInvalid').checked, $('allowPlaintext').checked);
    const fields = smtpc.credentialFields($('auth').value);
    $('password').disabled = !fields.password;
    $('token').disabled = !fields.token;
  }

  const remembered = ['preset', 'proxy', 'server', 'port', 'security', 'auth', 'username', 'ehlo', 'timeout', 'stopAfter',
    'pin', 'from', 'to'];

  function readStore() {
    try { return JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch (e) { return {}; }
  }

  // A remembered password belongs to the relay, server, port and user it was saved with.
  const bindingKeys = ['relay', 'server', 'port', 'user'];
  function binding() {
    return { relay: $('proxy').value.trim(), server: $('server').value.trim(), port: String($('port').value).trim(),
      user: $('username').value.trim() };
  }
  function storedPassword() {
    const p = readStore().password;
    return p && typeof p === 'object' && typeof p.value === 'string' ? p : null;  // older, unbound forms: never used
  }

  // The remembered password is in the field (and so sent) only while all four match.
  function syncRememberedPassword() {
    const stored = storedPassword();
    const now = binding();
    const matches = !!stored && bindingKeys.every((k) => stored[k] === now[k]);
    if (matches && !$('password').value) {
      $('password').value = filledPassword = stored.value;
    } else if (!matches && filledPassword !== null && $('password').value === filledPassword) {
      $('password').value = '';
      filledPassword = null;
    }
  }

  function loadSettings() {
    const saved = readStore();
    $('preset').value = saved.preset || 'sandbox';
    applyPreset($('preset').value);
    for (const key of remembered) if (saved[key] !== undefined && key !== 'preset') $(key).value = saved[key];
    if (!saved.proxy) $('proxy').value = site.relay || defaultProxy();
    if (site.caPem) $('caPem').value = site.caPem;
    portEdited = !!saved.portEdited;
    $('rememberPassword').checked = !!saved.rememberPassword;
    syncRememberedPassword();
    updateHints();
  }

  // Only the person's own actions call this: Test, Send, ticking "remember".
  function saveSettings() {
    const saved = { portEdited, rememberPassword: $('rememberPassword').checked };
    for (const key of remembered) saved[key] = $(key).value;
    if (saved.rememberPassword && $('password').value) saved.password = { value: $('password').value, ...binding() };
    else if (saved.rememberPassword) saved.password = storedPassword() || undefined;
    try { localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* private mode: not remembered */ }
  }

  // ---------------------------------------------------------------------------------------------
  // A link's proposals: [address bar key, form field]. Nothing is applied before the person has
  // seen every change listed in the page and pressed Apply.

  const linkKeys = [['proxy', 'proxy'], ['server', 'server'], ['port', 'port'], ['security', 'security'],
    ['user', 'username'], ['pin', 'pin'], ['acceptInvalid', 'acceptInvalid'], ['ca', 'caPem']];
  let linkChanges = [];

  function labelOf(id) {
    const label = document.querySelector(`label[for="${id}"]`) || $(id).closest('label');
    return label.textContent.trim();
  }

  function shown(field, value) {
    if (field.type === 'checkbox') return value ? 'on' : 'off';
    if (field.tagName === 'SELECT') return [...field.options].find((o) => o.value === value)?.text || value;
    return value === '' ? '(empty)' : value;
  }

  async function proposeLinkChanges() {
    const refused = [];
    linkChanges = [];
    for (const [key, id] of linkKeys) {
      if (!params.has(key)) continue;
      const field = $(id);
      let value = params.get(key);
      let to = null;
      if (id === 'caPem') {
        const pem = await fetchOwn(value);
        if (!pem) {
          const named = value.length > 60 ? value.slice(0, 57) + '…' : value;
          refused.push(`${labelOf(id)}: "${named}" is not a file of this page's own site, so it is not offered.`);
          continue;
        }
        to = `the certificate authority in ${new URL(value, location.href).pathname} (trusted for every server)`;
        value = pem;
      } else if (field.type === 'checkbox') {
        value = /^(1|true|yes|on)$/i.test(value);
        if (value === field.checked) continue;
      } else if (field.tagName === 'SELECT' && ![...field.options].some((o) => o.value === value)) {
        refused.push(`${labelOf(id)}: "${value}" is not a choice here.`);
        continue;
      }
      if (value === field.value) continue;
      const from = id === 'caPem' ? (field.value ? 'the CA now set' : '(none)') : shown(field, field.type === 'checkbox' ? field.checked : field.value);
      linkChanges.push({ id, value, label: labelOf(id), from, to: to || shown(field, value) });
    }
    if (!linkChanges.length && !refused.length) return;
    $('linkChanges').replaceChildren(...linkChanges.map((c) => {
      const li = el('li');
      li.dataset.field = c.id;
      li.append(el('b', c.label), `: ${c.from} → `, el('strong', c.to));
      return li;
    }));
    $('linkRefused').replaceChildren(...refused.map((r) => el('p', r)));
    $('linkApply').hidden = !linkChanges.length;
    $('linkPanel').hidden = false;
    $('linkPanel').focus();
  }

  function closeLinkPanel(apply) {
    for (const c of apply ? linkChanges : []) {
      if ($(c.id).type === 'checkbox') $(c.id).checked = c.value;
      else $(c.id).value = c.value;
      if (c.id === 'server') $('preset').value = 'custom';
      if (c.id === 'port') portEdited = true;
    }
    linkChanges = [];
    $('linkPanel').hidden = true;
    history.replaceState(null, '', location.pathname);  // decided: a reload does not ask again
    syncRememberedPassword();
    updateHints();
  }

  async function readFileText(input) {
    return input.files && input.files[0] ? await input.files[0].text() : '';
  }

  async function options() {
    return {
      proxy: $('proxy').value.trim(),
      relayToken: relayToken(),
      host: $('server').value.trim(),
      port: Number($('port').value),
      security: $('security').value,
      auth: $('auth').value,
      username: $('username').value.trim(),
      password: $('password').disabled ? '' : $('password').value,
      token: $('token').disabled ? '' : $('token').value,
      caPem: $('caPem').value,
      pins: $('pin').value,
      clientCertPem: await readFileText($('clientCert')),
      clientKeyPem: await readFileText($('clientKey')),
      acceptInvalid: $('acceptInvalid').checked,
      allowPlaintext: $('allowPlaintext').checked,
      ehlo: $('ehlo').value.trim(),
      timeoutSeconds: Number($('timeout').value) || 30,
      stopAfter: $('stopAfter').value,
    };
  }

  async function message() {
    const attachments = [];
    for (const file of $('attachments').files) {
      attachments.push({ name: file.name, type: file.type, data: new Uint8Array(await file.arrayBuffer()) });
    }
    const now = new Date();
    return {
      from: $('from').value.trim(),
      to: $('to').value,
      cc: $('cc').value,
      bcc: $('bcc').value,
      subject: $('subject').value,
      text: $('body').value,
      attachments,
      nowSeconds: Math.floor(now.getTime() / 1000),
      utcOffsetMinutes: -now.getTimezoneOffset(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The results

  function setStatus(text, kind) {
    $('status').textContent = text;
    $('status').className = kind || '';
  }

  function showProblem(headline, text) {
    setStatus('✗ ' + headline, 'failed');
    $('explanation').replaceChildren(el('p', text));
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  function showSteps(steps) {
    $('steps').replaceChildren(...steps.map((s) => {
      const li = el('li', s.label);
      li.dataset.step = s.name;
      li.dataset.status = s.status;
      li.title = `${s.label} (${s.status}): ${s.purpose}`;
      return li;
    }));
  }

  function addLine(parts) {
    const view = $('transcript');
    const line = document.createElement('div');
    for (const [text, cls] of parts) line.append(el('span', text, cls));
    const atBottom = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
    view.append(line);
    if (atBottom) view.scrollTop = view.scrollHeight;
  }

  function showCapabilities(e) {
    $('capabilitiesNote').textContent = `${e.serverName} offers, ${e.encrypted ? 'inside TLS' : 'in clear text (before any TLS)'}:`;
    const body = $('capabilities').tBodies[0];
    body.replaceChildren(...e.entries.map((c) => {
      const tr = document.createElement('tr');
      tr.append(el('td', c.keyword), el('td', c.params.join(' ')), el('td', c.meaning));
      return tr;
    }));
  }

  function showTls(info) {
    const good = info.verified && !info.acceptedDespiteErrors;
    $('tlsNote').textContent = good ? '✓ Encrypted inside this page, and the certificate was verified.'
      : '⚠ Encrypted, but the certificate was NOT verified: accepted only because you asked.';
    $('tlsNote').className = good ? 'ok' : 'bad';
    const box = $('tls');
    box.replaceChildren();
    const dl = (rows) => {
      const d = document.createElement('dl');
      for (const [k, v] of rows) d.append(el('dt', k), el('dd', v));
      return d;
    };
    box.append(dl([['Protocol', info.protocol], ['Cipher', info.cipher],
      ['Verification', good ? 'verified' : 'FAILED'], ...info.problems.map((p) => ['Problem', p])]));
    info.chain.forEach((c, i) => {
      box.append(el('h3', i === 0 ? 'Server certificate' : `Issuer certificate ${i}`));
      box.append(dl([['Subject', c.subject], ['Issuer', c.issuer], ['Valid', `${c.notBefore} to ${c.notAfter}`],
        ['Names (SANs)', c.names.join(', ')], ['SHA-256', c.sha256], ['Key pin', c.pin]]));
    });
  }

  function showFinished(e) {
    const d = e.diagnosis;
    if (e.ok) setStatus('✓ ' + (sending ? 'The message was accepted' : d.headline), 'ok');
    else setStatus('✗ ' + d.headline, 'failed');
    const parts = [el('p', d.explanation)];
    if (e.failedStep) {
      const li = [...$('steps').children].find((x) => x.dataset.step === e.failedStep);
      const p = el('p', 'It failed at ');
      p.append(el('b', li ? li.textContent : e.failedStep));
      if (li) p.append(': ' + li.title.replace(/^[^:]*: /, ''));
      parts.push(p);
    }
    if (d.serverSaid) {
      const p = el('p', 'The server said: ');
      p.append(el('code', d.serverSaid));
      parts.push(p);
    }
    if (d.suggestions.length) {
      parts.push(el('p', e.ok ? 'Note:' : 'What to try:'));
      const ul = document.createElement('ul');
      for (const s of d.suggestions) ul.append(el('li', s));
      parts.push(ul);
    }
    $('explanation').replaceChildren(...parts);
    $('resultWarning').textContent = d.warning;
    $('resultWarning').hidden = !d.warning;
    endRun(e.ok);
  }

  function onEvent(e) {
    switch (e.type) {
      case 'transcript': {
        if (start === null) start = e.at;
        addLine([[((e.at - start) / 1000).toFixed(3).padStart(7) + ' ', 't'], [e.prefix + ' ', e.kind], [e.text, e.kind]]);
        break;
      }
      case 'state':
        if (e.to !== 'Closed' && e.to !== 'Idle') setStatus(`Working: ${e.description}…`, 'busy');
        break;
      case 'steps': showSteps(e.steps); break;
      case 'capabilities': showCapabilities(e); break;
      case 'tls':
        showTls(e.info);
        addLine([[`──── TLS established inside this page (${e.info.protocol}, ${e.info.cipher}): everything below is encrypted; the relay sees ciphertext only ────`, 'boundary']]);
        break;
      case 'progress':
        if (e.total) { $('progress').max = e.total; $('progress').value = e.sent; }
        break;
      case 'finished': showFinished(e); break;
      default: break;
    }
  }

  function setRunning(running) {
    $('testButton').disabled = running || !smtpc;
    $('sendButton').disabled = running || !smtpc;
    $('cancelButton').disabled = !running;
    $('preset').disabled = running;
    document.body.dataset.running = running ? 'yes' : 'no';
  }

  // A new run shows at once: the old result goes in the click handler, before anything is
  // awaited, and the run gets an id so that nobody (a person, a test) mistakes the last result
  // for this one's.
  function beginRun(send) {
    document.body.dataset.runId = String(++runs);
    delete document.body.dataset.finished;
    setRunning(true);
    sending = send;
    start = null;
    $('transcript').replaceChildren();
    $('capabilities').tBodies[0].replaceChildren();
    $('capabilitiesNote').textContent = 'What the server offers appears here after EHLO.';
    $('tls').replaceChildren();
    $('tlsNote').className = '';
    $('explanation').replaceChildren();
    $('resultWarning').hidden = true;
    selectTab('tabTranscript');
    $('progress').hidden = !send;
    $('progress').removeAttribute('value');
    setStatus('Starting…', 'busy');
  }

  function endRun(ok) {
    $('progress').hidden = true;
    setRunning(false);
    document.body.dataset.finished = ok ? 'ok' : 'failed';
    document.body.dataset.finishedRun = document.body.dataset.runId;
  }

  function failRun(headline, text, tab) {
    showProblem(headline, text);
    if (tab) selectTab(tab);
    endRun(false);
  }

  async function run(send) {
    if (!smtpc || client.running() || document.body.dataset.running === 'yes') return;
    syncRememberedPassword();
    beginRun(send);
    const opts = await options();
    const needsEnvelope = smtpc.planRun(send, opts.stopAfter).needsEnvelope;
    const msg = needsEnvelope ? await message() : null;
    const bad = smtpc.checkServer(opts.host);  // before anything is remembered
    if (bad) return failProblem(bad);
    saveSettings();
    addLine([[`${send ? 'Sending a test message via' : 'Testing'} ${opts.host} port ${opts.port}, ${$('security').selectedOptions[0].text}, through ${opts.proxy}`, 'title']]);
    $('tlsNote').textContent = opts.security === 'none' ? 'No TLS: security mode None.' : 'The TLS details appear here once the connection is encrypted.';
    setStatus(`Connecting to ${opts.host} port ${opts.port}…`, 'busy');
    const why = send ? client.send(opts, msg, onEvent) : client.test(opts, msg, onEvent);
    if (why) failProblem(why);
  }

  // A mistake in the form, as core found it: {field, headline, explanation}.
  function failProblem(problem) {
    const onMessageTab = ['from', 'to', 'cc', 'bcc', 'subject', 'body'].includes(problem.field);
    failRun(problem.headline, problem.explanation, onMessageTab ? 'tabMessage' : null);
    if (problem.field && $(problem.field)) $(problem.field).focus();
  }

  function selectTab(id) {
    for (const b of document.querySelectorAll('[role=tab]')) {
      const on = b.getAttribute('aria-controls') === id;
      b.setAttribute('aria-selected', on);
      $(b.getAttribute('aria-controls')).hidden = !on;
    }
  }

  function transcriptText() {
    return [...$('transcript').children].map((line) => line.textContent).join('\n') + '\n';
  }

  // ---------------------------------------------------------------------------------------------

  function wire() {
    $('form').addEventListener('submit', (ev) => { ev.preventDefault(); run(false); });
    $('sendButton').addEventListener('click', () => run(true));
    $('cancelButton').addEventListener('click', () => client && client.cancel());
    document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && client && client.running()) client.cancel(); });
    $('preset').addEventListener('change', () => applyPreset($('preset').value));
    $('port').addEventListener('input', () => { portEdited = true; updateHints(); });
    $('security').addEventListener('change', () => {
      if (!portEdited && smtpc) $('port').value = smtpc.defaultPort($('security').value);
      updateHints();
      if (smtpc && !client.running()) showSteps(smtpc.plannedSteps({ security: $('security').value, username: $('username').value }, false));
    });
    for (const id of ['auth', 'acceptInvalid', 'allowPlaintext']) $(id).addEventListener('change', updateHints);
    $('showPassword').addEventListener('click', () => {
      const shown = $('password').type === 'password';
      $('password').type = shown ? 'text' : 'password';
      $('showPassword').textContent = shown ? 'Hide' : 'Show';
      $('showPassword').setAttribute('aria-pressed', shown);
    });
    $('rememberPassword').addEventListener('change', () => {
      $('rememberNote').hidden = !$('rememberPassword').checked;
      saveSettings();
    });
    for (const id of ['proxy', 'server', 'port', 'username']) $(id).addEventListener('input', syncRememberedPassword);
    $('password').addEventListener('input', () => { filledPassword = null; });
    $('linkApply').addEventListener('click', () => closeLinkPanel(true));
    $('linkIgnore').addEventListener('click', () => closeLinkPanel(false));
    $('caFile').addEventListener('change', async () => { $('caPem').value = await readFileText($('caFile')); });
    for (const b of document.querySelectorAll('[role=tab]')) b.addEventListener('click', () => selectTab(b.getAttribute('aria-controls')));
    $('copyTranscript').addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(transcriptText()));
    $('saveTranscript').addEventListener('click', () => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([transcriptText()], { type: 'text/plain' }));
      a.download = `smtpc-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
      a.click();
      URL.revokeObjectURL(a.href);
    });
  }

  async function boot() {
    wire();
    setRunning(false);
    try {
      const [module, bundle] = await Promise.all([createSmtpc(), fetch('ca-bundle.pem').then((r) => {
        if (!r.ok) throw new Error('ca-bundle.pem: HTTP ' + r.status);
        return r.text();
      })]);
      smtpc = module;
      smtpc.setCaBundle(bundle);
      client = new smtpc.SmtpClient();
      await loadSite();
    } catch (err) {
      $('loading').textContent = 'The SMTP engine could not be loaded: ' + err;
      return;
    }
    fillPresets();
    loadSettings();
    $('rememberNote').hidden = !$('rememberPassword').checked;
    await proposeLinkChanges();
    showSteps(smtpc.plannedSteps({ security: $('security').value, username: $('username').value }, false));
    $('loading').hidden = true;
    if (!smtpc.entropyOk()) {
      showProblem('No safe random numbers', 'This browser gives no good random numbers, so TLS cannot be made safe here.');
    }
    setRunning(false);
    document.body.dataset.ready = 'yes';
  }

  boot();
}());
