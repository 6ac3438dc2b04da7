"""OpenPGP with Debian's gpg through python-gnupg.

Four uses, one rule each:
- Reporters' public keys (OpenPGPKey): validated when added (`inspect_public_key`), used to send
  their notifications PGP/MIME encrypted (RFC 3156, `protect`), never a plain copy beside.
- Projects' private keys: read from the environment or a file (`project_private_key`), never the
  database; they decrypt inbound mail (`decrypt`) and give the public key the site serves.
- The instance's CSAF signing key: read from the environment or a file (`signing_key`), never
  the database; it signs the CSAF documents the site distributes (`sign_detached`).
- Every gpg run gets a fresh, short GNUPGHOME (gpg-agent's socket path is length-limited), which
  is removed afterwards with its agent: no keyring outlives one operation, so one reporter's key
  can never encrypt another's mail and a project's private key never lies on disk longer than it
  takes to decrypt.
"""

import contextlib
import email
import email.policy
import functools
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from email.encoders import encode_noop
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from pathlib import Path

import gnupg
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models.functions import Lower

from mailer.models import OpenPGPKey

ARMORED_MESSAGE = re.compile(
    r"-----BEGIN PGP MESSAGE-----\r?\n.*?-----END PGP MESSAGE-----", re.DOTALL
)
# Slugs name keys in variables and files; anything else could reach outside OPENPGP_KEY_DIR.
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class OpenPGPError(Exception):
    """A key that is not a valid public key, a message that cannot be decrypted, no key."""


# --- gpg ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def gpg_home():
    """A python-gnupg GPG on a fresh GNUPGHOME under OPENPGP_HOME_PARENT, removed afterwards
    together with the gpg-agent a secret-key operation may have started in it.
    """
    home = tempfile.mkdtemp(prefix="pgp", dir=settings.OPENPGP_HOME_PARENT)
    try:
        try:
            gpg = gnupg.GPG(gpgbinary=settings.OPENPGP_GPG_BINARY, gnupghome=home)
        except (OSError, ValueError) as error:  # no gpg, or not one python-gnupg understands
            raise OpenPGPError(f"gpg cannot run: {error}") from error
        gpg.encoding = "utf-8"
        yield gpg
    finally:
        if any(Path(home).glob("S.gpg-agent*")):
            subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [settings.OPENPGP_GPGCONF_BINARY, "--homedir", home, "--kill", "gpg-agent"],
                capture_output=True,
                check=False,
                timeout=30,
            )
        shutil.rmtree(home, ignore_errors=True)


def gpg_problem(result):
    """gpg's own words for a failed operation, for logs and last_error (never key material)."""
    return (getattr(result, "status", "") or "").strip() or "gpg gave no reason"


def group_fingerprint(fingerprint):
    """A fingerprint as people compare it: groups of four ("68E4 AA7B ...")."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


# --- Reporters' public keys ---------------------------------------------------------------------


def inspect_public_key(armored):
    """The fingerprint of `armored`, which must hold exactly one OpenPGP public key that is
    neither expired nor revoked and can encrypt; else OpenPGPError saying what is wrong.
    A private key is refused: it must never be pasted into a website.
    """
    if "-----BEGIN PGP PRIVATE KEY BLOCK-----" in armored:
        raise OpenPGPError(
            "This is a private key. Paste your public key only, and keep the private one to "
            "yourself."
        )
    with gpg_home() as gpg:
        # --dry-run import: gpg reads the key and reports it without keeping it anywhere.
        keys = gpg.scan_keys_mem(armored)
    if any(key["type"] == "sec" for key in keys):
        raise OpenPGPError(
            "This is a private key. Paste your public key only, and keep the private one to "
            "yourself."
        )
    if not keys:
        raise OpenPGPError(
            'No OpenPGP public key found. Paste the whole armored block, from "-----BEGIN PGP '
            'PUBLIC KEY BLOCK-----" to its END line.'
        )
    if len(keys) > 1:
        raise OpenPGPError(f"This holds {len(keys)} keys; paste exactly one public key.")
    key = keys[0]
    # The validity field of gpg's colon listing: "r" revoked, "e" expired.
    if key["trust"] == "r":
        raise OpenPGPError("This key is revoked; paste a key you still use.")
    if key["trust"] == "e":
        raise OpenPGPError("This key has expired; extend it or paste a current key.")
    # The capital letters are what the key as a whole can still do (a usable subkey included).
    if "E" not in key["cap"]:
        raise OpenPGPError(
            "This key cannot encrypt (it has no usable encryption subkey); paste a key that can."
        )
    return key["fingerprint"]


def key_of(user):
    """`user`'s OpenPGP key (OpenPGPKey), or None."""
    return OpenPGPKey.objects.filter(user=user).first()


