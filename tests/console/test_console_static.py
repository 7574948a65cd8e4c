"""Static assets and templates keep the strict CSP workable and the vendored library intact."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import console

PACKAGE = Path(console.__file__).resolve().parent
CHART_SHA256 = "ecc3cd1eeb8c34d2178e3f59fd63ec5a3d84358c11730af0b9958dc886d7652a"


def test_vendored_chart_js_is_the_pinned_release_with_its_licence():
    vendor = PACKAGE / "static" / "vendor"
    body = (vendor / "chart.umd.js").read_bytes()
    assert hashlib.sha256(body).hexdigest() == CHART_SHA256
    assert body.startswith(b"/*!\n * Chart.js v4.5.1")
    assert "MIT License" in (vendor / "chart.js-LICENSE.md").read_text(encoding="utf-8")


def test_templates_have_no_inline_scripts_styles_handlers_or_remote_assets():
    for template in sorted((PACKAGE / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert re.search(r'src="/static/[^"]+"', tag), (template.name, tag)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text) and "<style" not in text, template.name
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template.name
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template.name


def test_every_form_that_posts_carries_the_csrf_field():
    for template in sorted((PACKAGE / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for form in re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S):
            assert "m.csrf()" in form or 'name="csrf_token"' in form, (template.name, form[:80])


def test_stylesheet_and_script_are_served(client):
    css = client.get("/static/console.css")
    js = client.get("/static/console.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "Chart" in js.text and "eval(" not in js.text
