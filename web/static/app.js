// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
// The menu button: at phone widths the navigation folds away behind it (app.css).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".nav-toggle") : null;
  if (!button) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  document.getElementById(button.getAttribute("aria-controls"))?.classList.toggle("open", open);
});
// A table wider than the screen scrolls sideways inside itself (app.css); one that does
// is made reachable by keyboard and named, so its hidden columns are not out of reach.
const markScrolling = () => {
  document.querySelectorAll("table.table").forEach((table) => {
    const scrolls = table.scrollWidth > table.clientWidth + 1;
    if (scrolls && !table.hasAttribute("tabindex")) {
      table.setAttribute("tabindex", "0");
      table.dataset.scrolls = "yes";
      if (!table.hasAttribute("aria-label") && !table.hasAttribute("aria-labelledby")) {
        const heading = table.closest("section, .card")?.querySelector("h2, h1");
        table.setAttribute("aria-label", (heading ? heading.textContent.trim() + ", " : "") + "table, scrolls sideways");
      }
    } else if (!scrolls && table.dataset.scrolls === "yes") {
      table.removeAttribute("tabindex");
      delete table.dataset.scrolls;
    }
  });
};
document.addEventListener("DOMContentLoaded", markScrolling);
window.addEventListener("resize", markScrolling);
