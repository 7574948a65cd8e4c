"""The issue's end-to-end scenario: the demo page and widget in Chromium against the real bot (`live_stack`)."""

import json
import re

from playwright.sync_api import expect

BOT_TIMEOUT = 30_000
HOSTILE = "<img src=x onerror=alert(1)>"


def new_bot_text(widget, send):
    """Run `send`, wait for the bot's answer, return the text of the bot messages it added."""
    before = widget.bot_messages.count()
    send()
    expect(widget.bot_messages).not_to_have_count(before, timeout=BOT_TIMEOUT)
    expect(widget.typing).to_be_hidden(timeout=BOT_TIMEOUT)
    expect(widget.error).to_have_count(0)
    return " ".join(widget.bot_messages.locator(".mg-bubble").all_inner_texts()[before:])


def test_widget_with_the_real_bot(live_stack, page, events, make_widget, viewports, png_dimensions):
    webhook = live_stack.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
    senders = []
    page.on("request", lambda r: senders.append(json.loads(r.post_data)["sender"]) if r.url == webhook and r.method == "POST" else None)
    widget = make_widget(page, live_stack.web_url)

    widget.goto()
    assert page.locator("script[data-rasa-url]").get_attribute("data-rasa-url").rstrip("/") == live_stack.rasa_url.rstrip("/")
    widget.open()
    disclosure = page.locator("#mg-disclosure")
    expect(disclosure).to_contain_text("automated assistant")
    expect(disclosure).to_contain_text("not a diagnosis")
    expect(disclosure.get_by_role("link", name="Privacy notice")).to_be_visible()

    answer = new_bot_text(widget, lambda: widget.send("what is mesotherapy"))
    assert re.search(r"inject", answer, re.I) and re.search(r"scalp", answer, re.I), answer

    new_bot_text(widget, lambda: widget.send("hello"))
    groups = widget.log.locator(".mg-buttons")
    expect(groups.last).to_be_visible()
    buttons = groups.nth(groups.count() - 1).locator(".mg-quick-reply")
    title = buttons.first.inner_text()
    new_bot_text(widget, buttons.first.click)
    expect(widget.user_messages.last.locator(".mg-bubble")).to_have_text(title)
    expect(buttons.first).to_be_disabled()

    transcript = widget.log.inner_text()
    page.reload()
    widget.open()
    assert widget.log.inner_text() == transcript
    expect(widget.user_messages.locator(".mg-bubble")).to_have_text(["what is mesotherapy", "hello", title])

    new_bot_text(widget, lambda: widget.send(HOSTILE))
    expect(widget.user_messages.last.locator(".mg-bubble")).to_have_text(HOSTILE)
    assert widget.log.locator("img, script").count() == 0
    page.wait_for_timeout(300)
    assert events.dialogs == []

    live_stack.stop("rasa")
    widget.send("are you still there?")
    expect(widget.error).to_contain_text("Can't reach the assistant right now", timeout=BOT_TIMEOUT)
    expect(widget.user_messages.last.locator(".mg-bubble")).to_have_text("are you still there?")

    live_stack.start("rasa")
    new_bot_text(widget, widget.error.get_by_role("button", name="Retry").click)
    new_bot_text(widget, lambda: widget.send("what is mesotherapy"))
    widget.screenshot("widget-live-desktop.png")
    page.set_viewport_size(viewports["phone"])
    assert png_dimensions(widget.screenshot("widget-live-phone.png")) == (360, 740)

    assert len(senders) >= 6 and len(set(senders)) == 1
    assert widget.storage()["senderId"] == senders[0]


def test_alerts_and_deletion_with_the_real_bot(live_stack, page, events, make_widget):
    """Issue 16 against the real bot: its emergency and urgent-care answers are alerts with a
    Call button, and its "data deleted" confirmation erases the chat from the device.

    The bot marks these replies (``custom: {kind: ...}``), the widget's only way to know them:
    this checks that the real bot's answers carry their markers."""
    widget = make_widget(page, live_stack.web_url)
    widget.goto()
    widget.open()
    new_bot_text(widget, lambda: widget.send("after my session my lips are swelling and I have trouble breathing"))
    emergency = widget.log.locator(".mg-alert-emergency")
    expect(emergency.first).to_be_visible()
    expect(emergency.first).to_have_attribute("role", "alert")
    call = widget.log.locator("a.mg-call")
    expect(call).to_have_count(1)
    expect(call).to_have_attribute("href", re.compile(r"^tel:\d+$"))
    widget.screenshot("widget-live-emergency.png")

    new_bot_text(widget, lambda: widget.send("the redness around the injection points is spreading and feels hot"))
    expect(widget.log.locator(".mg-alert-urgent").first).to_be_visible()

    new_bot_text(widget, lambda: widget.send("delete my data"))
    new_bot_text(widget, widget.log.get_by_role("button", name="Yes, delete my data").click)
    expect(widget.log).to_contain_text("erased from this device")
    expect(widget.user_messages).to_have_count(0)
    assert widget.storage() is None
    assert events.dialogs == []
