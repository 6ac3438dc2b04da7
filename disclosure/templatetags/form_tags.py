"""`{{ form|crispy_cached }}`: crispy's rendering of a form, reused while the form is the same.

Crispy renders a form through a dozen nested templates: about 20 ms of CPU for the intake form,
most of the intake page. An unbound form's HTML depends only on its fields (names, labels,
help texts, choices, widgets and their attributes) and its initial values, so it is rendered
once per process for each distinct combination and reused. Bound forms (values and errors to
show) and forms whose choices come from a query are rendered every time. The key holds what is
shown, so two users share an entry only when they would be shown the same HTML.
"""

from collections import OrderedDict
from threading import Lock

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms, template
from django.core.signals import setting_changed
from django.dispatch import receiver

register = template.Library()

ENTRIES = 256  # distinct forms kept per process (for each policy revision, day and variant)
_rendered = OrderedDict()
_lock = Lock()


@register.filter
def crispy_cached(form):
    key = fingerprint(form)
    if key is None:
        return as_crispy_form(form)
    with _lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
            return html
    html = as_crispy_form(form)
    with _lock:
        _rendered[key] = html
        while len(_rendered) > ENTRIES:
            _rendered.popitem(last=False)
    return html


def fingerprint(form):
    """Everything crispy's output of an unbound `form` is made of, as one string; None where
    the form may not be reused (bound, a helper of its own, choices from a query)."""
    if form.is_bound or getattr(form, "helper", None) is not None:
        return None
    parts = [
        type(form).__module__, type(form).__qualname__, form.prefix, form.auto_id,
        form.label_suffix, form.use_required_attribute,
        getattr(form, "required_css_class", None), getattr(form, "error_css_class", None),
    ]  # fmt: skip
    for name, field in form.fields.items():
        if isinstance(field, forms.ModelChoiceField):
            return None
        widget = field.widget
        parts.append((
            name, type(field).__qualname__, str(field.label), str(field.help_text),
            field.required, field.disabled, field.localize, field.show_hidden_initial,
            form.get_initial_for_field(field, name), type(widget).__qualname__,
            widget.template_name, sorted(widget.attrs.items()), widget.is_localized,
            [(value, str(label)) for value, label in getattr(field, "choices", ())],
        ))  # fmt: skip
    return repr(parts)


@receiver(setting_changed)
def _forget(**kwargs):
    """Templates and template packs are settings: a test that changes one sees fresh HTML."""
    with _lock:
        _rendered.clear()
