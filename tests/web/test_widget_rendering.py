"""What the widget renders from bot and visitor messages, on the demo page in headless Chromium."""

import pytest
from playwright.sync_api import expect

HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="window.__pwned=1">',
    "[x](javascript:alert(1))",
    "[y](javascript:window.__pwned=1)",
    "javascript:alert(1)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">click</a>',
    "**<svg onload=alert(1)>**",
]

LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")


@pytest.fixture
def page_without_csp(context, demo_site):
    """The demo pages with their Content-Security-Policy removed, so the widget alone must keep scripts out."""

    def strip_csp(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    context.route(demo_site.url + "/", strip_csp)
    context.route(demo_site.url + "/*.html", strip_csp)


def assert_nothing_executed(widget, events):
    widget.page.wait_for_timeout(300)
    assert events.dialogs == []
    assert widget.page.evaluate("window.__pwned") is None
    assert widget.log.locator("script, img, svg, iframe, object, embed").count() == 0
    hrefs = widget.log.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert all(href.startswith(LINK_SCHEMES) for href in hrefs), hrefs
    handlers = widget.log.evaluate(
        "log => [...log.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"
    )
    assert handlers == []


INJECT = "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__pwned=1\">')"


def test_csp_blocks_injected_inline_handlers(widget):
    widget.goto()
    widget.page.evaluate(INJECT)
    widget.page.wait_for_timeout(300)
    assert widget.page.evaluate("window.__pwned") is None


def test_page_without_csp_would_run_injected_html(widget, page_without_csp):
    widget.goto()
    widget.page.evaluate(INJECT)
    widget.page.wait_for_function("window.__pwned === 1")


def test_hostile_bot_messages_render_as_inert_text(widget, fake_rasa, page_without_csp, events):
    fake_rasa.answers["test"] = [{"text": text} for text in HOSTILE_TEXTS]
    widget.goto()
    widget.open()
    widget.ask("test")
    expect(widget.bot_messages).to_have_count(len(HOSTILE_TEXTS))
    shown = widget.bot_messages.locator(".mg-bubble").all_text_contents()
    assert shown[:-1] == HOSTILE_TEXTS[:-1]
    assert shown[-1] == "<svg onload=alert(1)>"
    assert widget.bot_messages.last.locator("strong").text_content() == "<svg onload=alert(1)>"
    assert widget.log.locator("a").count() == 0
    widget.bot_messages.nth(3).locator(".mg-bubble").click()
    widget.bot_messages.nth(5).locator(".mg-bubble").click()
    assert_nothing_executed(widget, events)


def test_hostile_buttons_and_images_from_the_bot(widget, fake_rasa, page_without_csp, events):
    fake_rasa.answers["test"] = [
        {"text": "Pick one", "buttons": [{"title": "<img src=x onerror=alert(1)>", "payload": "/affirm"}]},
        {"image": "javascript:alert(1)"},
        {"text": "after", "image": "data:image/svg+xml,<svg onload=alert(1)>"},
    ]
    widget.goto()
    widget.open()
    widget.ask("test")
    expect(widget.bot_messages).to_have_count(2)
    button = widget.log.locator(".mg-quick-reply")
    expect(button).to_have_text("<img src=x onerror=alert(1)>")
    button.click()
    expect(widget.user_messages.last).to_contain_text("<img src=x onerror=alert(1)>")
    expect(widget.bot_messages.last.locator(".mg-bubble")).to_have_text("You said: /affirm")
    assert_nothing_executed(widget, events)


def test_hostile_visitor_message_is_shown_as_typed(widget, fake_rasa, page_without_csp, events):
    payload = "<img src=x onerror=alert(1)>"
    widget.goto()
    widget.open()
    widget.ask(payload)
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text(payload)
    expect(widget.bot_messages.locator(".mg-bubble")).to_have_text("You said: " + payload)
    assert fake_rasa.requests[-1]["message"] == payload
    widget.page.reload()
    widget.open()
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text(payload)
    assert_nothing_executed(widget, events)


def test_formatting_lists_bold_and_links(widget, fake_rasa):
    fake_rasa.answers["format"] = [
        {
            "text": (
                "Mesotherapy is **not** a proven cure.\nSecond line.\n\n"
                "- small injections into the scalp\n"
                "\u2022 usually 4 to 6 sessions\n"
                "1. consultation\n"
                "2. screening\n"
                "Read [the review](https://example.org/review) or https://example.org/evidence. "
                "Write to [us](mailto:care@example.org) or [call](tel:+442079460000)."
            )
        },
        {"image": "https://example.org/diagram.png"},
    ]
    widget.goto()
    widget.open()
    widget.ask("format")
    first = widget.bot_messages.first
    paragraphs = first.locator("p")
    expect(paragraphs).to_have_count(2)
    assert paragraphs.first.inner_text() == "Mesotherapy is not a proven cure.\nSecond line."
    expect(paragraphs.first.locator("strong")).to_have_text("not")
    expect(first.locator("ul > li")).to_have_text(["small injections into the scalp", "usually 4 to 6 sessions"])
    expect(first.locator("ol > li")).to_have_text(["consultation", "screening"])
    links = first.locator("a")
    expect(links).to_have_text(["the review", "https://example.org/evidence", "us", "call"])
    assert links.evaluate_all("ls => ls.map(a => a.getAttribute('href'))") == [
        "https://example.org/review",
        "https://example.org/evidence",
        "mailto:care@example.org",
        "tel:+442079460000",
    ]
    for i in range(4):
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(i)).to_have_attribute("target", "_blank")
    image = widget.bot_messages.nth(1).locator("img")
    expect(image).to_have_attribute("src", "https://example.org/diagram.png")
    expect(image).to_have_attribute("alt", "Image sent by MesoGuide")


def test_quick_reply_sends_payload_and_shows_title(widget, fake_rasa):
    fake_rasa.answers["hello"] = [
        {
            "text": "Hello! What would you like to know?",
            "buttons": [
                {"title": "What is mesotherapy?", "payload": "/ask_what_is_mesotherapy"},
                {"title": "Book a consultation", "payload": "/request_consultation"},
            ],
        }
    ]
    fake_rasa.answers["/ask_what_is_mesotherapy"] = [{"text": "Mesotherapy means small injections into the scalp."}]
    widget.goto()
    widget.open()
    widget.ask("hello")
    buttons = widget.log.locator(".mg-quick-reply")
    expect(buttons).to_have_text(["What is mesotherapy?", "Book a consultation"])
    buttons.first.click()
    expect(widget.bot_messages).to_have_count(2)
    assert fake_rasa.requests[-1]["message"] == "/ask_what_is_mesotherapy"
    expect(widget.user_messages.last.locator(".mg-bubble")).to_have_text("What is mesotherapy?")
    expect(widget.bot_messages.last).to_contain_text("injections into the scalp")
    expect(buttons.first).to_be_disabled()
    expect(buttons.last).to_be_disabled()
    buttons.last.click(force=True)
    widget.page.wait_for_timeout(200)
    assert len(fake_rasa.requests) == 2
