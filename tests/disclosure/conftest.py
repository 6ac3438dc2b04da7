"""The world the site-wide sweeps walk (URL classification, fuzz, query counts): every object
a URL can name, seeded once per test by tests.site_map.seed_world."""

import pytest
from django.template import Template
from django.test.utils import _TestState

from tests.factories import UserFactory
from tests.site_map import seed_world


@pytest.fixture
def world(project, reporter, maintainer, collaborator, settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    return seed_world(
        project=project,
        reporter=reporter,
        maintainer=maintainer,
        collaborator=collaborator,
        other_reporter=UserFactory(email="other-reporter@example.org"),
    )


@pytest.fixture
def templates_unrecorded(monkeypatch):
    """Templates render as a server renders them, not as the test client records them.

    Under test, every template render sends a signal and the client keeps the template and a copy
    of its context (response.templates, response.context; django.test.utils installs that
    render). The sweeps read neither, and their thousands of requests are mostly page renders:
    an admin form re-rendered with its errors (the fuzz's most frequent request, ~500 per
    superuser run) costs ~17 % less CPU without the recording (3 rounds of 30 posts each way).
    """
    monkeypatch.setattr(Template, "_render", _TestState.saved_data.template_render)
