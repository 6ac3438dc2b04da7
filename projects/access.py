"""Who holds which role in which project: the maintainer side of authorization (DESIGN §3).

Every "is this user a member, and with what role" question is answered here, from Membership
rows: triager < maintainer < admin. Superusers act as admins of every project. The apps above
keep their own action tables (reports.access, advisories.access) built on these roles.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import router
from django.http import Http404
from django.shortcuts import get_object_or_404

from projects.models import Membership, Project
from projects.precompiled import Precompiled

Role = Membership.Role
TRIAGER, MAINTAINER, ADMIN = Role.TRIAGER, Role.MAINTAINER, Role.ADMIN

# What each role does, in plain words: the members page and the invitations say it. The rules
# are the apps' action tables built on these roles (reports.access, advisories.access, the
# admin's project_roles); tests/projects/test_members_page.py holds these words to them.
ROLE_DUTIES = {
    TRIAGER: (
        "Sees the project's reports, acknowledges and triages them, asks the reporter for "
        "information, closes them (as spam too, which blocks the sender's address for the "
        "project), scores them (CVSS) and works the incident checklist."
    ),
    MAINTAINER: (
        "Everything a triager does, and also fixes (starts the fix, marks it fixed), reopens "
        "closed reports, manages a report's collaborators, proposes disclosure dates, edits and "
        "publishes advisories."
    ),
    ADMIN: (
        "Everything a maintainer does, and also manages the project's members and invitations "
        "and its policy revisions, and unblocks senders blocked as spam."
    ),
}


def has_role(role, minimum):
    """Whether `role` (None: no role) reaches `minimum`: triager < maintainer < admin."""
    if role is None:
        return False
    rank = Membership.RANK
    # Roles as read from the database are plain strings, which find their Role in RANK (a
    # choice hashes and compares as its value): no Role made per call (the reminder sweep asks
    # for every member of every reminder). Anything else fails as Role() fails.
    if role in rank and minimum in rank:
        return rank[role] >= rank[minimum]
    return rank[Role(role)] >= rank[Role(minimum)]


# Where the request's gate (disclosure.middleware) keeps the roles it read for request.user, so
# the views of that request do not read them again. Only request users carry it: they live for
# one request.
ROLES_MEMO = "_project_roles"


def roles_of(user):
    """{project_id: role} of the user's memberships, in one query (empty for anonymous users).

    Superusers hold no rows here and are admins everywhere: see `role_in`.
    """
    if not user.is_authenticated or not user.is_active:
        return {}
    memo = getattr(user, ROLES_MEMO, None)
    if memo is not None:
        return memo
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


# Beside them, the same query's slug and name of those projects: the queue's project filter and
# counts name them on every page, and read them here rather than in a query of their own.
PROJECTS_MEMO = "_member_projects"
PROJECT_FIELDS = ("id", "slug", "name")  # in the order of Project's fields (Model.from_db)


def remember_roles(user):
    """Read the user's roles once for the whole request (the request's gate calls this), and in
    the same query the slug and name of their projects (`member_projects`).
    """
    if not user.is_authenticated or not user.is_active:
        return {}
    memo = getattr(user, ROLES_MEMO, None)
    if memo is not None:
        return memo
    alias = router.db_for_read(Membership)
    _remember(user, alias, _membership_query(alias).rows([user.pk]))
    return getattr(user, ROLES_MEMO)


def _remember(user, alias, memberships):
    """Keep the (project id, role, slug, name) rows on `user`: ROLES_MEMO and PROJECTS_MEMO."""
    roles, projects = {}, []
    for project_id, role, slug, name in memberships:
        if project_id is None:  # no membership: user_with_roles' one row of its LEFT JOIN
            continue
        roles[project_id] = role
        projects.append(Project.from_db(alias, PROJECT_FIELDS, (project_id, slug, name)))
    setattr(user, ROLES_MEMO, roles)
    setattr(user, PROJECTS_MEMO, projects)


@functools.cache
def _membership_query(alias):
    """remember_roles' query, with the user's id its one parameter, written once per process
    rather than on every request (building it cost more than running it).
    """
    return _precompiled(
        Membership.objects.using(alias)
        .filter(user_id=0)
        .order_by("project__name", "project_id")
        .values_list("project_id", "role", "project__slug", "project__name")
    )


def _precompiled(queryset):
    """Precompiled `queryset` whose one parameter is the user's id (written with 0)."""
    compiled = Precompiled.of(queryset)
    if compiled.params != (0,):
        raise RuntimeError(f"expected the user's id as the only parameter, not {compiled.params!r}")
    return compiled


