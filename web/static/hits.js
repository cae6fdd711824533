// Alert queue: refresh every 5 seconds (polling keeps no server thread), and, once the user
// opts in with the page's button, announce alerts that were not on the page before with a
// short tone (made by the Web Audio API: no sound file) and a desktop notification. The
// choice is remembered in this browser (localStorage); CSP allows this same-origin script.
"use strict";
(() => {
  const box = document.getElementById("hit-queue");
  const status = document.getElementById("queue-status");
  const toggle = document.getElementById("notify-toggle");
  if (!box) return;
  const KEY = "sightline.alerts.notify";
  let audio = null;

  const alertRows = () => Array.from(box.querySelectorAll("tr[data-alert-id]"));
  const known = new Set(alertRows().map((row) => row.dataset.alertId));
  const optedIn = () => window.localStorage.getItem(KEY) === "on";

  const showToggle = () => {
    if (!toggle) return;
    const on = optedIn();
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = "Sound and desktop alerts: " + (on ? "on" : "off");
  };

  const tone = () => {
    // Two short beeps at 880 Hz; the context is made on the opt-in click (browsers start
    // audio only after a user gesture) and resumed here in case the tab slept.
    if (!audio) return;
    audio.resume();
    const start = audio.currentTime;
    [0, 0.25].forEach((offset) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, start + offset + 0.18);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.2);
    });
  };

  const announce = (rows) => {
    if (!optedIn() || rows.length === 0) return;
    tone();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    rows.forEach((row) => {
      const lists = row.dataset.lists ? " on " + row.dataset.lists : "";
      const note = new Notification("ALPR alert: " + row.dataset.plate, {
        body: "UNVERIFIED" + lists + ". Confirm through CLETS before any enforcement action.",
        tag: "sightline-alert-" + row.dataset.alertId,
      });
      note.onclick = () => { window.focus(); note.close(); };
    });
  };

  const makeAudio = () => {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !audio) audio = new Context();
  };
  if (optedIn()) {
    // Remembered from an earlier visit: the context starts suspended until the user's
    // first gesture on this page, which resumes it.
    makeAudio();
    const wake = () => { if (audio) audio.resume(); };
    document.addEventListener("pointerdown", wake, { once: true });
    document.addEventListener("keydown", wake, { once: true });
  }

  if (toggle) {
    toggle.addEventListener("click", async () => {
      if (optedIn()) {
        window.localStorage.setItem(KEY, "off");
      } else {
        window.localStorage.setItem(KEY, "on");
        makeAudio();
        if ("Notification" in window && Notification.permission === "default") {
          await Notification.requestPermission();
        }
        tone();  // the user hears what a new alert sounds like
      }
      showToggle();
    });
    showToggle();
  }

  const refresh = async () => {
    try {
      const response = await fetch(box.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected && new URL(response.url).pathname === "/purpose") {
        // The stated purpose ran out: reload, so the page asks for one and comes back here.
        window.location.reload();
        return;
      }
      if (response.redirected || !response.ok) throw new Error(String(response.status));
      box.innerHTML = await response.text();
      const fresh = alertRows().filter((row) => !known.has(row.dataset.alertId)
                                                && row.dataset.state === "open");
      alertRows().forEach((row) => known.add(row.dataset.alertId));
      announce(fresh);
      status.textContent = "live · updated " + new Date().toLocaleTimeString();
      status.classList.remove("stale");
    } catch (error) {
      status.textContent = "not updating (" + error.message + ") · reload the page";
      status.classList.add("stale");
    }
  };
  window.setInterval(refresh, 5000);
})();
