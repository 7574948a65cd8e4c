/*
 * MesoGuide chat widget: vanilla JS, no dependencies, talks to Rasa's REST channel.
 * Every piece of message content reaches the DOM through textContent or a
 * validated attribute; innerHTML is never used.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-rasa-url]");
  if (!script || window.__mesoguideWidget) {
    return;
  }
  window.__mesoguideWidget = true;

  var LINK_PROTOCOLS = ["http:", "https:", "mailto:", "tel:"];
  var WEB_PROTOCOLS = ["http:", "https:"];
  var STORAGE_KEY = "mesoguide.chat.v1";
  var MAX_STORED_MESSAGES = 200;
  var BULLET_RE = /^\s*(?:-|\u2022)\s+(.*)$/;
  var NUMBERED_RE = /^\s*\d{1,3}[.)]\s+(.*)$/;
  var INLINE_PATTERN = /\*\*([^*\n]+?)\*\*|\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/.source;

  var data = script.dataset;
  var config = {
    rasaUrl: (data.rasaUrl || "").replace(/\/+$/, ""),
    clinicName: data.clinicName || "",
    clinicPhone: data.clinicPhone || "",
    emergencyNumber: data.emergencyNumber || "",
    privacyUrl: data.privacyUrl || "",
    timeoutMs: positiveInt(data.timeoutMs, 20000),
    textUrl: new URL(data.textUrl || "mesoguide-widget.text.json", script.src).href,
    cssUrl: new URL("mesoguide-widget.css", script.src).href
  };

  if (!config.rasaUrl) {
    console.error("MesoGuide widget: data-rasa-url is required.");
    return;
  }

  function positiveInt(value, fallback) {
    var n = parseInt(value, 10);
    return n > 0 ? n : fallback;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function safeUrl(raw, protocols) {
    if (typeof raw !== "string" || !raw.trim()) {
      return null;
    }
    var parsed;
    try {
      parsed = new URL(raw.trim(), window.location.href);
    } catch (e) {
      return null;
    }
    return protocols.indexOf(parsed.protocol) >= 0 ? parsed.href : null;
  }

  function telHref(phone) {
    var digits = String(phone).replace(/[^\d+]/g, "");
    return digits ? "tel:" + digits : null;
  }

  function link(href, label, external) {
    var a = el("a", "mg-link", label);
    a.setAttribute("href", href);
    if (external) {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
    }
    return a;
  }

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  /* Fills "{name}" placeholders of a text template; values may be strings or DOM nodes. */
  function fillInto(target, template, values) {
    String(template).split(/(\{[a-zA-Z]+\})/).forEach(function (part) {
      var key = /^\{([a-zA-Z]+)\}$/.exec(part);
      if (key && Object.prototype.hasOwnProperty.call(values, key[1])) {
        var value = values[key[1]];
        target.appendChild(value instanceof Node ? value : document.createTextNode(String(value)));
      } else if (part) {
        target.appendChild(document.createTextNode(part));
      }
    });
    return target;
  }

  function appendInline(parent, text, allowBold) {
    var pattern = new RegExp(INLINE_PATTERN, "g");
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      if (match[1] !== undefined && allowBold) {
        var strong = el("strong");
        appendInline(strong, match[1], false);
        parent.appendChild(strong);
      } else if (match[2] !== undefined) {
        var href = safeUrl(match[3], LINK_PROTOCOLS);
        parent.appendChild(href ? link(href, match[2], true) : document.createTextNode(match[0]));
      } else if (match[4] !== undefined) {
        var bare = safeUrl(match[4], WEB_PROTOCOLS);
        parent.appendChild(bare ? link(bare, match[4], true) : document.createTextNode(match[0]));
      } else {
        parent.appendChild(document.createTextNode(match[0]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  /* Paragraphs (blank-line separated, single newlines kept), bullet and numbered lists. */
  function formatText(text) {
    var container = el("div", "mg-text");
    var paragraph = null;
    var list = null;
    String(text).split(/\r?\n/).forEach(function (line) {
      var bullet = BULLET_RE.exec(line);
      var numbered = bullet ? null : NUMBERED_RE.exec(line);
      if (bullet || numbered) {
        var tag = bullet ? "UL" : "OL";
        if (!list || list.tagName !== tag) {
          list = container.appendChild(el(tag.toLowerCase(), "mg-list"));
        }
        appendInline(list.appendChild(el("li")), (bullet || numbered)[1], true);
        paragraph = null;
      } else if (!line.trim()) {
        paragraph = null;
        list = null;
      } else {
        if (paragraph) {
          paragraph.appendChild(el("br"));
        } else {
          paragraph = container.appendChild(el("p"));
        }
        appendInline(paragraph, line, true);
        list = null;
      }
    });
    return container;
  }

  function replyToMessage(reply) {
    if (!reply || typeof reply !== "object") {
      return null;
    }
    var message = { from: "bot" };
    if (typeof reply.text === "string" && reply.text.trim()) {
      message.text = reply.text;
    }
    if (Array.isArray(reply.buttons)) {
      var buttons = reply.buttons.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) {
        return { title: b.title, payload: b.payload };
      });
      if (buttons.length) {
        message.buttons = buttons;
      }
    }
    if (safeUrl(reply.image, WEB_PROTOCOLS)) {
      message.image = reply.image;
    }
    return message.text || message.buttons || message.image ? message : null;
  }

  function loadState() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (stored && typeof stored.senderId === "string" && stored.senderId.length >= 32 &&
          Array.isArray(stored.messages)) {
        return stored;
      }
    } catch (e) {
      /* unreadable storage: start fresh */
    }
    return { senderId: randomId(), messages: [] };
  }

  function saveState(state) {
    try {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (e) {
      /* storage full or disabled: the conversation still works for this page */
    }
  }

  function postToRasa(senderId, message) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, config.timeoutMs);
    return fetch(config.rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: senderId, message: message }),
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (replies) {
      if (!Array.isArray(replies)) {
        throw new Error("Unexpected reply");
      }
      return replies;
    }).finally(function () {
      clearTimeout(timer);
    });
  }

  function loadStylesheet() {
    return new Promise(function (resolve) {
      var sheet = el("link");
      sheet.rel = "stylesheet";
      sheet.href = config.cssUrl;
      sheet.onload = resolve;
      sheet.onerror = resolve;
      document.head.appendChild(sheet);
    });
  }

  function loadTexts() {
    return fetch(config.textUrl, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function build(t) {
    var state = loadState();
    var busy = false;
    var generation = 0;

    var root = el("div", "mg-root");
    var launcher = el("button", "mg-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "mg-panel");
    launcher.appendChild(el("span", "mg-launcher-icon")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", "mg-launcher-label", t.launcher));

    var panel = el("section", "mg-panel");
    panel.id = "mg-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "mg-title");
    panel.setAttribute("aria-describedby", "mg-disclosure");

    var header = panel.appendChild(el("div", "mg-header"));
    var titles = header.appendChild(el("div", "mg-titles"));
    titles.appendChild(el("h2", "mg-title", t.title)).id = "mg-title";
    if (config.clinicName) {
      titles.appendChild(el("p", "mg-subtitle", config.clinicName));
    }
    var restartButton = header.appendChild(el("button", "mg-header-button mg-restart", t.restart));
    restartButton.type = "button";
    restartButton.setAttribute("aria-label", t.restartLabel);
    var closeButton = header.appendChild(el("button", "mg-header-button mg-close"));
    closeButton.type = "button";
    closeButton.setAttribute("aria-label", t.close);
    closeButton.appendChild(el("span", null, "\u00d7")).setAttribute("aria-hidden", "true");

    var disclosure = panel.appendChild(el("div", "mg-disclosure"));
    disclosure.id = "mg-disclosure";
    var emergency = config.emergencyNumber;
    var emergencyHref = telHref(emergency);
    fillInto(disclosure.appendChild(el("p")), t.disclosure, {
      clinic: config.clinicName,
      emergency: emergencyHref ? link(emergencyHref, emergency, false) : emergency
    });
    var privacyHref = safeUrl(config.privacyUrl, LINK_PROTOCOLS);
    if (privacyHref) {
      disclosure.appendChild(el("p")).appendChild(link(privacyHref, t.privacyLink, true));
    }

    var log = panel.appendChild(el("div", "mg-log"));
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", t.logLabel);
    log.tabIndex = 0;

    var typing = panel.appendChild(el("div", "mg-typing"));
    typing.hidden = true;
    typing.setAttribute("role", "status");
    typing.appendChild(el("span", "mg-dots")).setAttribute("aria-hidden", "true");
    typing.appendChild(el("span", "mg-typing-label", t.typing));

    var form = panel.appendChild(el("form", "mg-form"));
    form.noValidate = true;
    var label = form.appendChild(el("label", "mg-sr-only", t.inputLabel));
    label.htmlFor = "mg-input";
    var input = form.appendChild(el("input", "mg-input"));
    input.id = "mg-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = 1000;
    input.placeholder = t.inputPlaceholder;
    var sendButton = form.appendChild(el("button", "mg-send", t.send));
    sendButton.type = "submit";

    root.appendChild(launcher);
    root.appendChild(panel);

    function phoneNode() {
      var href = telHref(config.clinicPhone);
      return href ? link(href, config.clinicPhone, false) : config.clinicPhone;
    }

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    function renderButtons(message, container) {
      var group = container.appendChild(el("div", "mg-buttons"));
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t.suggestions);
      message.buttons.forEach(function (b) {
        var button = group.appendChild(el("button", "mg-quick-reply", b.title));
        button.type = "button";
        button.disabled = Boolean(message.buttonsUsed);
        button.addEventListener("click", function () {
          if (busy || message.buttonsUsed) {
            return;
          }
          message.buttonsUsed = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (other) {
            other.disabled = true;
          });
          saveState(state);
          send(b.payload, b.title);
          input.focus();
        });
      });
    }

    function renderMessage(message) {
      var isBot = message.from === "bot";
      var item = el("div", "mg-msg " + (isBot ? "mg-msg-bot" : "mg-msg-user"));
      item.appendChild(el("span", "mg-sr-only", (isBot ? t.botName : t.you) + ": "));
      if (message.text) {
        var bubble = item.appendChild(el("div", "mg-bubble"));
        if (isBot) {
          bubble.appendChild(formatText(message.text));
        } else {
          bubble.textContent = message.text;
        }
      }
      var imageUrl = isBot ? safeUrl(message.image, WEB_PROTOCOLS) : null;
      if (imageUrl) {
        var image = item.appendChild(el("img", "mg-image"));
        image.alt = t.imageAlt;
        image.loading = "lazy";
        image.referrerPolicy = "no-referrer";
        image.src = imageUrl;
      }
      if (isBot && Array.isArray(message.buttons) && message.buttons.length) {
        renderButtons(message, item);
      }
      log.appendChild(item);
      scrollToEnd();
      return item;
    }

    function renderNote(text, className) {
      var note = log.appendChild(el("p", "mg-note " + (className || ""), text));
      scrollToEnd();
      return note;
    }

    function renderAll() {
      log.textContent = "";
      if (!state.messages.length) {
        renderNote(t.emptyState, "mg-hint");
      }
      state.messages.forEach(renderMessage);
    }

    function clearProblems() {
      Array.prototype.forEach.call(log.querySelectorAll(".mg-error, .mg-hint"), function (node) {
        node.remove();
      });
    }

    function setBusy(value) {
      busy = value;
      typing.hidden = !value;
      sendButton.disabled = value;
      panel.setAttribute("aria-busy", value ? "true" : "false");
      if (value) {
        scrollToEnd();
      }
    }

    function showProblem(template, retry) {
      var box = el("div", "mg-error");
      box.setAttribute("role", "alert");
      fillInto(box.appendChild(el("p")), template, { phone: phoneNode() });
      var retryButton = box.appendChild(el("button", "mg-retry", t.retry));
      retryButton.type = "button";
      retryButton.addEventListener("click", function () {
        if (!busy) {
          box.remove();
          retry();
          input.focus();
        }
      });
      log.appendChild(box);
      scrollToEnd();
    }

    function deliver(payload, userMessage) {
      var turn = generation;
      clearProblems();
      setBusy(true);
      postToRasa(state.senderId, payload).then(function (replies) {
        if (turn !== generation) {
          return;
        }
        setBusy(false);
        var messages = replies.map(replyToMessage).filter(Boolean);
        if (!messages.length) {
          showProblem(t.noAnswer, function () { deliver(payload, userMessage); });
          return;
        }
        state.messages.push(userMessage);
        messages.forEach(function (message) {
          state.messages.push(message);
          renderMessage(message);
        });
        saveState(state);
      }, function () {
        if (turn !== generation) {
          return;
        }
        setBusy(false);
        showProblem(t.unreachable, function () { deliver(payload, userMessage); });
      });
    }

    function send(payload, shownText) {
      var userMessage = { from: "user", text: shownText };
      clearProblems();
      renderMessage(userMessage);
      deliver(payload, userMessage);
    }

    function openPanel() {
      panel.hidden = false;
      root.classList.add("mg-is-open");
      launcher.setAttribute("aria-expanded", "true");
      scrollToEnd();
      input.focus();
    }

    function closePanel() {
      panel.hidden = true;
      root.classList.remove("mg-is-open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    function restart() {
      generation += 1;
      setBusy(false);
      state = { senderId: randomId(), messages: [] };
      saveState(state);
      renderAll();
      renderNote(t.restarted, "mg-status");
      input.value = "";
      input.focus();
    }

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        openPanel();
      } else {
        closePanel();
      }
    });
    closeButton.addEventListener("click", closePanel);
    restartButton.addEventListener("click", restart);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel();
      }
    });
    window.addEventListener("storage", function (event) {
      if (event.key === STORAGE_KEY && event.newValue && !busy) {
        state = loadState();
        renderAll();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || busy) {
        return;
      }
      input.value = "";
      send(text, text);
    });

    renderAll();
    saveState(state);
    document.body.appendChild(root);
  }

  function start() {
    Promise.all([loadTexts(), loadStylesheet()]).then(function (results) {
      build(results[0]);
    }, function (error) {
      console.error("MesoGuide widget: could not load its texts (" + config.textUrl + ").", error);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
