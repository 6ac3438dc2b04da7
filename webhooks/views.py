"""The project admins' webhook pages: access -> form -> service -> redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from webhooks import forms, selectors, services
from webhooks.access import access_delivery, access_webhook, access_webhooks


def render_list(request, project, form):
    context = {"project": project, "webhooks": selectors.webhooks_of(project), "form": form}
    return render(request, "webhooks/list.html", context)


def render_detail(request, webhook, form):
    page = forms.LogPageForm(request.GET)
    before = page.cleaned_data["before"] if page.is_valid() else None
    deliveries, next_before = selectors.deliveries_log(webhook, before=before)
    context = {
        "project": webhook.project,
        "webhook": webhook,
        "form": form,
        "deliveries": deliveries,
        "next_before": next_before,
    }
    return render(request, "webhooks/detail.html", context)


@login_required
@require_safe
def webhook_list(request, slug):
    project = access_webhooks(request.user, slug)
    return render_list(request, project, forms.WebhookForm())


@login_required
@require_POST
def create(request, slug):
    project = access_webhooks(request.user, slug)
    form = forms.WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook = services.create_webhook(project=project, by=request.user, **form.cleaned_data)
        except services.WebhookError as error:
            form.add_error("url", str(error))
        else:
            messages.success(request, "Webhook created. Its secret is shown below.")
            return redirect("webhooks:detail", project.slug, webhook.pk)
    return render_list(request, project, form)


def edit_form(webhook, data=None):
    initial = {
        "url": webhook.url,
        "events": webhook.events,
        "internal": webhook.internal,
        "active": webhook.active and webhook.disabled_at is None,
    }
    return forms.EditWebhookForm(data, initial=initial)


@login_required
@require_safe
def detail(request, slug, webhook_id):
    webhook = access_webhook(request.user, slug, webhook_id)
    return render_detail(request, webhook, edit_form(webhook))


@login_required
@require_POST
def update(request, slug, webhook_id):
    webhook = access_webhook(request.user, slug, webhook_id)
    form = edit_form(webhook, request.POST)
    if form.is_valid():
        try:
            services.update_webhook(webhook=webhook, by=request.user, **form.cleaned_data)
        except services.WebhookError as error:
            form.add_error("url", str(error))
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhooks:detail", slug, webhook.pk)
    return render_detail(request, webhook, form)


@login_required
@require_POST
def rotate_secret(request, slug, webhook_id):
    webhook = access_webhook(request.user, slug, webhook_id)
    services.rotate_secret(webhook=webhook, by=request.user)
    messages.success(
        request,
        "New secret made: put it in your receiver. Deliveries are signed with it from now on; "
        "the old secret verifies nothing any more.",
    )
    return redirect("webhooks:detail", slug, webhook_id)


@login_required
@require_POST
def delete(request, slug, webhook_id):
    webhook = access_webhook(request.user, slug, webhook_id)
    services.delete_webhook(webhook=webhook, by=request.user)
    messages.success(request, f"Webhook to {webhook.url} deleted.")
    return redirect("webhooks:list", slug)


@login_required
@require_POST
def redeliver(request, slug, webhook_id, delivery_id):
    delivery = access_delivery(request.user, slug, webhook_id, delivery_id)
    services.redeliver(delivery=delivery, by=request.user)
    if delivery.webhook.sends:
        messages.success(request, "Redelivery started: it appears in the log when it is done.")
    else:
        messages.warning(request, "Queued; it goes out once the webhook is switched on again.")
    return redirect("webhooks:detail", slug, webhook_id)
