// Polygon editor for privacy masks and recognition zones. Coordinates are kept
// normalised (0..1 of the snapshot's width and height) and drawn in pixels.
"use strict";
(() => {
  const root = document.getElementById("region-editor");
  if (!root) return;
  const SVG = "http://www.w3.org/2000/svg";
  const stage = document.getElementById("stage");
  const img = document.getElementById("snapshot");
  const overlay = document.getElementById("overlay");
  const list = document.getElementById("region-list");
  const status = document.getElementById("save-status");
  const finishButton = document.getElementById("finish");
  let regions = JSON.parse(root.dataset.regions || "[]");
  let drawing = null;   // the region being drawn, or null
  let selected = regions.length ? 0 : -1;
  let drag = null;      // {region, point}

  const clamp = (v) => Math.min(1, Math.max(0, v));
  const size = () => ({ w: overlay.clientWidth || 1, h: overlay.clientHeight || 1 });
  const toNorm = (event) => {
    const box = overlay.getBoundingClientRect();
    return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
  };
  const setStatus = (text, kind) => { status.textContent = text; status.className = "small " + (kind || ""); };

  function element(name, attrs) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
    return node;
  }

  function draw() {
    const { w, h } = size();
    overlay.setAttribute("viewBox", `0 0 ${w} ${h}`);
    overlay.replaceChildren();
    const all = drawing ? regions.concat([drawing]) : regions;
    all.forEach((region, index) => {
      const points = region.polygon.map(([x, y]) => `${x * w},${y * h}`).join(" ");
      const cls = `poly ${region.kind === "privacy_mask" ? "poly-mask" : "poly-zone"}${index === selected ? " poly-selected" : ""}`;
      const shape = region === drawing ? element("polyline", { points, class: cls + " poly-drawing" })
        : element("polygon", { points, class: cls, "data-index": index });
      overlay.appendChild(shape);
      if (index === selected || region === drawing) {
        region.polygon.forEach(([x, y], p) => {
          overlay.appendChild(element("circle", { cx: x * w, cy: y * h, r: 6, class: "handle",
            "data-region": index, "data-point": p }));
        });
      }
    });
    renderList();
  }

  function renderList() {
    list.replaceChildren();
    regions.forEach((region, index) => {
      const item = document.createElement("li");
      item.className = index === selected ? "selected" : "";
      const kind = document.createElement("select");
      [["privacy_mask", "Privacy mask"], ["recognition_zone", "Recognition zone"]].forEach(([value, label]) => {
        const option = new Option(label, value, false, region.kind === value);
        kind.appendChild(option);
      });
      kind.addEventListener("change", () => { region.kind = kind.value; draw(); });
      const name = document.createElement("input");
      name.value = region.name;
      name.setAttribute("aria-label", "region name");
      name.addEventListener("input", () => { region.name = name.value; });
      const pick = document.createElement("button");
      pick.type = "button"; pick.className = "btn btn-ghost"; pick.textContent = `${region.polygon.length} pts`;
      pick.addEventListener("click", () => { selected = index; draw(); });
      const remove = document.createElement("button");
      remove.type = "button"; remove.className = "btn btn-danger"; remove.textContent = "Delete";
      remove.addEventListener("click", () => { regions.splice(index, 1); selected = -1; draw(); });
      item.append(kind, name, pick, remove);
      list.appendChild(item);
    });
  }

  function start(kind) {
    const count = regions.filter((r) => r.kind === kind).length + 1;
    drawing = { id: null, kind, name: `${kind === "privacy_mask" ? "Mask" : "Zone"} ${count}`, polygon: [] };
    selected = -1;
    finishButton.disabled = true;
    stage.classList.add("drawing");
    setStatus("Click to place points; Finish when done.");
    draw();
  }

  function finish() {
    if (!drawing || drawing.polygon.length < 3) return;
    regions.push(drawing);
    selected = regions.length - 1;
    drawing = null;
    finishButton.disabled = true;
    stage.classList.remove("drawing");
    setStatus("Not saved yet.", "warn-text");
    draw();
  }

  overlay.addEventListener("pointerdown", (event) => {
    const target = event.target;
    if (event.button !== 0) return;
    if (drawing) {
      drawing.polygon.push(toNorm(event));
      finishButton.disabled = drawing.polygon.length < 3;
      draw();
      return;
    }
    if (target.classList.contains("handle")) {
      drag = { region: Number(target.dataset.region), point: Number(target.dataset.point) };
      overlay.setPointerCapture(event.pointerId);
      event.preventDefault();
    } else if (target.dataset.index !== undefined) {
      selected = Number(target.dataset.index);
      draw();
    }
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!drag) return;
    regions[drag.region].polygon[drag.point] = toNorm(event);
    draw();
  });
  overlay.addEventListener("pointerup", () => {
    if (drag) setStatus("Not saved yet.", "warn-text");
    drag = null;
  });
  overlay.addEventListener("contextmenu", (event) => {
    const target = event.target;
    if (!target.classList.contains("handle")) return;
    event.preventDefault();
    const region = regions[Number(target.dataset.region)];
    if (region && region.polygon.length > 3) {
      region.polygon.splice(Number(target.dataset.point), 1);
      setStatus("Not saved yet.", "warn-text");
      draw();
    } else {
      setStatus("A polygon keeps at least 3 points; delete the region instead.", "bad-text");
    }
  });
  overlay.addEventListener("dblclick", finish);

  document.getElementById("new-mask").addEventListener("click", () => start("privacy_mask"));
  document.getElementById("new-zone").addEventListener("click", () => start("recognition_zone"));
  finishButton.addEventListener("click", finish);
  document.getElementById("save").addEventListener("click", async () => {
    if (drawing) finish();
    setStatus("Saving…");
    try {
      const response = await fetch(root.dataset.saveUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ regions }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || String(response.status));
      regions = body.regions;
      if (body.request_id) {
        // A mask removed, shrunk or retyped waits for a second administrator: the page
        // lists the request and the editor shows the mask still in force.
        window.location.reload();
        return;
      }
      setStatus(`Saved ${regions.length} region(s).`, "ok-text");
      draw();
    } catch (error) {
      setStatus(`Not saved: ${error.message}`, "bad-text");
    }
  });
  // The still: when it does not come (a camera busy or slow to send a key frame), it is
  // asked for once more, by fetch, which also reads why it failed; the reason is shown
  // with a button to ask again.
  const failure = document.getElementById("snapshot-failure");
  const failureText = document.getElementById("snapshot-error");
  const stillUrl = img.getAttribute("src");
  let shown = null;  // the object URL of a still fetched again
  let fetching = false;
  const showFailure = (reason) => {
    stage.classList.add("no-snapshot");
    failureText.textContent = `No picture from the camera: ${reason.slice(0, 300)}`;
    failure.hidden = false;
    draw();
  };
  async function fetchStill() {
    if (fetching) return;
    fetching = true;
    failure.hidden = true;
    try {
      const response = await fetch(stillUrl, { cache: "no-store" });
      if (!response.ok) {
        showFailure((await response.text()).trim() || `the server answered ${response.status}`);
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      if (shown) URL.revokeObjectURL(shown);
      shown = url;
      img.src = url;
    } catch (error) {
      showFailure(error.message || "the server did not answer");
    } finally {
      fetching = false;
    }
  }
  img.addEventListener("load", () => { stage.classList.remove("no-snapshot"); failure.hidden = true; draw(); });
  img.addEventListener("error", () => {
    if (shown && img.src === shown) showFailure("the picture it sent could not be shown");
    else fetchStill();
  });
  document.getElementById("snapshot-retry").addEventListener("click", fetchStill);
  // A still that failed before this script ran has fired its error already.
  if (img.complete && !img.naturalWidth) fetchStill();
  window.addEventListener("resize", draw);
  draw();
})();