def set_key(*, user, armored):
    """Give `user` this OpenPGP public key (replacing any earlier one): from now on their
    notifications are encrypted to it. Nothing is stored when the key is not valid
    (OpenPGPError, see inspect_public_key).
    """
    armored = armored.strip()
    fingerprint = inspect_public_key(armored)
    with transaction.atomic():
        key, _ = OpenPGPKey.objects.update_or_create(
            user=user, defaults={"armored": armored, "fingerprint": fingerprint}
        )
    return key


def remove_key(*, user):
    """Forget `user`'s key: their notifications go out unencrypted again."""
    OpenPGPKey.objects.filter(user=user).delete()


def recipient_keys(addresses):
    """{lower-cased address: armored public key} for the addresses whose account has a key, in
    one query (delivery batches call it once).
    """
    wanted = {address.lower() for address in addresses}
    if not wanted:
        return {}
    rows = (
        OpenPGPKey.objects.annotate(address=Lower("user__email"))
        .filter(address__in=wanted)
        .order_by("-user_id")  # two accounts sharing an address: the oldest one's key wins
        .values_list("address", "armored")
    )
    return dict(rows)


def encrypt(data, *, armored_key):
    """`data` (bytes) encrypted to the one public key in `armored_key`, ASCII-armored."""
    with gpg_home() as gpg:
        imported = gpg.import_keys(armored_key)
        if not imported.fingerprints:
            raise OpenPGPError(
                f"the recipient's OpenPGP key cannot be read ({gpg_problem(imported)})"
            )
        # The key was checked when added and is the only one in this keyring: trusting it here is
        # trusting the owner's account, which is what the web of trust cannot tell us anyway.
        result = gpg.encrypt(
            data,
            imported.fingerprints[0],
            armor=True,
            always_trust=True,
            extra_args=["--no-autostart"],
        )
    if not result.ok or result.returncode != 0:
        raise OpenPGPError(f"the recipient's OpenPGP key cannot encrypt: {gpg_problem(result)}")
    return str(result)


class PGPMIMEMessage(EmailMessage):
    """multipart/encrypted (RFC 3156 §4): the version part and the armored encryption of the
    whole inner MIME entity. It has no body of its own, so nothing leaves in the clear but the
    headers.
    """

    mixed_subtype = "encrypted"

    def message(self):
        container = super().message()
        container.set_param("protocol", "application/pgp-encrypted")
        return container


def protect(message, *, armored_key):
    """`message` (a Django EmailMessage) as it must leave: unchanged without a key, else a
    PGP/MIME message with the same envelope and headers whose only content is the encryption of
    the original's body (text and HTML alternative). Raises OpenPGPError when the key cannot
    encrypt: the caller must count a failure, never fall back to sending the message in clear.
    """
    if not armored_key:
        return message
    inner = message.message()
    # The inner entity is the content alone; the envelope headers stay outside (RFC 3156 §4).
    for header in {name.lower() for name in inner}:
        if not header.startswith("content-"):
            del inner[header]
    encrypted = encrypt(inner.as_bytes(linesep="\r\n"), armored_key=armored_key)
    version = MIMEBase("application", "pgp-encrypted")
    version.set_payload("Version: 1\n")
    version["Content-Description"] = "PGP/MIME version identification"
    payload = MIMEApplication(encrypted, "octet-stream", encode_noop, name="encrypted.asc")
    payload["Content-Description"] = "OpenPGP encrypted message"
    payload["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    return PGPMIMEMessage(
        subject=message.subject,
        body="",
        from_email=message.from_email,
        to=message.to,
        cc=message.cc,
        bcc=message.bcc,
        reply_to=message.reply_to,
        headers=message.extra_headers,
        attachments=[version, payload],
        connection=message.connection,
    )


