"""User and policy text is markdown; it is rendered to HTML and then sanitized with nh3.

Where text is needed instead (an HTML-only email, a CVE description), HTML becomes the text a
reader sees: `html_to_text` and `markdown_to_text`.
"""

import re
from html.parser import HTMLParser

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _markdown_html(text):
    return markdown_lib.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])


def render_markdown(text: str) -> SafeString:
    html = _markdown_html(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above


# The longest text the Write / Preview tabs render (projects.views.markdown_preview): far above
# any report, comment or advisory people write, far below what would tie up a worker.
PREVIEW_MAX_CHARS = 100_000


# --- HTML to text ---------------------------------------------------------------------------------

# Tags that end a line or a paragraph in the text; every other tag is dropped, its text kept.
LINE_TAGS = {"br", "tr", "li"}
BLOCK_TAGS = {
    *("p", "div", "blockquote", "pre", "table", "ul", "ol", "hr"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"),
}
LISTS = {"ul", "ol"}  # a list inside a list item goes on the next line, not a new paragraph
# Tags whose content is not text for a reader: dropped whole.
HIDDEN_TAGS = {"script", "style", "head", "title", "template", "noscript", "iframe", "object"}


class _TextWriter(HTMLParser):
    """Sanitized HTML (only LINE_TAGS and BLOCK_TAGS left) to text; entities are decoded.
    List items start with "- " (indented per level), as a plain-text writer lists them; <pre>
    keeps its white space. Text inside <blockquote> is quoted with "> " per level, as a text
    part quotes it, so the quoted message of an HTML-only reply is recognised (inbox.quotes) like
    any other. Line breaks that block tags ask for are merged (the most asked for is written,
    once, before the next text); each <br> adds one.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces = []
        self.quoted = 0
        self.preformatted = 0
        self.lists = 0
        self.newlines = 0  # line breaks owed before the next text
        self.marker = ""  # a list item's "- ", owed before its first text

    def _break(self, newlines):
        self.newlines = max(self.newlines, newlines)

    def _write(self, text):
        if self.pieces and self.newlines:
            self.pieces.append(("\n" + "> " * self.quoted) * self.newlines)
        elif not self.pieces and self.quoted:
            self.pieces.append("> " * self.quoted)
        self.pieces.append(self.marker + text)
        self.newlines, self.marker = 0, ""

    def handle_starttag(self, tag, attrs):
        if tag == "blockquote":
            self.quoted += 1
        elif tag == "pre":
            self.preformatted += 1
        elif tag == "li":
            self.marker = "  " * max(self.lists - 1, 0) + "- "
        nested_list = tag in LISTS and self.lists
        self.lists += tag in LISTS
        if tag == "br":  # each <br> is a line break of its own: two make a blank line
            self.newlines += 1
        else:
            self._break(1 if tag in LINE_TAGS or nested_list else 2 if tag in BLOCK_TAGS else 0)

    def handle_endtag(self, tag):
        if tag == "blockquote":
            self.quoted = max(self.quoted - 1, 0)
        elif tag == "pre":
            self.preformatted = max(self.preformatted - 1, 0)
        self.lists -= tag in LISTS and self.lists > 0
        if tag in BLOCK_TAGS:
            self._break(1 if tag in LISTS and self.lists else 2)

    def handle_data(self, data):
        if self.preformatted:
            self._write(data.replace("\n", "\n" + "> " * self.quoted))
            return
        # HTML collapses white space; the line structure comes from the tags.
        data = re.sub(r"\s+", " ", data)
        at_line_start = not self.pieces or self.newlines or self.marker
        data = data.lstrip() if at_line_start else data
        if data:
            self._write(data)

    def text(self):
        lines = [line.rstrip() for line in "".join(self.pieces).split("\n")]
        # A quote's blank lines ("> " alone) are blank lines like any other.
        lines = ["" if set(line) <= {">", " "} else line for line in lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def html_to_text(html):
    """The text of an HTML body: no tags, scripts or styles, entities decoded, paragraphs, line
    breaks and list items kept. nh3 (ammonia) sanitizes first, so the parser only ever sees a
    few harmless structural tags and plain text.
    """
    cleaned = nh3.clean(
        html, tags=LINE_TAGS | BLOCK_TAGS, clean_content_tags=HIDDEN_TAGS, attributes={}
    )
    writer = _TextWriter()
    writer.feed(cleaned)
    writer.close()
    return writer.text()


def markdown_to_text(text):
    """The text a reader of the Markdown `text` sees: rendered, then as `html_to_text` gives it."""
    return html_to_text(_markdown_html(text.replace("\r\n", "\n").replace("\r", "\n")))
