// Live view: receive the camera's masked video over WebRTC (the server answers our offer).
"use strict";
(() => {
  const box = document.getElementById("live");
  if (!box) return;
  const video = document.getElementById("live-video");
  const status = document.getElementById("live-status");
  const say = (text, live) => { status.textContent = text; status.classList.toggle("stale", !live); };
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addEventListener("track", (event) => {
    video.srcObject = event.streams[0] || new MediaStream([event.track]);
  });
  pc.addEventListener("connectionstatechange", () => {
    const state = pc.connectionState;
    say(state === "connected" ? "live" : state, state === "connected");
  });
  const gathered = () => new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    window.setTimeout(resolve, 3000);
  });
  (async () => {
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered();
      const response = await fetch(box.dataset.offerUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, type: pc.localDescription.type }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || String(response.status));
      await pc.setRemoteDescription(answer);
    } catch (error) {
      say("no video: " + error.message, false);
    }
  })();
  window.addEventListener("pagehide", () => pc.close());
})();
