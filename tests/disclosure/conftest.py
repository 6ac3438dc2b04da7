"""The world the site-wide sweeps walk (URL classification, fuzz, query counts): every object
a URL can name, seeded once per test by tests.site_map.seed_world."""

import pytest

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
