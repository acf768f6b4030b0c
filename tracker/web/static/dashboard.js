// Participant table: filter and sort in place (the links work without JavaScript too).
"use strict";
(function () {
  const table = document.getElementById("participants");
  if (!table) return;
  const body = table.tBodies[0];
  const shown = document.getElementById("shown-count");

  function applyFilter(key) {
    let n = 0;
    for (const row of body.rows) {
      const keep = key === "all" || row.dataset.categories.split(" ").includes(key);
      row.hidden = !keep;
      if (keep) n += 1;
    }
    if (shown) shown.textContent = String(n);
    for (const link of document.querySelectorAll("[data-filter]")) {
      if (link.dataset.filter === key) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  function sortBy(header) {
    const index = Array.prototype.indexOf.call(header.parentNode.children, header);
    const descending = header.getAttribute("aria-sort") === "ascending";
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = a.cells[index].dataset.value || "";
      const y = b.cells[index].dataset.value || "";
      if (!x !== !y) return x ? -1 : 1; // empty cells last
      const c = x.localeCompare(y, undefined, { sensitivity: "base", numeric: true });
      return descending ? -c : c;
    });
    for (const row of rows) body.appendChild(row);
    for (const th of header.parentNode.children) th.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-filter], a[data-sort]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    const url = new URL(window.location.href);
    if (link.dataset.filter) {
      applyFilter(link.dataset.filter);
      url.searchParams.set("filter", link.dataset.filter);
      if (link.dataset.filter === "all") url.searchParams.delete("filter");
    } else {
      sortBy(link.closest("th"));
      url.searchParams.set("sort", link.dataset.sort);
    }
    history.replaceState(null, "", url.href);
  });
})();