# --- Projects' private keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateKey:
    armored: str
    passphrase: str | None


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    armored: str

    @property
    def grouped_fingerprint(self):
        return group_fingerprint(self.fingerprint)


def variable_suffix(key_name):
    return key_name.upper().replace("-", "_")


def project_private_key(key_name):
    """The private key configured for `key_name` (a project's slug), or None.

    From the environment, OPENPGP_KEY_<SLUG> (armored; slug upper-cased, "-" as "_") with
    OPENPGP_PASSPHRASE_<SLUG>, else from the files <OPENPGP_KEY_DIR>/<slug>.asc and <slug>.pass.
    Never from the database: a database dump must not decrypt anybody's reports.
    """
    if not KEY_NAME.fullmatch(key_name or ""):
        return None
    suffix = variable_suffix(key_name)
    armored = os.environ.get(f"OPENPGP_KEY_{suffix}", "").strip()
    passphrase = os.environ.get(f"OPENPGP_PASSPHRASE_{suffix}") or None
    if not armored and settings.OPENPGP_KEY_DIR:
        directory = Path(settings.OPENPGP_KEY_DIR)
        key_file, pass_file = directory / f"{key_name}.asc", directory / f"{key_name}.pass"
        if key_file.is_file():
            armored = key_file.read_text().strip()
            if passphrase is None and pass_file.is_file():
                passphrase = pass_file.read_text().rstrip("\r\n") or None
    if not armored:
        return None
    return PrivateKey(armored=armored, passphrase=passphrase)


def project_public_key(key_name):
    """The public half (fingerprint, armored) of the private key configured for `key_name`, or
    None when none is configured. Raises OpenPGPError when the configured key cannot be read.
    """
    private = project_private_key(key_name)
    if private is None:
        return None
    return public_half(private.armored)


@functools.lru_cache(maxsize=32)
def public_half(armored_private):
    """Derived once per process and key (pages showing it would otherwise run gpg each time)."""
    with gpg_home() as gpg:
        imported = gpg.import_keys(armored_private)
        primaries = [key["fingerprint"] for key in gpg.list_keys()]
        if len(primaries) != 1:
            raise OpenPGPError(
                f"the configured key holds {len(primaries)} keys instead of one "
                f"({gpg_problem(imported)})"
            )
        armored_public = gpg.export_keys(primaries[0], minimal=True)
    return PublicKey(fingerprint=primaries[0], armored=armored_public)


def is_encrypted(message):
    """Whether `message` is PGP/MIME encrypted or its text is an armored PGP message."""
    if is_pgp_mime(message):
        return True
    return any(ARMORED_MESSAGE.search(text) for _part, text in text_parts(message))


def is_pgp_mime(message):
    return (
        message.get_content_type() == "multipart/encrypted"
        and (message.get_param("protocol") or "").lower() == "application/pgp-encrypted"
    )


def text_parts(message):
    """(part, text) of each text/plain part that is not an attachment."""
    for part in message.walk():
        if (
            part.get_content_type() != "text/plain"
            or part.get_content_disposition() == "attachment"
        ):
            continue
        yield part, part_text(part)


def part_text(part):
    """A text part's text, from either email API (compat32 Message or EmailMessage); an unknown
    or lying charset is read as UTF-8 with replacements (armor is ASCII anyway).
    """
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "utf-8")
    except (LookupError, UnicodeError):
        return payload.decode("utf-8", "replace")


