"""Spam defences of the email intake (inbox.limits): the IP of origin read from the Received
headers the platform's relays wrote, and the refusals of new reports by email: blocked senders
per project, per-sender and per-IP rate limits over the last hour.
"""

import datetime
from email import message_from_string
from email.policy import default

import pytest
from django.db import connection
from django.utils import timezone

from inbox import limits
from mailer.models import InboundEmail
from reports.models import BlockedSender

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Outcome


def message(*received):
    """A message whose Received headers are `received`, topmost (the last hop) first."""
    headers = "".join(f"Received: {header}\n" for header in received)
    return message_from_string(
        f"{headers}From: someone@example.net\nSubject: hi\n\nbody\n", policy=default
    )


# The platform's own MTA on loopback takes the message from the relay on 10.0.0.5, which took it
# from the sender at 203.0.113.9; below, whatever the sender wrote.
OUR_MX = "from relay.platform.example (relay.platform.example [10.0.0.5]) by mx.platform.example"
EDGE = (
    "from mail.sender.example (mail.sender.example [203.0.113.9])\n"
    "\tby relay.platform.example (Postfix) with ESMTPS id 4Xyz; Tue, 1 Dec 2026 10:00:00 +0000"
)
FORGED = "from innocent.example (innocent.example [198.51.100.7]) by mail.sender.example"


# --- The IP of origin ---------------------------------------------------------------------------


def test_the_first_sender_outside_the_trusted_networks_is_the_origin(settings):
    settings.INBOX_TRUSTED_NETWORKS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8"]
    assert limits.origin_ip(message(OUR_MX, EDGE, FORGED)) == "203.0.113.9"


def test_headers_below_the_first_untrusted_hop_are_not_believed(settings):
    """Only the relays are trusted (default: loopback): a message straight from the sender's
    host names that host, whatever it wrote below.
    """
    settings.INBOX_TRUSTED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    assert limits.origin_ip(message(EDGE, FORGED)) == "203.0.113.9"
    # The relay on 10.0.0.5 is not ours here: it is the origin, and nothing below it counts.
    assert limits.origin_ip(message(OUR_MX, EDGE, FORGED)) == "10.0.0.5"


def test_a_trusted_relay_on_loopback_is_skipped_by_default():
    local = "from localhost (localhost [127.0.0.1]) by mx.platform.example (Postfix)"
    assert limits.origin_ip(message(local, EDGE)) == "203.0.113.9"


def test_a_forged_helo_does_not_pass_for_the_address_the_mta_saw():
    """The HELO name is the sender's claim; the address in the comment is what the MTA saw."""
    postfix = "from [127.0.0.1] (unknown [203.0.113.9]) by mx.platform.example (Postfix)"
    exim = "from [203.0.113.9] (helo=[127.0.0.1]) by mx.platform.example with esmtp (Exim 4.96)"
    exim_rdns = "from mail.sender.example ([203.0.113.9] helo=[127.0.0.1]) by mx.platform.example"
    for header in (postfix, exim, exim_rdns):
        assert limits.origin_ip(message(header, FORGED)) == "203.0.113.9", header


@pytest.mark.parametrize(
    ("header", "origin"),
    [
        ("from mail.example (mail.example [IPv6:2001:db8::25]) by mx", "2001:db8::25"),
        ("from mail.example (mail.example [2001:db8::26]) by mx (Postfix)", "2001:db8::26"),
        ("from mail.example (unknown [::ffff:203.0.113.10]) by mx", "203.0.113.10"),
    ],
)
def test_ipv6_origins(header, origin):
    assert limits.origin_ip(message(header, FORGED)) == origin


def test_a_trusted_ipv6_relay_is_skipped(settings):
    settings.INBOX_TRUSTED_NETWORKS = ["127.0.0.0/8", "::1/128", "2001:db8:aa::/48"]
    relay = "from relay (relay [IPv6:2001:db8:aa::5]) by mx.platform.example"
    assert limits.origin_ip(message(relay, EDGE, FORGED)) == "203.0.113.9"


def test_hops_that_name_no_sending_address_are_passed_over():
    lmtp = "by imap.platform.example (Dovecot) with LMTP id abc; Tue, 1 Dec 2026 10:00:01 +0000"
    assert limits.origin_ip(message(lmtp, EDGE, FORGED)) == "203.0.113.9"


