// The SMTPc page's results side: renders what core sends — the step bar, the transcript, the
// server's offer, the TLS details and the result (smtpc/views.h) — as text, never markup, and
// keeps the run ids a person or a test reads (data-run-id, data-finished, data-finished-run).
// app.js drives it: window.smtpcResults.begin(send), .onEvent(event), .problem(problem), .end(ok).
'use strict';

window.smtpcResults = (function () {
  const $ = (id) => document.getElementById(id);
  let start = null;  // time of the first transcript entry
  let runs = 0;      // run ids: data-run-id when a run starts, data-finished-run when it ends

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }
  function para(text, tag, inner, tail) {  // "It failed at <b>AUTH</b>: …"
    const p = el('p', text);
    p.append(el(tag, inner), tail || '');
    return p;
  }
  function show(id, text) {
    $(id).textContent = text;
    $(id).hidden = !text;
  }


  function setStatus(text, kind) {
    $('status').textContent = text;
    $('status').className = kind || '';
  }

  // A transcript follows its newest line unless the person scrolled up. Whether it is at the bottom
  // is read when it scrolls, and it is scrolled once per frame: reading the layout beside every
  // appended line forced a layout per line, the biggest cost between two replies (issue 18).
  const following = new WeakMap();  // view → at the bottom when it last scrolled
  const toScroll = new Set();
  function follow(view) {
    if (!following.has(view)) {
      view.addEventListener('scroll', () => following.set(view, view.scrollTop + view.clientHeight >= view.scrollHeight - 4), { passive: true });
    }
    if (!following.has(view) || view.childElementCount === 1) following.set(view, true);  // a new transcript starts at its end
    if (!following.get(view) || toScroll.has(view)) return;
    if (!toScroll.size) {
      requestAnimationFrame(() => {
        for (const v of toScroll) v.scrollTop = v.scrollHeight;
        toScroll.clear();
      });
    }
    toScroll.add(view);
  }

  function addLine(parts, view = $('transcript')) {  // or the console's (console.js)
    const line = el('div');
    for (const [text, cls] of parts) line.append(el('span', text, cls));
    view.append(line);
    follow(view);
    return line;
  }

  function showSteps(steps) {
    $('steps').replaceChildren(...steps.map((s) => {
      const li = el('li', s.label);
      Object.assign(li.dataset, { step: s.name, status: s.status });
      li.title = `${s.label} (${s.status}): ${s.purpose}`;
      return li;
    }));
  }

  function rows(list) {
    const dl = el('dl');
    for (const r of list) dl.append(el('dt', r.label), el('dd', r.value));
    return dl;
  }

  function showResult(r) {
    setStatus((r.ok ? '✓ ' : '✗ ') + r.headline, r.ok ? 'ok' : 'failed');
    const parts = [el('p', r.explanation)];
    if (r.failedStepLabel) parts.push(para('It failed at ', 'b', r.failedStepLabel, ': ' + r.failedStepPurpose));
    if (r.serverSaid) parts.push(para('The server said: ', 'code', r.serverSaid));
    if (r.suggestions.length) parts.push(el('p', r.suggestionsTitle), el('ul'));
    for (const s of r.suggestions) parts[parts.length - 1].append(el('li', s));
    $('explanation').replaceChildren(...parts);
    show('resultWarning', r.warning);
  }

  function onEvent(e) {
    if (e.type === 'transcript') {
      if (start === null) start = e.at;
      const line = addLine([[((e.at - start) / 1000).toFixed(3).padStart(7) + ' ', 't'], [e.prefix + ' ', e.kind], [e.text, e.kind]]);
      Object.assign(line.dataset, { kind: e.kind, prefix: e.prefix, text: e.text });  // a click explains it (teach.js)
    } else if (e.type === 'state' && e.to !== 'Closed' && e.to !== 'Idle') {
      setStatus(`Working: ${e.description}…`, 'busy');
    } else if (e.type === 'steps') {
      showSteps(e.steps);
    } else if (e.type === 'capabilities') {
      $('capabilitiesNote').textContent = e.view.note;
      $('capabilities').tBodies[0].replaceChildren(...e.view.offers.map((cells) => {
        const tr = el('tr');
        tr.append(...cells.map((c) => el('td', c)));
        return tr;
      }));
    } else if (e.type === 'tls') {
      $('tlsNote').textContent = e.view.note;
      $('tlsNote').className = e.view.good ? 'ok' : 'bad';
      $('tls').replaceChildren(rows(e.view.rows), ...e.view.chain.flatMap((c) => [el('h3', c.title), rows(c.rows)]));
      addLine([[`──── ${e.view.boundary} ────`, 'boundary']]);
    } else if (e.type === 'progress' && e.total) {
      $('progress').max = e.total;
      $('progress').value = e.sent;
    } else if (e.type === 'finished') {
      showResult(e.view);
      endRun(e.ok);
    }
  }

  // `ready`: the engine has loaded (before that, nothing can run).
  function setRunning(running, ready) {
    for (const id of ['testButton', 'sendButton', 'discoverButton']) $(id).disabled = running || !ready;
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
    setRunning(true, true);
    start = null;
    for (const id of ['transcript', 'tls', 'explanation']) $(id).replaceChildren();
    $('capabilities').tBodies[0].replaceChildren();
    $('capabilitiesNote').textContent = 'What the server offers appears here after EHLO.';
    $('tlsNote').className = '';
    $('resultWarning').hidden = true;
    selectTab('tabTranscript');
    $('progress').hidden = !send;
    $('progress').removeAttribute('value');
    setStatus('Starting…', 'busy');
  }

  function endRun(ok) {
    $('progress').hidden = true;
    setRunning(false, true);
    document.body.dataset.finished = ok ? 'ok' : 'failed';
    document.body.dataset.finishedRun = document.body.dataset.runId;
  }

  // A mistake in the form, as core found it: {field, headline, explanation}.
  function problem(p) {
    setStatus('✗ ' + p.headline, 'failed');
    $('explanation').replaceChildren(el('p', p.explanation));
    const field = p.field && $(p.field);
    if (field && field.closest('[role=tabpanel]')) selectTab(field.closest('[role=tabpanel]').id);
    if (field && field.closest('details')) field.closest('details').open = true;  // a folded field (DSN, advanced)
    if (field) field.focus();
  }

  function selectTab(id) {
    for (const b of document.querySelectorAll('[role=tab]')) {
      b.setAttribute('aria-selected', b.getAttribute('aria-controls') === id);
      $(b.getAttribute('aria-controls')).hidden = b.getAttribute('aria-controls') !== id;
    }
  }

  const transcriptText = () => [...$('transcript').children].map((line) => line.textContent).join('\n') + '\n';

  function wire() {
    for (const b of document.querySelectorAll('[role=tab]')) b.addEventListener('click', () => selectTab(b.getAttribute('aria-controls')));
    $('copyTranscript').addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(transcriptText()));
    $('saveTranscript').addEventListener('click', () => {
      const a = el('a');
      a.href = URL.createObjectURL(new Blob([transcriptText()], { type: 'text/plain' }));
      a.download = `smtpc-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
      a.click();
      URL.revokeObjectURL(a.href);
    });
  }

  return { el, show, setStatus, setRunning, addLine, showSteps, onEvent, begin: beginRun, end: endRun, problem, wire };
}());