def user_with_roles(user_id, *, using=None):
    """The active user with id `user_id`, or None (no such user, or inactive: as Django's
    ModelBackend.get_user), read in one query together with their roles and their projects'
    slug and name, remembered on the user as `remember_roles` does: a signed-in request reads
    its user and roles in one round trip rather than two (disclosure.auth).
    """
    user_model = get_user_model()
    alias = using or router.db_for_read(user_model)
    rows = _user_with_roles_query(alias).rows([user_id])
    if not rows:
        return None
    fields = _user_fields()
    user = user_model.from_db(alias, fields, rows[0][: len(fields)])
    if not user.is_active:
        return None
    _remember(user, alias, (row[len(fields) :] for row in rows))
    return user


MEMBERSHIP_COLUMNS = (
    "memberships__project_id",
    "memberships__role",
    "memberships__project__slug",
    "memberships__project__name",
)


def _user_fields():
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


@functools.cache
def _user_with_roles_query(alias):
    """user_with_roles' query (the user's columns, then each membership's project id and role
    and that project's slug and name, LEFT JOINed, in remember_roles' order), with the user's id
    its one parameter, written once per process.
    """
    return _precompiled(
        get_user_model()
        .objects.using(alias)
        .filter(pk=0)
        .order_by("memberships__project__name", "memberships__project_id")
        .values_list(*_user_fields(), *MEMBERSHIP_COLUMNS)
    )


def member_projects(user):
    """The projects where the user holds a role, by name, with only their slug and name loaded
    (superusers: only those where they hold one). Read with the request's roles (the gate's
    `remember_roles`), else in one query.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    memo = getattr(user, PROJECTS_MEMO, None)
    if memo is not None:
        return memo
    return list(
        Project.objects.only("slug", "name").filter(memberships__user=user).order_by("name", "pk")
    )


def needs_second_factor(user, roles=None):
    """Project members (any role) and staff must have a second factor, and have passed it in
    their session, before they see anything internal (DESIGN §3).
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return bool(roles_of(user) if roles is None else roles)


def role_in(user, roles, project_id):
    """The role in `project_id` given the user's `roles_of`: ADMIN for superusers."""
    if user.is_active and user.is_superuser:
        return ADMIN
    return roles.get(project_id)


def role_of(user, project):
    """The user's role in the project (ADMIN for superusers), or None for non-members."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    memo = getattr(user, ROLES_MEMO, None)
    if memo is not None:
        return memo.get(project.pk)
    return (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )


def project_ids_with(user, minimum):
    """Ids of the projects where the user holds at least the `minimum` role (every project for
    superusers). Reads the request's remembered roles when there are some.
    """
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Project.objects.values_list("pk", flat=True))
    return {project_id for project_id, role in roles_of(user).items() if has_role(role, minimum)}


def manages_members(role):
    """Whether a project `role` (role_of, role_in) manages the project's members: its admins, and
    superusers (admins everywhere). Nobody changes their own membership (projects.services).
    """
    return has_role(role, ADMIN)


def is_own_membership(membership, user):
    """Nobody grants, raises or ends their own access: another admin of the project does
    (projects.services refuses it; the members page offers no control for it).
    """
    return membership.user_id == user.pk


def access_members(user, slug):
    """The project with `slug` whose members `user` manages, or 404: unknown projects and those
    the user does not administer answer alike, as hidden reports do.
    """
    project = get_object_or_404(Project, slug=slug)
    if not manages_members(role_of(user, project)):
        raise Http404("No such page.")
    return project


def member_project_ids(user):
    """Ids of the projects where the user holds a role (every project for superusers)."""
    return project_ids_with(user, TRIAGER)


def member_roles(project_ids):
    """{project_id: [(address, role)]} of the projects' active members, in one query."""
    found = {project_id: [] for project_id in project_ids}
    rows = Membership.objects.filter(project_id__in=project_ids, user__is_active=True).values_list(
        "project_id", "user__email", "role"
    )
    for project_id, email, role in rows:
        found[project_id].append((email, role))
    return found


def member_emails(project_ids, *, minimum=TRIAGER):
    """{project_id: [addresses]} of the active members holding at least `minimum`, one query."""
    return {
        project_id: [email for email, role in members if has_role(role, minimum)]
        for project_id, members in member_roles(project_ids).items()
    }


def who_hears(project, members, *, minimum):
    """Who at `project` hears of something that takes at least the `minimum` role to act on:
    (addresses of the active members holding it, the security contact's address or None).

    Nothing of a project reaches nobody: while no active member holds `minimum`, the project's
    security contact (Project.security_email) hears of it instead. The contact is an address,
    not an account: the callers send it a notice without content (reports.emails). `members`:
    the project's (address, role) pairs as `member_roles` reads them, so a caller that reads
    many projects at once (the reminder sweep) asks once.
    """
    addresses = [email for email, role in members if has_role(role, minimum)]
    return addresses, (None if addresses else project.security_email)
