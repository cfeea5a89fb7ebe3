// Teaching mode on the page (issue 17), the same as the desktop window's
// (qtapp/gui/mainwindow_teach.cpp) and with core's words: a click on a transcript line says what
// it means (smtpc.explainLine), step mode stops before each command and after each reply with what
// comes next and why (the "paused" event; Next, Continue, Run to end), the run is taken home as an
// HTML page or an SVG diagram (client.report), and the lessons against the sandbox fill the form,
// send, and say whether the run ended as the lesson says (client.lessonResult). Everything the
// engine or the server wrote is shown as text, never as markup.
// app.js drives it: window.smtpcTeach.wire(context), .begin() when a run starts, .onEvent(event),
// .refused() when the form refused it.
'use strict';

window.smtpcTeach = (function () {
  const $ = (id) => document.getElementById(id);
  const { el } = window.smtpcResults;
  let ctx = null;     // {smtpc, client, site, fill(values), send()} from app.js
  let list = [];      // the lessons: [{id, title, watch, port}]
  let runs = 0;       // runs of the chosen lesson: the second run of greylisting expects another ending
  let lesson = null;  // {id, again}: the lesson whose run is under way

  // ---------------------------------------------------------------------------------------------
  // Explain any line

  function explain(line) {
    const x = ctx.smtpc.explainLine(line.dataset.kind, line.dataset.text);
    const parts = [el('code', `${line.dataset.prefix} ${line.dataset.text}`), el('b', x.title)];
    for (const paragraph of x.text.split('\n').filter(Boolean)) parts.push(el('p', paragraph));
    if (x.references.length) parts.push(el('p', 'Read: ' + x.references.join(' · '), 'refs'));
    $('lineExplanation').replaceChildren(...parts);
  }

  // ---------------------------------------------------------------------------------------------
  // Step mode

  function setPaused(on) {
    for (const id of ['nextButton', 'continueButton', 'runToEndButton']) $(id).disabled = !on;
  }

  function showPause(p) {
    const parts = [];
    if (p.where === 'before-command') {
      const head = el('b', `Stop ${p.number} — next we send: `);
      head.append(el('code', p.command));
      parts.push(head, el('p', p.why));
      if (p.replies.length) {
        const ul = el('ul');
        for (const r of p.replies) {
          const li = el('li');
          li.append(el('code', String(r.code)), ' ' + r.meaning);
          ul.append(li);
        }
        parts.push(el('p', 'What will the server say? It may answer:'), ul);
      }
    } else {
      const head = el('b', `Stop ${p.number} — the server answered`);
      if (p.command) head.append(' ', el('code', p.command));
      head.append(': ', el('code', p.reply || ''));
      parts.push(head, el('p', p.why));
    }
    if (p.note) parts.push(el('p', p.note, 'note'));
    if (p.patience) parts.push(el('p', p.patience, 'patience'));
    $('pauseExplanation').replaceChildren(...parts);
    $('pauseExplanation').hidden = false;
    setPaused(true);
    $('nextButton').focus();
    window.smtpcResults.setStatus(`Paused at stop ${p.number}: press Next`, 'paused');
  }

  function go(action) {
    setPaused(false);
    ctx.client[action]();
  }

  // ---------------------------------------------------------------------------------------------
  // Take it home

  function download(format) {
    const now = new Date();
    const text = ctx.client.report(format, now.toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
    if (!text) return;
    const a = el('a');
    a.href = URL.createObjectURL(new Blob([text], { type: format === 'svg' ? 'image/svg+xml' : 'text/html' }));
    a.download = `smtpc-run-${now.toISOString().replace(/[:.]/g, '-')}.${format}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  // ---------------------------------------------------------------------------------------------
  // Lessons against the sandbox (settings.json's "sandbox": {host, plain, starttls, tls})

  function sandbox() {
    const s = ctx.site.sandbox;
    if (!s || typeof s !== 'object') return null;
    return { host: String(s.host || '127.0.0.1'), plain: Number(s.plain) || 0, starttls: Number(s.starttls) || 0,
      tls: Number(s.tls) || 0, caPem: ctx.site.caPem || '' };
  }

  function chooseLesson() {
    const chosen = list.find((l) => l.id === $('lessons').value);
    $('lessonWatch').textContent = chosen ? 'What to watch: ' + chosen.watch : '';
    $('lessonResult').textContent = '';
    runs = 0;
    const ready = chosen && ctx.smtpc.lessonValues(chosen.id, sandbox());
    if (chosen && !ready) {
      $('lessonResult').textContent = `This lesson needs the sandbox's "${chosen.port}" port: open the page that ` +
        'scripts/demo serves (its settings.json names the sandbox).';
    }
    updateStart();
  }

  // Start lesson: for a lesson the sandbox can play, while nothing runs.
  function updateStart() {
    $('startLesson').disabled = document.body.dataset.running === 'yes' || !ctx.smtpc.lessonValues($('lessons').value, sandbox());
  }

  async function startLesson() {
    const chosen = list.find((l) => l.id === $('lessons').value);
    const values = chosen && ctx.smtpc.lessonValues(chosen.id, sandbox());
    if (!values || document.body.dataset.running === 'yes') return;
    ctx.fill(values);  // the learner sees the settings the lesson runs with
    lesson = { id: chosen.id, again: ++runs > 1 };
    $('lessonResult').textContent = 'Running… ' + chosen.watch;
    $('startLesson').disabled = true;
    await ctx.send();
    if (lesson && document.body.dataset.running !== 'yes') {  // the form refused it: no run, no result
      lesson = null;
      $('lessonResult').textContent = '✗ The lesson could not start: see the message beside the results.';
    }
  }

  function lessonEnded() {
    if (!lesson) return;
    const result = ctx.client.lessonResult(lesson.id, lesson.again);
    lesson = null;
    if (result) $('lessonResult').textContent = result.text;
  }

  // ---------------------------------------------------------------------------------------------

  function begin() {
    ctx.client.setStepMode($('stepMode').checked);
    setPaused(false);
    $('pauseExplanation').hidden = true;
    $('lineExplanation').textContent = 'Click a line of the transcript to see what it means.';
    $('startLesson').disabled = true;
  }

  function onEvent(e) {
    if (e.type === 'paused') showPause(e.pause);
    if (e.type !== 'finished') return;
    setPaused(false);
    for (const id of ['reportHtml', 'reportSvg']) $(id).disabled = false;
    lessonEnded();
    updateStart();
  }

  // The form refused the run (app.js showed why): no run, no events.
  function refused() {
    setPaused(false);
    updateStart();
  }

  function wire(context) {
    ctx = context;
    $('transcript').addEventListener('click', (ev) => {
      const line = ev.target.closest('#transcript > div[data-kind]');
      if (line) explain(line);
    });
    $('stepMode').addEventListener('change', () => {
      ctx.client.setStepMode($('stepMode').checked);  // off while paused: the run goes on to the end
      if (!$('stepMode').checked) setPaused(false);
    });
    $('nextButton').addEventListener('click', () => go('next'));
    $('continueButton').addEventListener('click', () => go('continueToNextStep'));
    $('runToEndButton').addEventListener('click', () => {
      $('stepMode').checked = false;
      go('runToEnd');
    });
    $('reportHtml').addEventListener('click', () => download('html'));
    $('reportSvg').addEventListener('click', () => download('svg'));
    list = ctx.smtpc.lessons();
    $('lessons').replaceChildren(new Option('Choose a lesson…', ''), ...list.map((l) => new Option(l.title, l.id)));
    $('lessons').addEventListener('change', chooseLesson);
    $('startLesson').addEventListener('click', startLesson);
    setPaused(false);
  }

  return { wire, begin, onEvent, refused };
}());
