// Copy buttons: <button data-copy="ID" aria-describedby="STATUS-ID"> copies the text of element ID
// and says so in the element it is described by (a role="status" live region), in the words the
// page gives it in its language (data-copied, data-not-copied, data-selected). No inline script.
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
        say(button, button.dataset.copied);
      }, function () {
        say(button, button.dataset.notCopied);
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
    say(button, copied ? button.dataset.copied : button.dataset.selected);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) {
      copy(button);
    }
  });
}());
