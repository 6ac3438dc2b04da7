"""Writing to and delivering from the outbox.

Callers compose messages inside their own transaction (`send`): nothing is sent for work that
rolled back, and nothing decided is lost when the mail server is down. Delivery runs after commit
and again from beat every minute, with a stable Message-ID per row.

Threading (RFC 5322 §3.6.4) is decided here when rows are stored, generically by `about`: a new
message to X about A answers the latest message of that conversation exchanged with X (sent to X,
or received from X), so each person's mail client shows one thread per report. Every message
says it was generated (RFC 3834 Auto-Submitted, and Exchange's X-Auto-Response-Suppress) so
that out-of-office replies are not sent back to us, and so that the gateway drops our own mail.
"""

import functools
import logging
import re
from html import escape as escape_html
from operator import attrgetter, itemgetter
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import conditional_escape

from mailer import openpgp
from mailer.background import enqueue_on_commit
from mailer.bulk import copy_rows, prepared
from mailer.models import InboundEmail, OutboundEmail

logger = logging.getLogger(__name__)

DELIVER_TASK = "mailer.tasks.deliver_outbox"
# The root of a conversation and its most recent messages: enough for any client to thread,
# without a References header growing with every notification of a long report.
MAX_REFERENCES = 20
# Delivery tries a row this often (once per deliver_outbox run) before it gives up on it.
MAX_ATTEMPTS = 5
GENERATED_HEADERS = {
    "Auto-Submitted": "auto-generated",  # RFC 3834: no automatic answers to this
    "X-Auto-Response-Suppress": "All",  # Exchange/Outlook: no out-of-office, no receipts
}
MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def compose(
    template,
    *,
    to,
    subject,
    context,
    printed=None,
    stencils=None,
    about="",
    dedup_key=None,
    exclude=None,
    reply_to=None,
    recipient_context=None,
    routes=None,
):
    """Unsaved outbox rows: one message per distinct recipient, text and HTML rendered from
    templates/emails/<template>.txt and .html. `exclude` drops one address (the actor's own).
    With `dedup_key`, each recipient's row gets the key plus its address.

    `reply_to`: {address: the Reply-To of that recipient's message}; `recipient_context`:
    {address: extra template context of that recipient} (a footer naming their own address).
    Recipients with the same extra context share one rendering. Or `routes`: f(address) ->
    (its Reply-To, its extra context), asked when the message is put together.

    `printed`: strings the template only prints, by (dotted) name; `stencils`: a `Stencils` of
    the caller's batch, which renders the template once per shape of message and puts each
    message's `printed` values (and its recipients' strings) in (see `Stencils`). With
    stencils, each message is put together (its route asked, its stencil filled) when it is
    stored, not now: see `Message`.
    """
    recipients = sorted({address for address in to if address and address != exclude})
    if routes is None:
        reply_to, recipient_context = reply_to or {}, recipient_context or {}

        def routes(address):
            return reply_to.get(address, ""), recipient_context.get(address, {})

    context, printed = {"site_name": settings.SITE_NAME, **context}, printed or {}
    rendered = {}

    def rendering(address):
        answer_to, extra = routes(address)
        key = tuple(sorted(extra.items()))
        if key not in rendered:
            full = {**context, **_nested(printed), **extra}
            rendered[key] = (
                render_to_string(f"emails/{template}.txt", full),
                render_to_string(f"emails/{template}.html", full),
                None,
            )
        return answer_to, rendered[key]

    def filled(address):
        answer_to, extra = routes(address)
        # Recipients whose extra context tests the same and prints the same names share a
        # filler: their reply addresses are all that is put in per recipient.
        shape = tuple(sorted((k, _PRINTED if _prints(v) else v) for k, v in extra.items()))
        if shape not in rendered:
            names = [k for k, v in shape if v is _PRINTED]
            rendered[shape] = (
                names,
                stencils.filler(
                    template,
                    context={**context, **{k: v for k, v in shape if v is not _PRINTED}},
                    printed=printed,
                    names=names,
                ),
            )
        names, fill = rendered[shape]
        return answer_to, fill(*[extra[name] for name in names])

    rows = [
        Message(
            about,
            f"{dedup_key}:{address}" if dedup_key else None,
            address,
            subject,
            rendering if stencils is None else filled,
        )
        for address in recipients
    ]
    if stencils is None:  # rendered now: the context may hold objects that change later
        for row in rows:
            row.texts()
    return rows


