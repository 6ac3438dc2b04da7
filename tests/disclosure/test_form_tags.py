"""`crispy_cached`: the intake form's HTML is rendered once per distinct form and reused, and
what a reporter sees is still exactly what crispy renders for their form — on the day it is
shown, with their values and errors.

Stalwart's matrix: "| 0.12.x | :white_check_mark: | 2025-12-31 |" — from 2026 the series is
labelled "(no longer supported)" on the form.
"""

import io
import re

import pytest
import time_machine
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.core.management import call_command
from django.utils import timezone

from disclosure.templatetags import form_tags
from projects.models import Project
from projects.selectors import revision_with_matrix
from reports.forms import CreditForm, IntakeForm
from tests.signin import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    form_tags._rendered.clear()
    yield
    form_tags._rendered.clear()


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())


@pytest.fixture
def renders(monkeypatch):
    """How many times crispy itself rendered."""
    calls = []

    def counting(form):
        calls.append(form)
        return as_crispy_form(form)

    monkeypatch.setattr(form_tags, "as_crispy_form", counting)
    return calls


def intake_form(slug, data=None):
    revision = revision_with_matrix(project=Project.objects.get(slug=slug), on=timezone.localdate())
    return IntakeForm(data, revision=revision)


@pytest.mark.parametrize("slug", ["stalwart", "teammail", "mailtri-router"])
def test_the_reused_html_is_what_crispy_renders(seeded, renders, slug):
    first = form_tags.crispy_cached(intake_form(slug))
    again = form_tags.crispy_cached(intake_form(slug))
    assert again == first == as_crispy_form(intake_form(slug))
    assert len(renders) == 1  # the second form was not rendered again


def test_a_series_past_its_end_of_support_is_relabelled_the_next_day(seeded, renders):
    with time_machine.travel("2025-12-31 12:00Z", tick=False):
        before = form_tags.crispy_cached(intake_form("stalwart"))
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        after = form_tags.crispy_cached(intake_form("stalwart"))
    assert "0.12.x (no longer supported)" not in before
    assert "0.12.x (no longer supported)" in after
    assert len(renders) == 2


def test_an_edited_matrix_shows_at_once(seeded, renders):
    form_tags.crispy_cached(intake_form("stalwart"))
    revision = intake_form("stalwart").revision
    revision.versions.filter(series="0.13.x").update(series="0.14.x")
    html = form_tags.crispy_cached(intake_form("stalwart"))
    assert "0.14.x" in html
    assert "0.13.x" not in html


def test_a_bound_form_shows_its_own_values_and_errors_every_time(seeded, renders):
    blank = form_tags.crispy_cached(intake_form("stalwart"))
    bound = form_tags.crispy_cached(intake_form("stalwart", {"title": "Relay <smuggling>"}))
    assert "Relay &lt;smuggling&gt;" in bound
    assert "This field is required." in bound
    assert "This field is required." not in blank
    assert form_tags.crispy_cached(intake_form("stalwart")) == blank
    assert len(renders) == 2  # blank once, bound once; bound forms are never kept


class Prefilled(forms.Form):
    name = forms.CharField()


def test_initial_values_are_part_of_the_key():
    ada = form_tags.crispy_cached(Prefilled(initial={"name": "Ada"}))
    bob = form_tags.crispy_cached(Prefilled(initial={"name": "Bob"}))
    assert 'value="Ada"' in ada
    assert 'value="Bob"' in bob
    assert "Ada" not in bob


class Chooser(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all())


def test_choices_from_a_query_are_rendered_every_time(seeded, renders):
    form_tags.crispy_cached(Chooser())
    Project.objects.filter(slug="teammail").update(name="TeamMail Renamed")
    assert "TeamMail Renamed" in form_tags.crispy_cached(Chooser())
    assert len(renders) == 2


def test_the_kept_forms_are_bounded(renders, monkeypatch):
    monkeypatch.setattr(form_tags, "ENTRIES", 3)
    for name in ("a", "b", "c", "d"):
        form_tags.crispy_cached(Prefilled(initial={"name": name}))
    assert len(form_tags._rendered) == 3
    form_tags.crispy_cached(Prefilled(initial={"name": "a"}))  # the oldest went first
    assert len(renders) == 5


def test_the_intake_page_serves_the_kept_form_with_a_fresh_csrf_token(seeded, reporter):
    client = Client(enforce_csrf_checks=True)
    client.sign_in(reporter)
    pages = [client.get("/projects/stalwart/report/") for _ in range(2)]
    assert all(page.status_code == 200 for page in pages)
    html = [page.content.decode() for page in pages]
    assert 'name="title"' in html[0]
    assert 'name="credit-display"' in html[0]
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1] for page in html]
    assert tokens[0] != tokens[1]  # each page masks its own token; the form around it is kept
    assert as_crispy_form(CreditForm(prefix="credit")) in html[1]
