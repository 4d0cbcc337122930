// navcycle portal, officers' pages: forms whose /v1 route names a base chosen in a select
// (data-action-template with {base}), and the bodies portal.js cannot build from field names
// alone (data-build="extend": the deadline in Beijing time; data-build="reassign": a list).
(function () {
  "use strict";
  const builders = (window.portalBuilders = window.portalBuilders || {});

  function retarget(form) {
    const select = form.querySelector("[data-action-template]");
    if (!select) return;
    const url = select.dataset.actionTemplate.replace("{base}", encodeURIComponent(select.value));
    form.setAttribute("action", url);
  }

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (el instanceof HTMLSelectElement && el.dataset.actionTemplate !== undefined && el.form) {
      retarget(el.form);
    }
  });

  // <input type="datetime-local"> gives "2027-05-01T18:00": the API needs its time zone.
  function beijing(value) {
    if (!value) return "";
    return (value.length === 16 ? value + ":00" : value) + "+08:00";
  }

  builders.extend = (form) => {
    retarget(form);
    return {
      deadline: form.elements.namedItem("deadline").value,
      until: beijing(form.elements.namedItem("until").value),
      reason: form.elements.namedItem("reason").value,
    };
  };

  builders.reassign = (form) => {
    retarget(form);
    const names = form.elements.namedItem("replace").value.split(/[\s,，、]+/).filter(Boolean);
    return { replace: names, reason: form.elements.namedItem("reason").value };
  };
})();
