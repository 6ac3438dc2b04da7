"""inbox.quotes.trim: a reply's own words, without the message it answers or a signature; and
never less than the sender wrote."""

import pytest

from inbox.quotes import trim
from projects.markdown import html_to_text

OWN = "The crash also happens on 2.1.4."


@pytest.mark.parametrize(
    ("client", "text"),
    [
        (
            "Gmail, attribution wrapped over two lines",
            f"{OWN}\n\nOn Tue, Dec 1, 2026 at 9:00 AM Disclosure <noreply@example.org>\n"
            "wrote:\n> Which version?\n>\n> Reply at https://example.org/\n",
        ),
        (
            "Thunderbird",
            f"{OWN}\n\nOn 01.12.26 09:00, Disclosure wrote:\n> Which version?\n",
        ),
        (
            "German client",
            f"{OWN}\n\nAm 01.12.2026 um 09:00 schrieb Disclosure <noreply@example.org>:\n> Frage\n",
        ),
        (
            "French client",
            f"{OWN}\n\nLe 1 déc. 2026 à 09:00, Disclosure a écrit :\n> Question\n",
        ),
        (
            "Apple Mail on a phone",
            f"{OWN}\n\nSent from my iPhone\n\n"
            "> On 1 Dec 2026, at 09:00, Disclosure wrote:\n>\n> Q\n",
        ),
        (
            "Outlook, original message separator",
            f"{OWN}\n\n-----Original Message-----\nFrom: Disclosure\nSent: Tuesday\n\nWhich?\n",
        ),
        (
            "Outlook, header block under a rule",
            f"{OWN}\n\n________________________________\nFrom: Disclosure <n@example.org>\n"
            "Sent: Tuesday, December 1, 2026 9:00 AM\nTo: Rita\nSubject: Which?\n\nWhich?\n",
        ),
        (
            "Outlook, header block alone",
            f"{OWN}\n\nFrom: Disclosure <n@example.org>\nSent: Tuesday, December 1, 2026\n"
            "To: Rita\n\nWhich version?\n",
        ),
        ("RFC 3676 signature", f"{OWN}\n\n-- \nRita Reporter\nhttps://rita.example.org\n"),
        ("Outlook on a phone", f"{OWN}\n\nGet Outlook for Android\n"),
        ("CRLF line ends", f"{OWN}\r\n\r\nOn Tue, Dec 1, 2026, Disclosure wrote:\r\n> Which?\r\n"),
    ],
)
def test_quoted_message_and_signature_are_trimmed(client, text):
    assert trim(text) == OWN, client


def test_inline_answers_keep_the_questions_they_answer():
    text = (
        "On Tue, Dec 1, 2026, Disclosure wrote:\n"
        "> Which version?\n"
        "2.1.4\n"
        "> Which configuration?\n"
        "The default one.\n"
        "> Thanks\n"
    )
    assert trim(text) == "> Which version?\n2.1.4\n> Which configuration?\nThe default one."


def test_pasted_message_headers_are_evidence_not_a_quote():
    """Raw RFC 5322 headers (a mail server's bug report) carry Date, never Outlook's Sent."""
    text = (
        "This message crashes the server:\n\n"
        "From: attacker@example.net\nDate: Tue, 1 Dec 2026 09:00:00 +0000\n"
        "To: victim@example.org\nSubject: =?utf-8?q?AAAA?=\n"
    )
    assert trim(text) == text.rstrip("\n")


def test_a_line_saying_on_something_wrote_is_kept_unless_a_quote_follows():
    text = "On reflection, the fuzzer wrote:\ncrash in parse_header()"
    assert trim(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "> only a quote\n> of the notification\n",
        "On Tue, Dec 1, 2026, Disclosure wrote:\n> Which?\n",
        "-- \nRita Reporter\n",
    ],
)
def test_trimming_that_would_leave_nothing_keeps_the_whole_text(text):
    assert trim(text) == text


def test_an_html_only_reply_loses_its_quote_too():
    """Gmail's HTML: the answered message in a <blockquote> under the attribution. The text
    conversion quotes it with "> " per level, so it is trimmed like a text reply."""
    html = (
        '<div dir="ltr">Yes, 0.12.4 crashes too.<br><br>Ada</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">On Tue, Dec 1, 2026 at 9:00 AM '
        "Disclosure &lt;noreply@disclosure.example.org&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote"><p>Which versions did you test?</p>'
        "<blockquote>An older question</blockquote></blockquote></div>"
    )

    text = html_to_text(html)

    assert "> Which versions did you test?" in text
    assert "> > An older question" in text
    assert trim(text) == "Yes, 0.12.4 crashes too.\n\nAda"