_PRINTED = object()  # in a recipient's shape: a value printed, not tested


class Message:
    """An outbox row as `compose` makes it, not stored yet: what `send` stores.

    A message with stencils is put together (its recipient's reply address signed, its stencil
    filled) when it is first read, which is when it is stored: a large send streams each row
    into PostgreSQL's COPY as it is put together, so the server writes the rows while Python
    makes the next ones (a sweep writes tens of thousands, issue 15). Its strings are those
    given to `compose`, which are not objects that could change in between. No model instance
    is made per row.
    """

    __slots__ = (
        "_made", "_parts", "_reply_to", "about", "dedup_key", "in_reply_to", "references",
        "subject", "to",
    )  # fmt: skip
    pk = None  # never stored through this object: `send` leaves ids to the database

    def __init__(self, about, dedup_key, to, subject, made):
        self.about, self.dedup_key, self.to, self.subject = about, dedup_key, to, subject
        self.in_reply_to, self.references = "", ""
        # made(to) -> (Reply-To, parts); parts: (text, HTML, None), or (text form, HTML form,
        # values) of a stencil (see Form).
        self._made, self._parts, self._reply_to = made, None, ""

    def _put_together(self):
        if self._parts is None:
            self._reply_to, self._parts = self._made(self.to)
            self._made = None

    @property
    def reply_to(self):
        self._put_together()
        return self._reply_to

    def texts(self):
        """(text, HTML) of the message."""
        self._put_together()
        text, html, values = self._parts
        if values is None:
            return text, html
        return text.filled(values), html.filled(values)

    @property
    def body(self):
        return self.texts()[0]

    @property
    def html(self):
        return self.texts()[1]

    def outbound(self):
        """The OutboundEmail of this message, unsaved."""
        row = _outbound(
            self.about, self.dedup_key, self.to, self.subject, *self.texts(), self.reply_to
        )
        row.in_reply_to, row.references = self.in_reply_to, self.references
        return row

    def __repr__(self):
        return f"<Message {self.subject!r} to {self.to}>"


# The fields `_outbound` sets, in OutboundEmail's order; the others keep their defaults.
_COMPOSED = ("about", "dedup_key", "to", "subject", "body", "html", "reply_to")


def _outbound(*values):
    """OutboundEmail(**dict(zip(_COMPOSED, values))), built from positional arguments: Django
    then assigns every field in order instead of looking each one up in the keywords and
    asking the others for their defaults, a third of the time (a sweep makes tens of
    thousands).
    """
    at, defaults, made = _positions()
    row = list(defaults)
    for position, value in zip(at, values, strict=True):
        row[position] = value
    for position, field in made:
        row[position] = field.get_default()
    return OutboundEmail(*row)


@functools.cache
def _positions():
    """(positions of _COMPOSED, every field's default, (position, field) of the defaults made
    anew for each row: a callable's)."""
    fields = OutboundEmail._meta.concrete_fields
    names = [field.attname for field in fields]
    made = [
        (at, field)
        for at, field in enumerate(fields)
        if field.has_default() and callable(field.default) and field.attname not in _COMPOSED
    ]
    defaults = [field.get_default() for field in fields]
    return [names.index(name) for name in _COMPOSED], defaults, made


def _prints(value):
    """Whether a recipient's context value is printed (a reply address) rather than tested."""
    return isinstance(value, str) and value != ""


def _nested(printed):
    """{"report.title": v} as the template reads it: {"report": {"title": v}}."""
    context = {}
    for name, value in printed.items():
        *parents, last = name.split(".")
        level = context
        for parent in parents:
            level = level.setdefault(parent, {})
        level[last] = value
    return context


