// Tidepool studio: the live viewport client (protocol in ui/protocol.py, server in ui/live.py).
// Frames arrive as binary [24-byte header | JPEG]; inputs leave as small JSON messages.
(() => {
  "use strict";
  const PROTOCOL_VERSION = 1;
  const HEADER_BYTES = 24;
  const LOOK_DEG_PER_PX = 0.15;
  const KEYMAP = {
    KeyW: "w", KeyA: "a", KeyS: "s", KeyD: "d", ShiftLeft: "shift", ShiftRight: "shift",
    Space: "space", KeyC: "c", KeyE: "e", KeyQ: "q", KeyF: "f", KeyV: "v",
  };
  const FLAG_PLAYING = 1, FLAG_LOW_RES = 2, FLAG_RECORDING = 4;

  document.documentElement.classList.add("dark");
  const markDark = () => document.body && document.body.classList.add("dark");
  markDark();
  document.addEventListener("DOMContentLoaded", markDark);

  const S = {
    ws: null, sid: null, world: null, status: null, timeline: null,
    inputId: 0, sentAt: new Map(), latencies: [], frames: 0, frameTimes: [],
    held: new Set(), look: [0, 0], lookQueued: false, closing: false, retry: 0,
    lastFrame: null, understood: "", dragging: false, debugAt: -Infinity,
  };
  const $ = (id) => document.getElementById(id);

  function toast(text, kind) {
    const el = $("tp-toast");
    if (!el) return;
    el.textContent = text;
    el.className = "tp-toast " + (kind || "");
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, kind === "tp-err" ? 9000 : 4000);
  }

  function notice(text) {
    const el = $("tp-notice");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { el.hidden = true; }, 3500);
  }

  // What a directing command became; alternatives and suggestions are clickable commands.
  function showDirected(m) {
    const ok = m.events && m.events.length > 0;
    notice(ok ? `understood: ${m.understood}` : (m.message || "not understood"));
    if (!ok) toast(m.message || `not understood: ${m.understood}`, "tp-err");
    const box = $("tp-alternatives");
    box.replaceChildren();
    for (const alt of m.alternatives || []) {
      const text = alt.understood.replace(/^try: /, "");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tp-chip";
      b.textContent = text;
      b.addEventListener("click", () => { send({ t: "direct", text }); box.hidden = true; });
      box.appendChild(b);
    }
    box.hidden = box.childElementCount === 0;
  }

  function send(msg) {
    if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(msg));
  }

  function setConn(text, ok) {
    $("tp-conn").textContent = text;
    $("tp-conn-dot").className = "tp-dot" + (ok ? " tp-ok" : "");
  }

  function connect(world, session, claim) {
    if (S.ws) { S.closing = true; S.ws.close(); }
    S.closing = false;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/live`);
    ws.binaryType = "arraybuffer";
    S.ws = ws;
    S.world = world;
    setConn("connecting…", false);
    const params = new URLSearchParams(location.search);
    const fixed = params.get("size");
    ws.onopen = () => {
      const hello = { t: "hello", v: PROTOCOL_VERSION, world, session: session || null, claim: claim || "url" };
      if (fixed) {
        const [w, h] = fixed.split("x").map(Number);
        Object.assign(hello, { width: w, height: h, adaptive: false });
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") onJson(JSON.parse(ev.data));
      else onFrame(ev.data);
    };
    ws.onclose = () => {
      if (S.ws !== ws || S.closing) return;
      setConn("reconnecting…", false);
      const delay = Math.min(5000, 500 * 2 ** S.retry++);
      setTimeout(() => { if (S.ws === ws) connect(S.world, S.sid, "url"); }, delay);
    };
  }

  function onJson(m) {
    if (m.t === "welcome") {
      S.sid = m.session; S.world = m.world; S.retry = 0;
      setConn("live", true);
      const url = new URL(location.href);
      url.searchParams.set("world", m.world);
      url.searchParams.set("session", m.session);
      history.replaceState(null, "", url);
      localStorage.setItem("tidepool.last", JSON.stringify({ world: m.world, session: m.session }));
      $("tp-world-title").textContent = m.world;
      if (m.understood) $("tp-understood").textContent = m.understood;
      $("tp-hint").hidden = false;
    } else if (m.t === "status") {
      S.status = m;
      renderStatus(m);
    } else if (m.t === "timeline") {
      S.timeline = m;
      renderTimeline(m);
    } else if (m.t === "notice") {
      notice(m.message);
    } else if (m.t === "directed") {
      showDirected(m);
    } else if (m.t === "error") {
      toast(m.message, "tp-err");
      if (m.fatal) { setConn("error", false); S.closing = true; }
    }
  }

  async function onFrame(buf) {
    const dv = new DataView(buf);
    const version = dv.getUint8(0);
    if (version !== PROTOCOL_VERSION) {
      toast(`server speaks protocol ${version}, this page ${PROTOCOL_VERSION}: reload the page`, "tp-err");
      return;
    }
    const flags = dv.getUint16(2, true), seq = dv.getUint32(4, true), tick = dv.getUint32(8, true);
    const lastInput = dv.getUint32(12, true), renderMs = dv.getFloat32(16, true);
    const w = dv.getUint16(20, true), h = dv.getUint16(22, true);
    const now = performance.now();
    for (const [id, t] of S.sentAt) {
      if (id <= lastInput) {
        S.latencies.push(now - t);
        S.sentAt.delete(id);
      }
    }
    if (S.latencies.length > 600) S.latencies.splice(0, S.latencies.length - 600);
    send({ t: "ack", seq });
    const bmp = await createImageBitmap(new Blob([new Uint8Array(buf, HEADER_BYTES)], { type: "image/jpeg" }));
    const c = $("tp-canvas");
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    c.getContext("2d").drawImage(bmp, 0, 0);
    bmp.close();
    S.frames++;
    S.frameTimes.push(now);
    while (S.frameTimes.length && now - S.frameTimes[0] > 2000) S.frameTimes.shift();
    S.lastFrame = { seq, tick, lastInput, renderMs, w, h, flags };
    $("hud-rec").hidden = !(flags & FLAG_RECORDING);
    // The overlay changes 4 times a second, not every frame: readable, and the page does not
    // lay out text per frame (on a CPU-only machine that time comes out of the renderer's).
    if (now - S.debugAt < 250) return;
    S.debugAt = now;
    const lat = S.latencies.slice(-30).sort((a, b) => a - b);
    const p50 = lat.length ? lat[Math.floor(lat.length / 2)].toFixed(0) : "—";
    $("tp-debug").textContent =
      `key→frame p50 ${p50} ms · render ${renderMs.toFixed(0)} ms · ${w}×${h}` + (flags & FLAG_LOW_RES ? " (reduced)" : "");
  }

  const fmt = (ticks) => (ticks / 30).toFixed(1);

  function renderStatus(m) {
    $("hud-mode").textContent = `${m.move} · ${m.view}` + (m.take_playback ? ` · take ${m.take_playback}` : "");
    const clientFps = S.frameTimes.length > 1 ? (S.frameTimes.length - 1) / ((S.frameTimes.at(-1) - S.frameTimes[0]) / 1000) : 0;
    $("hud-fps").textContent = `${clientFps.toFixed(0)} fps`;
    $("hud-time").textContent = `${fmt(m.tick)} s`;
    $("hud-branch").textContent = `branch ${m.branch}`;
    $("tp-play").textContent = m.playing ? "❚❚" : "▶";
    $("tp-play").classList.toggle("tp-on", m.playing);
    $("tp-rec").classList.toggle("tp-on", !!m.recording);
    const sc = $("tp-scrubber");
    sc.max = String(Math.max(m.head_tick, 1));
    if (!S.dragging) sc.value = String(m.tick);
    $("tp-clock").textContent = `${fmt(m.tick)} / ${fmt(m.head_tick)} s`;
    if (S.timeline) renderMarkers();
    const cur = document.querySelectorAll("#tp-branches li");
    cur.forEach((li) => li.classList.toggle("tp-current", li.dataset.branch === m.branch));
  }

  function renderMarkers() {
    const box = $("tp-markers");
    const m = S.status;
    if (!m || !S.timeline) return;
    const b = S.timeline.branches.find((x) => x.name === m.branch);
    const max = Math.max(m.head_tick, 1);
    box.innerHTML = "";
    for (const mk of b ? b.markers : []) {
      const d = document.createElement("span");
      d.className = "tp-marker tp-m-" + mk.kind;
      d.style.left = `${(100 * mk.tick) / max}%`;
      d.title = `${mk.kind}: ${mk.label} @ ${fmt(mk.tick)} s`;
      box.appendChild(d);
    }
  }

  function renderTimeline(m) {
    const ul = $("tp-branches");
    ul.innerHTML = "";
    for (const b of m.branches) {
      const li = document.createElement("li");
      li.dataset.branch = b.name;
      li.innerHTML = `<span class="tp-bname"></span><span class="tp-muted"></span>`;
      li.firstChild.textContent = (b.parent ? "└ " : "") + b.name;
      li.lastChild.textContent = `${fmt(b.head_tick)} s` + (b.parent ? ` · from ${b.parent} @ ${fmt(b.fork_tick)}` : "");
      li.onclick = () => send({ t: "switch", branch: b.name });
      if (S.status && S.status.branch === b.name) li.classList.add("tp-current");
      ul.appendChild(li);
    }
    const box = $("tp-takes");
    box.innerHTML = m.takes.length ? "" : '<span class="tp-muted">Press ● to record one.</span>';
    for (const t of m.takes) {
      const card = document.createElement("button");
      card.className = "tp-take";
      card.dataset.take = t.name;
      card.innerHTML = `<img alt=""><span class="tp-take-name"></span><span class="tp-muted"></span>`;
      if (t.thumb) card.querySelector("img").src = t.thumb;
      card.querySelector(".tp-take-name").textContent = "▶ " + t.name;
      card.querySelector(".tp-muted").textContent = `${t.seconds} s · ${t.branch}`;
      card.onclick = () => send({ t: "play_take", name: t.name });
      box.appendChild(card);
    }
    const sel = $("tp-exp-take");
    const keep = sel.options.length ? sel.value : null;  // null: first fill, no choice yet
    sel.innerHTML = '<option value="">the world (around the spawn)</option>';
    for (const t of m.takes) {
      const o = document.createElement("option");
      o.value = o.textContent = t.name;
      sel.appendChild(o);
    }
    const kept = keep === "" || m.takes.some((t) => t.name === keep);
    sel.value = kept ? keep : (m.takes.at(-1)?.name ?? "");  // else the latest take
    exportChoices();
    renderMarkers();
  }

  // Without a take only the world's own formats apply (splats, meshes); video and camera
  // moves need one.
  function exportChoices() {
    const world = !$("tp-exp-take").value;
    const fmt = $("tp-exp-format");
    for (const o of fmt.querySelectorAll("option")) {
      o.disabled = world && !o.closest("optgroup").dataset.world;
      o.title = o.disabled ? "record a take first: this exports a camera move" : "";
    }
    if (fmt.selectedOptions[0]?.disabled) fmt.value = "ply";
  }

  async function startExport() {
    const take = $("tp-exp-take").value, format = $("tp-exp-format").value;
    const msg = $("tp-exp-msg"), bar = $("tp-exp-bar");
    if (!S.sid) return;
    $("tp-exp-go").disabled = true;
    msg.textContent = `exporting ${take || "the world"} → ${format}…`;
    bar.style.width = "0%";
    try {
      const r = await fetch(`/api/sessions/${S.sid}/exports`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ take, format }),
      });
      const j = await r.json();
      if (!r.ok) throw new Error(j.detail || r.statusText);
      for (;;) {
        await new Promise((res) => setTimeout(res, 400));
        const st = await (await fetch(`/api/exports/${j.id}`)).json();
        bar.style.width = `${Math.round(100 * st.progress)}%`;
        if (st.done) {
          if (st.error) throw new Error(st.error);
          msg.innerHTML = "";
          const a = document.createElement("a");
          a.href = st.url; a.textContent = `⬇ ${st.name}`; a.className = "tp-download"; a.download = st.name;
          msg.appendChild(a);
          break;
        }
      }
    } catch (e) {
      msg.textContent = String(e.message || e);
      toast(String(e.message || e), "tp-err");
    } finally {
      $("tp-exp-go").disabled = false;
    }
  }

  // --- input ------------------------------------------------------------------------

  function sendInput(held) {
    const id = ++S.inputId;
    const msg = { t: "input", id, look: S.look };
    if (held) msg.held = [...S.held];
    S.look = [0, 0];
    S.sentAt.set(id, performance.now());
    if (S.sentAt.size > 200) S.sentAt.delete(S.sentAt.keys().next().value);
    send(msg);
  }

  function playing() { return S.status && S.status.playing; }

  function active() {
    const vp = $("tp-viewport");
    return vp && (document.pointerLockElement === vp || document.activeElement === vp);
  }

  function onKey(ev, down) {
    if (!active()) return;
    if (down && ev.code === "Escape") { $("tp-viewport").blur(); return; }
    if (down && ev.code === "KeyP") { togglePlay(); ev.preventDefault(); return; }
    if (down && ev.code === "KeyR") { toggleRecord(); ev.preventDefault(); return; }
    const k = KEYMAP[ev.code];
    if (!k) return;
    ev.preventDefault();
    if (ev.repeat) return;
    const had = S.held.has(k);
    if (down) S.held.add(k); else S.held.delete(k);
    if (had !== down) sendInput(true);
  }

  function togglePlay() { send({ t: playing() ? "pause" : "play" }); }
  function toggleRecord() {
    send({ t: "record", on: !(S.status && S.status.recording) });
  }

  function wire() {
    const vp = $("tp-viewport");
    vp.addEventListener("click", () => {
      $("tp-hint").hidden = true;
      vp.focus();
      if (vp.requestPointerLock) {
        try { const p = vp.requestPointerLock(); if (p && p.catch) p.catch(() => {}); } catch (e) { /* headless */ }
      }
      if (!playing()) send({ t: "play" });
    });
    vp.addEventListener("blur", () => {
      if (S.held.size) { S.held.clear(); sendInput(true); }
    });
    document.addEventListener("keydown", (e) => onKey(e, true));
    document.addEventListener("keyup", (e) => onKey(e, false));
    document.addEventListener("mousemove", (e) => {
      if (document.pointerLockElement !== vp) return;
      S.look[0] -= e.movementX * LOOK_DEG_PER_PX;
      S.look[1] -= e.movementY * LOOK_DEG_PER_PX;
      if (!S.lookQueued) {
        S.lookQueued = true;
        requestAnimationFrame(() => { S.lookQueued = false; sendInput(false); });
      }
    });
    $("tp-play").onclick = togglePlay;
    $("tp-rec").onclick = toggleRecord;
    $("tp-fork").onclick = () => send({ t: "fork" });
    $("tp-exp-go").onclick = startExport;
    $("tp-exp-take").onchange = exportChoices;
    const sc = $("tp-scrubber");
    let lastSeek = 0;
    sc.addEventListener("pointerdown", () => { S.dragging = true; if (playing()) send({ t: "pause" }); });
    sc.addEventListener("input", () => {
      const now = performance.now();
      if (now - lastSeek > 120) { lastSeek = now; send({ t: "seek", tick: Number(sc.value) }); }
    });
    sc.addEventListener("change", () => { S.dragging = false; send({ t: "seek", tick: Number(sc.value) }); });
    $("tp-direct").addEventListener("submit", (e) => {
      e.preventDefault();
      const box = $("tp-direct-text");
      if (box.value.trim()) send({ t: "direct", text: box.value.trim() });
      box.value = "";
    });
    document.addEventListener("click", (e) => {
      const card = e.target.closest && e.target.closest(".tp-card[data-world]");
      if (card) open(card.dataset.world);
    });
  }

  function open(world, understood) {
    if (!world) return;
    if (understood) $("tp-understood").textContent = understood;
    S.sid = null;
    connect(world, null, "url");
  }

  function stats() {
    const lat = [...S.latencies].sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
    return { p50: q(0.5), p95: q(0.95), n: lat.length, frames: S.frames };
  }

  function boot() {
    if (!$("tp-viewport")) { setTimeout(boot, 50); return; }
    wire();
    const params = new URLSearchParams(location.search);
    if (params.get("world")) {
      connect(params.get("world"), params.get("session"), "url");
    } else {
      const last = JSON.parse(localStorage.getItem("tidepool.last") || "null");
      if (last && last.world) connect(last.world, last.session, "stored");
    }
  }

  window.tidepool = {
    open, state: S, stats, send, toast, resetStats() { S.latencies = []; S.frames = 0; },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
