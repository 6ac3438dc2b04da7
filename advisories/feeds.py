from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html, format_html_join

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

    def author_name(self, project):
        # RFC 4287 §4.1.1: a feed has an author unless every entry has one; the advisories are
        # the project's own, so the project is the author of the feed and of each entry.
        return project.name

    def subtitle(self, project):
        return f"Published vulnerabilities of {project.name} on {settings.SITE_NAME}."

    def items(self, project):
        return selectors.feed_entries(project)

    def item_title(self, advisory):
        withdrawn = "[Withdrawn] " if advisory.is_withdrawn else ""
        return f"{withdrawn}{advisory.identifier}: {advisory.title}"

    def item_description(self, advisory):
        """The summary, then each revision since publication: what changed and why. Atom's
        summary is HTML here, so every text is escaped.
        """
        revisions = advisory.history()[1:]
        if not revisions:
            return escape(advisory.summary)
        lines = format_html_join(
            "",
            "<br>Revision {} ({}{}): {}",
            (
                (
                    revision.number,
                    f"{revision.created_at:%Y-%m-%d}",
                    f", changed: {', '.join(revision.changed_fields())}"
                    if revision.changes
                    else "",
                    revision.summary,
                )
                for revision in revisions
            ),
        )
        return format_html("{}{}", advisory.summary, lines)

    def item_link(self, advisory):
        return settings.SITE_URL + reverse("advisories:advisory_page", args=[advisory.identifier])

    def item_pubdate(self, advisory):
        return advisory.published_at

    def item_updateddate(self, advisory):
        # The last revision (amendment or withdrawal), else the publication: readers show an
        # entry again when it is revised.
        return advisory.modified_at

    def item_guid(self, advisory):
        # Atom ids are IRIs: the advisory's permanent page.
        return self.item_link(advisory)
