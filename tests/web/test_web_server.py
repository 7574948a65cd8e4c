"""The demo site's server without a browser: settings, pages, headers, the embedding snippet, widget assets."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import yaml
from starlette.testclient import TestClient

from web.server import REPO_ROOT, ConfigError, WebSettings, create_app, load_clinic

WIDGET_DIR = REPO_ROOT / "web" / "static" / "widget"
PAGES = ["/", "/about.html", "/privacy.html"]


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html):
    parser = TagCollector()
    parser.feed(html)
    return parser.tags


def csp_directives(header):
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.fixture
def settings(clinic_file):
    return WebSettings(host="127.0.0.1", port=8080, rasa_url="https://bot.example-clinic.test:5005", clinic_file=clinic_file)


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings))


def test_settings_defaults_follow_the_contract(tmp_path):
    defaults = WebSettings.from_env({})
    assert (defaults.host, defaults.port, defaults.rasa_url) == ("127.0.0.1", 8080, "http://localhost:5005")
    assert defaults.clinic_file == REPO_ROOT / "data" / "content" / "clinic.yml"

    custom = WebSettings.from_env({"RASA_PORT": "6005", "WEB_PORT": "9090", "WEB_HOST": "0.0.0.0"})
    assert (custom.host, custom.port, custom.rasa_url) == ("0.0.0.0", 9090, "http://localhost:6005")

    explicit = WebSettings.from_env({"RASA_URL": "https://bot.example.test/", "MESOGUIDE_CLINIC_FILE": str(tmp_path / "c.yml")})
    assert explicit.rasa_url == "https://bot.example.test"
    assert explicit.clinic_file == tmp_path / "c.yml"


def test_clinic_file_is_validated(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_clinic(tmp_path / "missing.yml")

    incomplete = tmp_path / "incomplete.yml"
    incomplete.write_text("name: A clinic\nphone: '123'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="privacy_url, emergency_number"):
        load_clinic(incomplete)

    numeric = tmp_path / "numeric.yml"
    numeric.write_text("name: A\nphone: 5550100\nprivacy_url: /p\nemergency_number: 112\n", encoding="utf-8")
    assert load_clinic(numeric)["emergency_number"] == "112"


def test_rasa_url_must_be_absolute(clinic_file):
    with pytest.raises(ConfigError, match="RASA_URL"):
        create_app(WebSettings(host="127.0.0.1", port=1, rasa_url="localhost:5005", clinic_file=clinic_file))


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_clinic_details_from_the_clinic_file(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Northbridge Hair Clinic" in response.text
    assert 'href="tel:+442079460000"' in response.text
    links = [attrs.get("href") for tag, attrs in tags_of(response.text) if tag == "a"]
    assert "/privacy.html" in links
    assert "tel:999" in links


def test_page_follows_an_edited_clinic_file(tmp_path):
    clinic = tmp_path / "clinic.yml"
    clinic.write_text(
        yaml.safe_dump({"name": "Harbour Scalp Centre", "phone": "0301 555 0199", "privacy_url": "https://harbour.example/privacy", "emergency_number": "112"}),
        encoding="utf-8",
    )
    client = TestClient(create_app(WebSettings("127.0.0.1", 8080, "http://localhost:5005", clinic)))
    html = client.get("/").text
    assert "Harbour Scalp Centre" in html and "Northbridge" not in html
    script = next(attrs for tag, attrs in tags_of(html) if tag == "script")
    assert script["data-privacy-url"] == "https://harbour.example/privacy"
    assert script["data-emergency-number"] == "112"
    privacy = client.get("/privacy.html").text
    assert "How long we keep it" not in privacy and "Urgent problem" not in privacy


def test_optional_clinic_details_are_shown_when_present(client):
    privacy = client.get("/privacy.html").text
    assert "Conversation logs are kept for 12 months" in privacy
    assert "Urgent problem that is not an emergency, for example after a treatment: NHS 111 or your GP." in privacy
    home = client.get("/").text
    assert "Monday to Friday" in home and "10:00-14:00" in home
    assert 'href="mailto:hello@northbridge-hair.example"' in home


@pytest.mark.parametrize("path", PAGES + ["/widget/mesoguide-widget.js", "/static/site.css", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'", "https://bot.example-clinic.test:5005"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "*" not in response.headers["content-security-policy"].split()


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_or_style(client, path):
    for tag, attrs in tags_of(client.get(path).text):
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        assert tag != "style"
        if tag == "script":
            assert attrs.get("src"), "inline <script> would be blocked by the CSP"


def readme_snippet_attributes():
    readme = (REPO_ROOT / "web" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```html\n(.*?)```", readme, re.S)
    assert block, "web/README.md must show the embedding snippet in an ```html block"
    scripts = [attrs for tag, attrs in tags_of(block.group(1)) if tag == "script"]
    assert len(scripts) == 1
    return scripts[0]


@pytest.mark.parametrize("path", PAGES)
def test_pages_embed_the_documented_snippet(client, path):
    documented = readme_snippet_attributes()
    scripts = [attrs for tag, attrs in tags_of(client.get(path).text) if tag == "script"]
    assert len(scripts) == 1
    embedded = scripts[0]
    assert set(embedded) == set(documented)
    assert embedded["src"] == "/widget/mesoguide-widget.js"
    assert documented["src"].endswith("/widget/mesoguide-widget.js")
    assert embedded["data-rasa-url"] == "https://bot.example-clinic.test:5005"
    assert embedded["data-clinic-name"] == "Northbridge Hair Clinic"
    assert embedded["data-clinic-phone"] == "+44 20 7946 0000"
    assert embedded["data-emergency-number"] == "999"
    assert embedded["data-privacy-url"] == "/privacy.html"


def test_widget_assets_are_served_with_their_types(client):
    assert "javascript" in client.get("/widget/mesoguide-widget.js").headers["content-type"]
    assert client.get("/widget/mesoguide-widget.css").headers["content-type"].startswith("text/css")
    texts = client.get("/widget/mesoguide-widget.text.json")
    assert texts.headers["content-type"].startswith("application/json")
    assert "automated assistant" in texts.json()["disclosure"]


def test_every_text_the_widget_uses_is_in_its_text_file():
    source = (WIDGET_DIR / "mesoguide-widget.js").read_text(encoding="utf-8")
    used = set(re.findall(r"\bt\.([a-zA-Z]+)\b", source))
    texts = json.loads((WIDGET_DIR / "mesoguide-widget.text.json").read_text(encoding="utf-8"))
    assert len(used) > 15
    assert used <= set(texts), f"missing texts: {sorted(used - set(texts))}"
    assert {"{clinic}", "{emergency}"} <= set(re.findall(r"\{\w+\}", texts["disclosure"]))
    assert "{phone}" in texts["unreachable"] and "{phone}" in texts["noAnswer"]


def test_widget_source_never_parses_html():
    source = (WIDGET_DIR / "mesoguide-widget.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "DOMParser"):
        assert sink not in code, sink


def test_entry_point_refuses_to_start_without_clinic_file(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MESOGUIDE_CLINIC_FILE": str(tmp_path / "absent.yml"), "WEB_PORT": "1"}
    result = subprocess.run([sys.executable, "-m", "web"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "clinic file not found" in result.stderr


def test_alerts_have_one_source_the_bots_marker(client):
    """No list of reply texts any more (the bot marks its alert and deletion replies with
    custom.kind): the old /widget/mesoguide-replies.json is gone and the widget asks for no
    such file."""
    assert client.get("/widget/mesoguide-replies.json").status_code == 404
    source = (WIDGET_DIR / "mesoguide-widget.js").read_text(encoding="utf-8")
    assert "mesoguide-replies" not in source and "repliesUrl" not in source


def test_widget_limit_never_exceeds_the_server_limit():
    from channels.rest import DEFAULT_MAX_CHARS

    source = (WIDGET_DIR / "mesoguide-widget.js").read_text(encoding="utf-8")
    widget_limit = int(re.search(r"SERVER_MAX_CHARS = (\d+);", source).group(1))
    assert widget_limit <= DEFAULT_MAX_CHARS
    assert "maxLength" not in source  # typed text is never cut silently


def test_widget_regexes_compile_on_older_phones():
    """No lookbehind: Safari before 16.4 (iPhones not updated since early 2023) can't compile it."""
    source = (WIDGET_DIR / "mesoguide-widget.js").read_text(encoding="utf-8")
    assert "(?<" not in source
