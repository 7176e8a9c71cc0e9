// Passkeys on the sign-in screens: "Sign in with a passkey" and the browser's passkey autofill on
// the username field (conditional mediation), or "Use your passkey" at the MFA step.
//
// It talks to our views (signin/passkeys.py) as django-otp-webauthn's own script does: the options
// come from beginAuthenticationUrl, the answer goes to completeAuthenticationUrl, and the reply
// holds redirect_url (where the sign-in goes on) or detail (why it was refused, shown in the page's
// status line). Ours rather than the library's sign-in script: that one reports an autofill request
// cut short by the button or by Next as a console error, and refusals in alert() boxes.

const config = JSON.parse(document.getElementById("otp_webauthn_config").textContent);
const placeholder = document.getElementById("passkey-verification-placeholder");
const said = config.messages; // the status line's words, in the page's language (signin/passkey_page.py)

const fromB64 = (text) => Uint8Array.from(
  atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=")),
  (c) => c.charCodeAt(0));
const toB64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function post(url, body) {
  return fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": config.csrfToken, Accept: "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function requestOptions() {
  const response = await post(config.beginAuthenticationUrl);
  if (!response.ok) throw new Error("options");
  const options = await response.json();
  return {
    challenge: fromB64(options.challenge),
    rpId: options.rpId,
    timeout: options.timeout,
    userVerification: options.userVerification,
    allowCredentials: (options.allowCredentials || []).map((c) => ({...c, id: fromB64(c.id)})),
  };
}

function answerOf(credential) {
  const r = credential.response;
  return {
    id: credential.id, rawId: toB64(credential.rawId), type: credential.type,
    response: {
      authenticatorData: toB64(r.authenticatorData), clientDataJSON: toB64(r.clientDataJSON),
      signature: toB64(r.signature), userHandle: r.userHandle ? toB64(r.userHandle) : undefined,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
}

// Sends the answer; follows redirect_url, or returns the reason it was refused.
async function complete(credential) {
  const response = await post(config.completeAuthenticationUrl, answerOf(credential));
  const reply = (response.headers.get("content-type") || "").includes("application/json")
    ? await response.json() : {};
  if (response.ok && reply.redirect_url) {
    window.location.assign(reply.redirect_url);
    return null;
  }
  return reply.detail || said.notChecked;
}

let autofill = null; // the pending autofill request, cut short when the button is used
let optionsPending = null; // the autofill's request for a challenge, while it is unanswered

// Next waits for the challenge's answer (at most a few seconds): the two requests would otherwise
// race on the browser's session, and the one answered last could undo the other (its cookie, or
// the flow Next saved).
function holdNextForTheChallenge(form) {
  form.addEventListener("submit", (event) => {
    const waiting = optionsPending;
    if (!waiting) return;
    optionsPending = null;
    event.preventDefault();
    const submitter = event.submitter && event.submitter.form === form ? event.submitter : undefined;
    Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 5000))])
      .then(() => form.requestSubmit(submitter));
  });
}

async function startAutofill(field) {
  if (!window.PublicKeyCredential || !PublicKeyCredential.isConditionalMediationAvailable
      || !(await PublicKeyCredential.isConditionalMediationAvailable())) return;
  if (field.form && field.form.dataset.submitting) return; // Next went first: no challenge now
  field.setAttribute("autocomplete", `${field.getAttribute("autocomplete") || "username"} webauthn`);
  autofill = new AbortController();
  try {
    const request = requestOptions();
    const settled = request.then(() => undefined, () => undefined);
    optionsPending = settled;
    settled.then(() => { if (optionsPending === settled) optionsPending = null; });
    if (field.form) holdNextForTheChallenge(field.form);
    const publicKey = await request;
    publicKey.allowCredentials = [];
    const credential = await navigator.credentials.get(
      {publicKey, mediation: "conditional", signal: autofill.signal});
    const refused = credential && await complete(credential);
    if (refused) show(refused, true);
  } catch {
    // Cut short (the button, or Next) or not chosen: the username form goes on as it is.
  }
}

let button = null;
let status = null;

function show(message, isError) {
  status.textContent = message;
  status.dataset.statusEnum = isError ? "server-error" : "busy";
}

async function usePasskey() {
  if (autofill) autofill.abort();
  button.disabled = true;
  show(said.waiting, false);
  let refused;
  try {
    const publicKey = await requestOptions();
    const credential = await navigator.credentials.get({publicKey});
    refused = credential ? await complete(credential) : said.notChosen;
  } catch (error) {
    refused = error && error.name === "NotAllowedError" ? said.notAllowed : said.notUsed;
  }
  button.disabled = false;
  if (refused) {
    show(refused, true);
    button.focus();
  }
}

if (placeholder) {
  const available = Boolean(window.PublicKeyCredential && navigator.credentials);
  const template = document.getElementById(available ? "passkey-verification-available-template"
                                                     : "passkey-verification-unavailable-template");
  placeholder.replaceWith(template.content.cloneNode(true));
  button = document.getElementById("passkey-verification-button");
  status = document.getElementById("passkey-verification-status-message");
  if (button) button.addEventListener("click", usePasskey);
  const field = config.autocompleteLoginFieldSelector
    && document.querySelector(config.autocompleteLoginFieldSelector);
  if (available && field) startAutofill(field);
}
