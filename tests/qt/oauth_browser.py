#!/usr/bin/python3
"""A stand-in for the person's browser, for tests/qt/tst_cli_oauth.cpp.

SMTPc runs the program named by SMTPC_OPEN_URL with the authorization URL as its one argument.
This one does what a browser does with it: GET the URL (HTTPS, verified against the CA file in
SMTPC_TEST_BROWSER_CA), not follow the provider's redirect itself, then GET its Location, which
is SMTPc's loopback port, and read the page SMTPc answers with. What it saw goes to the JSON file
SMTPC_TEST_BROWSER_LOG, without the code (only the redirect's host, path and parameter names).
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None  # the redirect is read below, as its own request


def get(opener, url):
    try:
        response = opener.open(url, timeout=30)
    except urllib.error.HTTPError as e:
        response = e
    with response:
        return response.status, response.headers, response.read().decode("utf-8", "replace")


def main():
    url = sys.argv[1]
    seen = {"authorize_host": urllib.parse.urlsplit(url).netloc}
    try:
        context = ssl.create_default_context(cafile=os.environ["SMTPC_TEST_BROWSER_CA"])
        provider = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                               urllib.request.HTTPSHandler(context=context), NoRedirect)
        status, headers, _ = get(provider, url)
        seen["authorize_status"] = status
        location = headers.get("Location")
        if location:
            parts = urllib.parse.urlsplit(location)
            seen["redirect"] = f"{parts.scheme}://{parts.netloc}{parts.path}"
            seen["redirect_parameters"] = sorted(urllib.parse.parse_qs(parts.query).keys())
            loopback = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
            seen["page_status"], page_headers, seen["page"] = get(loopback, location)
            seen["page_type"] = page_headers.get("Content-Type")
    except Exception as e:  # noqa: BLE001 - the test reads what went wrong
        seen["error"] = repr(e)
    log = os.environ.get("SMTPC_TEST_BROWSER_LOG")
    if log:
        with open(log + ".part", "w") as f:
            json.dump(seen, f)
        os.replace(log + ".part", log)  # whole or not at all, for the test that waits for it


if __name__ == "__main__":
    main()
