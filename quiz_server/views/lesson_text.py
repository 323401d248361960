"""Lesson Markdown to HTML for the web lesson pages: the small subset the course's lessons use.

Headings (``#`` to ``###``), paragraphs, ``**bold**``, ``*italic*``, bullet and numbered lists
with indented continuation lines, and pipe tables. Everything is HTML-escaped first and raw HTML is
never passed through, so a lesson can not inject markup; anything else shows as plain text. A
full Markdown library would be one more dependency for a dozen lines of syntax.

The lesson's own ``# title`` is dropped (the page prints the title from the front matter as its
one ``h1``); any other level-1 heading becomes an ``h2``.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^(\d+)[.)]\s+(.*)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def inline(text: str) -> str:
    """One run of text: escaped, then bold and italic."""
    out = escape(text, quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(rows: list[str]) -> str:
    head, body = _cells(rows[0]), [_cells(r) for r in rows[2:]]
    th = "".join(f'<th scope="col">{inline(c)}</th>' for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body)
    return f'<div class="gulir"><table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div>'


def _blocks(lines: list[str]) -> list[list[str]]:
    """Split on blank lines; a heading line is a block of its own."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if not line.strip():
            blocks.append([])
        elif _HEADING.match(line):
            blocks += [[line], []]
        else:
            blocks[-1].append(line)
    return [b for b in blocks if b]


def _list(block: list[str]) -> str:
    ordered = bool(_NUMBERED.match(block[0]))
    items: list[str] = []
    for line in block:
        m = _NUMBERED.match(line) if ordered else _BULLET.match(line)
        if m:
            items.append(m.group(m.lastindex or 1))
        elif items:
            items[-1] += " " + line.strip()  # an indented continuation line
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>"


def sections(body: str) -> list[tuple[str, str]]:
    """``(anchor, title)`` of the lesson's ``##`` sections, for the page's table of contents."""
    titles = [m.group(2).strip() for line in body.splitlines() if (m := _HEADING.match(line)) and len(m.group(1)) == 2]
    return [(f"bagian-{n}", t.replace("**", "")) for n, t in enumerate(titles, start=1)]


def to_html(body: str, *, drop_title: bool = True) -> Markup:
    """The lesson body as safe HTML; ``##`` sections get the anchors :func:`sections` names."""
    out: list[str] = []
    section = 0
    for block in _blocks(body.replace("\r\n", "\n").split("\n")):
        first = block[0]
        if heading := _HEADING.match(first):
            level = len(heading.group(1))
            if level == 1 and drop_title:
                continue
            anchor = ""
            if level == 2:
                section += 1
                anchor = f' id="bagian-{section}"'
            level = max(level, 2)  # the page's own h1 is the title
            out.append(f"<h{level}{anchor}>{inline(heading.group(2).strip())}</h{level}>")
        elif first.lstrip().startswith("|") and len(block) >= 2 and _TABLE_RULE.match(block[1].strip()):
            out.append(_table(block))
        elif _BULLET.match(first) or _NUMBERED.match(first):
            out.append(_list(block))
        else:
            out.append(f"<p>{inline(' '.join(x.strip() for x in block))}</p>")
    return Markup("\n".join(out))  # noqa: S704 - every piece of text above went through escape()
