from django import template

from projects.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """{{ revision.scope_in|markdown }}: sanitized HTML from markdown."""
    return render_markdown(text)


@register.simple_tag
def policy_matrix(revision, in_force, day):
    """{% policy_matrix revision in_force today as matrix %}: (rows, from_in_force), see
    PolicyRevision.matrix_on.
    """
    return revision.matrix_on(day, in_force=in_force)