# A printed value's stand-in while a stencil is rendered: control characters no template or
# value holds, around the value's name and a "<" that tells whether the template escaped it.
SLOT_MARK = "\x1e"
SLOT = re.compile(r"\x1e([\w.]+)(<|&lt;)\x1e")
ESCAPED_KEPT = 10_000  # escaped values a Stencils keeps at most (see Stencils._escape)


class Stencils:
    """Email templates rendered once per shape of message, each message's own values put in.

    A sweep writes thousands of messages from a few templates that differ in a few printed
    strings (tracking ID, title, dates, the reply address in the footer). Rendering each one
    through Django's template engine was most of the sweep's time (issue 15); a stencil is the
    template rendered once with a stand-in for each printed value, split at the stand-ins, and a
    message is the stencil joined with its values, HTML-escaped where the template escaped the
    stand-in (autoescape on) and as they are where it did not.

    `context` decides the shape (what the template tests: kind, flags, labels) and must be
    hashable; `printed` maps names to strings the template only prints as `{{ name }}`
    (dotted names reach into dicts: "report.title"), never tests, compares or filters. An empty
    string is no value to print: it joins the shape. One stencil per (template, context, names
    printed), kept for the life of this object (one sweep). The result is what rendering with the
    values gives (tests/reports/test_sweep_emails.py, tests/mailer/test_stencils.py); a filter
    that changes a stand-in is an error, not a wrong email.
    """

    def __init__(self):
        self._stencils = {}
        # printed value -> its HTML-escaped form: the recipients of one message share most
        # values; emptied now and then so that a long sweep does not keep them all.
        self._escaped = {}

    def render(self, template, *, context, printed):
        """(text, HTML) of `template` with `context` and the `printed` values."""
        text, html, values = self.filler(template, context=context, printed=printed, names=())()
        return text.filled(values), html.filled(values)

    def filler(self, template, *, context, printed, names):
        """f(*strings) -> (text Form, HTML Form, values) of `template` with `context` and
        `printed` plus `names` printed as the strings: each Form's places are positions in
        `values`, and form.filled(values) gives what `render` gives. For the
        recipients of one message, who differ only in a few printed strings (their reply
        addresses), the stencil is looked up and the message's own values escaped once, not
        once per recipient. The strings must not be empty (see the class).
        """
        if "" in printed.values():
            empty = [name for name, value in printed.items() if value == ""]
            context = {**context, **dict.fromkeys(empty, "")}
            printed = {name: value for name, value in printed.items() if value != ""}
        key = (template, tuple(sorted(context.items())), tuple(sorted([*printed, *names])))
        stencil = self._stencils.get(key)
        if stencil is None:
            stencil = self._stencils[key] = self._make(template, context, [*printed, *names])
        text, html, slots = stencil
        escape = self._escape
        values, own = [], []  # own: (position in values, position in the strings, escaped)
        for at, (name, escaped) in enumerate(slots):
            if name in printed:
                values.append(escape(printed[name]) if escaped else printed[name])
            else:
                values.append(None)
                own.append((at, names.index(name), escaped))
        if not own:
            return lambda: (text, html, values)

        def fill(*strings):
            filled = values.copy()
            for at, given, escaped in own:
                filled[at] = escape(strings[given]) if escaped else strings[given]
            return text, html, filled

        return fill

    def _escape(self, value):
        """conditional_escape(value), computed once per distinct plain string (see ESCAPED_KEPT)."""
        if value.__class__ is not str:  # SafeString and the like: equal to a str, not the same
            return conditional_escape(value)
        escaped = self._escaped.get(value)
        if escaped is None:
            if len(self._escaped) >= ESCAPED_KEPT:
                self._escaped.clear()
            # What conditional_escape gives for a plain string, without its lazy wrappers.
            escaped = self._escaped[value] = escape_html(value)
        return escaped

    @staticmethod
    def _make(template, shape, names):
        """(text, HTML, slots): each rendering as a Form whose places are positions in `slots`,
        the (name, escaped) stand-ins the two renderings hold.
        """
        stand_ins = {name: f"{SLOT_MARK}{name}<{SLOT_MARK}" for name in names}
        full = {**shape, **_nested(stand_ins)}
        slots, forms = {}, []
        for suffix in ("txt", "html"):
            rendered = render_to_string(f"emails/{template}.{suffix}", full)
            # [literal, name, mark, literal, name, mark, ..., literal]
            pieces = SLOT.split(rendered)
            literals = pieces[0::3]
            found = [
                (name, mark != "<") for name, mark in zip(pieces[1::3], pieces[2::3], strict=True)
            ]
            if any(SLOT_MARK in part for part in literals) or {n for n, _ in found} - set(names):
                raise ValueError(
                    f"emails/{template}.{suffix} filters a printed value; give it the value "
                    "as the template prints it"
                )
            forms.append(Form(literals, [slots.setdefault(slot, len(slots)) for slot in found]))
        return (*forms, list(slots))


