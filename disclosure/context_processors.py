from django.conf import settings

from reports.models import Viewer


def site(request):
    """Values every page needs: the instance's name for titles and navigation."""
    return {"site_name": settings.SITE_NAME}


def navigation(request):
    """Whether the navigation offers the queue: to members of a project (any role) and
    superusers. The request's roles were read by the second-factor gate: no query here.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_queue": False}
    return {"nav_queue": Viewer.of(user, shared=False).has_queue}
