from django import template

from projects.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """{{ revision.scope_in|markdown }}: sanitized HTML from markdown."""
    return render_markdown(text)


@register.filter
def support_status(version, day):
    """{% with status=version|support_status:today %}: a SupportStatus for that day."""
    return version.status_on(day)
