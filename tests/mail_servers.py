"""Real mail servers on loopback for the email tests: Debian's dovecot as the IMAP server the
gateway polls, aiosmtpd as the SMTP server the outbox delivers to.

`imap_server`: one dovecot per test process (started on first use, stopped at the end), with a
throwaway configuration: 127.0.0.1 on free ports, TLS required with a self-signed certificate made
now (its file is the CA to trust), one user in a passwd file, maildir in a temporary directory.
Each test gets the account emptied. Tests using it are marked `imap`: without dovecot they are
skipped locally and fail in CI (tests/conftest.py).

`smtp_server`: an aiosmtpd listener per test; Django's SMTP backend points at it.
"""

import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

DOVECOT = "/usr/sbin/dovecot"
IMAP_USER = "security@example.org"
IMAP_PASSWORD = "a throwaway app password"


def dovecot_missing():
    """Why the IMAP tests cannot run here, or None."""
    if shutil.which("dovecot") or os.access(DOVECOT, os.X_OK):
        return None
    return "needs Debian's dovecot-imapd (/usr/sbin/dovecot); .ci/run installs it"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- IMAP: dovecot ------------------------------------------------------------------------------


@dataclass
class IMAPServer:
    host: str
    port: int  # IMAPS
    starttls_port: int  # plain IMAP, STARTTLS offered (and required before login)
    username: str
    password: str
    ca_file: str  # the self-signed certificate: trusting it verifies the server
    log: Path

    def connect(self):
        """A signed-in client, as a person's mail client would be."""
        context = ssl.create_default_context(cafile=self.ca_file)
        client = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        client.login(self.username, self.password)
        return client

    def append(self, raw, folder="INBOX"):
        """Put a raw message (bytes) into `folder` (created when missing), as the mail provider
        does on delivery.
        """
        with self.connect() as client:
            client.create(quoted(folder))  # NO when it exists already
            status, data = client.append(quoted(folder), None, None, raw)
            assert status == "OK", data

    def messages(self, folder="INBOX"):
        """The raw messages in `folder`, oldest first; [] when the folder does not exist."""
        with self.connect() as client:
            status, _ = client.select(quoted(folder), readonly=True)
            if status != "OK":
                return []
            _, data = client.uid("SEARCH", None, "ALL")
            raws = []
            for uid in data[0].split():
                _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                raws += [part[1] for part in parts if isinstance(part, tuple)]
            return raws

    def subjects(self, folder="INBOX"):
        return [
            message_from_bytes(raw, policy=policy.default)["Subject"]
            for raw in self.messages(folder)
        ]

    def mailbox_for(self, project, **fields):
        """The project's mailbox configuration pointing at this server (inbox.models.Mailbox)."""
        from inbox.models import Mailbox

        return Mailbox.objects.create(
            project=project,
            host=self.host,
            port=self.port,
            username=self.username,
            **fields,
        )

    def reset(self):
        """Empty the account: every folder but INBOX deleted, INBOX emptied."""
        with self.connect() as client:
            _, listing = client.list()
            names = [LIST_LINE.fullmatch(line.decode())["name"] for line in listing]
            # Children before their parents.
            for name in sorted((unquoted(name) for name in names), reverse=True):
                if name.upper() != "INBOX":
                    client.delete(quoted(name))
            _, count = client.select("INBOX")
            if int(count[0]):
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquoted(name):
    if name.startswith('"'):
        return name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name


# A LIST response line: (flags) "delimiter" name
LIST_LINE = re.compile(r'\((?P<flags>[^)]*)\) (?P<delimiter>"[^"]*"|NIL) (?P<name>.+)')


def _accounts():
    """(internal, login, mail) system users for dovecot's processes. dovecot refuses to give
    mail to root; as root (here and in CI) its package's own users serve, otherwise the user
    running the tests is all three.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, pwd.getpwuid(os.geteuid())
    return "dovecot", "dovenull", pwd.getpwnam("dovecot")


def _configuration(directory, *, port, starttls_port):
    internal, login, mail = _accounts()
    return f"""\
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = test-{directory.name}
log_path = {directory}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {mail.pw_uid}
ssl = required
ssl_cert = <{directory}/cert.pem
ssl_key = <{directory}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
# A failed login answers at once: dovecot waits 2 s by default, and its anvil process delays the
# next logins from the address (the authentication penalty, off when it cannot open the listener);
# both only slow the tests of wrong passwords down.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {directory}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={directory}/mail/%u
}}
mail_location = maildir:~/Maildir
# Folders nest with "/", as on most providers' servers (maildir's own separator is ".").
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


def _self_signed_certificate(directory):
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(directory / "key.pem"),
            "-out",
            str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


def _wait_until_listening(process, port, log, *, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    output = process.stdout.read().decode() if process.poll() is not None else ""
    logged = log.read_text() if log.exists() else ""
    raise RuntimeError(f"dovecot did not start:\n{output}\n{logged}")


@pytest.fixture(scope="session")
def dovecot():
    """One dovecot for this test process (each xdist worker has its own)."""
    if dovecot_missing():
        pytest.fail("the imap marker's guard (tests/conftest.py) lets no test get here")
    # Not pytest's tmp_path: its parent is private to root, and dovecot's processes run as
    # dovecot's users. A short path also keeps the sockets under the 108-byte limit.
    directory = Path(tempfile.mkdtemp(prefix="dovecot-"))
    directory.chmod(0o755)
    _, _, mail = _accounts()
    (directory / "mail").mkdir()
    os.chown(directory / "mail", mail.pw_uid, mail.pw_gid)
    _self_signed_certificate(directory)
    (directory / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
    port, starttls_port = free_port(), free_port()
    configuration = directory / "dovecot.conf"
    configuration.write_text(_configuration(directory, port=port, starttls_port=starttls_port))
    executable = shutil.which("dovecot") or DOVECOT
    process = subprocess.Popen(
        [executable, "-F", "-c", str(configuration)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = IMAPServer(
        host="127.0.0.1",
        port=port,
        starttls_port=starttls_port,
        username=IMAP_USER,
        password=IMAP_PASSWORD,
        ca_file=str(directory / "cert.pem"),
        log=directory / "dovecot.log",
    )
    try:
        _wait_until_listening(process, port, server.log)
        _wait_until_listening(process, starttls_port, server.log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_server(request, dovecot):
    """The IMAP server with an empty account for this test."""
    if request.node.get_closest_marker("imap") is None:
        pytest.fail("mark tests that use imap_server with @pytest.mark.imap")
    dovecot.reset()
    return dovecot


# --- SMTP: aiosmtpd -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list
    raw: bytes

    @property
    def message(self):
        return message_from_bytes(self.raw, policy=policy.default)


@dataclass
class Collector:
    """aiosmtpd handler: accepts every message and keeps it."""

    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's hook name
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=envelope.original_content or envelope.content,
            )
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP listener on loopback; the outbox delivers to it through Django's SMTP backend.
    Yields the collector: `.messages` is what arrived, in order.
    """
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield collector
    finally:
        controller.stop()
