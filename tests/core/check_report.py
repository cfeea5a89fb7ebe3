#!/usr/bin/python3
"""Checks SMTPc's exported reports with parsers that are not ours (issue 17, "Take it home").

  check_report.py [--absent TEXT]... [--present TEXT]... FILE...

A FILE ending in .html or .htm must parse with html.parser as HTML5 whose elements all close in
order (void elements aside), with one <title>, and no script, external resource or event handler.
A FILE ending in .svg must parse with xml.etree as an <svg> in the SVG namespace with a width, a
height and a viewBox, and no script, foreignObject or link. --absent: no FILE may contain TEXT
(a password, its base64 forms); --present: every FILE must. Exit status 1 with the reasons on
standard error when anything fails.
"""
import argparse
import html.parser
import sys
import xml.etree.ElementTree as ElementTree

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EXTERNAL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data"}


class StrictHtml(html.parser.HTMLParser):
    """Every element closed in order; no script, external resource or on* handler."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.titles = 0
        self.doctype = False

    def where(self):
        line, column = self.getpos()
        return f"line {line}:{column}"

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "link", "img", "base"):
            self.problems.append(f"{self.where()}: <{tag}> in a self-contained report")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{self.where()}: event handler {name}")
            if name in EXTERNAL_ATTRIBUTES and value and not value.startswith("#"):
                self.problems.append(f"{self.where()}: external resource {name}={value!r}")
        if tag == "title":
            self.titles += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.problems.append(f"{self.where()}: <{tag}/> is not a void element")
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"{self.where()}: end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"{self.where()}: </{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def check_html(text):
    parser = StrictHtml()
    parser.feed(text)
    parser.close()
    problems = list(parser.problems)
    if not parser.doctype:
        problems.append("no <!DOCTYPE html>")
    if parser.stack:
        problems.append("unclosed: " + " ".join(parser.stack))
    if parser.titles != 1:
        problems.append(f"{parser.titles} <title> elements")
    if "<meta charset=\"utf-8\">" not in text:
        problems.append("no <meta charset=\"utf-8\">")
    return problems


def check_svg(data):
    problems = []
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        return [f"not XML: {error}"]
    namespace = "{http://www.w3.org/2000/svg}"
    if root.tag != namespace + "svg":
        problems.append(f"root is {root.tag}, not an SVG <svg>")
    for attribute in ("width", "height", "viewBox"):
        if not root.get(attribute):
            problems.append(f"no {attribute} on <svg>")
    for element in root.iter():
        name = element.tag.replace(namespace, "")
        if name in ("script", "foreignObject", "a", "image", "use"):
            problems.append(f"<{name}> in a standalone diagram")
        for attribute, value in element.attrib.items():
            if attribute.startswith("on"):
                problems.append(f"event handler {attribute} on <{name}>")
            if attribute.endswith("href") and not value.startswith("#"):
                problems.append(f"external link {value!r} on <{name}>")
    if root.find(namespace + "title") is None:
        problems.append("no <title>")
    return problems


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--absent", action="append", default=[])
    arguments.add_argument("--present", action="append", default=[])
    arguments.add_argument("files", nargs="+")
    options = arguments.parse_args()
    failures = []
    for path in options.files:
        with open(path, "rb") as file:
            data = file.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            failures.append(f"{path}: not UTF-8: {error}")
            continue
        lower = path.lower()
        if lower.endswith((".html", ".htm")):
            problems = check_html(text)
        elif lower.endswith(".svg"):
            problems = check_svg(data)
        else:
            problems = ["neither .html nor .svg"]
        # A secret is named by its position only: the checker's own output must not repeat it.
        problems += [f"contains --absent #{i + 1}" for i, secret in enumerate(options.absent) if secret in text]
        problems += [f"lacks --present {wanted!r}" for wanted in options.present if wanted not in text]
        failures += [f"{path}: {problem}" for problem in problems]
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
