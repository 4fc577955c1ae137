// Studio microphone: hold a mic button to record (MediaRecorder), release to send the clip to
// POST /api/voice; the transcript fills the prompt box, or is sent as a directing command.
// Self-contained: it adds its buttons next to #tp-prompt's textarea and the #tp-direct form
// once Gradio has rendered them, and talks to the page only through those elements.
(() => {
  "use strict";

  // the studio's toast (studio.js): errors stay up longer
  const say = (text, isError) => window.tidepool.toast(text, isError ? "tp-err" : "");

  async function transcribe(blob, target) {
    const r = await fetch(`/api/voice?target=${target}`, {
      method: "POST",
      headers: { "Content-Type": blob.type || "application/octet-stream" },
      body: blob,
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || `voice request failed (HTTP ${r.status})`);
    return body.text;
  }

  function deliver(text, target) {
    if (target === "direct") {
      const box = document.getElementById("tp-direct-text");
      const form = document.getElementById("tp-direct");
      box.value = text;
      form.requestSubmit();
      return;
    }
    const area = document.querySelector("#tp-prompt textarea");
    area.value = text;
    area.dispatchEvent(new Event("input", { bubbles: true })); // Gradio listens for input
  }

  function micButton(target) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tp-btn tp-mic";
    b.dataset.target = target;
    b.title = "Hold to speak " + (target === "direct" ? "a directing command" : "a world prompt");
    // an inline icon: headless and minimal systems often lack an emoji font
    b.innerHTML = '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none"' +
      ' stroke="currentColor" stroke-width="2" stroke-linecap="round"><rect x="9" y="3" width="6"' +
      ' height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/></svg>';
    b.setAttribute("aria-label", b.title);
    let recorder = null;
    let chunks = [];

    async function start(e) {
      e.preventDefault();
      if (recorder) return;
      if (!navigator.mediaDevices || !window.MediaRecorder) {
        say("this browser cannot record audio (needs MediaRecorder and a secure origin)", true);
        return;
      }
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (err) {
        say(`microphone unavailable: ${err.message || err}`, true);
        return;
      }
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = (ev) => { if (ev.data.size) chunks.push(ev.data); };
      recorder.onstop = async () => {
        stream.getTracks().forEach((t) => t.stop());
        const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
        recorder = null;
        b.classList.remove("tp-mic-on");
        b.disabled = true;
        try {
          const text = await transcribe(blob, target);
          say(`heard: “${text}”`, false);
          deliver(text, target);
        } catch (err) {
          say(String(err.message || err), true);
        } finally {
          b.disabled = false;
        }
      };
      recorder.start();
      b.classList.add("tp-mic-on");
    }

    function stop() {
      if (recorder && recorder.state === "recording") recorder.stop();
    }

    b.addEventListener("pointerdown", start);
    b.addEventListener("pointerup", stop);
    b.addEventListener("pointerleave", stop);
    b.addEventListener("keydown", (e) => { if (e.key === " " || e.key === "Enter") start(e); });
    b.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") stop(); });
    return b;
  }

  function attach() {
    const form = document.getElementById("tp-direct");
    if (form && !form.querySelector(".tp-mic")) form.appendChild(micButton("direct"));
    const area = document.querySelector("#tp-prompt textarea");
    if (area && !document.querySelector('.tp-mic[data-target="prompt"]')) {
      const b = micButton("prompt");
      b.classList.add("tp-mic-prompt");
      area.parentElement.appendChild(b);
    }
  }

  const style = document.createElement("style");
  style.textContent =
    ".tp-mic{cursor:pointer;touch-action:none;user-select:none}" +
    ".tp-mic-on{background:#b91c1c!important;color:#fff!important}" +
    ".tp-mic-prompt{margin-top:4px;padding:2px 10px;border-radius:8px}";
  document.head.appendChild(style);
  new MutationObserver(attach).observe(document.documentElement, { childList: true, subtree: true });
  if (document.readyState !== "loading") attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
