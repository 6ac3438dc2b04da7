"""OpenPGP with Debian's gpg through python-gnupg.

INTERFACE (filled in by the OpenPGP work).
"""


class OpenPGPError(Exception):
    """A key that is not a valid public key, a message that cannot be decrypted, no key."""


def decrypt(message, *, key_name):
    """The decrypted inner message of a PGP/MIME (RFC 3156) or inline-armored `message`
    (email.message.EmailMessage), with the private key configured under `key_name` (a project's
    slug). Raises OpenPGPError when no key is configured or decryption fails.
    """
    raise NotImplementedError


def is_encrypted(message):
    """Whether `message` is PGP/MIME encrypted or its text is an armored PGP message."""
    raise NotImplementedError
