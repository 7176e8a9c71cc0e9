// Ticks the rules listed beside a new-password field as the user types. The server renders the
// list, with what a submitted password met, so it is complete without this script; the server
// checks every rule again on submit. Rules it alone can check (the blocklist) stay neutral here.
(function () {
  "use strict";

  function normalise(value) {
    return value.normalize("NFKC").toLowerCase(); // never trimmed: spaces are part of a password
  }

  // Characters as the user sees them (grapheme clusters of the NFKC form), as the server counts
  // them; browsers without Intl.Segmenter count code points.
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function visibleLength(value) {
    var text = value.normalize("NFKC");
    if (!segmenter) return Array.from(text).length;
    var count = 0;
    for (var iterator = segmenter.segment(text)[Symbol.iterator](); !iterator.next().done;) count++;
    return count;
  }

  function check(item, password, confirmation) {
    if (!password) return null;
    switch (item.dataset.rule) {
      case "length": {
        var length = visibleLength(password);
        return length >= Number(item.dataset.min) && length <= Number(item.dataset.max);
      }
      case "context": {
        // Look-alikes are compared folded ("rn" looks like "m"). The server sends the folding of
        // ASCII only; other scripts are folded by the server alone: beyond ASCII, neutral.
        if (/[^\x00-\x7f]/.test(password)) return null;
        var folding = JSON.parse(item.dataset.fold || "{}");
        var fold = function (text) {
          return Array.from(normalise(text)).map(function (c) { return folding[c] || c; }).join("");
        };
        var candidate = fold(password);
        return !JSON.parse(item.dataset.words || "[]").some(function (word) {
          return candidate.indexOf(fold(word)) !== -1;
        });
      }
      case "match":
        return confirmation === "" ? null : password === confirmation;
      default:
        return null;
    }
  }

  function show(item, met) {
    item.classList.toggle("is-met", met === true);
    item.classList.toggle("is-unmet", met === false);
    var state = item.querySelector("[data-rule-state]");
    // The words are the page's, in its language: data-done and data-not-yet on the list.
    var words = item.closest("[data-password-rules]").dataset;
    if (state) state.textContent = met === null ? "" : (met ? words.done : words.notYet) + " ";
  }

  function wire(list) {
    var password = document.getElementById(list.dataset.password);
    var confirmation = document.getElementById(list.dataset.confirm);
    if (!password) return;
    function update() {
      list.querySelectorAll("[data-rule]").forEach(function (item) {
        show(item, check(item, password.value, confirmation ? confirmation.value : ""));
      });
    }
    password.addEventListener("input", update);
    if (confirmation) confirmation.addEventListener("input", update);
  }

  document.querySelectorAll("[data-password-rules]").forEach(wire);
})();
