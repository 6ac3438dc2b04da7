"""Admin of projects, policy revisions and memberships, and the scoping every admin of the
platform shares (DESIGN §3): staff who are not superusers see, choose and save only the rows of
projects where they hold the role the site requires, and the instance-wide admins (accounts,
the site) are for superusers only.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.urls import path
from django.utils import timezone

from projects import selectors, services
from projects.access import ADMIN, TRIAGER, has_role, project_ids_with, remember_roles, role_of
from projects.models import (
    IntakeAddress,
    Membership,
    PolicyRevision,
    Project,
    ProjectEvent,
    ProjectInvitation,
    SupportedVersion,
)

# Addresses typed without a scheme are https (Django 6's default; silences its warning).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}

# project_roles values besides a role: NOBODY, not even superusers (a service owns the write or
# it is part of the audit trail); SUPERUSERS, instance-wide work no project role grants.
NOBODY = None
SUPERUSERS = "superusers"


def is_superuser(user):
    return user.is_active and user.is_superuser


class SafeSelection:
    """Rows picked for an action are ids; anything else is a bad request (400), where the admin
    would try to filter by it and answer 500.
    """

    def response_action(self, request, queryset):
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.model._meta.pk.to_python(value)
        except ValidationError as error:
            raise BadRequest("The selected rows are not rows of this list.") from error
        return super().response_action(request, queryset)


class MemberProjectsOnly(SafeSelection):
    """Scopes a ModelAdmin to the projects where request.user holds the role the site requires.

    `project_roles` gives the minimum project role (projects.access) per admin permission: view,
    add, change, delete; or NOBODY / SUPERUSERS. Superusers act as admins of every project.
    `project_field` is the path from a row to its project id. The mixin filters the rows, checks
    the object's project in every has_*_permission, offers in foreign-key choices only the rows
    of projects where the user may write here, and checks the saved or deleted object's project
    again on the server: a crafted POST naming another project's row fails.
    """

    project_field = "project_id"
    project_roles = {"view": TRIAGER, "add": ADMIN, "change": ADMIN, "delete": ADMIN}

    def project_ids(self, request, permission):
        """Ids of the projects where request.user may `permission` here; None: every project."""
        minimum = self.project_roles[permission]
        if minimum is NOBODY:
            return frozenset()
        if is_superuser(request.user):
            return None
        if minimum == SUPERUSERS:
            return frozenset()
        remember_roles(request.user)  # one membership query per request, whatever is checked
        return frozenset(project_ids_with(request.user, minimum))

    def writable_project_ids(self, request):
        """Projects whose rows a form may point at: where the user may both add and change."""
        if is_superuser(request.user):
            return None
        return self.project_ids(request, "add") & self.project_ids(request, "change")

    def project_id_of(self, obj):
        value = obj
        for step in self.project_field.split("__"):
            value = getattr(value, step)
        return value

    def allows(self, request, permission, obj=None):
        """Whether the user may `permission` on obj's project (on some project if obj is None)."""
        ids = self.project_ids(request, permission)
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        return self.project_id_of(obj) in ids

    def require(self, request, permission, obj):
        if not self.allows(request, permission, obj):
            raise PermissionDenied

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = self.project_ids(request, "view")
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.project_field}__in": ids})

    def has_view_permission(self, request, obj=None):
        return self.allows(request, "view", obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self.allows(request, "add") and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.allows(request, "change", obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.allows(request, "delete", obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = self.writable_project_ids(request)
        if ids is not None:
            kwargs["queryset"] = rows_of_projects(db_field.related_model, ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        ids = self.writable_project_ids(request)
        if ids is not None:
            kwargs["queryset"] = rows_of_projects(db_field.related_model, ids)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The form may have moved the row: its (new) project must be one the user writes to.
        self.require(request, "change" if change else "add", obj)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self.require(request, "delete", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk action checks the permission without an object: check each row.
        for obj in queryset:
            self.require(request, "delete", obj)
        super().delete_queryset(request, queryset)

    def get_urls(self):
        # Django still redirects "<id>/" to the change page (URLs from before 1.9), which would
        # carry guardian's old object-permission pages ("<id>/permissions/...") on to a
        # redirect. Nothing under an object but history, delete and change exists: 404.
        urls = [url for url in super().get_urls() if str(url.pattern) != "<path:object_id>/"]
        return [*urls, path("<path:object_id>/", self.admin_site.admin_view(not_found))]


def not_found(request, object_id):
    raise Http404


def rows_of_projects(model, project_ids):
    """The rows of `model` a form may offer for the projects: projects themselves, rows with a
    project, and nothing else (the instance's accounts are not listed for staff).
    """
    if model is Project:
        return Project.objects.filter(pk__in=project_ids)
    if any(field.name == "project" for field in model._meta.get_fields()):
        return model._default_manager.filter(project_id__in=project_ids)
    return model._default_manager.none()


class SuperusersOnly(SafeSelection):
    """Instance-wide admins (accounts, their addresses and authenticators, groups, the site):
    only superusers, whatever model permissions staff hold. With them staff could make
    themselves superusers or take over any member's account.
    """

    def has_module_permission(self, request):
        return is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request.user)

    def has_add_permission(self, request, *args):
        return is_superuser(request.user)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request.user)


class ReadOnlyInline:
    """An inline shown for reading: its rows are written elsewhere."""

    extra = 0
    can_delete = False
    show_change_link = True
    formfield_overrides = HTTPS_URLS

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Projects -----------------------------------------------------------------------------------


class PolicyRevisionInline(ReadOnlyInline, admin.TabularInline):
    # Revisions are written on their own page, with their version matrix.
    model = PolicyRevision
    fields = ("effective_from", "source_url", "ack_hours", "detail_hours", "resolve_days")

    def get_queryset(self, request):
        # Each row's title names the project (PolicyRevision.__str__): no query per row.
        return super().get_queryset(request).select_related("project")


class MembershipInline(ReadOnlyInline, admin.TabularInline):
    # Members are managed on the membership pages, through projects.services.
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        # Each row's title names the person and the project (Membership.__str__).
        return super().get_queryset(request).select_related("user", "project")


class IntakeAddressForm(forms.ModelForm):
    def clean_address(self):
        return self.cleaned_data["address"].lower()


class IntakeAddressInline(admin.TabularInline):
    """The addresses whose mail becomes the project's reports (inbox): the project's members
    read them; only superusers change them, since the instance's mail server must route them
    here and an address belongs to one project (whoever claims it first gets its mail).
    """

    model = IntakeAddress
    form = IntakeAddressForm
    fields = ("address",)
    extra = 0

    def has_view_permission(self, request, obj=None):
        return True  # whoever may see the project (ProjectAdmin decides)

    def has_add_permission(self, request, obj=None):
        return is_superuser(request.user)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request.user)


@admin.register(Project)
class ProjectAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Members see their projects; a project's admins edit it; only superusers add or delete
    projects (instance-wide: a new project is public at once).
    """

    project_field = "pk"
    project_roles = {"view": TRIAGER, "add": SUPERUSERS, "change": ADMIN, "delete": SUPERUSERS}
    list_display = ("name", "slug", "tracking_prefix", "security_email", "cve_threshold", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (IntakeAddressInline, PolicyRevisionInline, MembershipInline)
    formfield_overrides = HTTPS_URLS
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "slug",
                    "tracking_prefix",
                    "description",
                    "homepage",
                    "security_email",
                    "backup_email",
                    "backup_after_hours",
                    "pgp_key_url",
                    "cve_threshold",
                    "preferred_languages",
                    "active",
                )
            },
        ),
        (
            "Package identity",
            {
                "description": "How the advisories' OSV, CSAF and CVE exports name the "
                "software: only what the project states. With an OSV ecosystem and package, "
                "OSV records name the package and CVE records its registry; otherwise OSV "
                "records give GIT ranges on the repository (with the advisory's fix commits). "
                "The purl and CPE identify each CSAF product and go into the CVE record.",
                "fields": (
                    "repository_url",
                    "osv_ecosystem",
                    "package_name",
                    "purl",
                    "cpe",
                    "vendor",
                ),
            },
        ),
    )


# --- Policy revisions ---------------------------------------------------------------------------


class SupportedVersionInline(admin.TabularInline):
    model = SupportedVersion
    fields = ("series", "order", "supported", "end_of_support", "status_today")
    readonly_fields = ("status_today",)
    extra = 0

    @admin.display(description="Today")
    def status_today(self, obj):
        if obj.pk is None:
            return "-"
        return "supported" if obj.is_supported_on(timezone.localdate()) else "not supported"

    def _editable(self, request, obj):
        # The matrix belongs to its revision: written only while the revision is upcoming, by
        # an admin of its project (obj None: a new revision, whose project is checked on save).
        if obj is None:
            return True
        return not obj.is_locked() and has_role(role_of(request.user, obj.project), ADMIN)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)


class PolicyRevisionForm(forms.ModelForm):
    # No Meta: the admin builds the form of its fields on this base.

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        PolicyRevision(effective_from=day).validate_upcoming()
        return day


@admin.register(PolicyRevision)
class PolicyRevisionAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Members read their projects' revisions; a project's admins add and edit upcoming ones
    (dated after today). A revision in force is read-only and stays.
    """

    form = PolicyRevisionForm
    list_display = ("project", "effective_from", "in_force_today")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter),)
    date_hierarchy = "effective_from"
    inlines = (SupportedVersionInline,)
    list_select_related = ("project",)
    formfield_overrides = HTTPS_URLS

    def get_queryset(self, request):
        # The revision in force per project, in the same query as the list (not one per row).
        in_force = PolicyRevision.objects.in_force_on(timezone.localdate()).filter(
            project=OuterRef("project")
        )
        return (
            super().get_queryset(request).annotate(in_force_id=Subquery(in_force.values("pk")[:1]))
        )

    @admin.display(boolean=True, description="In force today")
    def in_force_today(self, obj):
        return obj.in_force_id == obj.pk

    def get_readonly_fields(self, request, obj=None):
        # A revision stays with its project; another project's policy is written by its admins.
        return ("project",) if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # A revision in force is a published promise: read-only, add a new revision instead.
        if obj is not None and obj.is_locked():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked():
            return False
        return super().has_delete_permission(request, obj)


