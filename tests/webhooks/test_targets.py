"""Where webhooks may point (webhooks.targets): https only in production, the host resolved once,
refused when any address is internal (IPv4 inside IPv6 judged as IPv4), the request sent to the
address that was checked, no redirects. The same rule refuses a URL when the hook is saved.
"""

import ipaddress
import socket

import pytest
from django.utils import timezone

from tests.reports.conftest import file
from tests.webhooks.conftest import make_hook
from webhooks import services, sweep, targets
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

real_getaddrinfo = socket.getaddrinfo

INTERNAL_LITERALS = [
    "http://127.0.0.1/",  # loopback
    "http://127.1.2.3:8080/",
    "http://10.0.0.1/",  # private
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0/",  # unspecified
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[::1]/",  # IPv6 loopback
    "http://[::]/",
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[fc00::1]/",  # IPv6 unique local
    "http://[ff02::1]/",  # IPv6 multicast
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 as one number (the resolver reads it so)
    "http://localhost/",
]


@pytest.fixture
def development(settings):
    """http allowed, internal targets not: what is left to refuse is the address."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = False


@pytest.mark.parametrize("url", INTERNAL_LITERALS)
def test_internal_addresses_are_refused(development, url):
    with pytest.raises(targets.RefusedTargetError, match="internal address"):
        targets.resolve(url)


def fake_dns(monkeypatch, answers):
    """getaddrinfo answering `answers` ({hostname: [addresses]}); other names do not resolve,
    address literals stand for themselves (as the real one does: no lookup). `asked`: the names
    looked up.
    """
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            asked.append(host)
        else:
            return real_getaddrinfo(host, port, *args, **kwargs)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr(targets.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.1.2.3"],
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["fd12:3456::1"],
        ["::ffff:192.168.0.1"],
        ["93.184.215.14", "10.0.0.7"],  # one public, one private: refused whole
        ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "fe80::1%eth0"],
    ],
)
def test_names_that_resolve_inside_are_refused(development, monkeypatch, addresses):
    fake_dns(monkeypatch, {"hooks.example.com": addresses})
    with pytest.raises(targets.RefusedTargetError, match="internal address"):
        targets.resolve("https://hooks.example.com/in")


def test_a_public_name_is_resolved_once_and_its_address_used(development, monkeypatch):
    asked = fake_dns(
        monkeypatch,
        {"hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]},
    )
    target = targets.resolve("https://hooks.example.com:8443/in?x=1")
    assert asked == ["hooks.example.com"]
    assert target.address == "93.184.215.14"
    assert (target.hostname, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert target.host_header == "hooks.example.com:8443"


def test_names_that_do_not_resolve_are_refused(development, monkeypatch):
    fake_dns(monkeypatch, {})
    with pytest.raises(targets.RefusedTargetError, match="could not be resolved"):
        targets.resolve("https://nowhere.example.com/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/", "must use https"),
        ("ftp://hooks.example.com/", "must use https"),
        ("file:///etc/passwd", "must use https"),
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https:///nohost", "names no host"),
        ("https://hooks.example.com:99999/", "Not a valid URL"),
    ],
)
def test_production_takes_https_urls_only(settings, url, why):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(targets.RefusedTargetError, match=why):
        targets.resolve(url)


def test_internal_targets_need_the_setting(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_HTTP = True
    fake_dns(monkeypatch, {"receiver.test": ["127.0.0.1"]})
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = False
    with pytest.raises(targets.RefusedTargetError):
        targets.resolve("http://receiver.test/")
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = True
    assert targets.resolve("http://receiver.test/").address == "127.0.0.1"


def test_saving_a_hook_checks_the_same_rule(project, project_admin, development, monkeypatch):
    fake_dns(monkeypatch, {"rebind.example.com": ["93.184.215.14", "127.0.0.1"]})
    for url in ("http://169.254.169.254/", "http://rebind.example.com/"):
        with pytest.raises(services.WebhookError, match="internal address"):
            make_hook(project, url, by=project_admin)
    assert not Webhook.objects.exists()


def test_the_request_goes_to_the_checked_address_not_a_second_lookup(
    project, reporter, receiver, local_targets, monkeypatch
):
    """The name resolves (once per attempt, in targets.resolve) to the receiver on loopback; any
    other lookup of it fails. The request arrives, named with the URL's host: the connection
    was made to the checked address, and the name was looked up only by the check.
    """
    asked = fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})
    url = f"http://hooks.example.test:{receiver.port}/in"
    hook = make_hook(project, url)
    Webhook.objects.filter(pk=hook.pk).update(
        created_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    asked.clear()
    file(reporter, project)
    sweep.sweep()
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert asked == ["hooks.example.test"]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_name_that_turns_inside_after_saving_is_refused_at_delivery(
    project, reporter, development, monkeypatch
):
    answers = {"hooks.example.com": ["93.184.215.14"]}
    fake_dns(monkeypatch, answers)
    hook = make_hook(project, "https://hooks.example.com/in")
    Webhook.objects.filter(pk=hook.pk).update(
        created_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    answers["hooks.example.com"] = ["10.0.0.5"]  # DNS rebinding
    sent = []
    monkeypatch.setattr(targets, "post", lambda *args, **kwargs: sent.append(args))
    file(reporter, project)
    sweep.sweep()
    assert sent == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.error.startswith("Refused: ")
    assert "internal address" in delivery.error
    assert delivery.status == "pending"


def test_https_connects_to_the_checked_address_verifying_the_hostname(monkeypatch):
    """For https the pool is opened on the checked IP; SNI and the certificate check use the
    URL's hostname, against the CA bundle, and nothing is retried or redirected.
    """
    opened = {}

    class Response:
        status = 204

        def read(self, amount):
            opened["read"] = amount
            return b""

        def close(self):
            opened["closed"] = True

    class Pool:
        def __init__(self, host, port, **options):
            opened.update(host=host, port=port, **options)

        def urlopen(self, method, path, **options):
            opened.update(method=method, path=path, request=options)
            return Response()

        def close(self):
            pass

    monkeypatch.setattr(targets.urllib3, "HTTPSConnectionPool", Pool)
    target = targets.Target(
        scheme="https",
        hostname="hooks.example.com",
        port=443,
        path="/in",
        host_header="hooks.example.com",
        address="93.184.215.14",
    )
    answer = targets.post(target, body=b"{}", headers={"X-Disclosure-Event": "report.filed"})
    assert answer.status_code == 204
    assert (opened["host"], opened["port"]) == ("93.184.215.14", 443)
    assert opened["server_hostname"] == opened["assert_hostname"] == "hooks.example.com"
    assert opened["cert_reqs"] == "CERT_REQUIRED"
    assert opened["retries"] is False
    assert opened["request"]["redirect"] is False
    assert opened["request"]["headers"]["Host"] == "hooks.example.com"
    assert opened["closed"]
