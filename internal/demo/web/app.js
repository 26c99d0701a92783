// The demo's chat page: a Telegram-like client of the demo server.
// Server-sent events (/events) bring a reset and then every change; what
// the person does goes to /api/send and /api/press.
"use strict";

(function () {
  const body = document.body;
  const PRIVATE = Number(body.dataset.private);
  const GROUP = Number(body.dataset.group);
  const $ = (id) => document.getElementById(id);
  const list = $("messages"), input = $("input"), menu = $("menu");
  const chats = {}; // id → {pane, els: Map(messageID → element), unread}
  let current = PRIVATE;
  let menus = {}; // kind of chat → the bot's commands (setMyCommands)
  const commandsHere = () => menus[current === GROUP ? "group" : "private"] || [];

  const info = {
    [PRIVATE]: { title: "Rastreio", sub: "bot", avatar: "📦", cls: "bot",
      empty: "Toque em <b>Começar</b> ou mande um código de rastreio com uma nota." },
    [GROUP]: { title: "Família", sub: "você e o bot Rastreio", avatar: "👨‍👩‍👧", cls: "group",
      empty: "No grupo o bot só vê comandos (modo de privacidade do Telegram): use <code>/add CÓDIGO nota</code>." },
  };

  for (const id of [PRIVATE, GROUP]) {
    const pane = document.createElement("div");
    pane.className = "pane";
    pane.dataset.chat = id;
    pane.hidden = id !== current;
    list.appendChild(pane);
    chats[id] = { pane, els: new Map(), unread: 0 };
  }

  // ---- rendering ----

  const fmtTime = (ms) => {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  };

  function keyboardEl(m) {
    if (!m.keyboard || !m.keyboard.length) return null;
    const kb = document.createElement("div");
    kb.className = "keyboard";
    for (const row of m.keyboard) {
      const r = document.createElement("div");
      r.className = "kb-row";
      for (const b of row) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "kb";
        btn.textContent = b.text;
        if (b.url) {
          btn.classList.add("kb-url");
          btn.addEventListener("click", () => window.open(b.url, "_blank", "noopener"));
        } else {
          btn.addEventListener("click", () => press(m.chat, m.id, b.data, btn));
        }
        r.appendChild(btn);
      }
      kb.appendChild(r);
    }
    return kb;
  }

  function messageEl(m) {
    const wrap = document.createElement("div");
    wrap.className = "msg " + (m.out ? "out" : "in");
    wrap.dataset.id = m.id;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (!m.out && m.chat === GROUP) {
      const name = document.createElement("div");
      name.className = "name";
      name.textContent = m.from;
      bubble.appendChild(name);
    }
    if (m.animation) {
      const img = document.createElement("img");
      img.className = "animation";
      img.src = m.animation;
      img.alt = "GIF";
      img.loading = "lazy";
      img.addEventListener("load", () => stick(m.chat));
      bubble.appendChild(img);
      bubble.classList.add("media");
    }
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = m.html; // made safe by the server (RenderEntities)
    if (m.html) bubble.appendChild(text);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.innerHTML = (m.edited ? '<span class="edited">editada</span> ' : "") +
      "<time>" + fmtTime(m.time) + "</time>" + (m.out ? ' <span class="checks" aria-label="lida">✓✓</span>' : "");
    (m.html ? text : bubble).appendChild(meta);
    wrap.appendChild(bubble);
    const kb = keyboardEl(m);
    if (kb) wrap.appendChild(kb);
    if (m.unseen) {
      const note = document.createElement("div");
      note.className = "unseen";
      note.textContent = "o bot não vê esta mensagem: no grupo ele só recebe comandos";
      wrap.appendChild(note);
    }
    return wrap;
  }

  let pinned = true; // the person is at the newest message
  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }
  list.addEventListener("scroll", () => { pinned = nearBottom(); });
  function stick(chat, force) {
    if (chat === current && (force || pinned)) {
      list.scrollTop = list.scrollHeight;
      pinned = true;
    }
  }

  function addMessage(m, live) {
    const c = chats[m.chat];
    if (!c) return;
    const follow = pinned || m.out;
    const el = messageEl(m);
    const old = c.els.get(m.id);
    if (old) old.replaceWith(el); else c.pane.appendChild(el);
    c.els.set(m.id, el);
    if (live && m.chat !== current && !m.out) {
      c.unread++;
      badges();
    }
    updateEmpty();
    if (follow) stick(m.chat, true);
  }

  function editMessage(m) {
    const c = chats[m.chat];
    const old = c && c.els.get(m.id);
    if (!old) return addMessage(m, false);
    const el = messageEl(m);
    old.replaceWith(el);
    c.els.set(m.id, el);
    el.classList.add("flash");
  }

  function deleteMessage(chat, id) {
    const c = chats[chat];
    const el = c && c.els.get(id);
    if (el) { el.remove(); c.els.delete(id); }
    updateEmpty();
  }

  function updateEmpty() {
    const has = chats[current].els.size > 0;
    $("empty").hidden = has;
    if (!has) $("empty").querySelector("p").innerHTML = info[current].empty;
  }

  function badges() {
    for (const el of document.querySelectorAll(".chat-item")) {
      const c = chats[Number(el.dataset.chat)];
      const b = el.querySelector(".badge");
      b.hidden = c.unread === 0;
      b.textContent = c.unread;
    }
    for (const el of document.querySelectorAll(".switch")) {
      const c = chats[Number(el.dataset.chat)];
      el.dataset.unread = c.unread || "";
    }
  }

  function showChat(id) {
    current = id;
    for (const k in chats) chats[k].pane.hidden = Number(k) !== id;
    chats[id].unread = 0;
    badges();
    for (const el of document.querySelectorAll("[data-chat]")) {
      if (el.classList.contains("pane")) continue;
      el.classList.toggle("active", Number(el.dataset.chat) === id);
    }
    const i = info[id];
    $("chat-title").textContent = i.title;
    $("chat-sub").textContent = i.sub;
    const av = $("head-avatar");
    av.textContent = i.avatar;
    av.className = "avatar small " + i.cls;
    input.placeholder = id === GROUP ? "Mensagem (o bot só vê comandos)" : "Mensagem";
    closeMenu();
    renderMenu();
    updateEmpty();
    stick(id, true);
    input.focus({ preventScroll: true });
  }

  // ---- toasts, alerts, menu ----

  let toastTimer = 0;
  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    t.classList.remove("show");
    void t.offsetWidth;
    t.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }
  function alertBox(text) {
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    $("alert-ok").focus();
  }
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; input.focus(); });

  function renderMenu() {
    menu.textContent = "";
    const commands = commandsHere();
    if (!commands.length) {
      const e = document.createElement("div");
      e.className = "menu-empty";
      e.textContent = "O bot ainda não publicou seus comandos.";
      menu.appendChild(e);
    }
    for (const c of commands) {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "menu-item";
      item.setAttribute("role", "menuitem");
      item.innerHTML = '<span class="menu-cmd"></span><span class="menu-desc"></span>';
      item.querySelector(".menu-cmd").textContent = "/" + c.command;
      item.querySelector(".menu-desc").textContent = c.description;
      item.addEventListener("click", () => { closeMenu(); send("/" + c.command); });
      menu.appendChild(item);
    }
    $("menu-button").classList.toggle("ready", commands.length > 0);
  }
  function closeMenu() { menu.hidden = true; }
  $("menu-button").addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    if (!menu.hidden) renderMenu();
  });
  document.addEventListener("click", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== $("menu-button")) closeMenu();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { closeMenu(); $("alert").hidden = true; }
  });

  // ---- actions ----

  async function post(path, payload) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    if (!r.ok) throw new Error((await r.text()).trim() || r.statusText);
    return r;
  }

  async function send(text) {
    text = text.trim();
    if (!text) return;
    try {
      await post("/api/send", { chat: current, text });
    } catch (e) {
      toast("Não foi possível enviar: " + e.message);
    }
  }

  async function press(chat, id, data, btn) {
    btn.classList.add("busy");
    try {
      await post("/api/press", { chat, id, data });
    } catch (e) {
      toast("Botão sem efeito: " + e.message);
    } finally {
      setTimeout(() => btn.classList.remove("busy"), 600);
    }
  }

  function submit() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    grow();
    send(text);
  }
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); submit(); input.focus(); });
  let swallowUntil = 0; // a line break some keyboards still insert after Enter sent
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
      swallowUntil = Date.now() + 150;
    }
  });
  function grow() {
    input.style.height = "0px";
    const h = Math.max(42, input.scrollHeight);
    input.style.height = Math.min(h, 140) + "px";
    input.style.overflowY = h > 140 ? "auto" : "hidden";
  }
  input.addEventListener("input", () => {
    if (Date.now() < swallowUntil && !input.value.trim()) input.value = "";
    grow();
  });

  $("start").addEventListener("click", () => send("/start"));

  for (const el of document.querySelectorAll(".chat-item, .switch")) {
    el.addEventListener("click", () => showChat(Number(el.dataset.chat)));
  }
  for (const chip of document.querySelectorAll(".code-chip")) {
    chip.addEventListener("click", () => {
      const line = (chip.dataset.code + " " + chip.dataset.note).trim();
      input.value = current === GROUP ? "/add " + line : line;
      grow();
      input.focus();
    });
  }
  list.addEventListener("click", (e) => {
    const cmd = e.target.closest("a.cmd");
    if (cmd) { e.preventDefault(); send(cmd.dataset.cmd); return; }
    const sp = e.target.closest(".spoiler");
    if (sp) sp.classList.add("revealed");
  });

  // ---- live updates ----

  function connect() {
    const es = new EventSource("/events");
    const conn = $("conn");
    es.onopen = () => { conn.className = "conn on"; conn.title = "conectado"; };
    es.onerror = () => { conn.className = "conn off"; conn.title = "reconectando…"; };
    es.onmessage = (ev) => {
      const e = JSON.parse(ev.data);
      switch (e.type) {
        case "reset":
          for (const k in chats) { chats[k].pane.textContent = ""; chats[k].els.clear(); }
          for (const m of e.messages || []) addMessage(m, false);
          menus = e.commands || {};
          renderMenu();
          updateEmpty();
          stick(current, true);
          body.classList.add("ready");
          break;
        case "message": addMessage(e.message, true); break;
        case "edit": editMessage(e.message); break;
        case "delete": deleteMessage(e.chat, e.id); break;
        case "toast":
          if (e.chat && e.chat !== current) showChat(e.chat);
          if (e.alert) alertBox(e.text); else toast(e.text);
          break;
        case "commands": menus = e.commands || {}; renderMenu(); break;
      }
    };
  }

  renderMenu();
  showChat(PRIVATE);
  connect();
})();