@pytest.mark.parametrize(
    "received",
    [
        (),
        ("by mx.platform.example (Postfix, from userid 33)",),
        ("from mail.example (mail.example [not-an-address]) by mx",),
        ("from localhost (localhost [127.0.0.1]) by mx",),  # only our own hops
    ],
)
def test_no_origin_without_a_readable_outside_sender(received):
    assert limits.origin_ip(message(*received)) is None


# --- Refusals -----------------------------------------------------------------------------------


def inbound(*, sender="spammer@example.net", ip="203.0.113.9", ago=10, outcome=Outcome.REPORT):
    """A message stored `ago` minutes ago that became (by default) a report."""
    return InboundEmail.objects.create(
        message_id=f"<{InboundEmail.objects.count()}.{sender}@example.net>",
        sender=sender,
        origin_ip=ip,
        outcome=outcome,
        size=100,
        received_at=timezone.now() - datetime.timedelta(minutes=ago),
    )


def refusal(project, sender="spammer@example.net", ip="203.0.113.9"):
    return limits.refusal(project=project, sender=sender, origin_ip=ip)


SENDER_LIMIT = "Rate limit: 5 new reports by email per hour from one sender."
IP_LIMIT = "Rate limit: 20 new reports by email per hour from one IP address."


def test_a_new_sender_may_file(project):
    assert refusal(project) is None


def test_the_fifth_report_of_a_sender_in_an_hour_is_taken_the_sixth_refused(project, other_project):
    for number in range(4):
        inbound(ip=f"198.51.100.{number}")
    assert refusal(project) is None  # the fifth
    inbound(ip="198.51.100.4")
    # The sixth, to any project, from any address.
    assert refusal(project) == SENDER_LIMIT
    assert refusal(other_project, sender="SPAMMER@example.net", ip="192.0.2.1") == SENDER_LIMIT
    assert refusal(project, sender="someone-else@example.net", ip="192.0.2.1") is None


def test_reports_older_than_an_hour_do_not_count(project):
    for _ in range(5):
        inbound(ago=61)
    assert refusal(project) is None
    inbound(ago=59)
    for _ in range(4):
        inbound(ago=1)
    assert refusal(project) == SENDER_LIMIT


def test_only_messages_that_became_reports_count(project):
    for outcome in (Outcome.REFUSED, Outcome.IGNORED, Outcome.COMMENT, Outcome.NEUTRAL):
        for _ in range(5):
            inbound(outcome=outcome)
    assert refusal(project) is None


def test_the_ip_limit_counts_every_sender_from_that_ip(project):
    for number in range(19):
        inbound(sender=f"sender{number}@example.net")
    assert refusal(project, sender="twentieth@example.net") is None
    inbound(sender="sender19@example.net")
    assert refusal(project, sender="twenty-first@example.net") == IP_LIMIT
    assert refusal(project, sender="twenty-first@example.net", ip="203.0.113.10") is None
    assert refusal(project, sender="twenty-first@example.net", ip=None) is None


def test_the_limits_are_settings(project, settings):
    settings.INBOX_REPORTS_PER_SENDER_PER_HOUR = 1
    settings.INBOX_REPORTS_PER_IP_PER_HOUR = 2
    inbound()
    assert refusal(project) == "Rate limit: 1 new reports by email per hour from one sender."
    inbound(sender="other@example.net")
    assert refusal(project, sender="third@example.net") == (
        "Rate limit: 2 new reports by email per hour from one IP address."
    )


def test_a_blocked_sender_is_refused_by_that_project_only(project, other_project):
    BlockedSender.objects.create(
        project=project, email="spammer@example.net", created_at=timezone.now()
    )
    expected = "The sender is blocked for Acme: a report of theirs was marked as spam."
    assert refusal(project) == expected
    assert refusal(project, sender="Spammer@Example.NET") == expected
    assert refusal(other_project) is None


@pytest.mark.services
@pytest.mark.parametrize(
    ("where", "index"),
    [
        ({"sender": "spammer@example.net"}, "inbound_sender_idx"),
        ({"origin_ip": "203.0.113.9"}, "inbound_origin_ip_idx"),
    ],
)
def test_postgres_counts_recent_reports_on_their_indexes(where, index):
    """The plan reads the index (sequential scans off: with a handful of rows the planner would
    rightly prefer them, which proves nothing).
    """
    for number in range(30):
        inbound(sender=f"sender{number}@example.net", ip=f"198.51.100.{number}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = limits.recent_reports(**where)[:5].explain()
    assert index in plan, plan
