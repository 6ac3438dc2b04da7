import hashlib
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_POST, require_safe

from advisories import csaf_provider, exports, forms, publication, revisions, selectors, services
from advisories.access import access_disclosure
from advisories.models import DisclosureProposal, FixReview
from mailer.openpgp import OpenPGPError
from projects.selectors import public_project
from reports.postback import back_to_report, form_errors

# --- Incident checklist (members) ---------------------------------------------------------------


@login_required
@require_POST
def start_checklist(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("checklist")
    try:
        services.start_checklist(report=access.report, by=request.user)
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error))
    return back_to_report(
        request, access, done="Incident checklist started.", to="advisories:checklist"
    )


@login_required
def checklist(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("checklist")
    report = access.report
    items = list(report.checklist_items.all())
    form = forms.ChecklistForm(request.POST or None, items=items)
    if request.method == "POST" and items and form.is_valid():
        done, values = form.done_and_values()
        services.update_checklist(report=report, by=request.user, done=done, values=values)
        messages.success(request, "Checklist saved.")
        return redirect("advisories:checklist", tracking_id)
    return render(
        request,
        "advisories/checklist.html",
        {"report": report, "form": form, "disclosure": selectors.disclosure_of(report)[0]},
    )


# --- Disclosure date ----------------------------------------------------------------------------


@login_required
@require_POST
def propose_disclosure(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("propose_disclosure")
    form = forms.DisclosureProposalForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    date = form.cleaned_data["date"]
    try:
        services.propose_disclosure(
            report=access.report,
            by=request.user,
            date=date,
            reason=form.cleaned_data["reason"],
            actively_exploited=form.cleaned_data["actively_exploited"],
        )
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error))
    done = f"Disclosure date proposed: {date:%Y-%m-%d}. The reporter is asked to agree."
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def respond_disclosure(request, tracking_id, proposal_id):
    access = access_disclosure(request.user, tracking_id).require("respond_disclosure")
    proposal = get_object_or_404(DisclosureProposal, pk=proposal_id, report=access.report)
    form = forms.DisclosureResponseForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    agree = form.cleaned_data["agree"]
    try:
        services.respond_to_disclosure(
            proposal=proposal,
            by=request.user,
            agree=agree,
            response=form.cleaned_data["response"],
        )
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error))
    answer = "agreed to" if agree else "objected to"
    done = f"You {answer} the disclosure date {proposal.proposed_date:%Y-%m-%d}."
    return back_to_report(request, access, done=done)


@login_required
@require_POST
def fix_release(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("record_fix_release")
    form = forms.FixReleaseForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    services.set_fix_release(
        report=access.report,
        by=request.user,
        version=form.cleaned_data["fix_version"],
        released_on=form.cleaned_data["released_on"],
    )
    done = (
        f"Fixed release recorded: {form.cleaned_data['fix_version']}, "
        f"released on {form.cleaned_data['released_on']:%Y-%m-%d}."
    )
    return back_to_report(request, access, done=done)


# --- Advisory draft, review and publication -----------------------------------------------------


@login_required
def advisory(request, tracking_id):
    access = access_disclosure(request.user, tracking_id)
    draft = selectors.advisory_of(access.report)
    if request.method == "POST":
        access.require("edit_advisory")
        return _edit_advisory(request, access, draft)
    if not access.can_read(draft):
        raise Http404("No advisory to show.")
    form = None
    if access.allows("edit_advisory") and not draft.is_published:
        form = forms.AdvisoryForm(instance=draft, matrix=_matrix(access.report))
    return _review_page(request, access, draft, form)


def _matrix(report):
    return [v.series for v in report.revision.versions.all()]


def _review_page(request, access, draft, form, status=200, amend_form=None, withdraw_form=None):
    report = access.report
    revisable = draft.revision_refusal() is None
    if revisable and amend_form is None and access.allows("edit_advisory"):
        amend_form = forms.AmendForm(instance=draft, matrix=_matrix(report))
    if revisable and withdraw_form is None and access.allows("publish"):
        withdraw_form = forms.WithdrawForm()
    return render(
        request,
        "advisories/advisory_review.html",
        {
            "can": access.can,
            "is_member": access.is_member,
            "report": report,
            "advisory": draft,
            "form": form,
            "amend_form": amend_form,
            "withdraw_form": withdraw_form,
            "ranges": exports.affected_ranges(draft, _matrix(report)),
            "credits": publication.credits_for(draft),
            "needs_review": report.revision.reporter_reviews_fix,
        },
        status=status,
    )


def _edit_advisory(request, access, draft):
    report = access.report
    if draft is None:
        try:
            services.draft_advisory(report=report, by=request.user)
        except services.AdvisoryError as error:
            return back_to_report(request, access, str(error))
        return back_to_report(request, access, done="Advisory drafted.", to="advisories:advisory")
    form = forms.AdvisoryForm(request.POST, instance=draft, matrix=_matrix(report))
    if not form.is_valid():
        return _review_page(request, access, draft, form, status=400)
    fields = form.advisory_fields()
    draft.refresh_from_db()  # the form wrote onto the instance; the service owns the write
    try:
        services.update_advisory(advisory=draft, by=request.user, fields=fields)
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error), to="advisories:advisory")
    messages.success(request, "Advisory saved.")
    return redirect("advisories:advisory", report.tracking_id)


