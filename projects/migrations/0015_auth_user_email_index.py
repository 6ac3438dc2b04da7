from django.db import migrations

from projects.schema import CreateIndexOnline


class Migration(migrations.Migration):
    """Notifications look accounts up by address (`reports.emails.accounts_of`: every filing,
    every sweep batch). Django's `auth_user` has no index on `email`, so on a large instance each
    lookup read the whole table (about 100 ms a filing on the 1M benchmark database).
    """

    atomic = False

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("projects", "0014_project_package_identity"),
    ]

    operations = [CreateIndexOnline("auth_user", "auth_user_email_idx", ["email"])]
