"""The Markdown preview: the server renders what the Write / Preview tabs send with the site's own
sanitizer, for signed-in people, POST with CSRF only, within a size cap and a rate; and every
Markdown text area of the site carries the syntax hint and the tabs.
"""

from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import Client as DjangoClient

from advisories.forms import AmendForm, PublishForm
from projects.forms import MarkdownTextarea
from projects.markdown import PREVIEW_MAX_CHARS
from reports.forms import CommentForm, IntakeForm, transition_form
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/markdown/preview/"
HINT = "Markdown: **bold**, `code`, ```fenced blocks```, [links](https://…); HTML is removed."


def test_preview_renders_markdown_with_the_sites_sanitizer(client, reporter):
    client.sign_in(reporter)
    text = (
        "**bold** and `code`\n\n```\nfenced()\n```\n\n[docs](https://example.org/docs)\n\n"
        '<script>alert("x")</script><img src=x onerror="alert(1)">'
    )
    response = client.post(URL, {"text": text})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<pre><code>fenced()\n</code></pre>" in html
    assert '<a href="https://example.org/docs" rel="nofollow noopener noreferrer">docs</a>' in html
    assert "<script" not in html
    assert "alert" not in html
    assert "onerror" not in html
    assert "<img" not in html


def test_preview_of_nothing_is_empty(client, reporter):
    client.sign_in(reporter)
    response = client.post(URL, {})
    assert response.status_code == 200
    assert response.content == b""


def test_preview_refuses_oversize_text(client, reporter):
    client.sign_in(reporter)
    response = client.post(URL, {"text": "x" * (PREVIEW_MAX_CHARS + 1)})
    assert response.status_code == 413
    assert response.content.decode() == "Too long to preview: at most 100,000 characters."
    assert client.post(URL, {"text": "x" * PREVIEW_MAX_CHARS}).status_code == 200


def test_preview_is_post_only(client, reporter):
    client.sign_in(reporter)
    assert client.get(URL, {"text": "**bold**"}).status_code == 405


def test_preview_needs_a_csrf_token():
    user = UserFactory()
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(URL, {"text": "**bold**"})
    assert response.status_code == 403
    assert b"<strong>bold</strong>" not in response.content
    # With the token a page's form carries, the same post is rendered.
    browser.get("/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(URL, {"text": "**bold**"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.content == b"<p><strong>bold</strong></p>"


def test_preview_needs_a_signed_in_user(client):
    response = client.post(URL, {"text": "**bold**"})
    assert response.status_code == 403
    assert response.content.decode() == "Sign in to preview."


def test_preview_is_rate_limited(client, reporter, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "markdown_preview": "2/h/user"}
    client.sign_in(reporter)
    for _ in range(2):
        assert client.post(URL, {"text": "hi"}).status_code == 200
    assert client.post(URL, {"text": "hi"}).status_code == 429


def test_markdown_fields_carry_the_hint_and_the_tabs(project):
    revision = project.revision_in_force()
    intake = IntakeForm(revision=revision)
    html = str(intake["description"])
    assert HINT in html
    assert 'id="id_description_markdown"' in html
    assert 'aria-describedby="id_description_markdown"' in html
    assert 'data-markdown-preview="/markdown/preview/"' in html
    assert 'role="tab" id="id_description_preview_tab"' in html
    # The tabs are hidden until the script shows them: without it, text area and hint only.
    assert 'role="tablist" aria-label="Write or preview" hidden>' in html
    # One-line fields stay plain inputs.
    assert HINT not in str(intake["title"])

    comment = str(CommentForm(can_write_internal=True)["body"])
    assert HINT in comment
    assert 'name="body"' in comment
    close = str(transition_form("close", report=None)["message"])
    assert 'id="id_close_message_markdown"' in close


def test_help_text_and_hint_both_describe_the_text_area(project):
    note = str(PublishForm()["early_note"])
    assert 'aria-describedby="id_early_note_helptext id_early_note_markdown"' in note
    assert HINT in note
    # The advisory's texts are Markdown; its reason for an amendment is plain text.
    amend = AmendForm(matrix=[])
    assert HINT in str(amend["details"])
    assert HINT not in str(amend["reason"])


def test_an_error_on_a_markdown_field_is_shown_below_it(project):
    """crispy-forms puts the error after the widget; site.css shows it for a widget marked so."""
    form = IntakeForm({"title": "Overflow"}, revision=project.revision_in_force())
    assert not form.is_valid()
    html = Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))
    required = next(
        name for name in form.errors if isinstance(form.fields[name].widget, MarkdownTextarea)
    )
    field_html = html.split(f'id="div_id_{required}"')[1].split('id="div_id_')[0]
    assert '<div class="markdown-field markdown-field-invalid"' in field_html
    assert "This field is required." in field_html.split("markdown-field-invalid")[1]
    css = (Path(__file__).resolve().parents[2] / "static/css/site.css").read_text()
    assert ".markdown-field-invalid ~ .invalid-feedback { display: block; }" in css
