// navcycle work portal: posts a page's forms to the /v1 API as the signed-in person.
// No framework, no build step. A form opts in with data-api; everything else is plain HTML.
//
//   <form data-api action="/v1/..." data-method="POST" data-next="/portal/...">
//     <input name="scores.patents" type="number"> <p data-error-for="scores.patents"></p>
//     <p role="alert" data-form-error></p> <p role="status" data-form-status></p>
//   </form>
//
// Field names build the JSON body: "a.b" nests, "rows[0].key" makes arrays, type=number sends a
// number (empty: left out), a checkbox sends true/false, data-json on a field parses its value.
// A page may register window.portalBuilders[name](form) -> body and name it in data-build.
// multipart forms (enctype) are sent as they are, with a progress bar (<progress> in the form).
// The session cookie goes with the request; the CSRF token goes in X-CSRF-Token.
// Errors: the problem's code in words (the page's #problem-words), next to the field it names.
(function () {
  "use strict";
  const lang = document.body.dataset.lang || "zh";
  // Problem texts (problem_words.py): per code, a text with {placeholders} first, the plain one last.
  const table = JSON.parse(document.getElementById("problem-words")?.textContent || "{}");
  const words = table.codes || {};
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const say = (zh, en) => (lang === "zh" ? zh : en);
  window.portalBuilders = window.portalBuilders || {};

  function setPath(obj, path, value) {
    const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let at = obj;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
      if (last) { at[part] = value; return; }
      if (at[part] === undefined) at[part] = nextIsIndex ? [] : {};
      at = at[part];
    });
  }

  function formBody(form) {
    if (form.dataset.build && window.portalBuilders[form.dataset.build]) {
      return window.portalBuilders[form.dataset.build](form);
    }
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.name === "csrf_token" || el.type === "submit") continue;
      if ((el.type === "radio") && !el.checked) continue;
      let value = el.value;
      if (el.type === "checkbox") value = el.checked;
      else if (el.type === "number" || el.dataset.number !== undefined) {
        if (value.trim() === "") continue;
        value = Number(value);
      } else if (el.dataset.json !== undefined) {
        if (value.trim() === "") continue;
        value = JSON.parse(value);
      } else if (value === "" && el.dataset.optional !== undefined) continue;
      setPath(body, el.name, value);
    }
    return body;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const alert = form.querySelector("[data-form-error]");
    if (alert) alert.textContent = "";
  }

  // {x} is filled from the problem: x_words[lang], the words of its value, a size, or the value.
  function fieldWords(problem, key) {
    const own = problem[key + "_words"];
    if (own && typeof own === "object" && own[lang]) return String(own[lang]);
    const value = problem[key];
    if (value === undefined || value === null || value === "" || typeof value === "object") return null;
    const named = (table.values || {})[key];
    if (named) return named[value] ?? null;
    if ((table.formats || {})[key] === "bytes" && typeof value === "number") {
      const mb = value / 1048576;
      return mb >= 1 ? `${+mb.toFixed(1)} MB` : `${Math.ceil(value / 1024)} KB`;
    }
    return String(value);
  }

  function problemWords(problem) {
    for (const text of words[problem.code] || []) {
      let whole = true;
      const said = text.replace(/\{(\w+)\}/g, (_, key) => {
        const value = fieldWords(problem, key);
        if (value === null) whole = false;
        return value ?? "";
      });
      if (whole) return said;
    }
    return "";
  }

  function problemText(problem) {
    const said = problemWords(problem);
    return said || problem.detail || problem.title || say("提交失败。", "Not accepted.");
  }

  function showProblem(form, status, problem) {
    const alert = form.querySelector("[data-form-error]");
    let placed = false;
    for (const e of problem.errors || []) {
      const field = String(e.field || "").replace(/^body\./, "");
      const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (slot) {
        const said = problemWords(problem);
        slot.textContent = (said ? said + " " : "") + (e.message || "");
        const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
        if (input) input.setAttribute("aria-invalid", "true");
        placed = true;
      }
    }
    if (problem.field) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(problem.field)}"]`);
      if (slot) { slot.textContent = problemText(problem); placed = true; }
    }
    if (alert && !placed) {
      alert.textContent = problemText(problem);
      if (problem.detail && problemWords(problem)) {
        const small = document.createElement("span");
        small.className = "hint";
        small.textContent = ` (${problem.code}: ${problem.detail})`;
        alert.appendChild(small);
      }
      alert.focus?.();
    }
    form.dispatchEvent(new CustomEvent("portal:problem", { detail: { status, problem } }));
  }

  async function readProblem(text, status) {
    try { return JSON.parse(text); } catch (_) {
      return { code: status >= 500 ? "internal_error" : "bad_request", detail: text.slice(0, 200) };
    }
  }

  function send(form, method, url, body, isMultipart) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      const idem = form.dataset.idempotency;
      if (idem) xhr.setRequestHeader("Idempotency-Key", idem);
      const bar = form.querySelector("progress");
      if (isMultipart && bar) {
        bar.value = 0;
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      }
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => resolve({ status: 0, text: "" });
      if (isMultipart) xhr.send(body);
      else {
        xhr.setRequestHeader("Content-Type", "application/json");
        xhr.send(JSON.stringify(body));
      }
    });
  }

  async function submit(form, event) {
    event.preventDefault();
    if (!form.reportValidity()) return;
    clearErrors(form);
    const status = form.querySelector("[data-form-status]");
    const button = form.querySelector('[type="submit"]');
    if (button) button.disabled = true;
    if (status) status.textContent = say("正在提交……", "Sending…");
    const multipart = form.enctype === "multipart/form-data";
    let body;
    try {
      body = multipart ? new FormData(form) : formBody(form);
      if (multipart) body.delete("csrf_token");
    } catch (err) {
      showProblem(form, 400, { code: "invalid_request", detail: String(err) });
      if (button) button.disabled = false;
      if (status) status.textContent = "";
      return;
    }
    const method = (form.dataset.method || "POST").toUpperCase();
    const url = form.getAttribute("action");
    const answer = await send(form, method, url, body, multipart);
    if (button) button.disabled = false;
    if (answer.status >= 200 && answer.status < 300) {
      if (status) status.textContent = say("已提交。", "Done.");
      let data = null;
      try { data = JSON.parse(answer.text); } catch (_) { data = null; }
      form.dispatchEvent(new CustomEvent("portal:done", { detail: data }));
      if (form.dataset.next) window.location.assign(form.dataset.next);
      else if (form.dataset.stay === undefined) window.location.reload();
      return;
    }
    if (status) status.textContent = "";
    if (answer.status === 401) {
      // Back to this very page after signing in, and the sign-in page says why (e.g. idle).
      const why = (await readProblem(answer.text, 401)).code || "unauthenticated";
      const back = encodeURIComponent(location.pathname + location.search);
      window.location.assign(`/portal/signin?next=${back}&reason=${encodeURIComponent(why)}`);
      return;
    }
    const problem = answer.status === 0
      ? { code: "service_unavailable", detail: say("网络中断。", "The connection failed.") }
      : await readProblem(answer.text, answer.status);
    showProblem(form, answer.status, problem);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.api !== undefined) submit(form, event);
  });

  // A document shown in the page only when asked for (<button data-show-frame>): a PDF viewer
  // takes the keyboard focus when it has loaded, so a frame loading by itself took the keys of
  // an officer already typing a comment (the rest of the comment went into the viewer).
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-show-frame]");
    if (!button) return;
    const slot = document.getElementById(button.dataset.slot || "");
    if (!slot) return;
    const frame = document.createElement("iframe");
    frame.id = button.dataset.frameId || "";
    frame.className = button.dataset.frameClass || "";
    frame.title = button.dataset.frameTitle || "";
    frame.addEventListener("load", () => { frame.dataset.loaded = "1"; });
    frame.src = button.dataset.showFrame;
    slot.replaceChildren(frame);
    button.remove();
  });

  window.portal = { formBody, showProblem, clearErrors, say, lang };
})();
