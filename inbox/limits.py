"""Spam defences of the email intake: rate limits per sender and per IP of origin, blocked
senders.

The IP of origin follows SpamAssassin's trusted_networks rule: each MTA prepends a Received
header naming the address it took the message from, so the headers can be believed from the top
down only while that address is one of the platform's own relays (INBOX_TRUSTED_NETWORKS). The
first address outside them is where the message came from; every header below it was written by
someone the platform does not know, and may be forged.
"""

import datetime
import ipaddress
import re

from django.conf import settings
from django.utils import timezone

from mailer.models import InboundEmail
from reports.selectors import sender_blocked

# An address literal in brackets: "[203.0.113.9]", "[2001:db8::1]", "[IPv6:2001:db8::1]".
ADDRESS_LITERAL = re.compile(r"(?<!helo=)\[(?:ipv6:)?([0-9a-f:.]+)\]", re.IGNORECASE)
FROM_CLAUSE = re.compile(r"^\s*from\s+(\S+)", re.IGNORECASE)


def origin_ip(message):
    """The IP address `message` (an email.message.Message) came from into the platform's relays:
    the sending address of the first Received header, from the top, whose sender is not in
    INBOX_TRUSTED_NETWORKS; None without Received headers or when none names an outside sender.

    Headers naming no sending address (local delivery, a pickup) are passed over, as
    SpamAssassin does: the relay above wrote them.
    """
    trusted = [ipaddress.ip_network(network) for network in settings.INBOX_TRUSTED_NETWORKS]
    for header in message.get_all("Received") or ():
        address = sending_address(str(header))
        if address is None:
            continue
        if not any(address.version == net.version and address in net for net in trusted):
            return str(address)
    return None


def sending_address(received):
    """The address of the host that handed the message over, from a Received header's "from"
    clause, or None.

    The clause is `from <HELO> (<reverse DNS> [<address>])` (Postfix, Sendmail) or
    `from <reverse DNS> ([<address>] helo=<HELO>)`, `from [<address>] (helo=<HELO>)` (Exim). The
    HELO name is the sender's own claim (`HELO [127.0.0.1]`), so the address the receiving MTA
    saw is read from the comment in parentheses first, never from a "helo=".
    """
    received = " ".join(received.split())  # unfold
    clause = FROM_CLAUSE.match(received)
    if clause is None:
        return None
    rest = received[clause.end() :]
    comment = _leading_comment(rest)
    for text in (comment, clause.group(1)):
        for literal in ADDRESS_LITERAL.findall(text):
            address = _address(literal)
            if address is not None:
                return address
    return None


def _leading_comment(text):
    """The parenthesised comment at the start of `text` (nested parentheses kept), or ""."""
    text = text.lstrip()
    if not text.startswith("("):
        return ""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[1:index]
    return text[1:]


def _address(literal):
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return None
    # An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(*, project, sender, origin_ip):
    """Why a new report by email from `sender` (at `origin_ip`) to `project` is refused (a
    sentence for the log and the inbound record), or None when it may be filed.

    Refused: a sender blocked for the project (reports.selectors.sender_blocked); a sender with
    INBOX_REPORTS_PER_SENDER_PER_HOUR new reports by email in the last hour, over all projects;
    an IP of origin with INBOX_REPORTS_PER_IP_PER_HOUR, over all senders. Only messages that
    became reports count (outcome "report"): refused and ignored ones do not.
    """
    sender = (sender or "").strip().lower()
    if sender and sender_blocked(project, sender):
        return f"The sender is blocked for {project.name}: a report of theirs was marked as spam."
    per_sender = settings.INBOX_REPORTS_PER_SENDER_PER_HOUR
    if sender and _reaches(recent_reports(sender=sender), per_sender):
        return f"Rate limit: {per_sender} new reports by email per hour from one sender."
    per_ip = settings.INBOX_REPORTS_PER_IP_PER_HOUR
    if origin_ip and _reaches(recent_reports(origin_ip=origin_ip), per_ip):
        return f"Rate limit: {per_ip} new reports by email per hour from one IP address."
    return None


def recent_reports(**where):
    """Inbound messages of the last hour that became reports, filtered by `where` (sender= or
    origin_ip=: the indexes inbound_sender_idx and inbound_origin_ip_idx lead with them).
    """
    since = timezone.now() - datetime.timedelta(hours=1)
    return InboundEmail.objects.filter(
        **where, received_at__gte=since, outcome=InboundEmail.Outcome.REPORT
    )


def _reaches(messages, limit):
    # Counting stops at the limit: a flood costs no more to check than the limit itself.
    return messages[:limit].count() >= limit
