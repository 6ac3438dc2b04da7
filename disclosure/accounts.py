"""allauth configured for this platform (ACCOUNT_ADAPTER)."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials):
        """Failed sign-ins are counted per account *and* client address (allauth's login_failed
        rate limit, besides its per-address limit): a stranger hammering someone's account from
        elsewhere slows themselves down, but cannot lock the owner out.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"
