"""CSP allows scripts and styles from our own origin only: no inline code in any template."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\s(style|on[a-z]+)\s*=\s*[\"']", re.IGNORECASE)
COMMENTS = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)
CDN = re.compile(r"(src|href)=\"(https?:)?//", re.IGNORECASE)


def test_templates_exist():
    assert len(TEMPLATES) >= 5


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_inline_script_style_or_cdn(template):
    text = COMMENTS.sub("", template.read_text())
    assert not INLINE_SCRIPT.search(text)
    assert not INLINE_STYLE.search(text)
    assert not CDN.search(text)


@pytest.mark.django_db
def test_pages_send_a_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


ROLE_COMPARISON = re.compile(r"\.role\s*(==|!=|in\b)|role\s*==\s*[\"']")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_never_compare_role_strings(template):
    """Permissions are decided in the apps' access tables; templates get a `can` mapping."""
    assert not ROLE_COMPARISON.search(COMMENTS.sub("", template.read_text()))


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "status"), [("/reports/NOPE-2026-0001/", 404), ("/nowhere/", 404)])
def test_error_pages_use_the_site_layout(client, reporter, url, status):
    client.sign_in(reporter)
    response = client.get(url)
    assert response.status_code == status
    body = response.content.decode()
    assert "vendor/bootstrap/css/bootstrap.min.css" in body
    assert '<link rel="icon" href="data:,">' in body  # no request for /favicon.ico


@pytest.mark.django_db
def test_admin_pages_name_the_empty_icon_too(client, superuser):
    """Without it the browser asks for /favicon.ico, a 404 in the console of every admin page."""
    client.sign_in(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<link rel="icon" href="data:,">' in body
    assert 'id="site-name"' in body  # still the admin's own layout, branding included
