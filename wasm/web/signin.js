// The SMTPc page's OAuth 2 sign-in: DOM and network glue over core's flow (smtpc.SignIn,
// smtpc/oauth.h). The flow decides every request, checks the state and the PKCE verifier and
// explains each step; this file fetches, opens the popup, hands the popup's address back, and
// puts the access token into the token field. Tokens stay in this page's memory only.
//
// The page is its own redirect URI: the provider sends the popup back here with ?code=…&state=…
// The popup then only passes its address to the page that opened it (same origin only) and closes.
'use strict';

window.smtpcSignIn = (function () {
  const params = new URLSearchParams(location.search);
  const isCallback = !!window.opener && window.opener !== window && params.has('state') &&
    (params.has('code') || params.has('error'));
  if (isCallback) {
    try { window.opener.postMessage({ smtpcSignIn: location.href }, location.origin); } catch (e) { /* opener gone */ }
    document.addEventListener('DOMContentLoaded', () => {
      document.body.textContent = 'The sign-in\'s answer went back to SMTPc: you can close this window.';
    });
    window.close();
  }

  // A JSON object's top-level members as text, as core reads them (oauth::HttpResponse::fields).
  function fieldsOf(json) {
    const fields = {};
    for (const [key, v] of Object.entries(json)) {
      if (typeof v === 'string') fields[key] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') fields[key] = String(v);
      else if (Array.isArray(v)) fields[key] = v.filter((x) => typeof x === 'string').join(' ');
    }
    return fields;
  }

  async function perform(signIn, out) {
    const headers = Object.fromEntries(out.headers);
    if (out.authorization) headers.Authorization = out.authorization;
    let r = null;
    try {
      r = await fetch(out.url, { method: out.method, headers, body: out.method === 'POST' ? out.body : undefined,
        redirect: 'error', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    } catch (e) {
      return signIn.onFetchFailed(String(e && e.message || e));
    }
    let json = null;
    try { json = await r.json(); } catch (e) { /* not JSON: core says so */ }
    const object = json !== null && typeof json === 'object' && !Array.isArray(json);
    signIn.onHttpResponse(r.status, r.headers.get('content-type') || '', object, object ? fieldsOf(json) : {});
  }

  // Runs one sign-in from the form's values. The popup opens now, in the click, so that no
  // popup blocker stops it; the flow then tells it where to go.
  // Returns null when started, else the form's problem {field, headline, explanation}.
  function begin(smtpc, values, on) {
    const popup = window.open('', 'smtpc-signin', 'popup,width=520,height=680');
    if (!popup) return { field: 'signInButton', headline: 'The popup was blocked', explanation: 'Allow popups for this page, then press Sign in again: the provider\'s sign-in opens in one.' };
    const signIn = new smtpc.SignIn();
    // Closing the popup cancels the sign-in until the provider has sent it back: after that the
    // popup closes by itself while the token exchange may still be under way (slow on a busy
    // machine), and that is no reason to cancel.
    let watch = 0;
    const onMessage = (ev) => {
      if (ev.origin === location.origin && ev.source === popup && ev.data && typeof ev.data.smtpcSignIn === 'string') {
        clearInterval(watch);
        signIn.onRedirect(ev.data.smtpcSignIn);
      }
    };
    window.addEventListener('message', onMessage);
    watch = setInterval(() => { if (popup.closed && signIn.running()) signIn.cancel(); }, 500);
    const problem = signIn.start(values, location.origin + location.pathname, (out) => {
      if (out.type === 'http') perform(signIn, out);
      else if (out.type === 'browser') popup.location.href = out.url;
      else if (out.type === 'step') on.step(out);
      else if (out.type === 'finished') {
        clearInterval(watch);
        window.removeEventListener('message', onMessage);
        if (!popup.closed) popup.close();
        on.finished(out);
        setTimeout(() => signIn.delete(), 0);  // not from inside its own call
      }
    });
    if (problem) {
      clearInterval(watch);
      window.removeEventListener('message', onMessage);
      popup.close();
      signIn.delete();
    }
    return problem;
  }

  // "Sign in…": the steps go to the transcript as one run with the connection test that follows
  // a sign-in (page: app.js's form values, the results side, and the test to run).
  function wire(page) {
    const { smtpc, view } = page;
    document.getElementById('signInButton').addEventListener('click', () => {
      if (document.body.dataset.running === 'yes') return;
      view.begin(false);
      const provider = document.getElementById('oauthProvider').selectedOptions[0];
      view.addLine([[`Signing in with ${provider ? provider.text : '?'} (OAuth 2: authorization code + PKCE, this page as the redirect URI)`, 'title']]);
      const problem = begin(smtpc, page.formValues(), {
        step: (s) => view.addLine([[`=== ${s.label}: ${s.text}`, 'info']]),
        finished: (f) => {
          if (!f.ok) return [view.problem(f.problem), view.end(false)];
          document.getElementById('token').value = f.token;
          view.addLine([['=== Signed in: the access token is in the token field, in this page\'s memory only. Now the connection test.', 'info']]);
          return page.test();
        },
      });
      if (problem) [view.problem(problem), view.end(false)];
    });
  }

  return { isCallback, wire };
}());
