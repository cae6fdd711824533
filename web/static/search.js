// Search form: show only the fields of the chosen search type.
"use strict";
(() => {
  const form = document.getElementById("search-form");
  if (!form) return;
  const sync = () => {
    const checked = form.querySelector("input[name=mode]:checked");
    const mode = checked ? checked.value : "exact";
    form.querySelectorAll("fieldset[data-modes]").forEach((set) => {
      set.hidden = !set.dataset.modes.split(" ").includes(mode);
    });
  };
  form.addEventListener("change", sync);
  sync();
})();
