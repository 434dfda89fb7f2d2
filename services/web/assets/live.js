/* global document, EventSource */
// The live page: the server's /events stream (Server-Sent Events) keeps the list of analyses current.
// Builds the same markup as pages/live.ts analysisCard, with textContent only (event data is never markup).
"use strict";

(function () {
  var list = document.getElementById("live");
  var empty = document.getElementById("live-empty");
  if (!list || typeof EventSource === "undefined") return;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function name(repo) {
    var seg = repo.replace(/\/+$/, "").split(/[/:]/).pop() || repo;
    return seg.replace(/\.git$/, "") || repo;
  }
  function when(iso) {
    return iso ? iso.slice(0, 16).replace("T", " ") : "";
  }

  function card(a) {
    var pct = Math.round(a.progress * 100);
    var total = a.commits.length || a.completed + a.failed;
    var li = el("li", "card live-card state-" + a.state);
    li.setAttribute("data-repo", a.repo);
    var head = el("div", "live-head");
    var link = el("a", "repo-link", name(a.repo));
    link.href = "/repo?repo=" + encodeURIComponent(a.repo);
    head.appendChild(link);
    head.appendChild(el("span", "pill pill-" + a.state, a.state));
    li.appendChild(head);
    var bar = el("progress", "", pct + "%");
    bar.max = 100;
    bar.value = pct;
    bar.setAttribute("aria-label", "progress of " + name(a.repo));
    li.appendChild(bar);
    var text = pct + "% · " + a.completed + (total ? " of " + total : "") + " commits done";
    if (a.current && a.state === "running") text += " · linting " + a.current.sha.slice(0, 8) + ": " + a.current.done + "/" + a.current.total + " files";
    if (a.failed) text += " · " + a.failed + " failed";
    li.appendChild(el("div", "live-text muted small", text + " · " + when(a.updatedAt)));
    if (a.reason) li.appendChild(el("div", "reason err small", a.reason));
    return li;
  }

  function show(a) {
    var fresh = card(a);
    var old = Array.prototype.find.call(list.children, function (c) {
      return c.getAttribute("data-repo") === a.repo;
    });
    if (old) list.replaceChild(fresh, old);
    else list.insertBefore(fresh, list.firstChild);
    empty.hidden = list.children.length > 0;
  }

  var source = new EventSource("/events");
  // Says the page is listening (tests wait for it before they start an analysis).
  source.addEventListener("open", function () {
    document.body.setAttribute("data-live", "connected");
  });
  source.addEventListener("snapshot", function (e) {
    list.textContent = "";
    JSON.parse(e.data).reverse().forEach(show);
    empty.hidden = list.children.length > 0;
  });
  source.addEventListener("analysis", function (e) {
    show(JSON.parse(e.data));
  });
})();
