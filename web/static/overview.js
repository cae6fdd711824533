// Overview: refresh the live part (status, cameras, hits, reads) every few seconds by
// fetching its HTML fragment; polling keeps no server thread. Images already shown
// (camera stills, plate crops) are kept rather than fetched again: each fetch of one is
// a logged view, and a camera still is a trip to the camera.
"use strict";
(() => {
  const box = document.getElementById("overview-live");
  const status = document.getElementById("overview-status");
  if (!box) return;
  const every = Math.max(5, Number(box.dataset.every) || 10) * 1000;
  const noStill = (event) => {
    const img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.classList.contains("cam-thumb")) return;
    const note = document.createElement("p");
    note.className = "cam-thumb cam-thumb-missing muted small";
    note.id = img.id;
    note.textContent = "No still: the camera did not answer.";
    img.replaceWith(note);
  };
  box.addEventListener("error", noStill, true);
  const refresh = async () => {
    try {
      const response = await fetch(box.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected) {
        // Signed out, or the session ended: reload, so the page says why.
        window.location.reload();
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      const next = document.createElement("div");
      next.innerHTML = await response.text();
      const shown = new Map();
      box.querySelectorAll("[data-keep], .cam-thumb-missing").forEach((el) => shown.set(el.id, el));
      next.querySelectorAll("img[data-keep]").forEach((img) => {
        const old = shown.get(img.id);
        if (old) img.replaceWith(old);
      });
      box.replaceChildren(...next.childNodes);
      status.textContent = "live · updated " + new Date().toLocaleTimeString();
      status.classList.remove("stale");
    } catch (error) {
      status.textContent = "not updating (" + error.message + ") · reload the page";
      status.classList.add("stale");
    }
  };
  window.setInterval(refresh, every);
})();
