"""The seeded TeamMail and mailtri-router revisions lose the scope sections their policies do not
have; mailtri-router's "Security Features", once rewritten into that scope, are shown as the
features the policy lists.

A revision in force never changes (PolicyRevision.is_locked): reports filed under it keep its
promises. This changes no promise: scope text is not a rule the platform applies to a report
(nothing reads it but the policy page). It corrects what the platform wrongly copied from the
policy, on the seeded revisions only and only where a field still holds the value the seed gave
it, so a revision that says something else (its own text, an admin's upcoming revision) is left
as it is. Backwards restores the old values under the same condition.
"""

import datetime

from django.db import migrations

TEAMMAIL = ("teammail", datetime.date(2026, 11, 23))
MAILTRI = ("mailtri-router", datetime.date(2026, 11, 23))

OLD_TEAMMAIL_SCOPE = "TeamMail (frontend and backend), its docker images and dependencies."
OLD_MAILTRI_SCOPE = (
    "mailtri-router: email processing (content sanitization, attachment scanning, rate limiting, header and\n"
    "content validation), its AWS deployment (IAM roles, VPC configuration, S3 encryption, CloudTrail logging)\n"
    "and data protection (PII handling, retention, audit trails)."
)
MAILTRI_BEST_PRACTICES = (
    "### Security best practices for users\n\n"
    "- Keep dependencies updated: regularly update npm packages\n"
    "- Use environment variables: never hardcode secrets in your code\n"
    "- Enable AWS CloudTrail; use IAM least privilege; enable S3 server-side encryption for email storage\n"
    "- Monitor logs: set up CloudWatch alarms for error rates\n\n"
)
MAILTRI_FEATURES = (
    "### Security features\n\n"
    "**Email processing security:**\n\n"
    "- **Content sanitization**: HTML and script tags are stripped from email content\n"
    "- **Attachment scanning**: attachments are scanned for malicious content\n"
    "- **Rate limiting**: built-in rate limiting to prevent abuse\n"
    "- **Input validation**: strict validation of email headers and content\n\n"
    "**AWS security:**\n\n"
    "- **IAM roles**: least privilege access for Lambda functions\n"
    "- **VPC configuration**: optional VPC deployment for network isolation\n"
    "- **Encryption**: S3 objects encrypted at rest\n"
    "- **Access logging**: CloudTrail logging for all API calls\n\n"
    "**Data protection:**\n\n"
    "- **PII handling**: personal information is handled according to privacy requirements\n"
    "- **Data retention**: configurable retention policies for email storage\n"
    "- **Audit trails**: comprehensive logging of all email processing activities\n\n"
)
MAILTRI_CONSIDERATIONS = (
    "### Known security considerations\n\n"
    "- **Email spoofing**: configure SPF/DKIM/DMARC, validate sender addresses, rate-limit\n"
    "- **AWS**: be cautious with cross-account S3 access, minimize Lambda execution roles, configure SQS\n"
    "  visibility timeouts appropriately\n"
    "- **Network**: HTTPS only, proper CORS for webhook endpoints, optional IP allow-listing"
)

# (project slug, effective_from), field, value the seed gave, value the policy supports
CORRECTIONS = [
    (TEAMMAIL, "scope_in", OLD_TEAMMAIL_SCOPE, ""),
    (MAILTRI, "scope_in", OLD_MAILTRI_SCOPE, ""),
    (
        MAILTRI,
        "additional_text",
        MAILTRI_BEST_PRACTICES + MAILTRI_CONSIDERATIONS,
        MAILTRI_BEST_PRACTICES + MAILTRI_FEATURES + MAILTRI_CONSIDERATIONS,
    ),
]


def correct(apps, *, forwards):
    PolicyRevision = apps.get_model("projects", "PolicyRevision")
    for (slug, day), field, seeded, corrected in CORRECTIONS:
        before, after = (seeded, corrected) if forwards else (corrected, seeded)
        PolicyRevision.objects.filter(
            project__slug=slug, effective_from=day, **{field: before}
        ).update(**{field: after})


def forwards(apps, schema_editor):
    correct(apps, forwards=True)


def backwards(apps, schema_editor):
    correct(apps, forwards=False)


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0004_project_preferred_languages_only_as_stated"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