class Form:
    """One rendering of a stencil: its literal text, with a place for each printed value.

    `filled(values)` joins the literals and the values in the places' order: a copy of one
    list, a few items set, one join. str.format did the same from a format string, parsing
    it again for every message, four times as long (a sweep fills ~100,000, issue 15).
    """

    __slots__ = ("_pieces", "_places")

    def __init__(self, literals, places):
        """`literals`: the text around the places (one more than the places); `places`: for
        each place, the position in `values` of the value that goes there.
        """
        pieces = [literals[0]]
        for literal in literals[1:]:
            pieces += [None, literal]
        self._pieces = pieces
        # (position in _pieces, position in values) of each place
        self._places = tuple((2 * at + 1, given) for at, given in enumerate(places))

    def filled(self, values):
        pieces = self._pieces.copy()
        for at, given in self._places:
            pieces[at] = values[given]
        return "".join(pieces)


def send(messages):
    """Store `messages` in the caller's transaction and have them delivered after commit.

    `messages`: `compose`'s Messages, or unsaved OutboundEmail rows. Each message about
    something is threaded first (`thread`). A message whose dedup key is already in the outbox
    (or earlier in `messages`) is not stored again. Rows get ids in the order of `messages`;
    their primary keys are not set on the instances.
    """
    if not messages:
        return
    thread(messages)
    if (
        connection.vendor == "postgresql"
        and len(messages) >= COPY_MIN_ROWS
        and all(message.pk is None for message in messages)  # COPY leaves ids to the sequence
    ):
        _copy(messages)
    else:
        OutboundEmail.objects.bulk_create(
            [m.outbound() if m.__class__ is Message else m for m in messages],
            ignore_conflicts=True,
        )
    deliver_after_commit()


# From this many rows on, PostgreSQL gets the rows by COPY (`_copy`): a sweep writes tens of
# thousands (issue 15), and building a parametrised INSERT of them, field by field through the
# ORM and then quoted by the driver, cost more than the server's work. Below it, one INSERT
# costs fewer statements.
COPY_MIN_ROWS = 100
_STAGE = "mailer_outbox_stage"


def _copy(messages):
    """`bulk_create(messages, ignore_conflicts=True)` by COPY: straight into the outbox, in a
    savepoint, in the order of `messages`. Each Message's text and HTML are put together as its
    row goes into the COPY, which sends the rows as it goes: PostgreSQL writes them while the
    next ones are made. COPY cannot skip a conflicting row; when a dedup key is already stored
    (or given twice), the savepoint rolls back and `_copy_skipping_conflicts` writes the rows as
    bulk_create would have. Either way errors are Django's (IntegrityError, DataError), as with
    bulk_create.
    """
    fields, row_of, values_of = _copy_columns()
    now = timezone.now()  # created_at, auto_now_add: the time of the write
    rows = []  # kept for the staging table, should a dedup key conflict

    def made():
        for message in messages:
            if message.__class__ is Message:
                text, html = message.texts()  # put together now (see Message)
                values = row_of((message.about, message.dedup_key, message.to, message.subject,
                                 text, html, message._reply_to, message.in_reply_to,
                                 message.references, now))  # fmt: skip
            else:
                message.created_at = now
                values = values_of(message)
            # created_at (last) is `now`, aware, as the ORM writes it; the rest may need preparing.
            values = (*prepared(fields[:-1], values[:-1]), now)
            rows.append(values)
            yield values

    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(OutboundEmail._meta.db_table)
    stream = made()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            copy_rows(cursor, OutboundEmail._meta.db_table, fields, stream)
    except IntegrityError:
        rows.extend(stream)  # the rows the failed COPY had not taken yet (if any)
        _copy_skipping_conflicts(rows, fields=fields, table=table, columns=columns)
    for message in messages:  # as bulk_create leaves them
        if message.__class__ is not Message:
            message._state.adding, message._state.db = False, connection.alias


