"""Where a webhook may point, and the one way a delivery reaches it (SSRF defence).

The rule (`resolve`), applied when a hook is saved and again before every attempt: https only
(unless WEBHOOK_ALLOW_HTTP, for development and tests); no credentials in the URL; the host is
resolved once, and the URL is refused if ANY address it resolves to is loopback, private,
link-local, multicast, reserved, unspecified or otherwise not global, IPv4 addresses embedded in
IPv6 ones (IPv4-mapped, NAT64, 6to4, Teredo) judged as IPv4 (unless
WEBHOOK_ALLOW_INTERNAL_TARGETS). A name that resolves to a public and a private address is
refused: the attacker controls which one a second lookup returns.

`post` connects to the address that was checked, never resolving the name again (a DNS answer
that changes between check and use cannot redirect it inside): urllib3's connection pool is
opened on the IP, with the Host header of the URL and, for https, SNI and certificate
verification against the hostname (`server_hostname`, `assert_hostname`). No redirect is
followed, no proxy is read from the environment, the answer is read up to a bound, and every
step has a timeout.
"""

import dataclasses
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedTargetError(Exception):
    """The URL may not be called; the message says why (shown to the project's admins)."""


@dataclasses.dataclass(frozen=True)
class Target:
    scheme: str
    hostname: str
    port: int
    path: str  # with the query
    host_header: str
    address: str  # the checked IP address to connect to


def embedded_ipv4(address):
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), or None."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_internal(address):
    """Whether an address is anything but a public unicast one (the IPv4 inside an IPv6 one
    judged too): loopback, private, link-local, multicast, reserved, unspecified, shared...
    """
    address = ipaddress.ip_address(address)
    inner = embedded_ipv4(address)
    if inner is not None and is_internal(inner):
        return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_form(url):
    """The parts of `url` that need no lookup: scheme, host, port, no credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedTargetError(f"Not a valid URL: {error}.") from None
    allowed = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise RefusedTargetError("Webhook URLs must use https.")
    if not parts.hostname:
        raise RefusedTargetError("The URL names no host.")
    if parts.username is not None or parts.password is not None:
        raise RefusedTargetError("The URL may not carry a user name or password.")
    return parts, port or (443 if parts.scheme == "https" else 80)


def resolve(url):
    """The Target of `url`: its form checked, its host resolved once and every address checked
    (RefusedTargetError says which rule refused it).
    """
    parts, port = check_form(url)
    hostname = parts.hostname
    try:
        answers = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise RefusedTargetError(f"The host {hostname} could not be resolved ({error}).") from None
    addresses = list(dict.fromkeys(answer[4][0].split("%", 1)[0] for answer in answers))
    if not addresses:
        raise RefusedTargetError(f"The host {hostname} could not be resolved.")
    if not settings.WEBHOOK_ALLOW_INTERNAL_TARGETS:
        internal = [address for address in addresses if is_internal(address)]
        if internal:
            raise RefusedTargetError(
                f"The host {hostname} points to an internal address ({internal[0]}); webhooks "
                "only reach public addresses."
            )
    path = parts.path or "/"
    return Target(
        scheme=parts.scheme,
        hostname=hostname,
        port=port,
        path=f"{path}?{parts.query}" if parts.query else path,
        host_header=parts.netloc.rsplit("@", 1)[-1],
        address=addresses[0],
    )


@dataclasses.dataclass(frozen=True)
class Answer:
    status_code: int
    excerpt: str
    duration_ms: int


def post(target, *, body, headers):
    """POST `body` to the checked address of `target`; the Answer (any status: the caller
    judges it). Network failures and timeouts raise urllib3's errors.
    """
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.hostname,
            assert_hostname=target.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            # The start of the answer only: the rest is never read (close drops it).
            excerpt = response.read(settings.WEBHOOK_RESPONSE_EXCERPT_BYTES)
        finally:
            response.close()
        duration = int((time.monotonic() - started) * 1000)
        return Answer(
            status_code=response.status,
            excerpt=excerpt.decode("utf-8", errors="replace"),
            duration_ms=duration,
        )
    finally:
        pool.close()
