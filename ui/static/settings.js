// Studio Models panel: per neural role, what is found on disk and a selector for the one used.
// Reads GET /api/settings and saves a choice with PUT /api/settings {role, model}; the file is
// the one `tidepool models use` writes, so the CLI and the studio share the choice.
(() => {
  "use strict";

  const LABELS = {
    depth: "Depth (photo lift)",
    text2image: "Text → image (neural look)",
    inpaint: "Inpaint",
    asr: "Speech (voice)",
    llm: "Language model",
  };

  // the studio's toast (studio.js): errors stay up longer
  const say = (text, isError) => window.tidepool.toast(text, isError ? "tp-err" : "");

  async function call(method, body) {
    const r = await fetch("/api/settings", {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.detail || `settings request failed (HTTP ${r.status})`);
    return data;
  }

  function option(value, text, selected) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    o.selected = selected;
    return o;
  }

  function render(panel, state) {
    panel.replaceChildren();
    for (const r of state.roles) {
      const row = document.createElement("label");
      row.className = "tp-model-row";
      const name = document.createElement("span");
      name.className = "tp-model-role";
      name.textContent = LABELS[r.role] || r.role;
      const sel = document.createElement("select");
      sel.className = "tp-model-select";
      sel.dataset.role = r.role;
      sel.appendChild(option("off", "off (offline default)", r.chosen === "off"));
      const auto = r.found.length ? `auto (${r.found[0]})` : "auto (none found)";
      sel.appendChild(option("auto", auto, r.chosen === "auto"));
      for (const m of r.found) sel.appendChild(option(m, m, r.chosen === m));
      if (!["off", "auto", ...r.found].includes(r.chosen)) {
        sel.appendChild(option(r.chosen, `${r.chosen} (not found)`, true));
      }
      const found = document.createElement("span");
      found.className = "tp-model-found";
      found.textContent = r.found.length ? `${r.found.length} found` : "none found";
      sel.addEventListener("change", async () => {
        sel.disabled = true;
        try {
          render(panel, await call("PUT", { role: r.role, model: sel.value }));
          say(`${LABELS[r.role] || r.role}: ${sel.value}`, false);
        } catch (err) {
          say(String(err.message || err), true);
          load(panel);
        }
      });
      row.append(name, sel, found);
      panel.appendChild(row);
    }
    const file = document.createElement("div");
    file.className = "tp-model-file";
    file.textContent = state.file;
    file.title = "Also set with: tidepool models use ROLE MODEL";
    panel.appendChild(file);
  }

  async function load(panel) {
    try {
      render(panel, await call("GET"));
    } catch (err) {
      panel.innerHTML = "";
      const e = document.createElement("div");
      e.className = "tp-empty tp-model-error";
      e.textContent = String(err.message || err);
      panel.appendChild(e);
    }
  }

  function attach() {
    const panel = document.getElementById("tp-models");
    if (panel && !panel.dataset.ready) {
      panel.dataset.ready = "1";
      load(panel);
    }
  }

  new MutationObserver(attach).observe(document.documentElement, { childList: true, subtree: true });
  if (document.readyState !== "loading") attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