# A Message's values in this order, then the write's time: `_copy_columns` puts them in the
# outbox's column order, with the other columns' defaults.
_MESSAGE_VALUES = (
    "about", "dedup_key", "to", "subject", "body", "html", "reply_to", "in_reply_to",
    "references", "created_at",
)  # fmt: skip


@functools.cache
def _copy_columns():
    """(the fields `_copy` writes, in COPY's order: created_at last; f(values) -> row, f taking
    the _MESSAGE_VALUES and giving the row, the other fields at their (constant) defaults;
    g(OutboundEmail) -> row).
    """
    created = OutboundEmail._meta.get_field("created_at")
    fields = [
        field
        for field in OutboundEmail._meta.concrete_fields
        if not field.primary_key and field is not created
    ]
    fields.append(created)
    given = len(_MESSAGE_VALUES)
    positions, defaults = [], []
    for field in fields:
        if field.attname in _MESSAGE_VALUES:
            positions.append(_MESSAGE_VALUES.index(field.attname))
        else:
            if field.has_default() and callable(field.default):
                raise ValueError(f"the outbox's COPY has no default made per row for {field}")
            positions.append(given + len(defaults))
            defaults.append(field.get_default())
    pick, defaults = itemgetter(*positions), tuple(defaults)
    return (
        fields,
        lambda values: pick((*values, *defaults)),
        attrgetter(*(field.attname for field in fields)),
    )


def _copy_skipping_conflicts(rows, *, fields, table, columns):
    """COPY into a temporary staging table, then INSERT ... SELECT ... ON CONFLICT DO NOTHING
    into the outbox in the rows' order: the first row with a dedup key is stored, unless the
    outbox had it already.
    """
    quote = connection.ops.quote_name
    definitions = ", ".join(
        f"{quote(field.column)} {field.db_type(connection)}" for field in fields
    )
    with connection.cursor() as cursor:
        # An error rolls the caller's transaction (or savepoint) back, the table with it.
        cursor.execute(f"CREATE TEMPORARY TABLE {_STAGE} ({definitions}, n integer)")
        copy_rows(
            cursor,
            _STAGE,
            fields,
            ((*row, n) for n, row in enumerate(rows)),
            extra=[("n", "integer")],
        )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names from the model's meta
            f"SELECT {columns} FROM {_STAGE} ORDER BY n ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"DROP TABLE {_STAGE}")


def deliver_after_commit():
    enqueue_on_commit(DELIVER_TASK)


def message_id(email):
    """Stable per outbox row: a redelivery after a crash is the same message to mail clients.
    The gateway uses it to recognise answers to our mail (`outbound_pk`).
    """
    return _message_id(email.pk)


def _message_id(pk, host=None):
    return f"<outbound-{pk}@{host or urlsplit(settings.SITE_URL).hostname}>"


def outbound_pk(value):
    """The outbox row a Message-ID (as in an In-Reply-To or References header) names, or None
    when it is not one of ours.
    """
    host = re.escape(urlsplit(settings.SITE_URL).hostname or "")
    match = re.fullmatch(rf"<outbound-([0-9]+)@{host}>", (value or "").strip(), re.IGNORECASE)
    return int(match[1]) if match else None


def _inbound_message_id(message_id):
    value = message_id.strip()
    return value if value.startswith("<") else f"<{value}>"


