// Behaviour every form page shares; each page works in full without it.
//  - A show/hide button beside each password field (rendered hidden by the server: without this
//    script the field stays a plain password box). aria-pressed tells its state.
//  - Enter on a drop-down submits its form, as Enter in a text box does.
//  - A submitted form refuses a second submission, and its button shows progress (aria-disabled,
//    not disabled: a disabled button's name=value would no longer be posted). A button with
//    data-progress says it in the page's status region ("Redirecting to Okta…"). Coming back with
//    the browser's Back button (page cache) makes the form usable again.
//  - The error summary after a refused answer has the focus: autofocus gives it where the browser
//    honours it, this where it skipped it (Chromium skips autofocus after a key press or focus
//    change while the page loads).
//  - A sign-in step's form asks for the next step's page in the reply to its POST (in_place=1),
//    which saves the browser a redirect and the server a request; that page names its own URL
//    (data-page-url), put in the address bar here, so Reload and Back ask for it with a GET and
//    never post again. Without this script every step's POST answers with a redirect, as before.
(function () {
  "use strict";

  var pageUrl = document.body.dataset.pageUrl;
  if (pageUrl && window.history.replaceState) window.history.replaceState(null, "", pageUrl);

  function setUpToggle(button) {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    // Never post or autofill a password as plain text: hidden again before the form leaves.
    if (input.form) input.form.addEventListener("submit", function () {
      input.type = "password";
      button.setAttribute("aria-pressed", "false");
    });
  }

  function status() {
    return document.querySelector("[data-progress-status]");
  }

  function onSubmit(event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    if (form.elements.flow && !form.elements.in_place) {
      var inPlace = document.createElement("input");
      inPlace.type = "hidden";
      inPlace.name = "in_place";
      inPlace.value = "1";
      form.appendChild(inPlace);
    }
    var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (button) {
      button.setAttribute("aria-disabled", "true");
      button.classList.add("is-busy");
      var message = button.dataset.progress;
      var region = status();
      if (message && region) region.textContent = message;
    }
  }

  function reset() {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
    });
    document.querySelectorAll(".is-busy").forEach(function (button) {
      button.classList.remove("is-busy");
      button.removeAttribute("aria-disabled");
    });
    var region = status();
    if (region) region.textContent = "";
  }

  // Enter on a drop-down submits its form, as it does in a text box ("Multiple accounts located").
  function onKeydown(event) {
    var target = event.target;
    if (event.key !== "Enter" || target.tagName !== "SELECT" || !target.form) return;
    if (target.form.method.toLowerCase() !== "post" || target.multiple) return;
    event.preventDefault();
    target.form.requestSubmit();
  }

  document.querySelectorAll("[data-password-toggle]").forEach(setUpToggle);
  var summary = document.querySelector(".error-summary[autofocus]");
  if (summary && document.activeElement !== summary) summary.focus();
  document.addEventListener("keydown", onKeydown);
  document.addEventListener("submit", onSubmit);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) reset();
  });
})();
