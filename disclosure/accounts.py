"""allauth configured for this platform (ACCOUNT_ADAPTER)."""

from allauth.account.adapter import DefaultAccountAdapter

from mailer.outbox import GENERATED_HEADERS


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials):
        """Failed sign-ins are counted per account *and* client address (allauth's login_failed
        rate limit, besides its per-address limit): a stranger hammering someone's account from
        elsewhere slows themselves down, but cannot lock the owner out.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"

    def render_mail(self, template_prefix, email, context, headers=None):
        """allauth's own mail (confirmation, sign-in codes, password reset) says it was generated,
        like the outbox's: no out-of-office answer comes back, and the gateway drops it if it is
        ever routed to an intake address.
        """
        return super().render_mail(
            template_prefix, email, context, headers={**(headers or {}), **GENERATED_HEADERS}
        )
