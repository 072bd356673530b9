/* Rapport web chat: talks to Rasa's socket.io channel (credentials.yml `socketio:`, with
 * session_persistence) through the official socket.io client.
 *
 * - The server issues the session as a signed token (channels/socketio.py); it lives in
 *   localStorage, never in a URL, so the same browser keeps its conversation (and the same
 *   pseudonymous client id) across reloads and visits; "Forget this chat" drops it. Only a
 *   routing hash of it goes in the connection URL, for the load balancer.
 * - The visible transcript lives in sessionStorage: it survives a reload, not closing the tab.
 * - Bot text is only ever set with textContent / createTextNode, never as HTML.
 * - An invitation link (?invite=<code>) is read once: the code is taken off the address bar at
 *   once (history.replaceState), kept only in memory, and sent with the session request until
 *   the server confirms the session; it is never written to storage. Typing "/leave" in a chat
 *   that an invitation linked to the practice leaves (channels/enrolment.py).
 * Settings: window.RAPPORT_CHAT = {server: "https://bot.example.org", path: "/socket.io"}
 * (config.js); an empty server means this page's own origin.
 */
(function () {
  "use strict";

  var config = window.RAPPORT_CHAT || {};
  var SERVER = config.server || window.location.origin;
  var PATH = config.path || "/socket.io";
  var SESSION_KEY = "rapport.session";
  var ROUTE_KEY = "rapport.route";
  var TRANSCRIPT_KEY = "rapport.transcript";
  var MAX_ENTRIES = 300;
  var FIRST_HELLO = [{ title: "Say hello", payload: "hi" }];

  var log = document.getElementById("log");
  var quickReplies = document.getElementById("quick-replies");
  var statusLine = document.getElementById("status");
  var typing = document.getElementById("typing");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var forget = document.getElementById("forget");

  function store(kind) {
    // Storage can be missing or refused (private modes, blocked third-party storage): fall back to memory.
    var memory = {};
    var backend = null;
    try { backend = window[kind]; backend.setItem("rapport.probe", "1"); backend.removeItem("rapport.probe"); }
    catch (e) { backend = null; }
    return {
      get: function (key) { return backend ? backend.getItem(key) : (memory[key] || null); },
      set: function (key, value) { if (backend) { try { backend.setItem(key, value); } catch (e) { /* full */ } } else { memory[key] = value; } },
      remove: function (key) { if (backend) { backend.removeItem(key); } delete memory[key]; }
    };
  }

  // An invitation link's code: out of the address bar (and so out of history and bookmarks) at once.
  var invite = null;
  try {
    var address = new URL(window.location.href);
    invite = address.searchParams.get("invite");
    if (invite !== null) {
      address.searchParams.delete("invite");
      window.history.replaceState(null, "", address.pathname + address.search + address.hash);
    }
  } catch (e) { invite = null; }

  var local = store("localStorage");
  var session = store("sessionStorage");

  var state = {
    token: local.get(SESSION_KEY),
    route: local.get(ROUTE_KEY),
    confirmed: false,
    pending: [],
    transcript: loadTranscript()
  };

  function loadTranscript() {
    try {
      var saved = JSON.parse(session.get(TRANSCRIPT_KEY) || "null");
      if (saved && Array.isArray(saved.entries)) { return saved; }
    } catch (e) { /* a damaged transcript is dropped */ }
    return { entries: [], buttons: [] };
  }

  function saveTranscript() {
    state.transcript.entries = state.transcript.entries.slice(-MAX_ENTRIES);
    session.set(TRANSCRIPT_KEY, JSON.stringify(state.transcript));
  }

  function setStatus(text) { statusLine.textContent = text; }

  function renderEntry(entry) {
    var item = document.createElement("li");
    item.className = "msg " + (entry.from === "user" ? "user" : "bot");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = entry.from === "user" ? "You: " : "Rapport: ";
    item.appendChild(who);
    item.appendChild(document.createTextNode(entry.text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    item.scrollIntoView({ block: "end" });
  }

  function renderQuickReplies(buttons) {
    while (quickReplies.firstChild) { quickReplies.removeChild(quickReplies.firstChild); }
    (buttons || []).forEach(function (button) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = String(button.title);
      element.addEventListener("click", function () { send(String(button.payload), String(button.title)); });
      quickReplies.appendChild(element);
    });
  }

  function addEntry(from, text) {
    var entry = { from: from, text: String(text) };
    state.transcript.entries.push(entry);
    renderEntry(entry);
  }

  function showButtons(buttons) {
    state.transcript.buttons = buttons;
    renderQuickReplies(buttons);
  }

  var typingTimer = null;
  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) { typingTimer = setTimeout(function () { typing.hidden = true; }, 20000); }
  }

  function send(payload, shown) {
    if (!payload || !payload.trim()) { return; }
    addEntry("user", shown || payload);
    showButtons([]);
    saveTranscript();
    setTyping(true);
    if (state.confirmed) { emit(payload); } else { state.pending.push(payload); }
  }

  function emit(payload) {
    socket.emit("user_uttered", { message: payload });
  }

  // --- the connection ------------------------------------------------------------------------
  var socket = io(SERVER, {
    path: PATH,
    transports: ["websocket", "polling"],
    // Lets a load balancer keep one conversation on one server (deploy/nginx.conf.template).
    query: { rapport_route: state.route || "" },
    reconnectionDelayMax: 5000
  });

  socket.io.on("reconnect_attempt", function () {
    socket.io.opts.query = { rapport_route: state.route || "" };
  });

  socket.on("connect", function () {
    setStatus("Connected.");
    var request = { session_token: state.token };
    if (invite) { request.invite = invite; }
    socket.emit("session_request", request);
  });

  socket.on("session_confirm", function (data) {
    if (!data || typeof data.token !== "string") { return; }
    state.token = data.token;
    state.route = data.route || "";
    local.set(SESSION_KEY, state.token);
    local.set(ROUTE_KEY, state.route);
    state.confirmed = true;
    invite = null;  // used (or refused) with this session: never sent again
    var waiting = state.pending;
    state.pending = [];
    waiting.forEach(emit);
  });

  socket.on("bot_uttered", function (message) {
    setTyping(false);
    if (!message) { return; }
    if (typeof message.text === "string" && message.text.trim()) { addEntry("bot", message.text); }
    var buttons = message.quick_replies || message.buttons;
    if (Array.isArray(buttons) && buttons.length) {
      showButtons(buttons.map(function (b) { return { title: b.title, payload: b.payload }; }));
    }
    saveTranscript();
  });

  socket.on("disconnect", function () {
    state.confirmed = false;
    setStatus("Connection lost. Reconnecting…");
  });

  socket.on("connect_error", function () {
    setStatus("Can't reach the chat right now. Trying again…");
  });

  // --- the page ------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text, text);
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  forget.addEventListener("click", function () {
    if (!window.confirm("Forget this chat on this device? The conversation disappears from this screen and a new one starts. (To delete what Rapport stored, say \"delete my data\" first.)")) { return; }
    local.remove(SESSION_KEY);
    local.remove(ROUTE_KEY);
    session.remove(TRANSCRIPT_KEY);
    state.token = null;
    state.route = null;
    state.confirmed = false;
    state.transcript = { entries: [], buttons: [] };
    while (log.firstChild) { log.removeChild(log.firstChild); }
    showButtons(FIRST_HELLO);
    socket.disconnect();
    socket.io.opts.query = { rapport_route: "" };
    socket.connect();
    input.focus();
  });

  state.transcript.entries.forEach(renderEntry);
  renderQuickReplies(state.transcript.entries.length ? state.transcript.buttons : (invite ? [] : FIRST_HELLO));
})();
