// Copy buttons: <button data-copy="ID" aria-describedby="STATUS-ID"> copies the text of element ID
// and says so in the element it is described by (a role="status" live region). No inline script.
(function () {
  "use strict";

  function say(button, words) {
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (status) {
      status.textContent = words;
    }
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        say(button, "Copied.");
      }, function () {
        say(button, "Could not copy: select the text and copy it.");
      });
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(button, copied ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) {
      copy(button);
    }
  });
}());
