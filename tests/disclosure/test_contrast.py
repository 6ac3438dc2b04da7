"""Badges meet WCAG AA: text against its background at 4.5:1 at least (badges are small bold text).

Every `text-bg-*` class a template uses is looked up in the Bootstrap stylesheet the site serves
(its text colour and the `--bs-*-rgb` background), and every rule of static/css/site.css that sets
both a text and a background colour is checked the same way. axe-core checks the colours as
rendered (tests/browser/test_accessibility.py); this also covers badges no test page shows.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = (ROOT / "static/vendor/bootstrap/css/bootstrap.min.css").read_text()
SITE_CSS = (ROOT / "static/css/site.css").read_text()
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
AA_NORMAL_TEXT = 4.5


def luminance(rgb):
    """WCAG 2.x relative luminance of an (r, g, b) colour, 0-255 each."""

    def channel(value):
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one, other):
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def hex_rgb(value):
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def used_text_bg_classes():
    used = set()
    for template in TEMPLATES:
        used |= set(re.findall(r"\btext-bg-([a-z]+)\b", template.read_text()))
    return sorted(used)


def bootstrap_pair(name):
    """(text, background) of Bootstrap's .text-bg-<name>."""
    rule = re.search(rf"\.text-bg-{name}\{{color:(#[0-9a-fA-F]{{3,6}})!important;", BOOTSTRAP)
    assert rule, f".text-bg-{name} is not in the Bootstrap stylesheet"
    background = re.search(rf"--bs-{name}-rgb:(\d+),(\d+),(\d+)", BOOTSTRAP)
    return hex_rgb(rule.group(1)), tuple(int(v) for v in background.groups())


def colour_pairs(css):
    """(selector, text, background) of each rule of `css` setting both colours in hex."""
    pairs = []
    for selector, body in re.findall(
        r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    ):
        color = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", body)
        background = re.search(r"background(?:-color)?:\s*(#[0-9a-fA-F]{3,6})", body)
        if color and background:
            pairs.append((selector.strip(), hex_rgb(color.group(1)), hex_rgb(background.group(1))))
    return pairs


def test_contrast_is_computed_as_wcag_does():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((255, 255, 255), (255, 255, 255)) == pytest.approx(1)
    # Bootstrap's "secondary" grey on white, 4.69:1 by WebAIM's checker.
    assert contrast(hex_rgb("#6c757d"), hex_rgb("#fff")) == pytest.approx(4.69, abs=0.01)
    # A badge this test must refuse: white on Bootstrap's "info" cyan.
    assert contrast(hex_rgb("#fff"), (13, 202, 240)) < AA_NORMAL_TEXT


def test_templates_use_badge_colours():
    assert {"danger", "warning", "success", "primary"} <= set(used_text_bg_classes())


@pytest.mark.parametrize("name", used_text_bg_classes())
def test_each_badge_colour_a_template_uses_meets_aa(name):
    text, background = bootstrap_pair(name)
    ratio = contrast(text, background)
    assert ratio >= AA_NORMAL_TEXT, f".text-bg-{name}: {ratio:.2f}:1"


def test_colour_pairs_are_read_from_css():
    css = (
        "/* .x { color: #000; background: #fff } */ .pale { color: #777; background-color: #fff; }"
    )
    assert colour_pairs(css) == [(".pale", (119, 119, 119), (255, 255, 255))]
    assert contrast((119, 119, 119), (255, 255, 255)) < AA_NORMAL_TEXT  # what the check refuses


def test_site_colour_pairs_meet_aa():
    for selector, text, background in colour_pairs(SITE_CSS):
        ratio = contrast(text, background)
        assert ratio >= AA_NORMAL_TEXT, f"{selector}: {ratio:.2f}:1"
