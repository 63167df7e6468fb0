/*
 * URBACT website chat widget. Plain JavaScript, no framework, no build step.
 *
 * Embedding (docs/website.md):
 *   <script src="https://HOST/chat/widget.js" data-title="Assistant URBACT" defer></script>
 * Options, as data- attributes of that script tag:
 *   data-server        URL of the Rasa server (default: where widget.js comes from)
 *   data-title         title of the chat window (default "Assistant URBACT")
 *   data-open          "true": open the chat when the page loads
 *   data-init-payload  sent, invisibly, when a new conversation starts (default "/greet"; "" for none)
 *   data-storage       "session" (default: this tab only) or "local" (survives closing the browser)
 *   data-socket-path   socket.io path on the server (default "/socket.io")
 *
 * Protocol: Rasa's socket.io channel (session_request -> session_confirm,
 * user_uttered -> bot_uttered), plus the server's session_token event: the widget keeps
 * the session id, its token and the transcript in Web Storage, and presents the token
 * to resume the conversation after a reload or a reconnection.
 *
 * Thumbs: under each answer of the assistant, two buttons (« Cette réponse m'a aidé », « Cette
 * réponse ne m'a pas aidé ») send, invisibly, /feedback{"rating":"up"} or "down" (recorded by
 * Rasa as the intent feedback with its entity rating); one vote per answer, kept with the
 * transcript, shown by aria-pressed.
 *
 * Security: every text that comes from the bot or the user is inserted as text
 * (textContent / text nodes), never as HTML; only http and https links are made
 * clickable, and they open with rel="noopener noreferrer".
 */
