import os
import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create a local superuser if none exists: from DJANGO_SUPERUSER_EMAIL / "
        "DJANGO_SUPERUSER_PASSWORD, or with a generated password printed once."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        users = get_user_model().objects
        admin = users.filter(is_superuser=True).order_by("pk").first()
        if admin is not None:
            self.stdout.write("an admin account exists; nothing changed")
            self.stdout.write(self._reset_hint(admin))
            return
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        user = users.create_superuser(username=email, email=email, password=password)
        # allauth requires a verified address to sign in on the site, not only in /admin/.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        self.stdout.write(
            "at first sign-in it sets up a second factor (authenticator app or security key)"
        )
        # Last, so it is the line left above the server's output.
        if "DJANGO_SUPERUSER_PASSWORD" in os.environ:
            self.stdout.write(
                f"created admin account {email} (password from DJANGO_SUPERUSER_PASSWORD)"
            )
        else:
            self.stdout.write(
                f"created admin account {email} with password {password} (shown only this once)"
            )
        self.stdout.write(self._reset_hint(user))

    def _reset_hint(self, user):
        return f"to set a new password: python manage.py changepassword {user.get_username()}"
