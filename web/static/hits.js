// Hits queue: refresh the unverified list every 5 seconds (polling keeps no server thread).
"use strict";
(() => {
  const box = document.getElementById("hit-queue");
  const status = document.getElementById("queue-status");
  if (!box) return;
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
      status.textContent = "live · updated " + new Date().toLocaleTimeString();
      status.classList.remove("stale");
    } catch (error) {
      status.textContent = "not updating (" + error.message + ") · reload the page";
      status.classList.add("stale");
    }
  };
  window.setInterval(refresh, 5000);
})();
