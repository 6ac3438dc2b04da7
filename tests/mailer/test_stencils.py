"""Stencils (mailer.outbox.Stencils): a template rendered once per shape of message, each
message's printed strings put in, gives what rendering it with those strings gives.
"""

import datetime as dt
import zoneinfo

import pytest
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from mailer import outbox
from reports.emails import reminder_printed

NASTY = """<b>Tom & "Jerry"</b>'s <script>"""


@pytest.fixture
def templates(monkeypatch):
    """Templates of the test's own in place of templates/emails/, and the renderings made."""
    sources, made = {}, []

    def render_to_string(name, context):
        made.append(name)
        return engines["django"].from_string(sources[name]).render(context)

    monkeypatch.setattr(outbox, "render_to_string", render_to_string)
    return sources, made


def rendered(template, *, context, printed):
    """(text, HTML) as outbox.compose renders them without stencils."""
    (row,) = outbox.compose(
        template, to=["a@example.org"], subject="s", context=context, printed=printed
    )
    return row.body, row.html


def test_a_stencil_escapes_where_the_template_does_and_nowhere_else(templates):
    sources, _ = templates
    sources["emails/t.txt"] = (
        "{{ report.title }} | {% autoescape off %}{{ report.title }}{% endautoescape %}"
        " | {{ site_name }}"
    )
    sources["emails/t.html"] = "<p>{{ report.title }}</p><a href='{{ url }}'>{{ url }}</a>"
    printed = {"report.title": NASTY, "url": "https://x.example/?a=1&b=2"}
    stencils = outbox.Stencils()

    made = stencils.render("t", context={"site_name": "S & S"}, printed=printed)

    assert made == rendered("t", context={"site_name": "S & S"}, printed=printed)
    assert made == (
        "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;&#x27;s &lt;script&gt; | "
        f"{NASTY} | S &amp; S",
        "<p>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;&#x27;s &lt;script&gt;</p>"
        "<a href='https://x.example/?a=1&amp;b=2'>https://x.example/?a=1&amp;b=2</a>",
    )


def test_a_stencil_gives_what_rendering_gives(templates, settings):
    sources, _ = templates
    sources["emails/t.txt"] = "{% if flag %}{{ name }}!{% endif %}{{ report.title }}{{ site_name }}"
    sources["emails/t.html"] = "{{ report.title }}{% autoescape off %}{{ name }}{% endautoescape %}"
    settings.SITE_NAME = "A <site>"
    for flag in (True, False):
        context = {"flag": flag, "site_name": settings.SITE_NAME}
        printed = {"report.title": NASTY, "name": "x&y"}
        assert outbox.Stencils().render("t", context=context, printed=printed) == rendered(
            "t", context={"flag": flag}, printed=printed
        )


def test_one_rendering_per_shape_however_many_messages(templates):
    sources, made = templates
    sources["emails/t.txt"] = "{% if late %}Late: {% endif %}{{ title }}"
    sources["emails/t.html"] = "<p>{{ title }}</p>"
    stencils = outbox.Stencils()

    texts = [
        stencils.render("t", context={"late": n % 2 == 0}, printed={"title": f"<{n}>"})[0]
        for n in range(10)
    ]

    assert texts == [f"Late: &lt;{n}&gt;" if n % 2 == 0 else f"&lt;{n}&gt;" for n in range(10)]
    assert made == ["emails/t.txt", "emails/t.html"] * 2  # two shapes, each rendered once


def test_an_empty_printed_value_is_part_of_the_shape(templates):
    """A template may test what it prints ({% if internal_reply_address %}): an empty string
    must test false, as rendering with it does, not as its stand-in would.
    """
    sources, _ = templates
    sources["emails/t.txt"] = "{% if address %}Write to {{ address }}.{% else %}No.{% endif %}"
    sources["emails/t.html"] = ""
    stencils = outbox.Stencils()
    assert stencils.render("t", context={}, printed={"address": ""})[0] == "No."
    assert stencils.render("t", context={}, printed={"address": "a@b"})[0] == "Write to a@b."


def test_a_template_that_filters_a_printed_value_is_refused(templates):
    sources, _ = templates
    sources["emails/t.txt"] = "{{ title|upper }}"
    sources["emails/t.html"] = ""
    with pytest.raises(ValueError, match=r"emails/t\.txt filters a printed value"):
        outbox.Stencils().render("t", context={}, printed={"title": "x"})


def test_compose_with_stencils_prints_each_recipients_reply_address(templates):
    sources, made = templates
    sources["emails/t.txt"] = (
        "{{ title }}{% if reply_by_email %} reply{% if internal %} or {{ internal }}{% endif %}"
        "{% endif %}"
    )
    sources["emails/t.html"] = ""
    recipients = {
        "a@x": {"reply_by_email": True, "internal": "in+a@x"},
        "b@x": {"reply_by_email": True, "internal": "in+b@x"},
        "c@x": {"reply_by_email": True},
    }
    kwargs = {
        "to": [*recipients, "d@x"],
        "subject": "s",
        "context": {},
        "printed": {"title": "T&"},
        "recipient_context": recipients,
    }
    stencils = outbox.Stencils()

    rows = outbox.compose("t", stencils=stencils, **kwargs)

    assert [(row.to, row.body) for row in rows] == [
        ("a@x", "T&amp; reply or in+a@x"),
        ("b@x", "T&amp; reply or in+b@x"),
        ("c@x", "T&amp; reply"),
        ("d@x", "T&amp;"),
    ]
    assert len(made) == 3 * 2  # a@x and b@x share a stencil
    assert [row.body for row in rows] == [row.body for row in outbox.compose("t", **kwargs)]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_reminder_dates_are_written_as_the_date_filter_writes_them(zone):
    moments = [
        dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(987, 6, 5, 0, 0, tzinfo=dt.UTC),
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for moment in moments:
            reminder = _Reminder(due_at=moment)
            printed = reminder_printed(reminder)
            local = timezone.template_localtime(moment)
            assert printed["due_date"] == date_filter(local, "Y-m-d")
            assert printed["due_time"] == date_filter(local, "Y-m-d H:i")


class _Project:
    name = "P"


class _Report:
    tracking_id, title, project = "P-1", "T", _Project()


class _Reminder:
    report = _Report()

    def __init__(self, due_at):
        self.due_at = due_at


def test_a_stencil_keeps_braces_and_order_of_values_wherever_they_stand(templates):
    """The stencil's text is joined with the values (outbox.Form): braces in the template or in
    a value are text like any other; a value may open or close the message, stand next to
    another, or be printed twice.
    """
    sources, _ = templates
    sources["emails/t.txt"] = "{{ a }}{{ b }} {x} {{ a }}{% templatetag openbrace %}0}{{ b }}"
    sources["emails/t.html"] = (
        "{{ b }}{% templatetag openbrace %}{{ a }}{% templatetag closebrace %}"
    )
    printed = {"a": "{1}&", "b": "{}"}
    stencils = outbox.Stencils()

    made = stencils.render("t", context={}, printed=printed)

    assert made == rendered("t", context={}, printed=printed)
    assert made == ("{1}&amp;{} {x} {1}&amp;{0}{}", "{}{{1}&amp;}")
