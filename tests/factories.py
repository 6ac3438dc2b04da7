import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from projects.models import Membership, PolicyRevision, Project, SupportedVersion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    username = factory.SelfAttribute("email")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Users sign in only with a verified address (allauth, mandatory verification)."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")
    tracking_prefix = factory.Sequence(
        lambda n: "P" + "".join(chr(65 + int(d)) for d in f"{n:03d}")
    )
    security_email = factory.LazyAttribute(lambda p: f"security@{p.slug}.example.org")


class PolicyRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyRevision

    project = factory.SubFactory(ProjectFactory)
    effective_from = datetime.date(2025, 1, 1)
    how_to_report = "Email us."
    ack_hours = 24
    detail_hours = 72
    intake_required = ["description", "steps_to_reproduce"]
    intake_helpful = ["proof_of_concept"]


class SupportedVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportedVersion

    revision = factory.SubFactory(PolicyRevisionFactory)
    series = factory.Sequence(lambda n: f"{n}.x")
    order = factory.Sequence(int)
    supported = True
    end_of_support = None


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    role = Membership.Role.MAINTAINER