def decrypt(message, *, key_name):
    """The decrypted inner message of a PGP/MIME (RFC 3156) or inline-armored `message`
    (email.message.EmailMessage), with the private key configured under `key_name` (a project's
    slug). Raises OpenPGPError when no key is configured or decryption fails.

    PGP/MIME gives the inner MIME entity as it was encrypted (its content headers; route by the
    outer message's). Inline armor gives a copy of `message` whose text parts have each armored
    block replaced by its plaintext. The plaintext is capped at OPENPGP_MAX_PLAINTEXT_BYTES
    (compressed data can expand without bound).
    """
    private = project_private_key(key_name)
    if private is None:
        raise OpenPGPError(f"no OpenPGP private key is configured for {key_name}")
    if is_pgp_mime(message):
        parts = message.get_payload()
        if not isinstance(parts, list) or len(parts) != 2:
            raise OpenPGPError("a PGP/MIME message has exactly two parts (RFC 3156 §4)")
        ciphertext = parts[1].get_payload(decode=True) or b""
        plaintext = decrypt_bytes(ciphertext, private=private)
        return email.message_from_bytes(plaintext, policy=email.policy.default)
    decrypted = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    found = False
    for part, text in text_parts(decrypted):
        blocks = ARMORED_MESSAGE.findall(text)
        for block in blocks:
            plaintext = decrypt_bytes(block.encode("ascii", "replace"), private=private)
            # The block ends at its END line; its plaintext keeps the text around it as it was.
            text = text.replace(block, plaintext.decode("utf-8", "replace").rstrip("\r\n"), 1)
        if blocks:
            found = True
            part.set_content(text)
    if not found:
        raise OpenPGPError("the message is not encrypted with OpenPGP")
    return decrypted


@contextlib.contextmanager
def _holding(private, *, what):
    """(gpg, fingerprint): a throwaway home holding the one key of `private`. OpenPGPError,
    naming `what` key it is, when gpg cannot read it.
    """
    with gpg_home() as gpg:
        imported = gpg.import_keys(private.armored, passphrase=private.passphrase)
        if not imported.fingerprints:
            problem = gpg_problem(imported)
            raise OpenPGPError(f"the configured {what} key cannot be read ({problem})")
        yield gpg, imported.fingerprints[0]


def decrypt_bytes(ciphertext, *, private):
    with _holding(private, what="private") as (gpg, _fingerprint):
        result = gpg.decrypt(
            ciphertext,
            passphrase=private.passphrase,
            extra_args=["--max-output", str(settings.OPENPGP_MAX_PLAINTEXT_BYTES)],
        )
    if "exceeded --max-output limit" in (result.stderr or ""):
        raise OpenPGPError(
            "the message cannot be decrypted: its plaintext exceeds "
            f"{settings.OPENPGP_MAX_PLAINTEXT_BYTES} bytes"
        )
    # gpg may report "decryption ok" and still fail writing the plaintext: its exit status counts.
    if not result.ok or result.returncode != 0:
        raise OpenPGPError(f"the message cannot be decrypted: {gpg_problem(result)}")
    return result.data


# --- The instance's signing key (CSAF §7.1.19) --------------------------------------------------


def signing_key():
    """The instance's OpenPGP signing key for CSAF documents, or None when none is configured.

    From the environment, CSAF_OPENPGP_KEY (armored) with CSAF_OPENPGP_PASSPHRASE, else from the
    file CSAF_OPENPGP_KEY_FILE with the passphrase in CSAF_OPENPGP_PASSPHRASE_FILE (mounted
    secrets, read when used). Never from the database, like the projects' keys.
    """
    armored = os.environ.get("CSAF_OPENPGP_KEY", "").strip()
    passphrase = os.environ.get("CSAF_OPENPGP_PASSPHRASE") or None
    if not armored and settings.CSAF_OPENPGP_KEY_FILE:
        key_file = Path(settings.CSAF_OPENPGP_KEY_FILE)
        if key_file.is_file():
            armored = key_file.read_text().strip()
        pass_file = settings.CSAF_OPENPGP_PASSPHRASE_FILE
        if armored and passphrase is None and pass_file and Path(pass_file).is_file():
            passphrase = Path(pass_file).read_text().rstrip("\r\n") or None
    if not armored:
        return None
    return PrivateKey(armored=armored, passphrase=passphrase)


def sign_detached(data, *, private):
    """The armored, detached OpenPGP signature of `data` (bytes, exactly as served) made with the
    one key in `private`. Raises OpenPGPError when the key cannot sign.
    """
    with _holding(private, what="signing") as (gpg, fingerprint):
        result = gpg.sign(
            data,
            keyid=fingerprint,
            passphrase=private.passphrase,
            detach=True,
            binary=False,
            extra_args=["--digest-algo", "SHA512"],
        )
    if not str(result) or result.returncode != 0:
        raise OpenPGPError(f"the configured signing key cannot sign: {gpg_problem(result)}")
    return str(result)
