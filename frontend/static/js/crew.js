// The creators of a co-created draft in the studio: find creators by name (GET /api/creators), add them with a
// share and a role, remove them; the total of the shares is shown live and must be 100 %, each field is checked
// next to it before the form is sent. The server checks everything again (and without JavaScript the form still
// posts). Messages come from data-msg-* attributes (rendered in the page's language).

const lang = document.documentElement.lang || "en";
const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 2 });
const SHARE = /^\d{1,3}([.,]\d{1,2})?$/;

function shareBps(raw) {
  const text = raw.replace(/[%\s\u00a0\u202f]/g, "");
  if (!SHARE.test(text)) return null;
  const bps = Math.round(Number(text.replace(",", ".")) * 100);
  return bps > 0 && bps <= 10000 ? bps : null;
}

function setupCrew(form) {
  const msg = (name, values = {}) =>
    Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), form.dataset[name] || "");
  const rows = form.querySelector("[data-crew-rows]");
  const total = form.querySelector("[data-crew-total]");
  const formError = form.querySelector("[data-crew-error]");
  const search = form.querySelector("[data-crew-search]");
  const results = form.querySelector("[data-crew-results]");
  const template = form.querySelector("[data-crew-template]");
  let searchTimer = null;
  let searchSeq = 0;

  const fieldError = (input, text) => {
    const el = input.closest(".field").querySelector(".field-error");
    el.textContent = text || "";
    el.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };

  function sum() {
    let bps = 0;
    let valid = true;
    for (const input of rows.querySelectorAll("input[name=share]")) {
      const value = shareBps(input.value);
      if (value === null) valid = false;
      else bps += value;
    }
    total.textContent = msg("msgTotal", { percent: percent.format(bps / 10000) });
    const ok = valid && bps === 10000;
    total.classList.toggle("crew-total-off", !ok);
    if (!ok && valid) total.textContent += ` — ${msg("msgSum")}`;
    return ok;
  }

  function check(showAll) {
    let fine = true;
    for (const input of rows.querySelectorAll("input[name=share]")) {
      const bad = shareBps(input.value) === null;
      if (bad) fine = false;
      if (showAll || input.value) fieldError(input, bad ? msg("msgShare") : "");
    }
    for (const input of rows.querySelectorAll("input[name=role]")) {
      const bad = !input.value.trim();
      if (bad) fine = false;
      if (showAll) fieldError(input, bad ? msg("msgRole") : "");
    }
    return sum() && fine;
  }

  const listed = () => new Set([...rows.querySelectorAll("[data-crew-row]")].map((row) => row.dataset.userId));

  function add(creator) {
    const row = template.content.firstElementChild.cloneNode(true);
    const index = rows.children.length;
    row.dataset.userId = String(creator.id);
    row.querySelector("input[name=user_id]").value = String(creator.id);
    row.querySelector("input[name=name]").value = creator.display_name;
    row.querySelector("[data-crew-name]").textContent = creator.display_name;
    for (const [name, label] of [["share", "msgShareLabel"], ["role", "msgRoleLabel"]]) {
      const input = row.querySelector(`input[name=${name}]`);
      input.id = `${name}-${form.dataset.workId}-${creator.id}-${index}`;
      input.setAttribute("aria-label", msg(label, { name: creator.display_name }));
      row.querySelector(`.crew-${name} label`).htmlFor = input.id;
    }
    rows.append(row);
    sum();
    renderResults(lastResults);
    row.querySelector("input[name=share]").focus();
  }

  let lastResults = [];
  function renderResults(creators) {
    lastResults = creators;
    results.replaceChildren();
    if (search.value.trim() && !creators.length) {
      const li = document.createElement("li");
      li.className = "muted small";
      li.textContent = msg("msgNone");
      results.append(li);
      return;
    }
    const already = listed();
    for (const creator of creators) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = creator.display_name;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small";
      const added = already.has(String(creator.id));
      button.textContent = added ? msg("msgAdded") : msg("msgAdd");
      button.disabled = added;
      button.setAttribute("aria-label", `${button.textContent}: ${creator.display_name}`);
      button.addEventListener("click", () => add(creator));
      li.append(name, button);
      results.append(li);
    }
  }

  async function find(q) {
    const seq = ++searchSeq;
    if (!q) {
      renderResults([]);
      return;
    }
    const response = await fetch(`/api/creators?${new URLSearchParams({ q, page_size: "8" })}`,
                                 { headers: { Accept: "application/json" } });
    if (!response.ok || seq !== searchSeq) return;
    renderResults((await response.json()).data);
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => find(search.value.trim()), 200);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault(); // Enter searches; it does not send the form
  });
  rows.addEventListener("input", (event) => {
    if (event.target.name === "share") fieldError(event.target, "");
    sum();
  });
  rows.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-crew-remove]");
    if (!remove) return;
    remove.closest("[data-crew-row]").remove();
    sum();
    renderResults(lastResults);
  });
  form.addEventListener("submit", (event) => {
    const ok = check(true);
    formError.textContent = ok ? "" : msg("msgForm");
    formError.hidden = ok;
    if (!ok) event.preventDefault();
  });
  sum();
}

document.querySelectorAll("form[data-crew]").forEach(setupCrew);
