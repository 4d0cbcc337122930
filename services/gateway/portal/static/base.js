// navcycle portal, base pages: the target table editor, actuals with their completion, and
// drag-and-drop file fields. portal.js posts the forms (multipart, with a progress bar); this
// file keeps the hidden JSON fields (targets, actuals) current and checks the rows as the person
// types, with the rules the API applies to FilePlan.targets:
//   key 1-64 characters, unique; name 1-200; target a finite number; unit at most 32; <= 200 rows.
(function () {
  "use strict";
  const W = JSON.parse(document.getElementById("base-words")?.textContent || "{}");
  const say = (key, fmt) => String(W[key] || key).replace(/\{(\w+)\}/g, (_, k) => (fmt && k in fmt ? fmt[k] : ""));
  const MAX_ROWS = 200;

  // ------------------------------------------------------------------ targets (plan form)
  const planForm = document.getElementById("plan-form");
  function rows() { return Array.from(document.querySelectorAll("#targets-rows tr[data-target-row]")); }

  function renumber() {
    rows().forEach((tr, i) => {
      const n = i + 1;
      tr.querySelectorAll("[data-field]").forEach((input) => {
        const f = input.dataset.field;
        input.id = `target-${n}-${f}`;
        input.setAttribute("aria-describedby", `target-${n}-${f}-error`);
        const label = tr.querySelector(`label[data-label="base.col.${f}"]`);
        if (label) { label.htmlFor = input.id; label.textContent = `${say("base.col." + f)} · ${say("base.col.row", { n })}`; }
        const err = tr.querySelector(`[data-row-error="${f}"]`);
        if (err) err.id = `target-${n}-${f}-error`;
      });
      const remove = tr.querySelector("[data-remove-row]");
      if (remove) remove.textContent = say("base.row.remove", { n });
    });
  }

  function readRow(tr) {
    const get = (f) => tr.querySelector(`[data-field="${f}"]`);
    return { key: get("key").value.trim(), name: get("name").value.trim(),
             target: get("target").value.trim(), unit: get("unit").value.trim() };
  }

  // Problems of each row, by field; the whole table's problem (too many rows) under "".
  function checkTargets() {
    const all = rows().map(readRow);
    const counts = {};
    all.forEach((r) => { if (r.key) counts[r.key] = (counts[r.key] || 0) + 1; });
    const problems = all.map((r) => {
      const p = {};
      if (!r.key || r.key.length > 64) p.key = say("base.v.key");
      else if (counts[r.key] > 1) p.key = say("base.v.key.dup");
      if (!r.name || r.name.length > 200) p.name = say("base.v.name");
      if (r.target === "" || !Number.isFinite(Number(r.target))) p.target = say("base.v.target");
      if (r.unit.length > 32) p.unit = say("base.v.unit");
      return p;
    });
    return { all, problems, tooMany: all.length > MAX_ROWS };
  }

  function showTargets(touchedOnly) {
    const { all, problems, tooMany } = checkTargets();
    rows().forEach((tr, i) => {
      ["key", "name", "target", "unit"].forEach((f) => {
        const input = tr.querySelector(`[data-field="${f}"]`);
        const slot = tr.querySelector(`[data-row-error="${f}"]`);
        const shown = !touchedOnly || input.dataset.touched !== undefined;
        const text = shown ? (problems[i][f] || "") : "";
        slot.textContent = text;
        if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      });
    });
    const tableError = document.getElementById("targets-error");
    if (tableError) tableError.textContent = tooMany ? say("base.v.rows") : "";
    const hidden = document.getElementById("plan-targets");
    if (hidden) {
      hidden.value = JSON.stringify(all.map((r) => {
        const t = { key: r.key, name: r.name, target: Number(r.target) };
        if (r.unit) t.unit = r.unit;
        return t;
      }));
    }
    return !tooMany && problems.every((p) => Object.keys(p).length === 0);
  }

  function addRow() {
    const tpl = document.getElementById("target-row-template");
    const body = document.getElementById("targets-rows");
    if (!tpl || !body) return;
    if (rows().length >= MAX_ROWS) { showTargets(false); return; }
    body.appendChild(tpl.content.cloneNode(true));
    renumber();
    showTargets(true);
    const last = rows().at(-1);
    last?.querySelector('[data-field="key"]')?.focus();
  }

  if (planForm) {
    document.getElementById("add-target")?.addEventListener("click", addRow);
    document.getElementById("targets-rows")?.addEventListener("click", (e) => {
      const button = e.target.closest("[data-remove-row]");
      if (!button) return;
      const tr = button.closest("tr");
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      renumber();
      showTargets(true);
      (next?.querySelector("[data-remove-row]") || document.getElementById("add-target"))?.focus();
    });
    planForm.addEventListener("input", (e) => {
      if (e.target.dataset?.field) { e.target.dataset.touched = ""; showTargets(true); }
    });
    planForm.addEventListener("focusout", (e) => {
      if (e.target.dataset?.field) { e.target.dataset.touched = ""; showTargets(true); }
    });
    // Runs before portal.js (which listens on the document): an invalid table is not sent.
    planForm.addEventListener("submit", (e) => {
      if (!showTargets(false)) {
        e.preventDefault();
        e.stopPropagation();
        const alert = planForm.querySelector("[data-form-error]");
        if (alert) { alert.textContent = say("base.v.fix"); alert.focus(); }
        planForm.querySelector('[aria-invalid="true"]')?.focus();
      }
    });
    renumber();
    showTargets(true);
  }

  // ------------------------------------------------------------- actuals (self-evaluation)
  const selfForm = document.getElementById("selfeval-form");
  function completionText(actual, target) {
    if (actual === "" || !Number.isFinite(Number(actual))) return say("base.completion.none");
    const a = Number(actual), t = Number(target);
    const rate = t === 0 ? (a >= 0 ? 1 : 0) : a / t;  // as the review computes it
    return (Math.round(rate * 10000) / 100).toFixed(1) + "%";
  }
  function showActuals() {
    const actuals = {};
    let ok = true;
    document.querySelectorAll("#actuals-table tr[data-actual-row]").forEach((tr) => {
      const input = tr.querySelector("[data-actual-key]");
      const out = tr.querySelector("[data-completion]");
      const slot = tr.querySelector('[data-row-error="actual"]');
      const raw = input.value.trim();
      const bad = raw !== "" && !Number.isFinite(Number(raw));
      if (bad) ok = false;
      slot.textContent = bad ? say("base.v.actual") : "";
      if (bad) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      out.textContent = completionText(raw, tr.dataset.target);
      if (raw !== "" && !bad) actuals[input.dataset.actualKey] = Number(raw);
    });
    const hidden = document.getElementById("selfeval-actuals");
    if (hidden) hidden.value = JSON.stringify(actuals);
    return ok;
  }
  if (selfForm) {
    selfForm.addEventListener("input", showActuals);
    selfForm.addEventListener("submit", (e) => {
      if (!showActuals()) {
        e.preventDefault();
        e.stopPropagation();
        const alert = selfForm.querySelector("[data-form-error]");
        if (alert) { alert.textContent = say("base.v.fix"); alert.focus(); }
      }
    });
    showActuals();
  }

  // ------------------------------------------------------------------ drag-and-drop files
  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = document.getElementById(zone.dataset.dropzone);
    const chosen = zone.querySelector(`[data-chosen-for="${zone.dataset.dropzone}"]`);
    if (!input) return;
    const show = () => {
      const f = input.files && input.files[0];
      if (chosen) chosen.textContent = f ? `${say("base.file.chosen")}${f.name} (${Math.ceil(f.size / 1024)} KB)` : "";
    };
    input.addEventListener("change", show);
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
})();
