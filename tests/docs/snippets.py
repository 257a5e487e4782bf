#!/usr/bin/env python3
"""Finds every fenced code snippet in the documentation and says how each is tested.

Every fence must be runnable as it stands or carry a marker: an HTML comment on
the line right above the fence (invisible on GitHub, visible in the source):

    <!-- doctest: skip (why it is not run) -->
    <!-- doctest: compile (why it is only compiled) -->
    <!-- doctest: fragment TEMPLATE -->            run inside tests/docs/templates/TEMPLATE
    <!-- doctest: compile fragment TEMPLATE (why not run) -->
    <!-- doctest: build -->                        the shell lines that build and run the C or C# program above
                                                   (run in its folder, with /path/to/... placeholders filled)
    <!-- doctest: maven dependency -->             the <dependency> the Java project uses

Unmarked, a snippet is run if it is a whole program: C with `int main`, Java with
`static void main`, Kotlin with `fun main`, C# with `static void Main`, and JavaScript
that requires or imports 'paytrim-auth' (a Node program). Any other unmarked snippet is an error: the
suite fails and names it, so a new snippet is either tested or says why not.

Usage: snippets.py list FILE...   (prints one JSON object per snippet)
"""
import json
import re
import sys

MARKER = re.compile(r"^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+)\s*([A-Za-z0-9_+-]*)\s*$")
LANGS = {"c": "c", "java": "java", "kotlin": "kotlin", "kt": "kotlin", "csharp": "csharp", "cs": "csharp",
         "c#": "csharp", "js": "js", "javascript": "js", "sh": "sh", "bash": "sh", "xml": "xml",
         "json": "json", "rust": "rust", "": "text", "text": "text"}


def whole_program(lang, code):
    return {
        "c": re.search(r"\bint\s+main\s*\(", code),
        "java": re.search(r"\bstatic\s+void\s+main\s*\(", code),
        "kotlin": re.search(r"^fun\s+main\s*\(", code, re.M),
        "csharp": re.search(r"\bstatic\s+(void|int)\s+Main\s*\(", code),
        "js": re.search(r"require\(.paytrim-auth.\)|from .paytrim-auth.", code),
    }.get(lang)


def parse_marker(text):
    """Returns (mode, template, reason) or raises ValueError."""
    m = re.fullmatch(r"skip \((.+)\)", text)
    if m:
        return "skip", None, m.group(1)
    m = re.fullmatch(r"compile \((.+)\)", text)
    if m:
        return "compile", None, m.group(1)
    m = re.fullmatch(r"fragment ([\w.-]+)", text)
    if m:
        return "run", m.group(1), None
    m = re.fullmatch(r"compile fragment ([\w.-]+) \((.+)\)", text)
    if m:
        return "compile", m.group(1), m.group(2)
    if text == "build":
        return "build", None, None
    if text == "maven dependency":
        return "dependency", None, None
    if text == "run":
        return "run", None, None
    raise ValueError(f"unknown doctest marker '{text}'")


def snippets(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, errors, i = [], [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, tag = m.group(1), m.group(2), m.group(3).lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*" + ticks + r"\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        code = "\n".join(body) + "\n"
        lang = LANGS.get(tag, tag)
        where = f"{path}:{start + 1}"
        marker = lines[start - 1] if start > 0 else ""
        mm = MARKER.match(marker)
        snip = {"where": where, "file": path, "line": start + 1, "lang": lang, "code": code}
        if mm:
            try:
                snip["mode"], snip["template"], snip["reason"] = parse_marker(mm.group(1))
            except ValueError as e:
                errors.append(f"{where}: {e}")
                continue
        elif whole_program(lang, code):
            snip["mode"], snip["template"], snip["reason"] = "run", None, None
        else:
            errors.append(f"{where}: a {lang} snippet the doc tests cannot run as it stands: "
                          "make it a whole program or mark it (see tests/docs/snippets.py)")
            continue
        out.append(snip)
    return out, errors


def main(argv):
    if len(argv) < 3 or argv[1] != "list":
        print(__doc__, file=sys.stderr)
        return 2
    all_errors = []
    for path in argv[2:]:
        found, errors = snippets(path)
        all_errors += errors
        for s in found:
            print(json.dumps(s))
    for e in all_errors:
        print(e, file=sys.stderr)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
