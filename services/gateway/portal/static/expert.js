// navcycle work portal, the expert's score form: the weighted total as the expert types, each
// score checked against 0..maximum, the submit button enabled only when every score is valid,
// and the JSON body the scores route takes ({scores, vetoes, comment}).
//
// The total is computed as shared/domain/grading.py computes it from one sheet: each score
// rounded half up to the rubric's decimals (the "average" of one sheet), then the sum (points
// scale) or the weighted mean (percent scale), rounded half up again. Exact decimal arithmetic
// (BigInt) on what was typed, so 2.675 rounds to 2.68 here as it does on the server.
(function () {
  "use strict";
  // A non-negative decimal as {n, scale}: value = n / 10^scale. null if not such a number.
  function parseDec(text) {
    const s = String(text).trim().toLowerCase();
    if (!/^\d+(\.\d+)?(e[-+]?\d+)?$/.test(s) && !/^\.\d+$/.test(s)) return null;
    const [mant, exp] = s.split("e");
    const [ip, fp = ""] = mant.split(".");
    let n = BigInt((ip || "0") + fp);
    let sc = fp.length - Number(exp || 0);
    if (sc < 0) { n *= 10n ** BigInt(-sc); sc = 0; }
    return { n, scale: sc };
  }
  // n at exactly `digits` decimals, rounded half up (values are never negative here).
  function at(d, digits) {
    if (d.scale <= digits) return d.n * 10n ** BigInt(digits - d.scale);
    const div = 10n ** BigInt(d.scale - digits);
    return (d.n * 2n + div) / (2n * div);
  }
  function show(n, digits) {
    const neg = n < 0n;
    let s = (neg ? -n : n).toString().padStart(digits + 1, "0");
    if (digits > 0) s = s.slice(0, -digits) + "." + s.slice(-digits);
    return String(Number((neg ? "-" : "") + s)); // 84.50 -> "84.5", as the server shows it
  }
  // The total of one sheet: scores and weights as typed (strings), on the rubric's scale.
  function totalOf(scores, weights, scale, decimals) {
    const averages = scores.map((s, i) => ({ avg: at(parseDec(s), decimals), w: weights[i] }));
    let result;
    if (scale === "points") {
      result = averages.reduce((sum, a) => sum + a.avg, 0n); // already at `decimals`
    } else {
      const W = 20; // weights to 20 places: exact for any weight a rules file states
      const num = averages.reduce((sum, a) => sum + a.avg * at(parseDec(a.w), W), 0n);
      const den = averages.reduce((sum, a) => sum + at(parseDec(a.w), W), 0n);
      // num / den is at `decimals` places already; half up on the remainder.
      result = den === 0n ? 0n : (num * 2n + den) / (2n * den);
    }
    return show(result, decimals);
  }
  window.expertScoreTotal = totalOf; // checked against shared/domain/grading.py by a unit test

  const form = document.getElementById("score-form");
  if (!form) return;
  const decimals = Number(form.dataset.decimals || "2");
  const scale = form.dataset.scale || "points";
  const inputs = Array.from(form.querySelectorAll("input[data-score]"));
  // Indicators scored from targets: computed by the cycle, shown, counted, never sent.
  const computed = Array.from(form.querySelectorAll("output[data-computed]"));
  const total = document.getElementById("score-total");
  const ready = document.getElementById("score-ready");
  const button = document.getElementById("score-submit");
  const touched = new Set();

  function check(input) {
    const d = parseDec(input.value);
    const max = parseDec(input.dataset.max);
    if (d === null || at(d, 20) > at(max, 20)) return null;
    return d;
  }
  function say(input) {
    return (form.dataset.range || "")
      .replace("{name}", input.dataset.name || input.dataset.key)
      .replace("{max}", input.dataset.max);
  }

  function update() {
    let allValid = true;
    const typed = [];
    for (const input of inputs) {
      const d = input.value.trim() === "" ? null : check(input);
      const slot = form.querySelector(`[data-error-for="${CSS.escape(input.name)}"]`);
      const bad = d === null && (input.value.trim() !== "" || touched.has(input));
      if (slot) slot.textContent = bad ? say(input) : "";
      if (bad) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (d === null) { allValid = false; continue; }
      typed.push(input.value.trim());
    }
    if (allValid && inputs.length + computed.length > 0) {
      const weights = inputs.map((input) => input.dataset.weight || "1");
      for (const out of computed) {
        typed.push(out.dataset.value);
        weights.push(out.dataset.weight || "1");
      }
      total.value = totalOf(typed, weights, scale, decimals);
      total.textContent = total.value;
    } else {
      total.value = "—";
      total.textContent = "—";
    }
    button.disabled = !allValid;
    ready.textContent = allValid ? ready.dataset.ready : ready.dataset.incomplete;
    form.dataset.valid = allValid ? "true" : "false";
  }

  inputs.forEach((input) => {
    input.addEventListener("input", update);
    input.addEventListener("blur", () => { touched.add(input); update(); });
  });

  window.portalBuilders = window.portalBuilders || {};
  window.portalBuilders["expert-scores"] = function (f) {
    const scores = {};
    f.querySelectorAll("input[data-score]").forEach((el) => {
      scores[el.dataset.key] = Number(el.value);
    });
    const vetoes = Array.from(f.querySelectorAll("input[data-veto]:checked")).map((el) => el.value);
    const comment = f.querySelector('[name="comment"]')?.value || "";
    return { scores, vetoes, comment };
  };
  window.expertTotal = update; // the browser test may call it after filling fields by script
  update();
})();
