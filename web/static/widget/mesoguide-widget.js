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
  /* The REST channel refuses longer messages (channels/rest.py, MESOGUIDE_MAX_MESSAGE_CHARS,
     default 2000); the widget's limit is never above it. */
  var SERVER_MAX_CHARS = 2000;
  var DEFAULT_KEEP_HOURS = 2;
  var MAX_KEEP_HOURS = 24;
  /* Reply kinds the bot marks with {"custom": {"kind": ...}} (docs/contracts.md); the
     marker is the only way the widget tells them: no reply text is recognised. */
  var KINDS = ["emergency", "urgent_care", "data_deleted"];
  var ALERT_KINDS = ["emergency", "urgent_care"];
  /* A 429 is answered with Retry-After (seconds or an HTTP date, channels/rest.py). When the
     page can't read it (a cross-origin response shows it only if the server lists it in
     Access-Control-Expose-Headers) or it is missing, the widget waits this long; it never
     waits longer than the maximum. */
  var DEFAULT_RETRY_AFTER_S = 15;
  var MAX_RETRY_AFTER_S = 600;
  var BULLET_RE = /^\s*(?:-|\u2022)\s+(.*)$/;
  var NUMBERED_RE = /^\s*\d{1,3}[.)]\s+(.*)$/;
  /* Groups: 1 bold, 2-3 [label](url), 4 bare URL, 5 e-mail, 6 phone number, 7 known short number.
     No lookbehind (Safari before 16.4 can't compile it): what may not stand before an
     e-mail or a number is checked in appendInline (NOT_BEFORE). */
  var INLINE_BASE = "\\*\\*([^*\\n]+?)\\*\\*|\\[([^\\]\\n]+)\\]\\(([^()\\s]+)\\)|(https?:\\/\\/[^\\s<>\"]*[^\\s<>\".,;:!?)\\]'])" +
    "|([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,})(?![\\w-])" +
    "|(\\+?\\(?\\d[\\d ()-]{5,}\\d)(?![\\w\\/])";

  var NOT_BEFORE = { 5: /[\w.%+\/-]/, 6: /[\w\/.:+-]/, 7: /[\w.+\/-]/ };

  var data = script.dataset;
  var config = {
    rasaUrl: (data.rasaUrl || "").replace(/\/+$/, ""),
    clinicName: data.clinicName || "",
    clinicPhone: data.clinicPhone || "",
    emergencyNumber: data.emergencyNumber || "",
    privacyUrl: data.privacyUrl || "",
    timeoutMs: positiveInt(data.timeoutMs, 20000),
    maxChars: Math.min(positiveInt(data.maxChars, SERVER_MAX_CHARS), SERVER_MAX_CHARS),
    keepHours: keepHours(data.keepHours),
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

  /* data-keep-hours: how long this device keeps the chat after the last activity
     (default 2, at most 24); 0 keeps it for this browser tab only. */
  function keepHours(value) {
    var n = parseFloat(value);
    if (!(n >= 0)) {
      return DEFAULT_KEEP_HOURS;
    }
    return Math.min(n, MAX_KEEP_HOURS);
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
    var digits = String(phone).replace(/[^\d+]/g, "").replace(/(?!^)\+/g, "");
    return /\d/.test(digits) ? "tel:" + digits : null;
  }

  function mailtoHref(address) {
    return /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/.test(address) ? "mailto:" + address : null;
  }

  /* A run of digits is a phone number when it has 7 to 15 digits and starts like one
     (+, 0 or a bracket) or is written in groups; years, ranges and reference numbers
     (PMIDs, DOIs) are not. */
  function looksLikePhone(raw) {
    var digits = raw.replace(/\D/g, "");
    if (digits.length < 7 || digits.length > 15) {
      return false;
    }
    if (/^\d{4}\s?-\s?\d{4}$/.test(raw) || /^\d{4}-\d{2}-\d{2}$/.test(raw)) {
      return false;
    }
    return /^[+0(]/.test(raw) || (raw.match(/[ -]/g) || []).length >= 2;
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
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

  function normalise(text) {
    return String(text).replace(/\s+/g, " ").trim();
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

  function fillText(template, values) {
    return fillInto(document.createDocumentFragment(), template, values).textContent;
  }

  /* The clinic's emergency number is short (999, 112): it is tappable wherever it
     stands alone, unlike other short numbers. */
  var INLINE_PATTERN = INLINE_BASE;
  if (/^\+?\d{2,6}$/.test(config.emergencyNumber.replace(/\s/g, ""))) {
    INLINE_PATTERN += "|(" + escapeRegExp(config.emergencyNumber) + ")(?![\\w\\/]|[.,]\\d)";
  }

  function appendInline(parent, text, allowBold) {
    var pattern = new RegExp(INLINE_PATTERN, "g");
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var node = null;
      var before = match.index > 0 ? text.charAt(match.index - 1) : "";
      var glued = [5, 6, 7].some(function (group) {
        return match[group] !== undefined && before && NOT_BEFORE[group].test(before);
      });
      if (glued) {
        node = null; /* part of a word, a DOI, a path...: plain text */
      } else if (match[1] !== undefined) {
        if (allowBold) {
          node = el("strong");
          appendInline(node, match[1], false);
        }
      } else if (match[2] !== undefined) {
        var href = safeUrl(match[3], LINK_PROTOCOLS);
        node = href ? link(href, match[2], true) : null;
      } else if (match[4] !== undefined) {
        var bare = safeUrl(match[4], WEB_PROTOCOLS);
        node = bare ? link(bare, match[4], true) : null;
      } else if (match[5] !== undefined) {
        var mail = mailtoHref(match[5]);
        node = mail ? link(mail, match[5], false) : null;
      } else if (match[6] !== undefined) {
        var tel = looksLikePhone(match[6]) ? telHref(match[6]) : null;
        node = tel ? link(tel, match[6], false) : null;
      } else if (match[7] !== undefined) {
        var shortTel = telHref(match[7]);
        node = shortTel ? link(shortTel, match[7], false) : null;
      }
      parent.appendChild(node || document.createTextNode(match[0]));
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

  function markerOf(custom) {
    if (custom && typeof custom === "object" && KINDS.indexOf(custom.kind) >= 0) {
      return custom.kind;
    }
    return null;
  }

  /* --- storage: the chat stays on this device for config.keepHours after the last activity --- */

  function storageArea() {
    try {
      return config.keepHours > 0 ? window.localStorage : window.sessionStorage;
    } catch (e) {
      return null;
    }
  }

  function freshState() {
    return { senderId: null, messages: [], expiresAt: 0 };
  }

  function forgetStored() {
    try {
      var area = storageArea();
      if (area) {
        area.removeItem(STORAGE_KEY);
      }
    } catch (e) {
      /* storage disabled */
    }
  }

  function isExpired(stored) {
    return config.keepHours > 0 && !(typeof stored.expiresAt === "number" && stored.expiresAt > Date.now());
  }

  function loadState() {
    try {
      var area = storageArea();
      var stored = JSON.parse((area && area.getItem(STORAGE_KEY)) || "null");
      if (stored && Array.isArray(stored.messages) &&
          (stored.senderId === null || (typeof stored.senderId === "string" && stored.senderId.length > 0))) {
        if (isExpired(stored)) {
          forgetStored();
          return freshState();
        }
        return stored;
      }
    } catch (e) {
      /* unreadable storage: start fresh */
    }
    return freshState();
  }

  function saveState(state) {
    try {
      var area = storageArea();
      if (!area) {
        return;
      }
      if (!state.senderId && !state.messages.length) {
        area.removeItem(STORAGE_KEY);
        return;
      }
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      state.expiresAt = Date.now() + config.keepHours * 3600 * 1000;
      area.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (e) {
      /* storage full or disabled: the conversation still works for this page */
    }
  }

  /* --- talking to Rasa --- */

  function postJson(url, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, config.timeoutMs);
    return fetch(url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal
    }).then(function (response) {
      return response.text().then(function (raw) {
        var parsed = null;
        try {
          parsed = JSON.parse(raw);
        } catch (e) {
          parsed = null;
        }
        return { status: response.status, ok: response.ok, body: parsed, retryAfter: response.headers.get("Retry-After") };
      });
    }).finally(function () {
      clearTimeout(timer);
    });
  }

  /* The visitor-facing text of a refusal (429): {"text": ...} or a reply list
     [{"recipient_id", "text"}] as channels/rest.py sends it. */
  function refusalText(body) {
    if (body && typeof body.text === "string" && body.text.trim()) {
      return body.text;
    }
    if (Array.isArray(body)) {
      var texts = body.filter(function (r) {
        return r && typeof r.text === "string" && r.text.trim();
      }).map(function (r) { return r.text; });
      return texts.length ? texts.join("\n") : null;
    }
    return null;
  }

  /* Milliseconds to wait after a 429: its Retry-After (whole seconds or an HTTP date),
     at least 1 s; DEFAULT_RETRY_AFTER_S when missing or unreadable; at most MAX_RETRY_AFTER_S. */
  function retryAfterMs(header) {
    var seconds = DEFAULT_RETRY_AFTER_S;
    if (typeof header === "string" && /^\s*\d+\s*$/.test(header)) {
      seconds = parseInt(header, 10);
    } else if (typeof header === "string" && !isNaN(Date.parse(header))) {
      seconds = Math.ceil((Date.parse(header) - Date.now()) / 1000);
    }
    return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_S) * 1000;
  }

  /* kind: "unreachable", "noAnswer" or "rateLimited"; text: the server's words for the
     visitor (429); retryAt: the time (ms) before which nothing may be sent again (429). */
  function Problem(kind, text, retryAt) {
    this.kind = kind;
    this.text = text || null;
    this.retryAt = retryAt || 0;
  }

  function rateLimited(res) {
    return new Problem("rateLimited", refusalText(res.body), Date.now() + retryAfterMs(res.retryAfter));
  }

  /*
   * Signed sender ids: the server hands out the conversation id
   * (POST /webhooks/rest/session -> {"sender": "<opaque id>"}); the widget never makes
   * one up. Until every deployment has that route (channels/rest.py), a 404 or 405,
   * or a refused preflight (the route missing behind CORS), falls back to the old
   * random id; a server that has the route answers such an id with 403
   * {"error": "unknown_session"}, and the widget then asks for a real one.
   * Remove the fallback once the route is everywhere.
   */
  function requestSenderId() {
    return postJson(config.rasaUrl + "/webhooks/rest/session", {}).then(function (res) {
      if (res.status === 404 || res.status === 405) {
        return randomId();
      }
      if (res.status === 429) {
        throw rateLimited(res);
      }
      var sender = res.ok && res.body ? res.body.sender : null;
      if (typeof sender !== "string" || !sender || sender.length > 1024) {
        throw new Problem("unreachable");
      }
      return sender;
    }, function (error) {
      if (error && error.name === "TypeError") {
        return randomId(); /* see above: may be the missing route; the webhook tells */
      }
      throw new Problem("unreachable");
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

  function loadJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function build(t) {
    var state = loadState();
    var busy = false;
    /* After a 429 nothing is sent before this time (ms), by any button or the form. */
    var waitUntil = 0;
    var waitTimer = null;
    var generation = 0;
    var buttonViews = [];
    var phoneQuery = window.matchMedia("(max-width: 480px)");

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

    var confirmBox = panel.appendChild(el("div", "mg-confirm"));
    confirmBox.hidden = true;
    confirmBox.setAttribute("role", "group");
    confirmBox.setAttribute("aria-labelledby", "mg-confirm-text");
    confirmBox.appendChild(el("p", null, t.restartConfirm)).id = "mg-confirm-text";
    var confirmActions = confirmBox.appendChild(el("div", "mg-confirm-actions"));
    var confirmYes = confirmActions.appendChild(el("button", "mg-confirm-yes", t.restartYes));
    confirmYes.type = "button";
    var confirmNo = confirmActions.appendChild(el("button", "mg-confirm-no", t.restartNo));
    confirmNo.type = "button";

    var emergency = config.emergencyNumber;
    var emergencyHref = telHref(emergency);
    function emergencyNode() {
      return emergencyHref ? link(emergencyHref, emergency, false) : emergency;
    }

    var disclosure = panel.appendChild(el("div", "mg-disclosure"));
    disclosure.id = "mg-disclosure";
    var disclosureFull = disclosure.appendChild(el("div", "mg-disclosure-full"));
    disclosureFull.id = "mg-disclosure-full";
    fillInto(disclosureFull.appendChild(el("p")), t.disclosure, {
      clinic: config.clinicName,
      emergency: emergencyNode()
    });
    var privacyHref = safeUrl(config.privacyUrl, LINK_PROTOCOLS);
    if (privacyHref) {
      disclosureFull.appendChild(el("p")).appendChild(link(privacyHref, t.privacyLink, true));
    }
    /* On phones, after the first message, only this line shows (the full notice one tap away). */
    var disclosureShort = disclosure.appendChild(el("div", "mg-disclosure-short"));
    fillInto(disclosureShort.appendChild(el("p", "mg-disclosure-line")), t.disclosureShort, {
      clinic: config.clinicName,
      emergency: emergencyNode()
    });
    var disclosureToggle = disclosureShort.appendChild(el("button", "mg-disclosure-toggle", t.disclosureMore));
    disclosureToggle.type = "button";
    disclosureToggle.setAttribute("aria-expanded", "false");
    disclosureToggle.setAttribute("aria-controls", "mg-disclosure-full");

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
    input.placeholder = t.inputPlaceholder;
    var sendButton = form.appendChild(el("button", "mg-send", t.send));
    sendButton.type = "submit";

    var limitBar = panel.appendChild(el("div", "mg-limit"));
    limitBar.hidden = true;
    var counter = limitBar.appendChild(el("span", "mg-counter"));
    counter.id = "mg-counter";
    var limitStatus = limitBar.appendChild(el("span", "mg-limit-status"));
    limitStatus.id = "mg-limit-status";
    limitStatus.setAttribute("role", "status");

    root.appendChild(launcher);
    root.appendChild(panel);

    function phoneNode() {
      var href = telHref(config.clinicPhone);
      return href ? link(href, config.clinicPhone, false) : config.clinicPhone;
    }

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    /* A new reply taller than the log is shown from its start, not from its end. */
    function reveal(firstNode) {
      var top = firstNode.getBoundingClientRect().top - log.getBoundingClientRect().top;
      var bottom = log.lastElementChild.getBoundingClientRect().bottom - log.getBoundingClientRect().top;
      if (bottom - top + 12 > log.clientHeight) {
        log.scrollTop += top - 8;
      } else {
        scrollToEnd();
      }
    }

    function isPhoneLayout() {
      return phoneQuery.matches;
    }

    function updateCompact() {
      panel.classList.toggle("mg-compact", state.messages.length > 0);
      if (!state.messages.length) {
        setDisclosureOpen(false);
      }
    }

    function setDisclosureOpen(open) {
      panel.classList.toggle("mg-disclosure-open", open);
      disclosureToggle.setAttribute("aria-expanded", open ? "true" : "false");
      disclosureToggle.textContent = open ? t.disclosureLess : t.disclosureMore;
    }

    /* --- quick replies: answered once, by a click or by typing --- */

    function markAnswered(message, chosen) {
      message.buttonsUsed = true;
      if (typeof chosen === "number" && chosen >= 0) {
        message.chosen = chosen;
      }
      buttonViews.forEach(function (view) {
        if (view.message === message) {
          paintButtons(view);
        }
      });
    }

    function paintButtons(view) {
      view.buttons.forEach(function (button, index) {
        button.disabled = Boolean(view.message.buttonsUsed);
        var chosen = view.message.buttonsUsed && view.message.chosen === index;
        button.classList.toggle("mg-chosen", chosen);
        button.setAttribute("aria-pressed", chosen ? "true" : "false");
      });
    }

    /* Typing an answer answers every open group; a typed text equal to a button's title marks it. */
    function answerOpenButtons(typed) {
      var wanted = normalise(typed).toLowerCase();
      var openMessages = state.messages.filter(function (m) {
        return m.from === "bot" && Array.isArray(m.buttons) && !m.buttonsUsed;
      });
      openMessages.forEach(function (message, i) {
        var chosen = -1;
        if (i === openMessages.length - 1) {
          message.buttons.forEach(function (b, index) {
            if (chosen < 0 && normalise(b.title).toLowerCase() === wanted) {
              chosen = index;
            }
          });
        }
        markAnswered(message, chosen);
      });
    }

    function renderButtons(message, container) {
      var group = container.appendChild(el("div", "mg-buttons"));
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t.suggestions);
      var view = { message: message, buttons: [] };
      message.buttons.forEach(function (b, index) {
        var button = group.appendChild(el("button", "mg-quick-reply", b.title));
        button.type = "button";
        view.buttons.push(button);
        button.addEventListener("click", function () {
          if (!canSend() || message.buttonsUsed) {
            return;
          }
          answerOpenButtons("");
          markAnswered(message, index);
          send(b.payload, b.title);
          input.focus();
        });
      });
      buttonViews.push(view);
      paintButtons(view);
    }

    /* The first part of an alert reply (message.call) carries the heading with its icon
       and the Call button: first thing for an emergency, after the advice for urgent
       care ("Severe symptoms? Call 999"). Later parts keep the colour and the role. */
    function renderAlertParts(message, item, bubble) {
      var urgent = message.kind === "urgent_care";
      var label = urgent ? t.alertUrgent : t.alertEmergency;
      item.classList.add("mg-alert", urgent ? "mg-alert-urgent" : "mg-alert-emergency");
      item.setAttribute("role", "alert");
      if (!message.call) {
        bubble.insertBefore(el("span", "mg-sr-only", label + ": "), bubble.firstChild);
        return;
      }
      var heading = el("p", "mg-alert-heading");
      heading.appendChild(el("span", "mg-alert-icon", "!")).setAttribute("aria-hidden", "true");
      heading.appendChild(el("strong", null, label));
      bubble.insertBefore(heading, bubble.firstChild);
      if (emergencyHref) {
        var call = el("a", "mg-call");
        call.setAttribute("href", emergencyHref);
        call.appendChild(el("span", "mg-call-icon")).setAttribute("aria-hidden", "true");
        call.appendChild(document.createTextNode(fillText(urgent ? t.callUrgent : t.callEmergency, { emergency: emergency })));
        if (urgent) {
          bubble.appendChild(call);
        } else {
          bubble.insertBefore(call, heading.nextSibling);
        }
      }
    }

    function renderMessage(message) {
      var isBot = message.from === "bot";
      var item = el("div", "mg-msg " + (isBot ? "mg-msg-bot" : "mg-msg-user"));
      item.appendChild(el("span", "mg-sr-only", (isBot ? t.botName : t.you) + ": "));
      var bubble = null;
      if (message.text) {
        bubble = item.appendChild(el("div", "mg-bubble"));
        if (isBot) {
          bubble.appendChild(formatText(message.text));
        } else {
          bubble.textContent = message.text;
        }
      }
      if (isBot && bubble && ALERT_KINDS.indexOf(message.kind) >= 0) {
        renderAlertParts(message, item, bubble);
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
      return item;
    }

    function renderNote(text, className) {
      var note = log.appendChild(el("p", "mg-note " + (className || ""), text));
      scrollToEnd();
      return note;
    }

    function renderStarters() {
      var questions = Array.isArray(t.starterQuestions) ? t.starterQuestions : [];
      var starters = questions.map(function (q) {
        if (typeof q === "string") {
          return { title: q, payload: q };
        }
        return q && typeof q.title === "string" ? { title: q.title, payload: typeof q.payload === "string" ? q.payload : q.title } : null;
      }).filter(Boolean);
      if (!starters.length) {
        return;
      }
      var box = log.appendChild(el("div", "mg-starters"));
      box.setAttribute("role", "group");
      box.setAttribute("aria-labelledby", "mg-starters-title");
      box.appendChild(el("p", "mg-starters-title", t.startersTitle)).id = "mg-starters-title";
      starters.forEach(function (s) {
        var button = box.appendChild(el("button", "mg-starter", s.title));
        button.type = "button";
        button.addEventListener("click", function () {
          if (canSend()) {
            send(s.payload, s.title);
            input.focus();
          }
        });
      });
    }

    function lastFailedUserMessage() {
      var last = state.messages[state.messages.length - 1];
      return last && last.from === "user" && (last.status === "failed" || last.status === "sending") ? last : null;
    }

    function renderAll() {
      stopWaiting();
      log.textContent = "";
      buttonViews = [];
      if (!state.messages.length) {
        renderNote(t.emptyState, "mg-hint");
        renderStarters();
      }
      state.messages.forEach(renderMessage);
      var failed = lastFailedUserMessage();
      if (failed) {
        showProblem(failed.problem === "noAnswer" ? "noAnswer" : failed.problem === "rateLimited" ? "rateLimited" : "unreachable",
          failed.problemText, function () { deliver(failed); }, failed.retryAt);
      }
      updateCompact();
      scrollToEnd();
    }

    function clearProblems() {
      Array.prototype.forEach.call(log.querySelectorAll(".mg-error, .mg-hint, .mg-starters"), function (node) {
        node.remove();
      });
    }

    function canSend() {
      return !busy && Date.now() >= waitUntil;
    }

    function setBusy(value) {
      busy = value;
      typing.hidden = !value;
      sendButton.disabled = !canSend();
      panel.setAttribute("aria-busy", value ? "true" : "false");
      if (value) {
        scrollToEnd();
      }
    }

    function stopWaiting() {
      clearInterval(waitTimer);
      waitTimer = null;
      waitUntil = 0;
      panel.classList.remove("mg-waiting");
      sendButton.disabled = !canSend();
    }

    /* The server asked for a pause (429 Retry-After): Send, Retry, quick replies and
       suggested questions do nothing until `until`; a countdown says how long (not read
       out every second), then "you can send again" is. Typed text stays in the field. */
    function waitBeforeSending(until, countdown, retryButton) {
      stopWaiting();
      waitUntil = Math.min(until, Date.now() + MAX_RETRY_AFTER_S * 1000); /* a stored time may be off */
      panel.classList.add("mg-waiting");
      countdown.setAttribute("aria-live", "off");
      function tick() {
        var left = Math.ceil((waitUntil - Date.now()) / 1000);
        if (left > 0) {
          countdown.textContent = fillText(t.rateLimitedWait, { seconds: left });
          return;
        }
        stopWaiting();
        countdown.removeAttribute("aria-live"); /* the log (polite) announces the end */
        countdown.textContent = t.rateLimitedReady;
        retryButton.disabled = false;
      }
      retryButton.disabled = true;
      sendButton.disabled = true;
      tick();
      if (waitUntil) {
        waitTimer = setInterval(tick, 1000);
      }
    }

    function showProblem(kind, serverText, retry, retryAt) {
      var box = el("div", "mg-error");
      box.setAttribute("role", "alert");
      var countdown = null;
      if (kind === "rateLimited") {
        box.appendChild(el("p", null, serverText || t.rateLimited));
        countdown = typeof retryAt === "number" && retryAt > 0 ? box.appendChild(el("p", "mg-wait")) : null;
      } else {
        fillInto(box.appendChild(el("p")), kind === "noAnswer" ? t.noAnswer : t.unreachable, { phone: phoneNode() });
      }
      var retryButton = box.appendChild(el("button", "mg-retry", t.retry));
      retryButton.type = "button";
      retryButton.addEventListener("click", function () {
        if (canSend()) {
          box.remove();
          retry();
          input.focus();
        }
      });
      log.appendChild(box);
      if (countdown) {
        waitBeforeSending(retryAt, countdown, retryButton);
      }
      scrollToEnd();
    }

    function ensureSender() {
      var owner = state;
      if (owner.senderId) {
        return Promise.resolve(owner.senderId);
      }
      return requestSenderId().then(function (id) {
        owner.senderId = id;
        if (owner === state) {
          saveState(state);
        }
        return id;
      });
    }

    function exchange(payload, mayRenew) {
      var owner = state;
      return ensureSender().then(function (sender) {
        return postJson(config.rasaUrl + "/webhooks/rest/webhook", { sender: sender, message: payload }).catch(function () {
          throw new Problem("unreachable");
        });
      }).then(function (res) {
        if (res.status === 403 && res.body && res.body.error === "unknown_session" && mayRenew) {
          owner.senderId = null;
          return exchange(payload, false);
        }
        if (res.status === 429) {
          throw rateLimited(res);
        }
        if (!res.ok || !Array.isArray(res.body)) {
          throw new Problem("unreachable");
        }
        return res.body;
      });
    }

    /* Rasa sends a reply's text and its custom JSON as two entries (text first): a
       marker without text marks the message before it. */
    function readReplies(replies) {
      var messages = [];
      var kinds = [];
      replies.forEach(function (reply) {
        if (!reply || typeof reply !== "object") {
          return;
        }
        var kind = markerOf(reply.custom);
        var message = replyToMessage(reply);
        if (message) {
          if (kind) {
            message.kind = kind;
          }
          messages.push(message);
        } else if (kind && messages.length) {
          messages[messages.length - 1].kind = kind;
        }
        if (kind) {
          kinds.push(kind);
        }
      });
      /* One Call button per reply, at the top of its first alert, so it is on screen
         when the reply is shown from its start. */
      var firstAlert = messages.filter(function (m) {
        return ALERT_KINDS.indexOf(m.kind) >= 0;
      })[0];
      if (firstAlert) {
        firstAlert.call = true;
      }
      return { messages: messages, deleted: kinds.indexOf("data_deleted") >= 0 };
    }

    /* The bot confirmed "delete my data": this device forgets the chat and its id too. */
    function forgetHere(messages) {
      generation += 1;
      stopWaiting();
      forgetStored();
      state = freshState();
      log.textContent = "";
      buttonViews = [];
      messages.forEach(function (message) {
        delete message.buttons;
        renderMessage(message);
      });
      renderNote(t.dataDeleted, "mg-status");
      updateCompact();
    }

    function deliver(userMessage) {
      var turn = generation;
      var payload = userMessage.payload || userMessage.text;
      clearProblems();
      setBusy(true);
      userMessage.status = "sending";
      delete userMessage.problem;
      delete userMessage.problemText;
      delete userMessage.retryAt;
      saveState(state);
      exchange(payload, true).then(function (replies) {
        if (turn !== generation) {
          return;
        }
        setBusy(false);
        var read = readReplies(replies);
        if (read.deleted) {
          forgetHere(read.messages);
          return;
        }
        if (!read.messages.length) {
          fail(userMessage, new Problem("noAnswer"));
          return;
        }
        delete userMessage.status;
        var first = null;
        var firstAlert = null;
        read.messages.forEach(function (message) {
          state.messages.push(message);
          var item = renderMessage(message);
          first = first || item;
          if (!firstAlert && ALERT_KINDS.indexOf(message.kind) >= 0) {
            firstAlert = item;
          }
        });
        saveState(state);
        reveal(firstAlert || first);
      }, function (error) {
        if (turn !== generation) {
          return;
        }
        setBusy(false);
        fail(userMessage, error instanceof Problem ? error : new Problem("unreachable"));
      });
    }

    function fail(userMessage, problem) {
      userMessage.status = "failed";
      userMessage.problem = problem.kind;
      if (problem.text) {
        userMessage.problemText = problem.text;
      }
      if (problem.retryAt) {
        userMessage.retryAt = problem.retryAt;
      }
      saveState(state);
      showProblem(problem.kind, problem.text, function () { deliver(userMessage); }, problem.retryAt);
    }

    function send(payload, shownText) {
      var userMessage = { from: "user", text: shownText };
      if (payload !== shownText) {
        userMessage.payload = payload;
      }
      clearProblems();
      state.messages.forEach(function (m) {
        if (m.from === "user" && m.status) {
          m.status = "unanswered";
        }
      });
      state.messages.push(userMessage);
      renderMessage(userMessage);
      updateCompact();
      scrollToEnd();
      deliver(userMessage);
    }

    /* --- the character limit --- */

    function updateLimit() {
      var length = input.value.length;
      var near = config.maxChars - Math.max(20, Math.floor(config.maxChars / 10));
      var show = length >= near;
      limitBar.hidden = !show;
      input.setAttribute("aria-invalid", length > config.maxChars ? "true" : "false");
      if (show) {
        input.setAttribute("aria-describedby", "mg-counter mg-limit-status");
      } else {
        input.removeAttribute("aria-describedby");
      }
      counter.textContent = fillText(t.counter, { count: length, max: config.maxChars });
      var status = "";
      if (length > config.maxChars) {
        status = fillText(t.tooLong, { over: length - config.maxChars, max: config.maxChars });
      } else if (length === config.maxChars) {
        status = fillText(t.limitReached, { max: config.maxChars });
      }
      if (limitStatus.textContent !== status) {
        limitStatus.textContent = status;
      }
      limitBar.classList.toggle("mg-limit-over", length >= config.maxChars);
    }

    /* --- opening, closing, restarting, focus --- */

    function openPanel() {
      if (isExpired(state) && (state.messages.length || state.senderId) && !busy) {
        state = loadState();
        renderAll();
      }
      panel.hidden = false;
      root.classList.add("mg-is-open");
      launcher.setAttribute("aria-expanded", "true");
      panel.setAttribute("aria-modal", isPhoneLayout() ? "true" : "false");
      scrollToEnd();
      input.focus();
    }

    function closePanel() {
      hideConfirm(false);
      panel.hidden = true;
      root.classList.remove("mg-is-open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    function restart() {
      hideConfirm(false);
      generation += 1;
      setBusy(false);
      forgetStored();
      state = freshState();
      renderAll();
      renderNote(t.restarted, "mg-status");
      input.value = "";
      updateLimit();
      input.focus();
    }

    function askRestart() {
      if (!state.messages.length) {
        restart();
        return;
      }
      confirmBox.hidden = false;
      restartButton.setAttribute("aria-expanded", "true");
      confirmNo.focus();
    }

    function hideConfirm(refocus) {
      if (confirmBox.hidden) {
        return;
      }
      confirmBox.hidden = true;
      restartButton.setAttribute("aria-expanded", "false");
      if (refocus) {
        restartButton.focus();
      }
    }

    function focusables() {
      return Array.prototype.filter.call(
        panel.querySelectorAll("button, a[href], input, textarea, select, [tabindex='0']"),
        function (node) {
          return !node.disabled && node.getClientRects().length > 0 && getComputedStyle(node).visibility !== "hidden";
        }
      );
    }

    /* On phones the chat covers the page, so Tab cycles inside it. */
    function trapFocus(event) {
      if (!isPhoneLayout()) {
        return;
      }
      var nodes = focusables();
      if (!nodes.length) {
        return;
      }
      var first = nodes[0];
      var last = nodes[nodes.length - 1];
      if (event.shiftKey && (document.activeElement === first || !panel.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !panel.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    }

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        openPanel();
      } else {
        closePanel();
      }
    });
    closeButton.addEventListener("click", closePanel);
    restartButton.addEventListener("click", askRestart);
    confirmYes.addEventListener("click", restart);
    confirmNo.addEventListener("click", function () { hideConfirm(true); });
    disclosureToggle.addEventListener("click", function () {
      setDisclosureOpen(!panel.classList.contains("mg-disclosure-open"));
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        if (!confirmBox.hidden) {
          hideConfirm(true);
        } else {
          closePanel();
        }
      } else if (event.key === "Tab") {
        trapFocus(event);
      }
    });
    document.addEventListener("focusin", function (event) {
      if (!panel.hidden && isPhoneLayout() && !panel.contains(event.target) && event.target !== launcher) {
        input.focus();
      }
    });
    function onLayoutChange() {
      if (!panel.hidden) {
        panel.setAttribute("aria-modal", isPhoneLayout() ? "true" : "false");
      }
    }
    if (phoneQuery.addEventListener) {
      phoneQuery.addEventListener("change", onLayoutChange);
    } else if (phoneQuery.addListener) {
      phoneQuery.addListener(onLayoutChange); /* Safari before 14 */
    }
    window.addEventListener("storage", function (event) {
      if (event.key === STORAGE_KEY && !busy) {
        state = event.newValue ? loadState() : freshState();
        renderAll();
      }
    });
    input.addEventListener("input", updateLimit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || !canSend()) {
        return;
      }
      if (text.length > config.maxChars) {
        updateLimit();
        input.focus();
        return;
      }
      input.value = "";
      updateLimit();
      answerOpenButtons(text);
      send(text, text);
    });

    /* A page left open past the expiry (a shared or lost device) forgets the chat too. */
    setInterval(function () {
      if (!busy && (state.messages.length || state.senderId) && isExpired(state)) {
        forgetStored();
        state = freshState();
        hideConfirm(false);
        renderAll();
      }
    }, 30000);

    renderAll();
    updateLimit();
    document.body.appendChild(root);
  }

  function start() {
    Promise.all([loadJson(config.textUrl), loadStylesheet()]).then(function (results) {
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
