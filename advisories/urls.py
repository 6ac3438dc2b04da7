from django.urls import path

from advisories import feeds, views

app_name = "advisories"

urlpatterns = [
    path("projects/<slug:slug>/advisories/", views.project_advisories, name="project_advisories"),
    path("projects/<slug:slug>/advisories/feed/", feeds.ProjectAdvisoriesFeed(), name="feed"),
    path("projects/<slug:slug>/hall-of-fame/", views.hall_of_fame, name="hall_of_fame"),
    path("projects/<slug:slug>/osv/", views.project_osv, name="project_osv"),
    path("osv/all.zip", views.osv_all, name="osv_all"),
    path("advisories/<str:identifier>/", views.advisory_page, name="advisory_page"),
    path("advisories/<str:identifier>.osv.json", views.osv_json, name="osv"),
    path("advisories/<str:identifier>.csaf.json", views.csaf_json, name="csaf"),
    path("advisories/<str:identifier>.cve.json", views.cve_json, name="cve"),
    path("advisories/<str:identifier>.cve-cna.json", views.cve_cna_json, name="cve_cna"),
    # The CSAF provider (advisories.csaf_provider). The hash and signature files come before
    # the documents: <str:filename> alone would take "<file>.json.sha256" too.
    path(
        ".well-known/csaf/provider-metadata.json",
        views.csaf_provider_metadata,
        name="csaf_provider_metadata",
    ),
    path(
        ".well-known/csaf/openpgp/<str:fingerprint>.asc",
        views.csaf_public_key,
        name="csaf_public_key",
    ),
    path(".well-known/csaf/white/", views.csaf_directory, name="csaf_directory"),
    path(".well-known/csaf/white/index.txt", views.csaf_index, name="csaf_index"),
    path(".well-known/csaf/white/changes.csv", views.csaf_changes, name="csaf_changes"),
    path(".well-known/csaf/white/csaf-feed-tlp-white.json", views.csaf_feed, name="csaf_feed"),
    path(
        ".well-known/csaf/white/<int:year>/",
        views.csaf_year_directory,
        name="csaf_year_directory",
    ),
    path(
        ".well-known/csaf/white/<int:year>/<str:filename>.sha256",
        views.csaf_hash,
        {"algorithm": "sha256"},
        name="csaf_sha256",
    ),
    path(
        ".well-known/csaf/white/<int:year>/<str:filename>.sha512",
        views.csaf_hash,
        {"algorithm": "sha512"},
        name="csaf_sha512",
    ),
    path(
        ".well-known/csaf/white/<int:year>/<str:filename>.asc",
        views.csaf_signature,
        name="csaf_signature",
    ),
    path(
        ".well-known/csaf/white/<int:year>/<str:filename>",
        views.csaf_distribution,
        name="csaf_distribution",
    ),
    path("reports/<str:tracking_id>/checklist/", views.checklist, name="checklist"),
    path(
        "reports/<str:tracking_id>/checklist/start/", views.start_checklist, name="start_checklist"
    ),
    path("reports/<str:tracking_id>/disclosure/", views.propose_disclosure, name="propose"),
    path(
        "reports/<str:tracking_id>/disclosure/<int:proposal_id>/respond/",
        views.respond_disclosure,
        name="respond",
    ),
    path("reports/<str:tracking_id>/fix-release/", views.fix_release, name="fix_release"),
    path("reports/<str:tracking_id>/advisory/", views.advisory, name="advisory"),
    path("reports/<str:tracking_id>/advisory/share/", views.share_for_review, name="share"),
    path("reports/<str:tracking_id>/advisory/approve/", views.approve, name="approve"),
    path("reports/<str:tracking_id>/advisory/publish/", views.publish, name="publish"),
    path("reports/<str:tracking_id>/advisory/schedule/", views.schedule, name="schedule"),
    path("reports/<str:tracking_id>/advisory/unschedule/", views.unschedule, name="unschedule"),
    path("reports/<str:tracking_id>/fix-review/", views.share_fix, name="share_fix"),
    path(
        "reports/<str:tracking_id>/fix-review/<int:review_id>/respond/",
        views.respond_fix,
        name="respond_fix",
    ),
    path("reports/<str:tracking_id>/advisory/amend/", views.amend, name="amend"),
    path("reports/<str:tracking_id>/advisory/withdraw/", views.withdraw, name="withdraw"),
]
