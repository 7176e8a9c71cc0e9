// Ticks the rules listed beside a new-password field as the user types. The server renders the
// list, with what a submitted password met, so it is complete without this script; the server
// checks every rule again on submit. Rules it alone can check (the blocklist) stay neutral here.
(function () {
  "use strict";

  var STATE_TEXT = { true: "Done: ", false: "Not yet: ", null: "" };

  function normalise(value) {
    return value.normalize("NFKC").toLowerCase().trim();
  }

  function check(item, password, confirmation) {
    if (!password) return null;
    switch (item.dataset.rule) {
      case "length": {
        var length = Array.from(password).length; // code points, as the server counts them
        return length >= Number(item.dataset.min) && length <= Number(item.dataset.max);
      }
      case "context": {
        var candidate = normalise(password);
        return !JSON.parse(item.dataset.words || "[]").some(function (word) {
          return candidate.indexOf(word) !== -1;
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
    if (state) state.textContent = STATE_TEXT[met];
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