def _advisory_step(action, service, done):
    @login_required
    @require_POST
    def view(request, tracking_id):
        access = access_disclosure(request.user, tracking_id).require(action)
        draft = selectors.advisory_of(access.report)
        if not access.can_read(draft):
            raise Http404("No advisory to act on.")
        try:
            service(advisory=draft, by=request.user)
        except services.AdvisoryError as error:
            return back_to_report(request, access, str(error), to="advisories:advisory")
        return back_to_report(request, access, done=done, to="advisories:advisory")

    return view


share_for_review = _advisory_step(
    "edit_advisory",
    services.share_for_review,
    "The advisory is shared with the reporter for review.",
)
approve = _advisory_step(
    "approve_advisory", services.approve, "You approved the advisory; the maintainers are told."
)
schedule = _advisory_step(
    "publish", publication.schedule, "The advisory will be published on the disclosure date."
)
unschedule = _advisory_step(
    "publish", publication.unschedule, "The scheduled publication is cancelled."
)


@login_required
def publish(request, tracking_id):
    """GET: what publishing now means (the date, what still stands in the way); POST: publish,
    confirmed, with the reason when it comes before the disclosure date.
    """
    access = access_disclosure(request.user, tracking_id).require("publish")
    draft = selectors.advisory_of(access.report)
    if draft is None:
        raise Http404("No advisory to publish.")
    form = forms.PublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            publication.publish(
                advisory=draft,
                by=request.user,
                early_reason=form.cleaned_data["early_reason"],
                early_note=form.cleaned_data["early_note"],
            )
        except services.AdvisoryError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{draft.identifier} is published.")
            return redirect("advisories:advisory", tracking_id)
    return render(
        request,
        "advisories/publish.html",
        {
            "report": access.report,
            "advisory": draft,
            "form": form,
            "blockers": publication.blockers(draft),
            "early": publication.early(draft),
        },
        status=400 if form.errors else 200,
    )


# --- Fix review ---------------------------------------------------------------------------------


@login_required
@require_POST
def share_fix(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("share_fix")
    form = forms.FixShareForm(request.POST, report=access.report)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    try:
        services.share_fix(report=access.report, by=request.user, **form.cleaned_data)
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error))
    messages.success(request, "The proposed fix and its schedule are shared with the reporter.")
    return back_to_report(request, access)


@login_required
@require_POST
def respond_fix(request, tracking_id, review_id):
    access = access_disclosure(request.user, tracking_id).require("review_fix")
    review = get_object_or_404(FixReview, pk=review_id, report=access.report)
    form = forms.FixResponseForm(request.POST)
    if not form.is_valid():
        return back_to_report(request, access, form_errors(form))
    try:
        services.respond_to_fix(review=review, by=request.user, **form.cleaned_data)
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error))
    messages.success(request, "Your answer is recorded; the maintainers are told.")
    return back_to_report(request, access)


# --- Revisions of a published advisory (advisories.revisions) -----------------------------------


def _revisable_advisory(request, access):
    """The report's advisory, if it can be revised; else a redirect with the reason."""
    published = selectors.advisory_of(access.report)
    if not access.can_read(published):
        raise Http404("No advisory to revise.")
    refusal = published.revision_refusal()
    if refusal:
        return published, back_to_report(request, access, refusal, to="advisories:advisory")
    return published, None


