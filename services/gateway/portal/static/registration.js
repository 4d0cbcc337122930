// Registration page (registration_bases.html), for a program with kinds of participant:
// - the kind selector shows the chosen kind's conditions and declarations and enables only its
//   controls, so portal.js sends that kind's declarations and no other's;
// - an evidence file is read in the browser and its SHA-256 goes in the declaration's evidence
//   reference (what POST /v1/programs/{p}/bases takes); the file itself is not uploaded;
// - a not_eligible refusal lists each unmet condition in the page's language.
(function () {
  "use strict";

  // Each reason of a refusal in the page's language (the API gives message and message_zh).
  function reasonWords(problem, lang) {
    return (problem.reasons || []).map((r) => (lang === "zh" ? r.message_zh || r.message : r.message));
  }

  function chooseKind(form, kind) {
    form.querySelectorAll("fieldset[data-kind]").forEach((set) => {
      const on = set.dataset.kind === kind;
      set.hidden = !on;
      set.disabled = !on;
      set.querySelectorAll("input, select, textarea").forEach((el) => { el.disabled = !on; });
    });
  }

  async function sha256(file) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  window.registrationReasons = reasonWords;

  if (typeof document === "undefined" || !document.getElementById) return;
  const form = document.getElementById("register-base");
  const select = document.getElementById("reg-kind");
  if (!form || !select) return;
  const lang = document.body.dataset.lang || "zh";
  select.addEventListener("change", () => chooseKind(form, select.value));
  chooseKind(form, select.value);

  form.addEventListener("change", async (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.evidenceFor) return;
    const ref = document.getElementById(input.dataset.evidenceFor);
    const file = input.files && input.files[0];
    if (!ref || !file) return;
    try {
      ref.value = await sha256(file);
    } catch (_) {
      // No SubtleCrypto (a page not served over HTTPS): the document id is typed instead.
      ref.value = "";
      ref.focus();
    }
  });

  const reasons = document.getElementById("register-reasons");
  form.addEventListener("portal:problem", (event) => {
    if (!reasons) return;
    const list = reasons.querySelector("ul");
    list.textContent = "";
    const said = reasonWords(event.detail.problem || {}, lang);
    said.forEach((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
    reasons.hidden = said.length === 0;
  });
  form.addEventListener("submit", () => { if (reasons) reasons.hidden = true; });
})();
