// The SMTPc page: the desktop GUI's form and panels over the wasm engine (smtpc.js). The engine
// does SMTP, TLS and the diagnosis; this file only reads the form and shows events.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const STORE = 'smtpc.settings';
  let smtpc = null;      // the module
  let client = null;     // one SmtpClient for the page's life
  let start = null;      // time of the first transcript entry
  let sending = false;
  let portEdited = false;

  // ---------------------------------------------------------------------------------------------
  // The form

  function defaultProxy() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.host || 'localhost:8025');
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
    const sandbox = id === 'sandbox';
    $('server').value = sandbox && params.get('server') ? params.get('server') : preset.host;
    $('security').value = preset.security;
    $('port').value = sandbox && params.get('port') ? params.get('port') : preset.port;
    portEdited = false;
    $('presetNote').textContent = preset.note;
    updateHints();
  }

  function updateHints() {
    const mode = $('security').value;
    const port = Number($('port').value);
    let warning = '';
    if (mode === 'none') warning = 'Nothing is encrypted: the whole conversation can be read on the way.';
    else if (mode === 'starttls-if-offered') warning = 'Unsafe: if STARTTLS is missing (or removed by an attacker), SMTPc goes on in clear text.';
    if (mode === 'tls' && (port === 25 || port === 587)) warning = `Port ${port} usually starts in clear text: choose STARTTLS, or port 465.`;
    else if (mode !== 'tls' && port === 465) warning = 'Port 465 usually expects TLS from the first byte: choose Implicit TLS.';
    $('securityWarning').textContent = warning;
    $('securityWarning').hidden = !warning;
    $('insecureWarning').hidden = !($('acceptInvalid').checked || $('allowPlaintext').checked);
    const oauth = ['XOAUTH2', 'OAUTHBEARER'].includes($('auth').value);
    $('password').disabled = oauth;
    $('token').disabled = !(oauth || $('auth').value === 'AUTO');
  }

  const remembered = ['preset', 'proxy', 'server', 'port', 'security', 'auth', 'username', 'ehlo', 'timeout', 'stopAfter',
    'pin', 'from', 'to'];

  function loadSettings() {
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(STORE) || '{}'); } catch (e) { saved = {}; }
    $('preset').value = saved.preset || 'sandbox';
    applyPreset($('preset').value);
    for (const key of remembered) if (saved[key] !== undefined && key !== 'preset') $(key).value = saved[key];
    portEdited = !!saved.portEdited;
    $('rememberPassword').checked = !!saved.rememberPassword;
    if (saved.rememberPassword && saved.password) $('password').value = saved.password;
    // The address bar (the demo's link) wins over remembered settings.
    if (params.get('server')) { $('preset').value = 'sandbox'; applyPreset('sandbox'); }
    for (const [key, id] of [['security', 'security'], ['user', 'username']]) if (params.get(key)) $(id).value = params.get(key);
    if (params.get('port')) { $('port').value = params.get('port'); portEdited = true; }
    $('proxy').value = params.get('proxy') || saved.proxy || defaultProxy();
    if (params.get('ca')) {
      fetch(params.get('ca')).then((r) => (r.ok ? r.text() : '')).then((pem) => { if (pem) $('caPem').value = pem; });
    }
    updateHints();
  }

  function saveSettings() {
    const saved = { portEdited, rememberPassword: $('rememberPassword').checked };
    for (const key of remembered) saved[key] = $(key).value;
    if (saved.rememberPassword) saved.password = $('password').value;
    try { localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* private mode: not remembered */ }
  }

  function splitAddresses(text) {
    const out = [];
    let current = '';
    let quoted = false;
    for (const c of text) {
      if (c === '"') quoted = !quoted;
      if (!quoted && (c === ',' || c === ';' || c === '\n')) {
        if (current.trim()) out.push(current.trim());
        current = '';
      } else current += c;
    }
    if (current.trim()) out.push(current.trim());
    return out;
  }

  async function readFileText(input) {
    return input.files && input.files[0] ? await input.files[0].text() : '';
  }

  async function options() {
    return {
      proxy: $('proxy').value.trim(),
      host: $('server').value.trim(),
      port: Number($('port').value),
      security: $('security').value,
      auth: $('auth').value,
      username: $('username').value.trim(),
      password: $('password').disabled ? '' : $('password').value,
      token: $('token').disabled ? '' : $('token').value,
      caPem: $('caPem').value,
      pins: $('pin').value.split(',').map((s) => s.trim()).filter(Boolean),
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
      to: splitAddresses($('to').value),
      cc: splitAddresses($('cc').value),
      bcc: splitAddresses($('bcc').value),
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
    $('progress').hidden = true;
    setRunning(false);
    document.body.dataset.finished = e.ok ? 'ok' : 'failed';
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

  async function run(send) {
    if (!smtpc || client.running()) return;
    const opts = await options();
    const needsEnvelope = send || opts.stopAfter === 'mail' || opts.stopAfter === 'rcpt';
    const msg = needsEnvelope ? await message() : null;
    if (!opts.host) return showProblem('No server', 'Enter the server\'s name, for example smtp.example.com.');
    if (/[\s/@]/.test(opts.host)) {
      return showProblem('That is not a server name',
        'Enter only the host name, like smtp.example.com: no spaces, no "smtp://", no e-mail address.');
    }
    saveSettings();
    sending = send;
    start = null;
    delete document.body.dataset.finished;
    $('transcript').replaceChildren();
    addLine([[`${send ? 'Sending a test message via' : 'Testing'} ${opts.host} port ${opts.port}, ${$('security').selectedOptions[0].text}, through ${opts.proxy}`, 'title']]);
    $('capabilities').tBodies[0].replaceChildren();
    $('capabilitiesNote').textContent = 'What the server offers appears here after EHLO.';
    $('tls').replaceChildren();
    $('tlsNote').textContent = opts.security === 'none' ? 'No TLS: security mode None.' : 'The TLS details appear here once the connection is encrypted.';
    $('tlsNote').className = '';
    $('explanation').replaceChildren();
    selectTab('tabTranscript');
    $('progress').hidden = !send;
    $('progress').removeAttribute('value');
    setStatus(`Connecting to ${opts.host} port ${opts.port}…`, 'busy');
    setRunning(true);
    const why = send ? client.send(opts, msg, onEvent) : client.test(opts, needsEnvelope ? msg : null, onEvent);
    if (why) {
      setRunning(false);
      $('progress').hidden = true;
      if (needsEnvelope) selectTab('tabMessage');
      showProblem(needsEnvelope ? 'The test message is not ready' : 'Not started', why);
    }
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
      if ($('rememberPassword').checked) $('presetNote').textContent = 'The password will be kept in plain text in this browser\'s local storage for this page.';
      saveSettings();
    });
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
    } catch (err) {
      $('loading').textContent = 'The SMTP engine could not be loaded: ' + err;
      return;
    }
    fillPresets();
    loadSettings();
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
