// Once django-otp-webauthn's script has added the passkey, go back to the list, which says so.
document.addEventListener("otp_webauthn.register_complete", () => {
  const list = document.getElementById("passkey-added-url");
  window.location.assign(list ? list.href : "/me/passkeys/");
});
