// Type it yourself (issue 17): the page's Console tab, as the desktop's
// (qtapp/gui/mainwindow_console.cpp) and `smtpc --interactive`. The learner types the SMTP
// commands to the form's server; core's smtpc::Console (smtpc.SmtpConsole) sends them as typed and
// does what no person can by hand — the TLS handshake after STARTTLS's 220, base64 for AUTH (its
// helper asks for the user and password here), dot-stuffing in DATA — and holds back a command
// that cannot work now with a warning until the learner sends it anyway. A click on a line says
// what it means (smtpc.explainLine). Everything the server wrote is shown as text, never markup.
// app.js wires it: window.smtpcConsole.wire({smtpc, formValues, relayToken}).
'use strict';

window.smtpcConsole = (function () {
  const $ = (id) => document.getElementById(id);
  const { el } = window.smtpcResults;
  let ctx = null;      // {smtpc, formValues(), relayToken()} from app.js
  let console_ = null; // one SmtpConsole for the page's life
  let start = null;    // time of the first line, for the seconds column
  let open = false;    // connecting or connected

  function setState(text, state) {
    $('consoleState').textContent = text;
    document.body.dataset.consoleState = state;
  }

  function updateButtons() {
    $('consoleConnect').disabled = open;
    $('consoleClose').disabled = !open;
    $('consoleSend').disabled = !open;
  }

  const addLine = (parts) => window.smtpcResults.addLine(parts, $('consoleTranscript'));

  function explain(line) {
    const x = ctx.smtpc.explainLine(line.dataset.kind, line.dataset.text);
    const parts = [el('code', `${line.dataset.prefix} ${line.dataset.text}`), el('b', x.title)];
    for (const paragraph of x.text.split('\n').filter(Boolean)) parts.push(el('p', paragraph));
    if (x.references.length) parts.push(el('p', 'Read: ' + x.references.join(' · '), 'refs'));
    $('consoleExplanation').replaceChildren(...parts);
  }

  // A command held back: why, and (unless it can never be sent) Send anyway.
  function showWarning(w) {
    $('consoleWarningText').textContent = w.why;
    $('consoleSendAnyway').hidden = !w.canSend;
    $('consoleWarning').hidden = false;
  }

  function onEvent(e) {
    if (e.type === 'transcript') {
      if (start === null) start = e.at;
      const line = addLine([[((e.at - start) / 1000).toFixed(3).padStart(7) + ' ', 't'], [e.prefix + ' ', e.kind], [e.text, e.kind]]);
      Object.assign(line.dataset, { kind: e.kind, prefix: e.prefix, text: e.text });
    } else if (e.type === 'tls') {
      addLine([[e.view.boundary, 'boundary']]);
    } else if (e.type === 'state') {
      setState('State: ' + e.to, e.to);
    } else if (e.type === 'warning') {
      showWarning(e);
    } else if (e.type === 'credentials') {
      $('consoleCredentialsWhy').textContent = e.why;
      if (!$('consoleUser').value) $('consoleUser').value = ctx.formValues().username || '';
      $('consoleCredentials').hidden = false;
      $('consolePassword').focus();
    } else if (e.type === 'finished') {
      open = false;
      setState(e.ok ? 'Closed.' : 'Closed: ' + e.error, 'closed');
      $('consoleWarning').hidden = $('consoleCredentials').hidden = true;
      $('consolePassword').value = '';
      updateButtons();
    }
  }

  async function connect() {
    if (open) return;
    const values = ctx.formValues();
    for (const id of Object.keys(values)) {  // certificates given as files (the client certificate)
      const input = $(id);
      if (input && input.type === 'file') values[id] = input.files && input.files[0] ? await input.files[0].text() : '';
    }
    values.relayToken = ctx.relayToken();
    $('consoleTranscript').replaceChildren();
    $('consoleExplanation').textContent = 'Click a line to see what it means.';
    $('consoleWarning').hidden = $('consoleCredentials').hidden = true;
    start = null;
    const problem = console_.connect(values, onEvent);
    if (problem) {
      setState(`Not connected: ${problem.headline}. ${problem.explanation}`, 'closed');
      return;
    }
    const plain = values.security !== 'tls';
    addLine([[`Console: ${values.server.trim()} port ${values.port || 'default'}, ${plain ? 'clear text until you type STARTTLS' : 'TLS from the first byte'}, through ${values.proxy}`, 'title']]);
    open = true;
    updateButtons();
    $('consoleInput').focus();
  }

  // The typed line, sent as typed, or held back with a warning (it stays in the box).
  function send(confirmed) {
    if (!open) return;
    $('consoleWarning').hidden = true;
    const warning = console_.type($('consoleInput').value, confirmed);
    if (warning) return showWarning(warning);
    $('consoleInput').value = '';
    if ($('consoleCredentials').hidden) $('consoleInput').focus();  // else the AUTH helper asks: its password box
  }

  function wire(context) {
    ctx = context;
    console_ = new ctx.smtpc.SmtpConsole();
    $('consoleConnect').addEventListener('click', connect);
    $('consoleClose').addEventListener('click', () => console_.close());
    $('consoleSend').addEventListener('click', () => send(false));
    $('consoleInput').addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      send(false);
    });
    $('consoleSendAnyway').addEventListener('click', () => send(true));
    $('consoleDontSend').addEventListener('click', () => {
      $('consoleWarning').hidden = true;
      $('consoleInput').focus();
    });
    const logIn = () => {
      $('consoleCredentials').hidden = true;
      console_.provideCredentials($('consoleUser').value, $('consolePassword').value);
      $('consolePassword').value = '';  // the page keeps no copy
      $('consoleInput').focus();
    };
    $('consoleCredentialsOk').addEventListener('click', logIn);
    $('consolePassword').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') logIn(); });
    $('consoleCredentialsCancel').addEventListener('click', () => {
      $('consoleCredentials').hidden = true;
      $('consolePassword').value = '';
      console_.cancelCredentials();
    });
    $('consoleTranscript').addEventListener('click', (ev) => {
      const line = ev.target.closest('#consoleTranscript > div[data-kind]');
      if (line) explain(line);
    });
    setState('Not connected.', 'idle');
    updateButtons();
  }

  return { wire };
}());
