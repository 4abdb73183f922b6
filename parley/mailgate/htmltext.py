"""An HTML part as a reader sees it (visible text, link targets, image sources), and without tracking."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

# Elements whose content a mail client never shows as text.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})
# Elements that fetch or run something when the mail is opened: not relayed.
_ACTIVE = frozenset(
    {"script", "iframe", "frame", "object", "embed", "applet", "link", "meta", "base", "form"}
)
_LINK_ATTRS = ("href", "action", "formaction", "background", "poster", "data")
_SOURCE_ATTRS = ("src", "srcset", "lowsrc", "dynsrc")
_REMOTE = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
_LOCAL = re.compile(r"\s*(?:cid|mid|data):", re.IGNORECASE)
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_CSS_URL = re.compile(r"url\s*\(", re.IGNORECASE)
_CSS_URL_VALUE = re.compile(r"url\s*\([^)]*\)?", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.IGNORECASE | re.DOTALL)
_STYLE_FETCH = re.compile(r"<style\b[^>]*>[^<]*?(?:url\s*\(|@import)", re.IGNORECASE)


def _remote(value: str) -> bool:
    return bool(value.strip()) and not _LOCAL.match(value) and bool(_REMOTE.match(value) or "." in value)


@dataclass
class Reading:
    text: str  # the visible text, a link's target written after its label as a mail client shows it
    targets: list[str] = field(default_factory=list)  # every link target and image source, unescaped
    tracking: bool = False  # something is fetched or run when the mail is opened


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.targets: list[str] = []
        self.hidden = 0
        self.tracking = False
        self.drop: list[tuple[tuple[int, int], tuple[int, int] | None]] = []  # (start, end) positions
        self._open_active: list[tuple[str, tuple[int, int]]] = []
        self._labels: list[tuple[str, int]] = []  # (target, where its label starts in out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        start = self.getpos()
        end = (start[0], start[1] + len(self.get_starttag_text() or ""))
        if tag in _BREAKS:
            self.out.append("\n")
        if tag in _HIDDEN and tag not in ("head",):
            self.hidden += 1
        for name in _LINK_ATTRS:
            target = values.get(name, "").strip()
            if target and not target.startswith("#"):
                self.targets.append(unquote(target))
                if tag == "a" and name == "href":
                    self._labels.append((unquote(target), len(self.out)))
                else:
                    self.out.append(f" <{unquote(target)}> ")
        remote_source = False
        for name in _SOURCE_ATTRS:
            source = values.get(name, "").strip()
            if not source or _LOCAL.match(source):
                continue
            self.targets.append(unquote(source))
            self.out.append(f" <{unquote(source)}> ")
            remote_source = remote_source or _remote(source)
        drop = tag in _ACTIVE or remote_source
        if drop or _CSS_URL.search(values.get("style", "")) or any(k.startswith("on") for k in values):
            self.tracking = True
        if drop:
            text = self.get_starttag_text() or ""
            if tag in ("script", "iframe", "object", "applet") and not text.endswith("/>"):
                self._open_active.append((tag, start))
            else:
                self.drop.append((start, end))
        if tag == "img":
            alt = values.get("alt", "").strip()
            if alt:
                self.out.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        hidden = tag in _HIDDEN
        self.handle_starttag(tag, attrs)
        if hidden:
            self.hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and tag != "head" and self.hidden:
            self.hidden -= 1
        if self._open_active and self._open_active[-1][0] == tag:
            _, start = self._open_active.pop()
            self.drop.append((start, None))  # to the end of this end tag, worked out by the caller
            self._ends.append(self.getpos())
        if tag == "a" and self._labels:
            target, at = self._labels.pop()
            label = "".join(self.out[at:]).strip()
            if label != target and label != target.removeprefix("mailto:"):
                self.out.append(f" <{target}>")
        if tag in _BREAKS:
            self.out.append("\n")

    _ends: list[tuple[int, int]]

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def read(markup: str) -> Reading:
    """What a mail client shows of `markup`; never raises."""
    reader = _Reader()
    reader._ends = []
    with contextlib.suppress(Exception):  # HTMLParser is lenient; this is for what it still cannot take
        reader.feed(markup)
        reader.close()
    text = "".join(reader.out).replace("\xa0", " ")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANKS.sub("\n\n", text).strip()
    return Reading(text=text, targets=reader.targets, tracking=reader.tracking)


def _offsets(markup: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\n", markup):
        starts.append(m.end())
    return starts


def without_tracking(markup: str) -> str:
    """`markup` without what a mail client would fetch or run on opening it (scripts, remote images,
    frames, style sheets, event handlers); the rest is left as written."""
    reader = _Reader()
    reader._ends = []
    try:
        reader.feed(markup)
        reader.close()
    except Exception:
        return read(markup).text  # cannot be cut apart safely: the visible text only
    if not reader.tracking and not _STYLE_FETCH.search(markup):
        return markup
    lines = _offsets(markup)

    def at(pos: tuple[int, int]) -> int:
        return lines[pos[0] - 1] + pos[1]

    spans: list[tuple[int, int]] = []
    ends = iter(reader._ends)
    for start, end in reader.drop:
        a = at(start)
        if end is None:
            close = at(next(ends))
            b = markup.find(">", close)
            b = len(markup) if b < 0 else b + 1
        else:
            b = at(end)
        spans.append((a, b))
    for _tag, start in reader._open_active:  # never closed: everything after it goes
        spans.append((at(start), len(markup)))
    spans.sort()
    out, last = [], 0
    for a, b in spans:
        if a < last:
            a = last
        if b <= a:
            continue
        out.append(markup[last:a])
        last = b
    out.append(markup[last:])
    cleaned = "".join(out)
    # Inline styles that load a URL, and event handler attributes, on tags that stay.
    cleaned = re.sub(
        r"""\s(on[a-z]+|style)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", _attr_filter, cleaned, flags=re.I
    )
    # Style sheets stay, without what they would load.
    return _STYLE_BLOCK.sub(_style_filter, cleaned)


def _style_filter(m: re.Match[str]) -> str:
    css = _CSS_IMPORT.sub("", m.group(2))
    return m.group(1) + _CSS_URL_VALUE.sub("none", css) + m.group(3)


def _attr_filter(m: re.Match[str]) -> str:
    name = m.group(1).lower()
    if name.startswith("on"):
        return ""
    return "" if _CSS_URL.search(m.group(2)) else m.group(0)