# --- Memberships --------------------------------------------------------------------------------


class MembershipAddForm(forms.ModelForm):
    """A new member, named by a verified address of their account: the admin lists and
    searches no accounts. `actor` is set per request by MembershipAdmin.get_form.
    """

    email = forms.EmailField(help_text="A verified address of the person's account.")
    actor = None

    class Meta:
        model = Membership
        fields = ("email", "project", "role")

    def clean(self):
        cleaned = super().clean()
        email, project = cleaned.get("email"), cleaned.get("project")
        if not email or not project:
            return cleaned
        user = selectors.account_with_verified_email(email)
        if user is None:
            self.add_error("email", "No active account has this verified address.")
            return cleaned
        try:
            services.check_new_member(project=project, user=user, by=self.actor)
        except (services.MembershipError, PermissionDenied) as error:
            self.add_error(None, str(error))
        cleaned["user"] = user
        return cleaned


@admin.register(Membership)
class MembershipAdmin(MemberProjectsOnly, admin.ModelAdmin):
    """Members see their projects' memberships; only a project's admins add, change and remove
    them, through projects.services (which write the audit event and email the person, as the
    site's members page does); nobody changes or removes their own.
    """

    list_display = ("user", "project", "role", "created_at")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("user__email", "project__name")
    list_select_related = ("user", "project")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "project", "role")
        return ("user", "project", "role", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "project", "created_at") if obj is not None else ()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipAddForm
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def _not_own(self, request, obj):
        return obj is None or obj.user_id != request.user.pk

    def has_change_permission(self, request, obj=None):
        return self._not_own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._not_own(request, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            services.change_role(membership=obj, role=form.cleaned_data["role"], by=request.user)
            return
        membership = services.add_member(
            project=form.cleaned_data["project"],
            user=form.cleaned_data["user"],
            role=form.cleaned_data["role"],
            by=request.user,
        )
        obj.pk, obj.user, obj.created_at = membership.pk, membership.user, membership.created_at

    def delete_model(self, request, obj):
        services.remove_member(membership=obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.remove_member(membership=membership, by=request.user)


# --- Invitations and the audit trail of members -------------------------------------------------


class ReadOnlyForProjectAdmins(MemberProjectsOnly):
    """Shown to the project's admins (those the members page is for), written by nobody here:
    invitations are sent and revoked on the members page, through projects.services; the audit
    trail is append-only.
    """

    project_roles = {"view": ADMIN, "add": NOBODY, "change": NOBODY, "delete": NOBODY}

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(ProjectInvitation)
class ProjectInvitationAdmin(ReadOnlyForProjectAdmins, admin.ModelAdmin):
    list_display = ("email", "project", "role", "invited_by", "created_at", "expires_at",
                    "accepted_at", "revoked_at")  # fmt: skip
    list_filter = (("project", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("email",)
    list_select_related = ("project", "invited_by")
    exclude = ("token",)  # the link is the invited person's: nobody reads it here

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "token"]


@admin.register(ProjectEvent)
class ProjectEventAdmin(ReadOnlyForProjectAdmins, admin.ModelAdmin):
    list_display = ("created_at", "project", "actor", "kind", "message")
    list_filter = (("project", admin.RelatedOnlyFieldListFilter), "kind")
    list_select_related = ("project", "actor")
    date_hierarchy = "created_at"
