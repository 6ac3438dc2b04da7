from django.urls import path, register_converter

from projects import views

app_name = "projects"


class InvitationToken:
    """An invitation's token (secrets.token_urlsafe(32): 43 URL-safe characters). Longer than any
    page name under a project, so /projects/invitations/<token>/ never shadows the pages of a
    project whose slug is "invitations" (its /report/, /members/, /advisories/...).
    """

    regex = r"[A-Za-z0-9_-]{20,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(InvitationToken, "invitation_token")

urlpatterns = [
    path("", views.project_list, name="list"),
    # Beside allauth's account pages (/accounts/ is theirs; this name is not one of them).
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/openpgp-key/", views.profile_openpgp_key, name="profile_openpgp_key"),
    path(
        "accounts/profile/openpgp-key/remove/",
        views.profile_remove_openpgp_key,
        name="profile_remove_openpgp_key",
    ),
    path(
        "projects/invitations/<invitation_token:token>/",
        views.accept_invitation,
        name="accept_invitation",
    ),
    path("markdown/preview/", views.markdown_preview, name="markdown_preview"),
    path("projects/<slug:slug>/", views.project_detail, name="detail"),
    path(
        "projects/<slug:slug>/policy/<int:revision_id>/",
        views.revision_detail,
        name="revision",
    ),
    path("projects/<slug:slug>/security.txt", views.project_security_txt, name="security_txt"),
    path("projects/<slug:slug>/openpgp.asc", views.project_openpgp_key, name="openpgp_public_key"),
    path("projects/<slug:slug>/members/", views.members, name="members"),
    path("projects/<slug:slug>/members/invite/", views.invite_member, name="invite_member"),
    path(
        "projects/<slug:slug>/members/<int:membership_id>/role/",
        views.change_role,
        name="change_role",
    ),
    path(
        "projects/<slug:slug>/members/<int:membership_id>/remove/",
        views.remove_member,
        name="remove_member",
    ),
    path(
        "projects/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
]
