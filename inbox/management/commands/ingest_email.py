"""manage.py ingest_email [--recipient ADDRESS ...] < message.eml

One RFC 5322 message on standard input, delivered by the email gateway (inbox.gateway.ingest);
the exit status is what an MTA pipe expects: 0 delivered (or deliberately dropped), 67 unknown
recipient (the MTA bounces), 75 temporary failure (the MTA keeps the message and retries). See
README, "Email", for the Postfix and Exim lines.
"""

import logging
import sys

from django.core.management.base import BaseCommand

from inbox import gateway

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver one email message read from standard input; exits with an MTA status."
    # Tests hand the bytes in directly: call_command("ingest_email", stdin=BytesIO(...)).
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="An envelope recipient (repeatable); default: the message's Delivered-To, To "
            "and Cc headers.",
        )

    def handle(self, *args, recipient, **options):
        source = options.get("stdin") or sys.stdin.buffer
        try:
            delivery = gateway.ingest(source.read(), recipients=recipient or None)
        except Exception:
            # Whatever went wrong, the MTA must keep the message and try again: a lost report
            # is worse than a late one.
            logger.exception("ingest_email failed; the MTA will retry the message")
            sys.exit(gateway.TEMPORARY_FAILURE)
        if delivery.status != gateway.DELIVERED:
            sys.exit(delivery.status)
