/*
 * Embeddable chat widget of the UK/US crypto guidance bot.
 *
 *   <script src="https://BOT/widget.js" data-api-key="pk_..." data-title="Ask about crypto rules"
 *           data-jurisdiction="UK"></script>
 *
 * Adds a launcher button and a chat panel (inside a shadow root, so the host page's CSS does not
 * leak in). The publishable key is traded for a short-lived session token at POST /v1/sessions;
 * answers stream from POST /v1/answers/stream and keep their citations: numbered markers that
 * link to a sources list whose links open the official pages.
 * Attributes: data-api-key (publishable key), data-title, data-jurisdiction (UK, US or both),
 * data-api-base (API origin; default: where this script was loaded from), data-open ("true"),
 * data-holding ("true": a "My holding" button shows the UK/US protection matrix and timeline for a
 * holding entered in a small form, from POST /v1/holdings).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__cryptoGuidanceWidget) return;
  window.__cryptoGuidanceWidget = true;

  var NOTICE = __NOTICE__;
  var cfg = {
    base: (script.dataset.apiBase || new URL(script.src, location.href).origin).replace(/\/$/, ""),
    key: script.dataset.apiKey || "",
    title: script.dataset.title || "Crypto rules: UK and US guidance",
    jurisdiction: (script.dataset.jurisdiction || "both").toUpperCase() === "BOTH"
      ? "both" : (script.dataset.jurisdiction || "both").toUpperCase(),
    open: script.dataset.open === "true",
    holding: script.dataset.holding === "true",
  };
  var SECTION_LABEL = { UK: "UK", US: "US", INTL: "International" };
  var EXAMPLES = [
    "Does the FSCS protect my crypto if the exchange fails?",
    "Do I pay tax when I swap one crypto-asset for another in the UK?",
    "Is crypto held at a US exchange covered by SIPC or FDIC insurance?",
  ];
  var GREETING = "Hello! I answer questions about UK and US rules on crypto-assets and stablecoins, " +
    "quoting official guidance with its sources. Try one of these, or type your own:";
  var REFUSED = "Sorry, the guidance chat is not available on this page at the moment. " +
    "Please try again later or contact this site's support team.";

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0;",
    "  border-radius: 999px; padding: 12px 18px; background: #1d4ed8; color: #fff; font-size: 15px;",
    "  font-weight: 600; cursor: pointer; box-shadow: 0 6px 20px rgba(0,0,0,.25); }",
    ".launcher:focus-visible, button:focus-visible, select:focus-visible, textarea:focus-visible {",
    "  outline: 3px solid #f59e0b; outline-offset: 2px; }",
    ".panel { position: fixed; right: 20px; bottom: 80px; z-index: 2147483001; width: 400px;",
    "  max-width: calc(100vw - 24px); height: 620px; max-height: calc(100vh - 100px); display: none;",
    "  flex-direction: column; background: #fff; color: #111827; border-radius: 14px; overflow: hidden;",
    "  box-shadow: 0 12px 40px rgba(0,0,0,.3); font-size: 14px; line-height: 1.45; }",
    ".panel.open { display: flex; }",
    ".head { display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: #1d4ed8; color: #fff; }",
    ".head h2 { flex: 1; margin: 0; font-size: 15px; }",
    ".head select { font-size: 12px; border-radius: 6px; border: 0; padding: 2px 4px; }",
    ".head .close { background: transparent; border: 0; color: #fff; font-size: 20px; cursor: pointer; }",
    ".notice { margin: 0; padding: 6px 12px; background: #fffbeb; color: #78350f; font-size: 12px;",
    "  border-bottom: 1px solid #fde68a; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; }",
    ".msg { padding: 8px 10px; border-radius: 10px; max-width: 95%; word-wrap: break-word; }",
    ".msg.user { align-self: flex-end; background: #dbeafe; }",
    ".msg.bot { align-self: flex-start; background: #f3f4f6; }",
    ".msg.error { background: #fee2e2; color: #7f1d1d; }",
    ".msg h3 { margin: 8px 0 4px; font-size: 13px; }",
    ".msg p { margin: 4px 0; }",
    ".msg ul { margin: 4px 0; padding-left: 18px; }",
    ".msg sup a { color: #1d4ed8; text-decoration: none; font-weight: 600; }",
    ".sources { margin: 8px 0 4px; padding-left: 22px; font-size: 12px; }",
    ".sources li { margin-bottom: 4px; }",
    ".sources a { color: #1d4ed8; }",
    ".sources .meta { color: #4b5563; }",
    ".answer-notice { font-size: 11px; color: #4b5563; font-style: italic; }",
    "form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e5e7eb; }",
    "textarea { flex: 1; resize: none; height: 44px; padding: 8px; border: 1px solid #d1d5db; border-radius: 8px;",
    "  font-size: 14px; }",
    "form button { border: 0; border-radius: 8px; padding: 0 14px; background: #1d4ed8; color: #fff;",
    "  font-weight: 600; cursor: pointer; }",
    "form button:disabled { opacity: .5; cursor: default; }",
    ".typing { color: #4b5563; font-style: italic; }",
    ".examples { display: flex; flex-direction: column; gap: 6px; margin-top: 6px; }",
    ".examples button { text-align: left; border: 1px solid #bfdbfe; background: #fff; color: #1e3a8a;",
    "  border-radius: 8px; padding: 6px 8px; font-size: 13px; cursor: pointer; }",
    ".examples button:hover { background: #eff6ff; }",
    ".rate { display: flex; align-items: center; gap: 6px; margin-top: 6px; font-size: 12px; color: #374151; }",
    ".rate button { border: 1px solid #d1d5db; background: #fff; border-radius: 6px; padding: 2px 8px;",
    "  font-size: 14px; cursor: pointer; }",
    ".rate button[aria-pressed='true'] { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }",
    ".head .mode { font-size: 12px; border-radius: 6px; border: 0; padding: 3px 6px; cursor: pointer; }",
    ".holding { flex: 1; overflow-y: auto; padding: 10px 12px; display: none; font-size: 13px; }",
    ".panel.holding-mode .holding { display: block; }",
    ".panel.holding-mode .log, .panel.holding-mode form { display: none; }",
    ".holding .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }",
    ".holding label { display: flex; flex-direction: column; font-size: 12px; color: #374151; }",
    ".holding .show { margin-top: 8px; width: 100%; border: 0; border-radius: 8px; padding: 8px;",
    "  background: #1d4ed8; color: #fff; font-weight: 600; cursor: pointer; }",
    ".holding h4 { margin: 10px 0 4px; font-size: 13px; }",
    ".holding .cell { margin: 2px 0 6px; }",
    ".holding .state { font-weight: 600; }",
    ".holding .applies .state { color: #166534; }",
    ".holding .nothing_applies .state { color: #92400e; }",
    ".holding .missing { color: #6b7280; }",
    ".holding blockquote { margin: 3px 0; padding-left: 6px; border-left: 3px solid #9ca3af; }",
    ".holding .meta { color: #4b5563; font-size: 11px; }",
    ".holding .past { color: #6b7280; }",
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // ---- DOM
  var host = el("div", { id: "crypto-guidance-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));
  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false",
    "aria-controls": "cgw-panel", text: cfg.title });
  var select = el("select", { "aria-label": "Jurisdiction" }, [
    el("option", { value: "both", text: "UK + US" }),
    el("option", { value: "UK", text: "UK" }),
    el("option", { value: "US", text: "US" }),
  ]);
  select.value = ["both", "UK", "US"].indexOf(cfg.jurisdiction) >= 0 ? cfg.jurisdiction : "both";
  var close = el("button", { class: "close", type: "button", "aria-label": "Close chat", text: "×" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  var input = el("textarea", { placeholder: "Ask about crypto or stablecoin rules…", "aria-label": "Your question",
    maxlength: "2000" });
  var send = el("button", { type: "submit", text: "Send" });
  var form = el("form", {}, [input, send]);
  var mode = el("button", { class: "mode", type: "button", text: "My holding", "aria-pressed": "false" });
  var holdingView = el("div", { class: "holding", "aria-live": "polite" });
  var panel = el("div", { class: "panel", id: "cgw-panel", role: "dialog", "aria-label": cfg.title }, [
    el("div", { class: "head" }, [el("h2", { text: cfg.title })].concat(cfg.holding ? [mode] : [], [select, close])),
    el("p", { class: "notice", text: NOTICE }),
    log,
    holdingView,
    form,
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  function setOpen(open) {
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      input.focus();
      greet();
    }
  }
  launcher.addEventListener("click", function () { setOpen(!panel.classList.contains("open")); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); setOpen(false); launcher.focus(); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  // ---- rendering of the answer Markdown subset: headings, bullets, bold, italics, [n] markers
  var messageCount = 0;

  function inline(text, msgId) {
    var parts = [];
    var pattern = /\*\*([^*]+)\*\*|_\(([^)]*)\)_|\[(\d+)\]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text))) {
      if (match.index > last) parts.push(text.slice(last, match.index));
      if (match[1] !== undefined) parts.push(el("strong", { text: match[1] }));
      else if (match[2] !== undefined) parts.push(el("em", { text: "(" + match[2] + ")" }));
      else {
        var link = el("a", { href: "#" + msgId + "-src-" + match[3], "data-citation": match[3],
          text: "[" + match[3] + "]" });
        link.addEventListener("click", function (event) {
          event.preventDefault();
          var target = root.getElementById(this.getAttribute("href").slice(1));
          if (target) target.scrollIntoView({ block: "nearest", behavior: "smooth" });
        });
        parts.push(el("sup", {}, [link]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }

  function appendLine(container, line, msgId) {
    var heading = /^\*\*([^*]+)\*\*$/.exec(line);
    if (heading) { container.appendChild(el("h3", { text: heading[1] })); return; }
    if (line.indexOf("- ") === 0) {
      var list = container.lastElementChild;
      if (!list || list.tagName !== "UL") { list = el("ul"); container.appendChild(list); }
      list.appendChild(el("li", {}, inline(line.slice(2), msgId)));
      return;
    }
    container.appendChild(el("p", {}, inline(line.replace(/^_(.*)_$/, "$1"), msgId)));
  }

  function renderSources(container, answer, msgId) {
    var numbers = Object.keys(answer.citations || {}).map(Number).sort(function (a, b) { return a - b; });
    if (!numbers.length) return;
    container.appendChild(el("h3", { text: "Sources" }));
    var list = el("ol", { class: "sources" });
    numbers.forEach(function (n) {
      var c = answer.citations[n];
      var link = el("a", { href: c.url, target: "_blank", rel: "noopener noreferrer", text: c.title });
      list.appendChild(el("li", { id: msgId + "-src-" + n, value: String(n) }, [
        link, el("br"),
        el("span", { class: "meta", text: c.publisher + " · " + (SECTION_LABEL[c.jurisdiction] || c.jurisdiction) +
          " · section “" + c.section + "” (" + c.locator + ")" }),
      ]));
    });
    container.appendChild(list);
  }

  function addMessage(kind, text) {
    var node = el("div", { class: "msg " + kind }, text ? [text] : []);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  // ---- greeting, with example questions that ask themselves
  var greeted = false;

  function greet() {
    if (greeted) return;
    greeted = true;
    var hello = addMessage("bot greeting", GREETING);
    var examples = el("div", { class: "examples" });
    EXAMPLES.forEach(function (text) {
      var button = el("button", { type: "button", text: text });
      button.addEventListener("click", function () {
        if (!send.disabled) ask(text);
      });
      examples.appendChild(button);
    });
    hello.appendChild(examples);
    startSession(); // a refused page says so now, not after the visitor has typed a question
  }

  // ---- API
  var session = null; // {token, expiresAt}
  var history = [];

  // An error whose `message` is for the visitor and whose `detail` is for the page's developer
  // (logged to the console): the service's code, message and request id, or why fetch failed.
  function WidgetError(message, detail, refused) {
    this.message = message;
    this.detail = detail;
    this.refused = !!refused;
  }

  async function errorFrom(response, url) {
    var detail = response.status + " from " + url;
    var message = "The service answered " + response.status + ".";
    try {
      var body = await response.json();
      if (body && body.error) {
        message = body.error.message || message;
        detail += ": " + body.error.code + ": " + body.error.message + " (request id " + body.error.request_id + ")";
      }
    } catch (ignored) { /* not JSON */ }
    var refused = response.status === 401 || response.status === 403;
    return new WidgetError(refused ? REFUSED : message, detail, refused);
  }

  function blocked(url) {
    // fetch hides why a cross-origin request failed; the likeliest reasons, for the developer
    return new WidgetError(REFUSED, "the request to " + url + " from " + location.origin + " was blocked or " +
      "failed. Most likely this page's origin is not allowed for publishable key '" + cfg.key + "': the bot's " +
      "operator must add " + location.origin + " to server.publishable_keys (http://localhost and " +
      "http://127.0.0.1 are different origins); the server log names the refused origin. Otherwise the " +
      "service at " + cfg.base + " is down or unreachable.", true);
  }

  async function call(url, options) {
    try {
      return await fetch(url, options);
    } catch (error) {
      throw blocked(url);
    }
  }

  async function token(renew) {
    if (!cfg.key) return null;
    if (!renew && session && session.expiresAt - 30000 > Date.now()) return session.token;
    var url = cfg.base + "/v1/sessions";
    var response = await call(url, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publishable_key: cfg.key }),
    });
    if (!response.ok) throw await errorFrom(response, url);
    var body = await response.json();
    session = { token: body.token, expiresAt: Date.now() + body.expires_in * 1000 };
    return session.token;
  }

  var refusal = null;

  function report(error) {
    if (!(error instanceof WidgetError)) error = new WidgetError("Something went wrong.", String(error), false);
    console.error("[crypto guidance widget] " + error.detail);
    return error;
  }

  function refuse(error) {
    if (refusal) return;
    refusal = addMessage("bot error refused", "⚠️ " + error.message);
    input.disabled = true;
    send.disabled = true;
    root.querySelectorAll(".examples button").forEach(function (b) { b.disabled = true; });
  }

  async function startSession() {
    try {
      await token(false);
    } catch (error) {
      error = report(error);
      if (error.refused) refuse(error);
    }
  }

  async function rate(answerId, question, rating, bar) {
    var bearer = await token(false);
    var headers = { "Content-Type": "application/json" };
    if (bearer) headers.Authorization = "Bearer " + bearer;
    var url = cfg.base + "/v1/feedback";
    var response = await call(url, {
      method: "POST", headers: headers,
      body: JSON.stringify({ answer_id: answerId, question: question, rating: rating }),
    });
    if (!response.ok) throw await errorFrom(response, url);
    bar.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-rating") === rating));
    });
    bar.querySelector(".status").textContent = "Thanks for the feedback.";
  }

  function ratingBar(answerId, question) {
    var status = el("span", { class: "status", role: "status" });
    var bar = el("div", { class: "rate" }, [el("span", { text: "Was this useful?" })]);
    [["up", "👍", "Helpful"], ["down", "👎", "Not helpful"]].forEach(function (item) {
      var button = el("button", { type: "button", "data-rating": item[0], "aria-pressed": "false",
        "aria-label": item[2], title: item[2], text: item[1] });
      button.addEventListener("click", function () {
        if (button.getAttribute("aria-pressed") === "true") return; // one rating at a time; the other switches
        rate(answerId, question, item[0], bar).catch(function (error) {
          status.textContent = "The feedback could not be saved.";
          report(error);
        });
      });
      bar.appendChild(button);
    });
    bar.appendChild(status);
    return bar;
  }

  async function streamAnswer(question, renew) {
    var headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
    var bearer = await token(renew);
    if (bearer) headers.Authorization = "Bearer " + bearer;
    var payload = { question: question, history: history.slice(-10) };
    if (select.value !== "both") payload.jurisdictions = [select.value];
    var url = cfg.base + "/v1/answers/stream";
    var response = await call(url, { method: "POST", headers: headers, body: JSON.stringify(payload) });
    if (response.status === 401 && cfg.key && !renew) return streamAnswer(question, true);
    if (!response.ok) throw await errorFrom(response, url);
    return response;
  }

  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var step = await reader.read();
      if (step.done) break;
      buffer += decoder.decode(step.value, { stream: true });
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        var event = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) event = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  async function ask(question) {
    addMessage("user", question);
    var reply = addMessage("bot");
    var msgId = "cgw-m" + (++messageCount);
    reply.appendChild(el("p", { class: "typing", text: "Checking the official sources…" }));
    send.disabled = true;
    try {
      var response = await streamAnswer(question, false);
      var started = false;
      await readEvents(response, function (event, data) {
        if (event === "chunk") {
          if (!started) { reply.textContent = ""; started = true; }
          appendLine(reply, data.text, msgId);
        } else if (event === "reset") {
          // an LLM answer was abandoned for the extractive one: drop the lines shown so far
          reply.textContent = "";
          started = false;
        } else if (event === "answer") {
          reply.textContent = "";
          reply.setAttribute("data-answer-id", data.id);
          reply.setAttribute("data-kind", data.kind);
          data.answer.split("\n**Sources**")[0].split("\n").forEach(function (line) {
            line = line.trim();
            if (line && line !== "_" + data.notice + "_") appendLine(reply, line, msgId);
          });
          renderSources(reply, data, msgId);
          reply.appendChild(el("p", { class: "answer-notice", text: data.notice }));
          reply.appendChild(ratingBar(data.id, question));
        } else if (event === "error") {
          var message = data.error ? data.error.message : "The answer stopped.";
          throw new WidgetError(message, "the answer stream failed: " + JSON.stringify(data), false);
        }
        log.scrollTop = log.scrollHeight;
      });
      history.push(question);
    } catch (error) {
      error = report(error);
      if (error.refused) {
        log.removeChild(reply);
        refuse(error);
        return;
      }
      reply.className = "msg bot error";
      reply.textContent = "⚠️ " + error.message;
    } finally {
      send.disabled = !!refusal;
    }
  }

  // ---- "My holding" (data-holding="true"): a small form, then POST /v1/holdings rendered as a list
  var HOLDING_FIELDS = [
    ["residence", "I live in", [["UK", "UK"], ["US", "US"], ["elsewhere", "Elsewhere"]]],
    ["citizenship", "Citizen of", [["other", "Neither"], ["UK", "UK"], ["US", "US"], ["both", "UK and US"]]],
    ["platform", "Platform in", [["US", "US"], ["UK", "UK"], ["elsewhere", "Elsewhere"]]],
    ["platform_regulated", "Registered?", [["", "Don't know"], ["true", "Yes"], ["false", "No"]]],
    ["asset", "I hold", [["usd_stablecoin", "US-dollar stablecoin"], ["crypto", "Bitcoin, ether..."],
      ["gbp_stablecoin", "Sterling stablecoin"], ["crypto_etn", "Crypto ETN"]]],
    ["custody", "Held", [["exchange", "On the platform"], ["self", "Own wallet"]]],
  ];
  var CONCERN_LABEL = { platform_failure: "If the platform fails", issuer_failure: "If the issuer fails",
    complaints: "Complaints and ombudsman", supervision: "Who supervises the platform", tax: "Tax",
    tax_reporting: "Reporting to the tax authority", marketing: "Marketing protections",
    fraud_reporting: "Where to report fraud" };
  var STATE_LABEL = { applies: "Applies", nothing_applies: "Nothing applies", missing: "Missing" };
  var holdingSelects = {};
  var holdingResult = el("div", { class: "holding-result" });
  var holdingShow = el("button", { class: "show", type: "button", text: "Show my holding" });
  if (cfg.holding) {
    holdingView.appendChild(el("div", { class: "fields" }, HOLDING_FIELDS.map(function (field) {
      var choice = el("select", { name: field[0] }, field[2].map(function (option) {
        return el("option", { value: option[0], text: option[1] });
      }));
      holdingSelects[field[0]] = choice;
      return el("label", {}, [field[1], choice]);
    })));
    holdingView.appendChild(holdingShow);
    holdingView.appendChild(holdingResult);
    mode.addEventListener("click", function () {
      var on = !panel.classList.contains("holding-mode");
      panel.classList.toggle("holding-mode", on);
      mode.setAttribute("aria-pressed", String(on));
      mode.textContent = on ? "Chat" : "My holding";
    });
    holdingShow.addEventListener("click", function () { showHolding(false); });
  }

  function renderHolding(report) {
    holdingResult.textContent = "";
    holdingResult.appendChild(el("p", { text: report.summary }));
    Object.keys(report.matrix).forEach(function (concern) {
      holdingResult.appendChild(el("h4", { text: CONCERN_LABEL[concern] || concern }));
      Object.keys(report.matrix[concern]).forEach(function (side) {
        var cell = report.matrix[concern][side];
        var node = el("div", { class: "cell " + cell.state, "data-concern": concern, "data-side": side }, [
          el("span", { class: "state", text: (side === "gap" ? "Gap" : side) + ": " + STATE_LABEL[cell.state] + ". " }),
          cell.reason,
        ]);
        (cell.quotes || []).slice(0, 1).forEach(function (q) {
          node.appendChild(el("blockquote", { text: q.text }));
          node.appendChild(el("div", { class: "meta" }, [
            q.publisher + ": ",
            el("a", { href: q.url, target: "_blank", rel: "noopener noreferrer", text: q.title }),
            " · " + q.status_label,
          ]));
        });
        holdingResult.appendChild(node);
      });
    });
    holdingResult.appendChild(el("h4", { text: "Timeline" }));
    var list = el("ul", { class: "timeline" });
    report.timeline.forEach(function (event) {
      list.appendChild(el("li", { class: event.past ? "past" : "coming", "data-date": event.date }, [
        el("strong", { text: event.date }), " (" + (event.past ? "past" : "coming") + ") " + event.text + " ",
        el("a", { href: event.quote.url, target: "_blank", rel: "noopener noreferrer", text: "[source]" }),
      ]));
    });
    holdingResult.appendChild(list);
    holdingResult.appendChild(el("p", { class: "answer-notice", text: report.notice }));
  }

  async function showHolding(renew) {
    var body = {};
    Object.keys(holdingSelects).forEach(function (name) {
      var value = holdingSelects[name].value;
      body[name] = name === "platform_regulated" ? (value === "" ? null : value === "true") : value;
    });
    if (select.value !== "both") body.jurisdictions = [select.value];
    holdingShow.disabled = true;
    holdingResult.textContent = "Checking the official sources…";
    try {
      var headers = { "Content-Type": "application/json" };
      var bearer = await token(renew);
      if (bearer) headers.Authorization = "Bearer " + bearer;
      var response = await fetch(cfg.base + "/v1/holdings", { method: "POST", headers: headers, body: JSON.stringify(body) });
      if (response.status === 401 && cfg.key && !renew) return await showHolding(true);
      if (!response.ok) throw new Error(await errorMessage(response));
      renderHolding(await response.json());
    } catch (error) {
      holdingResult.textContent = "⚠️ " + ((error && error.message) || "Something went wrong.");
    } finally {
      holdingShow.disabled = false;
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || send.disabled) return;
    input.value = "";
    ask(question);
  });

  function attach() {
    document.body.appendChild(host);
    if (cfg.open) setOpen(true);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