def _references(parent_references, parent_id):
    ids = [*MESSAGE_ID.findall(parent_references or ""), parent_id]
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return " ".join(ids)


def _latest(queryset, *, person, when):
    """The latest row per (about, person) of `queryset`, in one query."""
    return queryset.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("about"), F(person)],
            order_by=[F(when).desc(), F("pk").desc()],
        )
    ).filter(rank=1)


# One index descent per (about, recipient) on outbox_thread_idx (about, to, id), however long
# the conversation: a window over the pairs' rows would read their whole history each time.
LATEST_SENT_SQL = """
    SELECT latest.id, latest.about, latest."to", latest.created_at, latest."references"
    FROM unnest(string_to_array(%s, E'\\n'), string_to_array(%s, E'\\n')) AS pair(about, address)
    CROSS JOIN LATERAL (
        SELECT id, about, "to", created_at, "references" FROM mailer_outboundemail
        WHERE about = pair.about AND "to" = pair.address
        ORDER BY id DESC LIMIT 1
    ) AS latest
"""
LATEST_RECEIVED_SQL = """
    SELECT about, sender, received_at, message_id, "references" FROM (
        SELECT about, sender, received_at, message_id, "references", row_number() OVER (
            PARTITION BY about, sender ORDER BY received_at DESC, id DESC
        ) AS rank
        FROM mailer_inboundemail
        WHERE about = ANY(string_to_array(%s, E'\\n'))
        AND sender = ANY(string_to_array(%s, E'\\n'))
    ) AS latest
    WHERE rank = 1
"""


def _lines(values):
    """`values` (none holding a line break) as one query parameter, which the query splits
    (string_to_array(%s, E'\\n')): the driver quotes an array's thousands of strings one by
    one in Python (5 ms per 2,500), PostgreSQL parses such a literal slower too; one string
    costs neither.
    """
    return "\n".join(values)


def _latest_sent(pairs):
    """The latest outbox row of each (about, address) pair, in one query: (id, about, to,
    created_at, references) tuples (a sweep threads tens of thousands of messages: no model
    instance per row).
    """
    if connection.vendor == "postgresql":
        abouts, addresses = zip(*sorted(pairs), strict=True)
        with connection.cursor() as cursor:
            cursor.execute(LATEST_SENT_SQL, [_lines(abouts), _lines(addresses)])
            return cursor.fetchall()
    # Elsewhere (SQLite, development): no LATERAL; the window reads the pairs' rows.
    return _latest(
        OutboundEmail.objects.filter(
            about__in={about for about, _ in pairs}, to__in={address for _, address in pairs}
        ),
        person="to",
        when="pk",
    ).values_list("pk", "about", "to", "created_at", "references")


