"""HTML and Markdown as the text a reader sees (projects.markdown): an HTML-only email becomes
a report's text, an advisory's Markdown becomes a CVE description.
"""

import pytest

from projects.markdown import html_to_text, markdown_to_text


def test_html_becomes_text_without_anything_active():
    html = (
        "<h1>Title</h1><p>One &amp; two<br/>three</p><iframe src=x>framed</iframe>"
        "<ul><li>first</li><li>second</li></ul><img src=x onerror=alert(1)>"
        "<a href='javascript:alert(1)'>link text</a><script>alert(2)</script>"
    )

    assert html_to_text(html) == "Title\n\nOne & two\nthree\n\n- first\n- second\n\nlink text"


def test_html_white_space_collapses_except_in_pre():
    html = "<div>\n  <p>\n    Hello\n    there\n  </p>\n<pre>def f():\n    return 1</pre></div>"

    assert html_to_text(html) == "Hello there\n\ndef f():\n    return 1"


def test_quoted_html_is_quoted_per_level():
    html = (
        "<p>Answer</p>"
        "<blockquote><p>On Monday A wrote:</p><blockquote>inner</blockquote></blockquote>"
    )

    assert html_to_text(html) == "Answer\n\n> On Monday A wrote:\n\n> > inner"


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        # A soft line break is a space to the reader, whatever the line endings.
        ("Line one\r\nline two", "Line one line two"),
        ("# Title\r\n\r\nBody with [a link](https://example.org).", "Title\n\nBody with a link."),
        ("1. first\n2. second", "- first\n- second"),
        ("- a\n    - b\n- c\n\nafter", "- a\n  - b\n- c\n\nafter"),
        ("- a\n\n    para\n\n- c", "- a\n\npara\n\n- c"),
        ("Use `a < b` &amp; <script>x</script>", "Use a < b &"),
        ("```\ndef f():\r\n    return 1\r\n```", "def f():\n    return 1"),
        ("> quoted\n\nafter", "> quoted\n\nafter"),
    ],
)
def test_markdown_as_text(markdown, text):
    assert markdown_to_text(markdown) == text
