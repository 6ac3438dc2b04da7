from django.contrib import admin
from django.utils import timezone

from projects.access import member_project_ids
from projects.models import Membership, PolicyRevision, Project, SupportedVersion


class MemberProjectsOnly:
    """Staff who are not superusers administer only the projects they are members of: rows are
    filtered by project id (projects.access), `project_field` being the path to it.
    """

    project_field = "project_id"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        project_ids = member_project_ids(request.user)
        return queryset.filter(**{f"{self.project_field}__in": project_ids})


class PolicyRevisionInline(admin.TabularInline):
    model = PolicyRevision
    fields = ("effective_from", "source_url", "ack_hours", "detail_hours", "resolve_days")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # Revisions are written on their own page, with their version matrix.
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(MemberProjectsOnly, admin.ModelAdmin):
    project_field = "pk"
    list_display = ("name", "slug", "tracking_prefix", "security_email", "cve_threshold", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (PolicyRevisionInline, MembershipInline)


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

    def _editable(self, obj):
        return obj is None or not obj.is_locked()

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(PolicyRevision)
class PolicyRevisionAdmin(MemberProjectsOnly, admin.ModelAdmin):
    list_display = ("project", "effective_from", "in_force_today")
    list_filter = ("project",)
    date_hierarchy = "effective_from"
    inlines = (SupportedVersionInline,)
    list_select_related = ("project",)

    @admin.display(boolean=True, description="In force today")
    def in_force_today(self, obj):
        return obj.project.revision_in_force() == obj

    def has_change_permission(self, request, obj=None):
        # A revision in force is a published promise: read-only, add a new revision instead.
        if obj is not None and obj.is_locked():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Membership)
class MembershipAdmin(MemberProjectsOnly, admin.ModelAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("project", "role")
    search_fields = ("user__email", "project__name")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "project")