def _latest_received(abouts, senders):
    """The latest inbound message per (about, sender) among `abouts` and `senders`, in one
    query: (about, sender, received_at, Message-ID, references) tuples.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(LATEST_RECEIVED_SQL, [_lines(abouts), _lines(senders)])
            return cursor.fetchall()
    return _latest(
        InboundEmail.objects.filter(about__in=abouts, sender__in=senders),
        person="sender",
        when="received_at",
    ).values_list("about", "sender", "received_at", "message_id", "references")


def thread(messages):
    """Set In-Reply-To and References of unsaved `messages` (those about something and not
    threaded by their caller already): the parent of a message to X about A is the latest
    message about A sent to X or received from X, whichever is later. References are the
    parent's references plus the parent, capped at the root and the latest MAX_REFERENCES - 1.

    Two queries whatever the number of messages: the latest sent per pair (an index descent
    each on PostgreSQL, `_latest_sent`; ids grow with time, so the latest is the highest id)
    and the latest received per pair (people write to us rarely: the window reads them all).
    """
    # An address or reference with a line break (which no mail server takes) is not threaded:
    # the queries take their lists as lines (`_lines`).
    open_messages = [
        m
        for m in messages
        if m.about and not m.in_reply_to and "\n" not in m.about and "\n" not in m.to
    ]
    if not open_messages:
        return
    abouts = {m.about for m in open_messages}
    addresses = {m.to for m in open_messages}
    parents = {}  # (about, address lower-cased) -> (when, Message-ID, references)

    def offer(about, address, when, parent_id, references):
        key = (about, address.lower())
        if key not in parents or when > parents[key][0]:
            parents[key] = (when, parent_id, references)

    host = urlsplit(settings.SITE_URL).hostname
    for pk, about, to, created_at, references in _latest_sent(
        {(m.about, m.to) for m in open_messages}
    ):
        offer(about, to, created_at, _message_id(pk, host), references)
    for about, sender, received_at, inbound_id, references in _latest_received(
        abouts, {address.lower() for address in addresses}
    ):
        offer(about, sender, received_at, _inbound_message_id(inbound_id), references)
    for message in open_messages:
        parent = parents.get((message.about, message.to.lower()))
        if parent is not None:
            _, parent_id, references = parent
            message.in_reply_to = parent_id
            message.references = _references(references, parent_id)


def headers(email):
    """The headers of an outbox row besides From/To/Subject/Reply-To."""
    threading = {"In-Reply-To": email.in_reply_to, "References": email.references}
    return {
        "Message-ID": message_id(email),
        **{name: value for name, value in threading.items() if value},
        **GENERATED_HEADERS,
    }


def pending_batch(*, after, max_attempts, batch_size):
    """The next batch of pending rows after id `after`, locked (rows locked by another worker
    are skipped, not waited for).

    Keyset on id in id order, the order of the partial index `outbox_pending_idx` (id WHERE
    sent_at IS NULL): each batch reads `batch_size` index entries from `after` on and sorts
    nothing, so a backlog of N rows costs N/batch_size short scans. `attempts` stays a filter
    (max_attempts is an argument, not a constant a partial index could name); rows that ran out
    of attempts are skipped once per call.
    """
    return (
        OutboundEmail.objects.select_for_update(skip_locked=True)
        .filter(sent_at__isnull=True, attempts__lt=max_attempts, pk__gt=after)
        .order_by("pk")[:batch_size]
    )


def oldest_undelivered():
    """When the oldest message still being delivered was written (None: nothing pending).

    Rows that ran out of attempts are not waiting for a worker any more and do not count: an
    old one means a dead worker or an unreachable mail server, not one bad address. The first
    row in id order (id order is creation order) of the partial index `outbox_pending_idx`.
    """
    return (
        OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("pk")
        .values_list("created_at", flat=True)
        .first()
    )


def deliver_pending(*, batch_size=50, max_attempts=MAX_ATTEMPTS):
    """Send pending outbox messages; rows locked by another worker are skipped, not waited for.

    Each row is tried at most once per call; failures are counted and retried by the next call
    (beat runs it every minute) until max_attempts. Mail to an address whose account has an
    OpenPGP key leaves PGP/MIME encrypted (mailer.openpgp.protect); a key that cannot encrypt
    counts as a failed attempt.
    """
    delivered, last_id = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                pending_batch(after=last_id, max_attempts=max_attempts, batch_size=batch_size)
            )
            if not batch:
                return delivered
            connection = get_connection()
            keys = openpgp.recipient_keys(email.to for email in batch)
            for email in batch:
                message = EmailMultiAlternatives(
                    subject=email.subject,
                    body=email.body,
                    to=[email.to],
                    reply_to=[email.reply_to] if email.reply_to else None,
                    headers=headers(email),
                    connection=connection,
                )
                if email.html:
                    message.attach_alternative(email.html, "text/html")
                try:
                    # A recipient with a key gets it encrypted or not at all (never in clear).
                    openpgp.protect(message, armored_key=keys.get(email.to.lower())).send()
                except Exception as error:  # any mail server failure: count it, retry later
                    logger.warning("delivery of outbound email %s failed: %s", email.pk, error)
                    email.attempts += 1
                    email.last_error = f"{type(error).__name__}: {error}"
                else:
                    email.sent_at = timezone.now()
                    delivered += 1
            OutboundEmail.objects.bulk_update(batch, ["sent_at", "attempts", "last_error"])
            last_id = batch[-1].pk