(function () {
  "use strict";

  if (window.UrbactChat) {
    return; // the script was included twice
  }

  var MAX_CHARS = 2000;
  var MAX_STORED = 200;
  var MAX_CHOICES = 12;
  var REPLY_TIMEOUT_MS = 30000;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var opts = (script && script.dataset) || {};
  var scriptUrl = new URL(script && script.src ? script.src : "/chat/widget.js", window.location.href);
  var assetBase = new URL(".", scriptUrl).href;
  var server = (opts.server || scriptUrl.origin).replace(/\/+$/, "");
  var title = opts.title || "Assistant URBACT";
  var initPayload = opts.initPayload === undefined ? "/greet" : opts.initPayload;
  var socketPath = opts.socketPath || "/socket.io";
  var storeKey = "urbact-chat:" + server;
  var storage = pickStorage(opts.storage === "local" ? "localStorage" : "sessionStorage");

  // ------------------------------------------------------------------ state

  function pickStorage(name) {
    try {
      var store = window[name];
      store.setItem("urbact-chat:test", "1");
      store.removeItem("urbact-chat:test");
      return store;
    } catch (e) {
      return null; // storage disabled: the conversation lasts as long as the page
    }
  }

  var RATINGS = {
    up: { label: "Cette réponse m'a aidé", icon: "👍" },
    down: { label: "Cette réponse ne m'a pas aidé", icon: "👎" }
  };

  function isEntry(entry) {
    return entry && typeof entry === "object" && typeof entry.text === "string" &&
      (entry.who === "bot" || entry.who === "user" || entry.who === "note");
  }

  function load() {
    var empty = { sessionId: null, token: null, messages: [], open: false };
    if (!storage) {
      return empty;
    }
    try {
      var saved = JSON.parse(storage.getItem(storeKey) || "null");
      if (!saved || !Array.isArray(saved.messages)) {
        return empty;
      }
      return {
        sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
        token: typeof saved.token === "string" ? saved.token : null,
        messages: saved.messages.filter(isEntry).slice(-MAX_STORED),
        open: saved.open === true
      };
    } catch (e) {
      return empty;
    }
  }

  function save() {
    if (!storage) {
      return;
    }
    state.messages = state.messages.slice(-MAX_STORED);
    try {
      storage.setItem(storeKey, JSON.stringify(state));
    } catch (e) {
      // storage full or refused: keep going without persistence
    }
  }

  var state = load();
  var socket = null;
  var ready = false; // session confirmed on the current connection
  var pendingToken = null;
  var queue = [];
  var replyTimer = null;
  var feedbackPending = false; // the next answer thanks for a thumb: no thumbs under it

  // ------------------------------------------------------------------ DOM helpers

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

  function safeHref(raw) {
    try {
      var url = new URL(String(raw));
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function makeLink(label, href, className) {
    var link = el("a", className, label);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.appendChild(el("span", "uc-sr", " (nouvel onglet)"));
    return link;
  }

  // Markdown links [label](https://...) and bare http(s) URLs become links; the rest is text.
  var LINK_RE = /\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)|https?:\/\/[^\s<>"']+/g;

  function renderRichText(container, text) {
    var last = 0;
    var match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var end = LINK_RE.lastIndex;
      var label;
      var url;
      if (match[1] !== undefined) {
        label = match[1];
        url = match[2];
      } else {
        url = match[0];
        var trailing = /[.,;:!?»)\]]+$/.exec(url);
        if (trailing) {
          url = url.slice(0, url.length - trailing[0].length);
          end -= trailing[0].length;
        }
        label = url;
      }
      var href = safeHref(url);
      if (!href) {
        continue; // not http(s): stays plain text
      }
      container.appendChild(document.createTextNode(text.slice(last, match.index)));
      container.appendChild(makeLink(label, href, "uc-link"));
      last = end;
      LINK_RE.lastIndex = end;
    }
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  // ------------------------------------------------------------------ widget DOM

  var root = el("aside", "uc-root");
  root.setAttribute("aria-label", title);
  root.setAttribute("lang", "fr");

  var launcher = el("button", "uc-launcher", "Une question sur URBACT ?");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "urbact-chat-panel");

  var panel = el("div", "uc-panel");
  panel.id = "urbact-chat-panel";
  panel.hidden = true;

  var header = el("div", "uc-header");
  var heading = el("h2", "uc-title", title);
  heading.id = "urbact-chat-title";
  var closeButton = el("button", "uc-close");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Fermer la discussion");
  closeButton.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
  header.appendChild(heading);
  header.appendChild(closeButton);

  var status = el("p", "uc-status");
  status.setAttribute("role", "status");

  var log = el("div", "uc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation avec l'assistant");
  log.tabIndex = 0;

  var typing = el("div", "uc-typing");
  typing.setAttribute("role", "status");
  var typingInner = el("span", "uc-typing-inner");
  typingInner.hidden = true;
  var dots = el("span", "uc-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  typingInner.appendChild(dots);
  typingInner.appendChild(el("span", null, "L'assistant écrit…"));
  typing.appendChild(typingInner);

  var form = el("form", "uc-form");
  form.setAttribute("novalidate", "");
  var label = el("label", "uc-label", "Votre message");
  label.htmlFor = "urbact-chat-input";
  var input = el("input", "uc-input");
  input.id = "urbact-chat-input";
  input.type = "text";
  input.maxLength = MAX_CHARS;
  input.autocomplete = "off";
  input.placeholder = "Posez votre question…";
  var sendButton = el("button", "uc-send", "Envoyer");
  sendButton.type = "submit";
  var row = el("div", "uc-row");
  row.appendChild(input);
  row.appendChild(sendButton);
  form.appendChild(label);
  form.appendChild(row);

  var notice = el(
    "p",
    "uc-notice",
    "Assistant automatique : n'y saisissez pas de données personnelles."
  );

  panel.setAttribute("role", "group");
  panel.setAttribute("aria-labelledby", heading.id);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  panel.appendChild(notice);
  root.appendChild(launcher);
  root.appendChild(panel);

  // ------------------------------------------------------------------ transcript

  function choicesOf(list) {
    var out = [];
    if (!Array.isArray(list)) {
      return out;
    }
    for (var i = 0; i < list.length && out.length < MAX_CHOICES; i++) {
      var item = list[i];
      if (!item || typeof item.title !== "string" || !item.title.trim()) {
        continue;
      }
      if (typeof item.url === "string" && safeHref(item.url)) {
        out.push({ title: item.title, url: item.url });
      } else if (typeof item.payload === "string" && item.payload.trim()) {
        out.push({ title: item.title, payload: item.payload });
      }
    }
    return out;
  }

  function renderChoices(entry, item) {
    var group = el("div", "uc-choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", entry.quick ? "Réponses proposées" : "Boutons");
    entry.choices.forEach(function (choice) {
      if (choice.url) {
        group.appendChild(makeLink(choice.title, safeHref(choice.url), "uc-choice"));
        return;
      }
      var button = el("button", "uc-choice", choice.title);
      button.type = "button";
      button.addEventListener("click", function () {
        send(choice.payload, choice.title);
        input.focus();
      });
      group.appendChild(button);
    });
    item.appendChild(group);
  }

  function renderThumbs(entry, item) {
    var group = el("div", "uc-thumbs");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Votre avis sur cette réponse");
    var buttons = [];
    Object.keys(RATINGS).forEach(function (rating) {
      var button = el("button", "uc-thumb uc-thumb-" + rating);
      button.type = "button";
      button.setAttribute("aria-label", RATINGS[rating].label);
      button.title = RATINGS[rating].label;
      button.appendChild(el("span", null, RATINGS[rating].icon)).setAttribute("aria-hidden", "true");
      button.addEventListener("click", function () {
        if (entry.rating) {
          return; // one vote per answer
        }
        entry.rating = rating;
        save();
        showRating(entry, buttons);
        sendFeedback(rating);
      });
      buttons.push(button);
      group.appendChild(button);
    });
    showRating(entry, buttons);
    item.appendChild(group);
  }

  function showRating(entry, buttons) {
    var rated = RATINGS.hasOwnProperty(entry.rating);
    buttons.forEach(function (button) {
      var pressed = rated && button.classList.contains("uc-thumb-" + entry.rating);
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      if (rated) {
        button.setAttribute("aria-disabled", "true");
      }
    });
  }

  function renderEntry(entry) {
    var item = el("div", "uc-msg uc-" + entry.who);
    if (entry.who === "note") {
      item.textContent = entry.text;
    } else {
      item.appendChild(el("span", "uc-sr", entry.who === "user" ? "Vous : " : "L'assistant : "));
      var body = el("div", "uc-text");
      renderRichText(body, entry.text);
      item.appendChild(body);
      if (entry.choices && entry.choices.length && !(entry.quick && entry.used)) {
        renderChoices(entry, item);
      }
      if (entry.who === "bot" && !entry.plain && entry.text) {
        renderThumbs(entry, item);
      }
    }
    log.appendChild(item);
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function addEntry(entry) {
    state.messages.push(entry);
    save();
    renderEntry(entry);
    scrollToEnd();
  }

  function addNote(text) {
    addEntry({ who: "note", text: text });
  }

  // Quick replies are offered for one turn: they go away once the user answers.
  function retireQuickReplies() {
    var changed = false;
    state.messages.forEach(function (entry) {
      if (entry.quick && !entry.used) {
        entry.used = true;
        changed = true;
      }
    });
    if (changed) {
      var groups = log.querySelectorAll(".uc-bot .uc-choices");
      Array.prototype.forEach.call(groups, function (group) {
        if (group.getAttribute("aria-label") === "Réponses proposées") {
          group.parentNode.removeChild(group);
        }
      });
    }
  }

  function hasBotMessage() {
    return state.messages.some(function (entry) {
      return entry.who === "bot";
    });
  }

  // ------------------------------------------------------------------ typing indicator

  function showTyping() {
    typingInner.hidden = false;
    clearTimeout(replyTimer);
    replyTimer = setTimeout(function () {
      hideTyping();
      addNote("L'assistant ne répond pas pour le moment. Vérifiez votre connexion puis réessayez.");
    }, REPLY_TIMEOUT_MS);
    scrollToEnd();
  }

  function hideTyping() {
    clearTimeout(replyTimer);
    replyTimer = null;
    typingInner.hidden = true;
  }

  // ------------------------------------------------------------------ sending

  function flush() {
    while (ready && socket && queue.length) {
      socket.emit("user_uttered", { message: queue.shift(), session_id: state.sessionId });
    }
  }

  // Sends payload to the bot; shows `shown` as the user's message (nothing when null).
  function send(payload, shown) {
    payload = String(payload || "");
    if (!payload.trim()) {
      return;
    }
    if (payload.length > MAX_CHARS) {
      addNote("Votre message est trop long : " + MAX_CHARS + " caractères au plus, s'il vous plaît.");
      return;
    }
    retireQuickReplies();
    if (shown !== null) {
      addEntry({ who: "user", text: shown });
    }
    queue.push(payload);
    showTyping();
    connect();
    flush();
  }

  // A thumb: sent without showing anything nor retiring the quick replies of the turn.
  function sendFeedback(rating) {
    if (!RATINGS.hasOwnProperty(rating)) {
      return;
    }
    feedbackPending = true;
    queue.push('/feedback{"rating":"' + rating + '"}');
    connect();
    flush();
  }

  // ------------------------------------------------------------------ connection

  function setStatus(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function loadSocketIo(callback) {
    if (window.io) {
      callback();
      return;
    }
    var tag = document.createElement("script");
    tag.src = assetBase + "vendor/socket.io.min.js";
    tag.async = true;
    tag.onload = callback;
    tag.onerror = function () {
      setStatus("Impossible de charger la discussion. Rechargez la page pour réessayer.");
    };
    document.head.appendChild(tag);
  }

  function connect() {
    if (socket) {
      return;
    }
    socket = "loading";
    setStatus("Connexion à l'assistant…");
    loadSocketIo(function () {
      socket = window.io(server, { path: socketPath });
      socket.on("connect", function () {
        ready = false;
        socket.emit("session_request", { session_id: state.sessionId, token: state.token });
      });
      socket.on("session_token", function (data) {
        if (data && typeof data.session_id === "string" && typeof data.token === "string") {
          pendingToken = data;
        }
      });
      socket.on("session_confirm", function (data) {
        var id = typeof data === "string" ? data : data && data.session_id;
        if (typeof id !== "string" || !id) {
          return;
        }
        var resumed = id === state.sessionId;
        if (!resumed && state.sessionId && state.messages.length) {
          addNote("La conversation précédente n'a pas pu être reprise : une nouvelle conversation commence.");
        }
        state.sessionId = id;
        state.token = pendingToken && pendingToken.session_id === id ? pendingToken.token : null;
        pendingToken = null;
        save();
        ready = true;
        setStatus("");
        if (!resumed && initPayload && !hasBotMessage() && !queue.length) {
          send(initPayload, null);
        }
        flush();
      });
      socket.on("bot_uttered", receive);
      socket.on("disconnect", function (reason) {
        ready = false;
        setStatus("Connexion perdue. Nouvelle tentative en cours…");
        if (reason === "io server disconnect") {
          socket.connect();
        }
      });
      socket.on("connect_error", function () {
        setStatus("L'assistant est injoignable pour le moment. Nouvelle tentative en cours…");
      });
    });
  }

  function receive(message) {
    if (typeof message === "string") {
      message = { text: message };
    }
    if (!message || typeof message !== "object") {
      return;
    }
    var entry = { who: "bot", text: typeof message.text === "string" ? message.text : "" };
    if (feedbackPending) {
      entry.plain = true; // the thanks for a thumb is not rated
      feedbackPending = false;
    }
    if (Array.isArray(message.quick_replies)) {
      entry.choices = choicesOf(message.quick_replies);
      entry.quick = true;
    } else if (Array.isArray(message.buttons)) {
      entry.choices = choicesOf(message.buttons);
    }
    var attachment = message.attachment;
    if (attachment && attachment.payload && attachment.type === "image" &&
        typeof attachment.payload.src === "string" && safeHref(attachment.payload.src)) {
      entry.text += (entry.text ? "\n" : "") + "[Voir l'image](" + attachment.payload.src + ")";
    }
    if (!entry.text && !(entry.choices && entry.choices.length)) {
      return;
    }
    hideTyping();
    addEntry(entry);
  }

  // ------------------------------------------------------------------ open / close

  function setOpen(open, moveFocus) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    root.classList.toggle("uc-is-open", open);
    if (open) {
      connect();
      scrollToEnd();
      if (moveFocus) {
        input.focus();
      }
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    setOpen(true, true);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      setOpen(false, true);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    input.value = "";
    send(text, text);
    input.focus();
  });

  function reset() {
    state = { sessionId: null, token: null, messages: [], open: state.open };
    save();
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    if (socket && ready) {
      ready = false;
      socket.emit("session_request", {});
    }
  }

  function start() {
    setStatus("");
    state.messages.forEach(renderEntry); // before the page shows it: no re-announcement
    document.body.appendChild(root);
    if (opts.open === "true" || state.open) {
      setOpen(true, false);
    }
  }

  window.UrbactChat = {
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, true); },
    reset: reset,
    // for diagnostics and tests: connection state, transport in use, session id
    status: function () {
      var live = socket && typeof socket === "object";
      return {
        connected: !!(live && socket.connected),
        ready: ready,
        transport: live && socket.io && socket.io.engine ? socket.io.engine.transport.name : null,
        sessionId: state.sessionId
      };
    }
  };

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = assetBase + "widget.css";
  document.head.appendChild(css);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