@login_required
@require_POST
def amend(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("edit_advisory")
    published, refused = _revisable_advisory(request, access)
    if refused:
        return refused
    form = forms.AmendForm(request.POST, instance=published, matrix=_matrix(access.report))
    valid = form.is_valid()
    published.refresh_from_db()  # the form wrote onto the instance; the service owns the write
    if not valid:
        return _review_page(request, access, published, None, status=400, amend_form=form)
    try:
        revision = revisions.amend(
            advisory=published,
            by=request.user,
            fields=form.advisory_fields(),
            reason=form.cleaned_data["reason"],
        )
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error), to="advisories:advisory")
    messages.success(request, f"Advisory amended: revision {revision.number} is published.")
    return redirect("advisories:advisory", tracking_id)


@login_required
@require_POST
def withdraw(request, tracking_id):
    access = access_disclosure(request.user, tracking_id).require("publish")
    published, refused = _revisable_advisory(request, access)
    if refused:
        return refused
    form = forms.WithdrawForm(request.POST)
    if not form.is_valid():
        return _review_page(request, access, published, None, status=400, withdraw_form=form)
    if not form.cleaned_data["confirm"]:
        context = {"report": access.report, "advisory": published, "form": form.confirmation()}
        return render(request, "advisories/advisory_withdraw.html", context)
    try:
        revisions.withdraw(advisory=published, by=request.user, reason=form.cleaned_data["reason"])
    except services.AdvisoryError as error:
        return back_to_report(request, access, str(error), to="advisories:advisory")
    messages.success(request, "Advisory withdrawn: it stays public with the notice.")
    return redirect("advisories:advisory", tracking_id)


# --- Public pages -------------------------------------------------------------------------------


@require_safe
def project_advisories(request, slug):
    project = public_project(slug)
    return render(
        request,
        "advisories/project_advisories.html",
        {"project": project, "advisories": selectors.published_for_project(project)},
    )


@require_safe
def advisory_page(request, identifier):
    published = selectors.public_advisory(identifier)
    matrix = [v.series for v in published.report.revision.versions.all()]
    return render(
        request,
        "advisories/advisory_page.html",
        {
            "advisory": published,
            "credits": published.credits.all(),
            "ranges": exports.affected_ranges(published, matrix),
            "has_cve_documents": exports.has_cve_documents(published),
        },
    )


def _download(builder, suffix):
    @require_safe
    def view(request, identifier):
        published = selectors.public_advisory(identifier)
        try:
            document = builder(published)
        except exports.NoCveId as error:
            raise Http404(str(error)) from error
        except exports.CveNotConfigured as error:
            # 404, not 503: the instance publishes no CVE documents until its operator names
            # the CNA, which no retry changes (503 asks clients to come back and makes uptime
            # checks report an outage). The text tells the operator what to set.
            return HttpResponseNotFound(str(error), content_type="text/plain; charset=utf-8")
        response = JsonResponse(document, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{identifier}.{suffix}"'
        return response

    return view


PLAIN_TEXT = "text/plain; charset=utf-8"
logger = logging.getLogger(__name__)

osv_json = _download(exports.osv, "osv.json")
csaf_json = _download(exports.csaf, "csaf.json")
cve_json = _download(exports.cve, "cve.json")
cve_cna_json = _download(exports.cve_cna, "cve-cna.json")


def _distributed(year, filename):
    """The published advisory whose CSAF document lies at white/<year>/<filename>, or 404."""
    identifier = filename.removesuffix(".json").upper()
    published = selectors.public_advisory(identifier)
    if exports.csaf_filename(published) != filename or exports.csaf_year(published) != year:
        raise Http404("No CSAF document at this location.")
    return published


def _conditional(request, response, last_modified=None):
    """`response` with a strong ETag (the hash of its body), or 304 Not Modified when the client
    has that body already: what aggregators polling the lists want. Last-Modified only where
    the content changes with a revision and nothing else (a document and its hashes); a list
    also changes when a project is deactivated, a signature when the key changes.
    """
    etag = quote_etag(hashlib.sha256(response.content).hexdigest())
    response["ETag"] = etag
    timestamp = None
    if last_modified is not None:
        timestamp = int(last_modified.timestamp())
        response["Last-Modified"] = http_date(timestamp)
    return get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)


def _file(request, body, content_type, last_modified=None):
    return _conditional(request, HttpResponse(body, content_type=content_type), last_modified)


