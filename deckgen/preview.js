/* deckgen preview: night and phone switches (remembered, or set by ?night=1&phone=1) and the index's filter. */
(function () {
  var root = document.documentElement, params = new URLSearchParams(location.search);
  function store(name, value) { try { localStorage.setItem("deckgen-preview-" + name, value); } catch (e) {} }
  function stored(name) { try { return localStorage.getItem("deckgen-preview-" + name); } catch (e) { return null; } }
  function set(name, on) {
    root.classList.toggle("pv-" + name, on);
    if (name === "night") {
      document.querySelectorAll(".card").forEach(function (card) {
        card.classList.toggle("nightMode", on);
        card.classList.toggle("night_mode", on);
      });
    }
    document.querySelectorAll('[data-pv-toggle="' + name + '"]').forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  ["night", "phone"].forEach(function (name) {
    var asked = params.get(name), on = asked !== null ? asked === "1" : stored(name) === "1";
    set(name, on);
    document.querySelectorAll('[data-pv-toggle="' + name + '"]').forEach(function (b) {
      b.addEventListener("click", function () {
        var now = !root.classList.contains("pv-" + name);
        set(name, now);
        store(name, now ? "1" : "0");
      });
    });
  });
  var q = document.getElementById("pv-q");
  if (!q) return;
  var bucket = document.getElementById("pv-bucket"), difficulty = document.getElementById("pv-difficulty");
  var items = Array.prototype.slice.call(document.querySelectorAll(".pv-list li"));
  var count = document.getElementById("pv-count");
  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    items.forEach(function (li) {
      var ok = terms.every(function (t) { return li.dataset.search.indexOf(t) >= 0; })
        && (!bucket.value || (" " + li.dataset.buckets + " ").indexOf(" " + bucket.value + " ") >= 0)
        && (!difficulty.value || li.dataset.difficulty === difficulty.value);
      li.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll(".pv-group").forEach(function (g) {
      g.hidden = !g.querySelector(".pv-list li:not([hidden])");
    });
    count.textContent = shown + " of " + items.length + " notes";
  }
  if (params.get("q")) q.value = params.get("q");
  [q, bucket, difficulty].forEach(function (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); });
  window.addEventListener("pageshow", apply);
  apply();
})();
