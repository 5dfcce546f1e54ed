#!/usr/bin/env bash
# Every relative link in the markdown files at the root, under docs/ and under examples/ must
# point to a file or directory that exists and, for `FILE.md#anchor` or `#anchor`, to a
# heading of that file (GitHub's slugs: lower case, punctuation dropped, spaces to hyphens,
# -1, -2 for repeats).
# Links inside code blocks and code spans are not links; absolute URLs are not checked.
#
#   bash scripts/check-doc-links.sh                 # README.md, ..., docs/**/*.md, examples/**/*.md
#   bash scripts/check-doc-links.sh FILE.md ...     # only these files
#
# Exit 0 when every link resolves, 1 when one does not (each named as FILE:LINE), 2 on a usage
# error; skipped (exit 0) without python3.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null || { echo "check-doc-links: no python3: skipped"; exit 0; }

python3 - "$@" <<'PY'
import os, re, sys, unicodedata
from urllib.parse import unquote

FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
ATX = re.compile(r'^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$')
SETEXT = re.compile(r'^ {0,3}(=+|-+)[ \t]*$')
CODE_SPAN = re.compile(r'(`+)(.+?)\1')
INLINE = re.compile(r'!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|\'[^\']*\'|\([^)]*\)))?\s*\)')
REFDEF = re.compile(r'^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)')
HTML_ID = re.compile(r'<a\s[^>]*?(?:name|id)\s*=\s*"([^"]+)"', re.I)
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')


def lines_outside_code(text):
    """(line number, line) of every line that is not inside a fenced code block."""
    fence = None
    for n, line in enumerate(text.split('\n'), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and line.strip() == m.group(1):
                fence = None
            continue
        yield n, line


def plain(heading):
    """A heading's text as GitHub renders it: code spans, links and emphasis unwrapped."""
    t = CODE_SPAN.sub(lambda m: m.group(2).strip(), heading)
    t = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', t)
    t = re.sub(r'<[^>]+>', '', t)
    t = t.replace('*', '').replace('~~', '')
    return t


def slug(text):
    """github-slugger: lower case, drop what is not a letter, digit, mark, '-', '_' or ' '."""
    out = []
    for c in text.lower():
        cat = unicodedata.category(c)
        if c in '-_ ' or cat[0] in 'LNM':
            out.append(c)
    return ''.join(out).replace(' ', '-')


_anchors = {}


def anchors(path):
    if path in _anchors:
        return _anchors[path]
    with open(path, encoding='utf-8') as f:
        text = f.read()
    seen, found = {}, set()

    def add(s):
        n = seen.get(s)
        seen[s] = 0 if n is None else n + 1
        found.add(s if n is None else f'{s}-{n + 1}')

    prev = ''
    for _, line in lines_outside_code(text):
        m = ATX.match(line)
        if m:
            add(slug(plain(m.group(2) or '')))
        elif SETEXT.match(line) and prev.strip() and not re.match(r'^\s*([-*+]|\d+\.|\||>)', prev) \
                and not ATX.match(prev):
            add(slug(plain(prev.strip())))
        for i in HTML_ID.findall(line):
            found.add(i)
        prev = line
    _anchors[path] = found
    return found


def targets(line):
    bare = CODE_SPAN.sub(lambda m: ' ' * len(m.group(0)), line)
    for m in INLINE.finditer(bare):
        yield m.group(2)
    m = REFDEF.match(bare)
    if m:
        yield m.group(1)


def check(md):
    bad = []
    with open(md, encoding='utf-8') as f:
        text = f.read()
    base = os.path.dirname(md)
    for n, line in lines_outside_code(text):
        for target in targets(line):
            t = target[1:-1] if target.startswith('<') and target.endswith('>') else target
            if SCHEME.match(t) or t.startswith('//'):
                continue
            path, _, anchor = t.partition('#')
            dest = os.path.normpath(os.path.join(base, unquote(path))) if path else md
            if not os.path.exists(dest):
                bad.append(f'{md}:{n}: {target}: no such file {dest}')
                continue
            if not anchor:
                continue
            anchor = unquote(anchor)
            if dest.endswith('.md') and os.path.isfile(dest):
                if anchor not in anchors(dest):
                    bad.append(f'{md}:{n}: {target}: no heading #{anchor} in {dest}')
            elif not re.fullmatch(r'L\d+(-L\d+)?', anchor):
                bad.append(f'{md}:{n}: {target}: #{anchor} in a file that is not markdown')
    return bad


files = sys.argv[1:]
if not files:
    files = sorted(f for f in os.listdir('.') if f.endswith('.md') and os.path.isfile(f))
    for top in ('docs', 'examples'):
        for root, dirs, names in os.walk(top):
            dirs.sort()
            files += sorted(os.path.join(root, f) for f in names if f.endswith('.md'))
for f in files:
    if not os.path.isfile(f):
        print(f'check-doc-links: {f}: no such file', file=sys.stderr)
        sys.exit(2)
bad = [b for f in files for b in check(os.path.normpath(f))]
for b in bad:
    print(b)
links = 'every relative link resolves' if not bad else f'{len(bad)} broken link(s)'
print(f'check-doc-links: {len(files)} file(s): {links}')
sys.exit(1 if bad else 0)
PY