@require_safe
def csaf_distribution(request, year, filename):
    """The CSAF document at its §5.1 location, the canonical URL its `self` reference names,
    byte for byte what its hash files and signature are made of.
    """
    published = _distributed(year, filename)
    return _file(
        request,
        csaf_provider.document_bytes(published),
        "application/json",
        csaf_provider.current_release(published),
    )


@require_safe
def csaf_hash(request, year, filename, algorithm):
    published = _distributed(year, filename)
    body = csaf_provider.hash_file(
        csaf_provider.document_bytes(published), algorithm=algorithm, filename=filename
    )
    return _file(request, body, PLAIN_TEXT, csaf_provider.current_release(published))


@require_safe
def csaf_signature(request, year, filename):
    """The detached OpenPGP signature of the document; 404 while no signing key is configured."""
    published = _distributed(year, filename)
    try:
        armored = csaf_provider.signature(csaf_provider.document_bytes(published))
    except OpenPGPError as error:
        # The key reads but does not sign (a wrong passphrase): the operator must fix it, and
        # the aggregator may come back then.
        logger.error("the CSAF signing key cannot sign: %s", error)
        return HttpResponse(
            "The signature cannot be made right now.", status=503, content_type=PLAIN_TEXT
        )
    if armored is None:
        raise Http404("This provider signs no documents: no signing key is configured.")
    return _file(request, armored, "application/pgp-signature")


@require_safe
def csaf_public_key(request, fingerprint):
    """The public half of the signing key, at the URL provider-metadata.json names."""
    key = csaf_provider.public_key()
    if key is None or key.fingerprint != fingerprint:
        raise Http404("No such OpenPGP key.")
    return HttpResponse(key.armored, content_type="application/pgp-keys")


@require_safe
def csaf_provider_metadata(request):
    advisories = selectors.csaf_distributed()
    metadata = csaf_provider.provider_metadata(advisories, key=csaf_provider.public_key())
    return _conditional(request, JsonResponse(metadata, json_dumps_params={"indent": 2}))


@require_safe
def csaf_index(request):
    advisories = selectors.csaf_distributed()
    return _file(request, csaf_provider.index_txt(advisories), PLAIN_TEXT)


@require_safe
def csaf_changes(request):
    advisories = selectors.csaf_distributed()
    return _file(request, csaf_provider.changes_csv(advisories), "text/csv; charset=utf-8")


@require_safe
def csaf_feed(request):
    advisories = selectors.csaf_distributed()
    signed = csaf_provider.public_key() is not None
    feed = csaf_provider.feed(advisories, signed=signed)
    return _conditional(request, JsonResponse(feed, json_dumps_params={"indent": 2}))


@require_safe
def csaf_directory(request):
    """The listing of the TLP:WHITE directory (CSAF requirement 14): its files and years."""
    advisories = selectors.csaf_distributed()
    return render(
        request,
        "advisories/csaf_directory.html",
        {
            "files": ["changes.csv", "csaf-feed-tlp-white.json", "index.txt"],
            "folders": [f"{year}/" for year in csaf_provider.years(advisories)],
            "path": "white/",
        },
    )


@require_safe
def csaf_year_directory(request, year):
    advisories = selectors.csaf_distributed()
    signed = csaf_provider.public_key() is not None
    files = csaf_provider.files_of_year(advisories, year, signed=signed)
    if not files:
        raise Http404("No CSAF documents of this year.")
    return render(
        request,
        "advisories/csaf_directory.html",
        {"files": files, "folders": [], "path": f"white/{year}/", "parent": True},
    )


@require_safe
def osv_all(request):
    """Every published OSV record of the instance in one zip, for OSV.dev and mirrors."""
    archive = exports.osv_archive(selectors.exported())
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="all.zip"'
    return response


@require_safe
def project_osv(request, slug):
    """The project's OSV records as a list an importer crawls: id, modified, URL of each."""
    project = public_project(slug)
    listing = exports.osv_listing(selectors.exported(project=project))
    return JsonResponse(listing, safe=False, json_dumps_params={"indent": 2})


@require_safe
def hall_of_fame(request, slug):
    project = public_project(slug)
    return render(
        request,
        "advisories/hall_of_fame.html",
        {
            "project": project,
            "revision": project.revision_in_force(on=timezone.localdate()),
            "credits": selectors.hall_of_fame(project),
        },
    )
