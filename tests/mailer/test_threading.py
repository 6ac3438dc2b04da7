"""Threading and loop protection of every outgoing message (mailer.outbox): each person's mail
client shows one conversation per subject of mail (`about`), answering the latest message
exchanged with that person, and no message of ours invites an automatic answer.
"""

import datetime as dt

import pytest
from django.utils import timezone

from mailer import outbox
from mailer.models import InboundEmail, OutboundEmail

pytestmark = pytest.mark.django_db

ABOUT = "reports.report:1"


def email(to, *, about=ABOUT, **fields):
    return OutboundEmail(about=about, to=to, subject="s", body="b", **fields)


def send(*messages):
    outbox.send(list(messages))


def delivered(mailoutbox):
    """The messages delivered since the last call, as the mail server got them."""
    outbox.deliver_pending()
    messages = [m.message() for m in mailoutbox]
    mailoutbox.clear()
    return messages


def received(sender, *, message_id, references="", about=ABOUT, when=None):
    return InboundEmail.objects.create(
        message_id=message_id,
        sender=sender,
        about=about,
        outcome=InboundEmail.Outcome.COMMENT,
        references=references,
        size=100,
        received_at=when or timezone.now(),
    )


def test_every_message_says_it_was_generated_and_carries_its_own_message_id(mailoutbox):
    send(email("ada@example.org"), email("bob@example.org", about=""))
    for message in delivered(mailoutbox):
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "All"
        row = OutboundEmail.objects.get(to=message["To"])
        assert message["Message-ID"] == outbox.message_id(row)
        assert outbox.outbound_pk(message["Message-ID"]) == row.pk


def test_reply_to_is_the_rows_and_only_when_it_has_one(mailoutbox):
    send(email("ada@example.org", reply_to="reply+x@example.org"), email("bob@example.org"))
    by_recipient = {m["To"]: m for m in delivered(mailoutbox)}
    assert by_recipient["ada@example.org"]["Reply-To"] == "reply+x@example.org"
    assert by_recipient["bob@example.org"]["Reply-To"] is None


def test_three_messages_to_one_person_form_one_chain(mailoutbox):
    ids = []
    for _ in range(3):
        send(email("ada@example.org"))
        (message,) = delivered(mailoutbox)
        ids.append(message["Message-ID"])
        if len(ids) == 1:
            assert message["In-Reply-To"] is None
            assert message["References"] is None
        else:
            assert message["In-Reply-To"] == ids[-2]
            assert message["References"].split() == ids[:-1]


def test_each_person_and_each_subject_has_a_thread_of_its_own(mailoutbox):
    send(email("ada@example.org"))
    send(email("bob@example.org"), email("ada@example.org", about="reports.report:2"))
    second = delivered(mailoutbox)[1:]
    assert all(message["In-Reply-To"] is None for message in second)
    send(email("ada@example.org"))
    (third,) = delivered(mailoutbox)
    first = OutboundEmail.objects.filter(to="ada@example.org", about=ABOUT).earliest("pk")
    assert third["In-Reply-To"] == outbox.message_id(first)


def test_a_message_received_from_the_person_later_is_the_parent(mailoutbox):
    send(email("ada@example.org"))
    (first,) = delivered(mailoutbox)
    received(
        "ada@example.org",
        message_id="<answer@mail.example.org>",
        references=first["Message-ID"],
    )
    received("bob@example.org", message_id="<bob@mail.example.org>")  # someone else's
    send(email("Ada@Example.org"))
    (second,) = delivered(mailoutbox)
    assert second["In-Reply-To"] == "<answer@mail.example.org>"
    assert second["References"].split() == [first["Message-ID"], "<answer@mail.example.org>"]


def test_an_older_received_message_does_not_beat_a_later_sent_one(mailoutbox):
    received(
        "ada@example.org",
        message_id="<old@mail.example.org>",
        when=timezone.now() - dt.timedelta(hours=1),
    )
    send(email("ada@example.org"))
    (first,) = delivered(mailoutbox)
    assert first["In-Reply-To"] == "<old@mail.example.org>"
    send(email("ada@example.org"))
    (second,) = delivered(mailoutbox)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"].split() == ["<old@mail.example.org>", first["Message-ID"]]


def test_references_keep_the_root_and_the_latest_messages(mailoutbox):
    long_chain = " ".join(f"<m{n}@mail.example.org>" for n in range(30))
    received("ada@example.org", message_id="<m30@mail.example.org>", references=long_chain)
    send(email("ada@example.org"))
    (message,) = delivered(mailoutbox)
    references = message["References"].split()
    assert len(references) == outbox.MAX_REFERENCES
    assert references[0] == "<m0@mail.example.org>"
    assert references[-1] == "<m30@mail.example.org>"
    assert references[1] == f"<m{31 - outbox.MAX_REFERENCES + 1}@mail.example.org>"


def test_a_caller_that_threads_its_message_itself_is_left_alone(mailoutbox):
    send(email("ada@example.org"))
    delivered(mailoutbox)
    send(email("ada@example.org", in_reply_to="<their@mail.example.org>"))
    (message,) = delivered(mailoutbox)
    assert message["In-Reply-To"] == "<their@mail.example.org>"


@pytest.mark.parametrize("recipients", [1, 12])
def test_sending_costs_the_same_queries_for_one_or_many_recipients(
    recipients, django_assert_num_queries
):
    send(*(email(f"p{n}@example.org") for n in range(recipients)))
    received("p0@example.org", message_id="<r@mail.example.org>")
    # The latest sent message per (about, recipient); the latest received one; the insert.
    with django_assert_num_queries(3):
        send(*(email(f"p{n}@example.org") for n in range(recipients)))
    threaded = OutboundEmail.objects.exclude(in_reply_to="").order_by("to")
    assert threaded.count() == recipients
    assert threaded.first().in_reply_to == "<r@mail.example.org>"


def test_messages_about_nothing_are_not_threaded_and_cost_no_lookup(django_assert_num_queries):
    with django_assert_num_queries(1):
        send(email("ada@example.org", about=""), email("ada@example.org", about=""))
    assert not OutboundEmail.objects.exclude(in_reply_to="").exists()


def test_many_pairs_thread_each_to_its_own_parent_and_a_line_break_is_not_threaded():
    """The lookups take their lists as lines (outbox._lines): every pair keeps its own parent
    however many are asked at once, and an address holding a line break (no mail server takes
    one) is left unthreaded rather than splitting the list.
    """
    people = [f"person{n}@example.org" for n in range(30)]
    send(*(email(person, about=f"reports.report:{n % 3}") for n, person in enumerate(people)))
    first = {(row.about, row.to): row for row in OutboundEmail.objects.all()}
    odd = "odd\nperson@example.org"
    send(email(odd, about="reports.report:0"))
    again = [email(person, about=f"reports.report:{n % 3}") for n, person in enumerate(people)]
    broken = email(odd, about="reports.report:0")
    outbox.thread([*again, broken])

    for message in again:
        assert message.in_reply_to == outbox.message_id(first[(message.about, message.to)])
    assert broken.in_reply_to == ""
