from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from advisories import selectors
from projects.selectors import public_project


class ProjectAdvisoriesFeed(Feed):
    """Atom feed of a project's published advisories (nothing unpublished, ever)."""

    feed_type = Atom1Feed

    def get_object(self, request, slug):
        return public_project(slug)

    def title(self, project):
        return f"{project.name} security advisories"

    # Absolute URLs from SITE_URL: the syndication framework would otherwise take the domain of
    # django.contrib.sites, which this platform does not maintain.
    def link(self, project):
        return settings.SITE_URL + reverse("advisories:project_advisories", args=[project.slug])

    def feed_url(self, project):
        return settings.SITE_URL + reverse("advisories:feed", args=[project.slug])

    def subtitle(self, project):
        return f"Published vulnerabilities of {project.name} on {settings.SITE_NAME}."

    def items(self, project):
        return selectors.published_for_project(project)[:50]

    def item_title(self, advisory):
        return f"{advisory.identifier}: {advisory.title}"

    def item_description(self, advisory):
        return advisory.summary

    def item_link(self, advisory):
        return settings.SITE_URL + reverse("advisories:advisory_page", args=[advisory.identifier])

    def item_pubdate(self, advisory):
        return advisory.published_at

    def item_updateddate(self, advisory):
        return advisory.published_at

    def item_guid(self, advisory):
        # Atom ids are IRIs: the advisory's permanent page.
        return self.item_link(advisory)
