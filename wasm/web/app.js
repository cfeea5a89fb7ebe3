// The SMTPc page: DOM glue over the wasm engine (smtpc.js). Every rule — the fields and their
// lists, validation, hints, what a run does, which account a remembered password belongs to, what
// a link may propose, and the words of every result — is core's (smtpc/form.h, smtpc/views.h);
// this file reads the fields by core's ids, stores and fetches, and shows what comes back.
//
// Where settings come from, by trust (DESIGN.md, "Trust rules for the page"):
//   settings.json, next to the page  the site's own: relay, its token, the sandbox and its CA
//   localStorage                     what the person chose here (Test, Send, ticking remember)
//   the address bar                  a proposal: shown change by change, applied only on Apply
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const STORE = 'smtpc.settings';
  let site = {};         // settings.json: {relay, token, server, port, security, user, caFile, sandbox}
  let smtpc = null;      // the module
  let client = null;     // one SmtpClient for the page's life
  let fields = [];       // core's field table: [{id, label, kind, remembered, linkKey, choices}]
  let portEdited = false;
  let filledPassword = null;  // the remembered password while it sits, unedited, in the field
  let link = null;       // the link's proposals while the panel is open

  const { el, show } = window.smtpcResults;
  const view = window.smtpcResults;  // the results side (results.js)
  const teach = window.smtpcTeach;   // teaching mode: explain a line, step mode, reports, lessons (teach.js)
  const onEvent = (e) => { view.onEvent(e); teach.onEvent(e); };

  // ---------------------------------------------------------------------------------------------
  // The form, read and written by core's field ids

  const read = (id) => ($(id).type === 'checkbox' ? $(id).checked : $(id).type === 'file' ? '' : $(id).value);
  const write = (id, value) => { if ($(id).type === 'checkbox') $(id).checked = !!value; else $(id).value = value; };
  const formValues = () => Object.fromEntries(fields.map((f) => [f.id, read(f.id)]));
  const readFileText = async (input) => (input.files && input.files[0] ? input.files[0].text() : '');

  // Files the page trusts (its settings, a CA) come from its own origin only: never data:, blob:
  // or another site, and no redirect away. Resolves to the text, or null.
  async function fetchOwn(address) {
    let url = null;
    try { url = new URL(address, location.href); } catch (e) { return null; }
    if (url.origin !== location.origin || !/^https?:$/.test(url.protocol)) return null;
    const r = await fetch(url, { redirect: 'error', credentials: 'same-origin' }).catch(() => null);
    return r && r.ok ? r.text() : null;
  }

  // The site's relay token goes to the site's relay only, never to one typed in or linked to.
  const relayToken = () => (site.token && site.relay && $('proxy').value.trim() === site.relay ? String(site.token) : '');

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

  // Settings discovery found these (by core's field ids: server, port, security, username).
  function applyFound(values) {
    for (const [id, v] of Object.entries(values)) write(id, v);
    [$('preset').value, $('presetNote').textContent, portEdited] = ['custom', '', true];
    syncRememberedPassword();
    updateHints();
  }

  function updateHints() {
    const hints = smtpc.formHints(formValues());
    show('securityWarning', hints.securityWarning);
    $('insecureWarning').hidden = !hints.insecure;
    $('password').disabled = !hints.password;
    $('token').disabled = !hints.token;
    $('signIn').hidden = !hints.signIn;
    for (const id of ['oauthIssuer', 'tenant']) $(id).hidden = document.querySelector(`label[for=${id}]`).hidden = !hints[id];
  }

  function readStore() {
    try { return JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch (e) { return {}; }
  }
  function storedPassword() {  // {value, relay, server, port, user}; older, unbound forms are never used
    const p = readStore().password;
    return p && typeof p === 'object' && typeof p.value === 'string' ? p : null;
  }

  // The remembered password is in the field (and so sent) only for the account it was saved for.
  function syncRememberedPassword() {
    const stored = storedPassword();
    const unedited = filledPassword !== null && $('password').value === filledPassword;
    const action = smtpc.passwordAction(stored, formValues(), unedited);
    if (action === 'fill') $('password').value = filledPassword = stored.value;
    if (action === 'clear') [$('password').value, filledPassword] = ['', null];
  }

  function loadSettings() {
    const saved = readStore();
    $('preset').value = saved.preset || 'sandbox';
    applyPreset($('preset').value);
    for (const f of fields) if (f.remembered && saved[f.id] !== undefined) write(f.id, saved[f.id]);
    if (!saved.proxy) $('proxy').value = site.relay || (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.host || 'localhost:8025');
    if (site.caPem) $('caPem').value = site.caPem;
    portEdited = !!saved.portEdited;
    $('rememberPassword').checked = !!saved.rememberPassword;
    syncRememberedPassword();
    updateHints();
  }

  // Only the person's own actions call this: a run the form allowed, ticking "remember".
  function saveSettings() {
    const values = formValues();
    const saved = { preset: $('preset').value, portEdited, rememberPassword: $('rememberPassword').checked };
    for (const f of fields) if (f.remembered) saved[f.id] = values[f.id];
    if (saved.rememberPassword) saved.password = values.password ? { value: values.password, ...smtpc.account(values) } : storedPassword() || undefined;
    try { localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* private mode: not remembered */ }
  }

  // A link's proposals, listed "old → new" by core; nothing is applied before Apply.
  async function proposeLinkChanges() {
    const params = new URLSearchParams(location.search);
    const named = params.get('ca');
    let path = '';
    try { path = named === null ? '' : new URL(named, location.href).pathname; } catch (e) { /* refused by core */ }
    const ca = named === null ? null : { named, path, pem: (await fetchOwn(named)) || '' };
    link = smtpc.reviewLink([...params.entries()], formValues(), ca);
    if (!link.changes.length && !link.refused.length) return;
    $('linkChanges').replaceChildren(...link.changes.map((c) => {
      const li = el('li');
      li.dataset.field = c.field;
      li.append(el('b', c.label), `: ${c.from} → `, el('strong', c.to));
      return li;
    }));
    $('linkRefused').replaceChildren(...link.refused.map((r) => el('p', r)));
    $('linkApply').hidden = !link.changes.length;
    $('linkPanel').hidden = false;
    $('linkPanel').focus();
  }

  function closeLinkPanel(apply) {
    if (apply) {
      for (const c of link.changes) write(c.field, c.value);
      if (link.customServer) $('preset').value = 'custom';
      if (link.portChosen) portEdited = true;
    }
    link = null;
    $('linkPanel').hidden = true;
    history.replaceState(null, '', location.pathname);  // decided: a reload does not ask again
    syncRememberedPassword();
    updateHints();
  }

  // ---------------------------------------------------------------------------------------------
  // A run

  // `signedIn`: the test that ends a sign-in, in the same run (signin.js).
  async function run(send, signedIn) {
    if (!smtpc || client.running() || (document.body.dataset.running === 'yes' && !signedIn)) return;
    syncRememberedPassword();
    if (!signedIn) view.begin(send);
    teach.begin();
    const values = formValues();
    for (const f of fields) if ($(f.id).type === 'file') values[f.id] = await readFileText($(f.id));
    const now = new Date();
    Object.assign(values, { relayToken: relayToken(), nowSeconds: Math.floor(now / 1000), utcOffsetMinutes: -now.getTimezoneOffset(),
      attachments: send ? await Promise.all([...$('attachments').files].map(async (f) => ({ name: f.name, type: f.type, data: new Uint8Array(await f.arrayBuffer()) }))) : [] });
    const target = `${values.server.trim()} port ${values.port}, ${$('security').selectedOptions[0].text}`;
    view.addLine([[`${send ? 'Sending a test message via' : 'Testing'} ${target}, through ${values.proxy}`, 'title']]);
    $('tlsNote').textContent = values.security === 'none' ? 'No TLS: security mode None.' : 'The TLS details appear here once the connection is encrypted.';
    view.setStatus(`Connecting to ${target}…`, 'busy');
    const problem = send ? client.send(values, onEvent) : client.test(values, onEvent);
    if (!problem) return saveSettings();  // a run the form allowed is remembered, a mistake is not
    view.problem(problem);
    view.end(false);
    teach.refused();
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
      if (!portEdited) $('port').value = smtpc.defaultPort($('security').value);
      updateHints();
      if (!client.running()) view.showSteps(smtpc.plannedSteps(formValues(), false));
    });
    for (const id of ['auth', 'acceptInvalid', 'allowPlaintext', 'oauthProvider']) $(id).addEventListener('change', updateHints);
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
    view.wire();
    window.smtpcSignIn.wire({ smtpc, view, formValues, test: () => run(false, true) });
    teach.wire({ smtpc, client, site, fill: applyFound, send: () => run(true) });
    window.smtpcDiscover.wire({ smtpc, view, formValues, relayToken, site, fill: applyFound, save: saveSettings });
    window.smtpcConsole.wire({ smtpc, formValues, relayToken });  // type it yourself (console.js)
  }

  async function boot() {
    if (window.smtpcSignIn.isCallback) return;  // this page is the sign-in's popup: signin.js answers
    view.setRunning(false, false);
    try {
      const [module, bundle] = await Promise.all([createSmtpc(), fetch('ca-bundle.pem').then((r) => {
        if (!r.ok) throw new Error('ca-bundle.pem: HTTP ' + r.status);
        return r.text();
      })]);
      smtpc = module;
      smtpc.setCaBundle(bundle);
      client = new smtpc.SmtpClient();
      fields = smtpc.fields();
      try { site = JSON.parse((await fetchOwn('settings.json')) || '{}'); } catch (e) { site = {}; }
      if (site.caFile) site.caPem = (await fetchOwn(site.caFile)) || '';
    } catch (err) {
      $('loading').textContent = 'The SMTP engine could not be loaded: ' + err;
      return;
    }
    for (const f of fields) if (f.choices.length) $(f.id).replaceChildren(...f.choices.map(([value, text]) => new Option(text, value)));
    for (const p of smtpc.presets()) $('preset').add(new Option(p.name, p.id));
    $('preset').add(new Option('Other server', 'custom'));
    wire();
    loadSettings();
    $('rememberNote').hidden = !$('rememberPassword').checked;
    await proposeLinkChanges();
    view.showSteps(smtpc.plannedSteps(formValues(), false));
    $('loading').hidden = true;
    if (!smtpc.entropyOk()) {
      view.problem({ field: '', headline: 'No safe random numbers', explanation: 'This browser gives no good random numbers, so TLS cannot be made safe here.' });
    }
    view.setRunning(false, true);
    document.body.dataset.ready = 'yes';
  }

  boot();
}());
