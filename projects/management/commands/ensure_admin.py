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
        if users.filter(is_superuser=True).exists():
            self.stdout.write("an admin account exists; nothing changed")
            return
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        user = users.create_superuser(username=email, email=email, password=password)
        # allauth requires a verified address to sign in on the site, not only in /admin/.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if "DJANGO_SUPERUSER_PASSWORD" in os.environ:
            self.stdout.write(
                f"created admin account {email} (password from DJANGO_SUPERUSER_PASSWORD)"
            )
        else:
            self.stdout.write(
                f"created admin account {email} with password {password} (shown only this once)"
            )
        self.stdout.write(
            "at first sign-in it sets up a second factor (authenticator app or security key)"
        )
