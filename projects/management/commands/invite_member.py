"""manage.py invite_member <project-slug> <email> --role admin|maintainer|triager

What the members page's invitation does, for operators: the platform invites (no inviting
account), the link is emailed through the outbox like every invitation, and an audit event is
written. The accept link is printed too, for an instance whose mail is not set up yet.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from projects import services
from projects.access import Role
from projects.models import Project

ROLES = ", ".join(Role.values)


class Command(BaseCommand):
    help = (
        "Invite an email address to join a project with a role: the invitation link is emailed "
        "to it and can be accepted once, by whoever signs in with that address verified."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="The project's slug, e.g. stalwart.")
        parser.add_argument("email", help="The address the invitation is sent to.")
        parser.add_argument("--role", required=True, help=f"One of: {ROLES}.")

    def handle(self, *args, project, email, role, **options):
        found = Project.objects.filter(slug=project).first()
        if found is None:
            known = ", ".join(Project.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"No project with the slug {project!r}. Projects: {known or 'none'}."
            )
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r}: choose one of {ROLES}.")
        try:
            invitation = services.invite_member(project=found, email=email, role=role, by=None)
        except services.MembershipError as error:
            raise CommandError(str(error)) from None
        link = settings.SITE_URL + reverse("projects:accept_invitation", args=[invitation.token])
        self.stdout.write(
            f"Invited {invitation.email} to join {found.name} as {role}; the invitation was "
            f"emailed and can be accepted once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC, "
            f"at {link}"
        )
