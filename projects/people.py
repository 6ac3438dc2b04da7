"""How people are named on the site: the one home of "how to show this user to this viewer".

A person is shown by the display name they chose (Profile). Without one, an audience allowed to
see the person's email address is shown the address, and everyone else a neutral word the caller
picks for the context ("Reporter", "A maintainer"); nothing is ever derived from the address
(allauth builds usernames from its local part, so usernames are never shown either).

Callers that name many people load `profile` with the users (select_related("...__profile")),
so naming a list costs no query per row.
"""

from django.core.exceptions import ObjectDoesNotExist

NEUTRAL = "A user"


def display_name(user):
    """The display name `user` chose, or "" (also for no user)."""
    if user is None:
        return ""
    try:
        profile = user.profile
    except ObjectDoesNotExist:
        return ""
    return profile.display_name if profile is not None else ""


def shown_name(user, *, email=False, fallback=NEUTRAL):
    """`user` as the audience sees them. `email`: the audience may see the address (members of
    the person's project, the person themself): "Ada Lovelace (ada@example.org)", or the address
    alone without a display name. Otherwise the display name, or `fallback`.
    """
    name = display_name(user)
    if user is not None and email:
        return named(name, user.email)
    return name or fallback


def named(name, address):
    """A person shown with their address (shown_name with `email`), from the two strings: for
    lists that read them as columns (reports.selectors.QueueRow) rather than as users.
    """
    return f"{name} ({address})" if name else address


def user_display(user):
    """allauth's ACCOUNT_USER_DISPLAY: how the account pages and messages ("Successfully signed
    in as ...") name the signed-in person to themself.
    """
    return display_name(user) or user.email
