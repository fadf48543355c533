// Copy buttons next to long values (token ids, hashes, addresses, CIDs; partials/macros.html long_value): the
// full value goes to the clipboard. Loaded in <head> without defer, so the buttons show (the "js" class) before the
// page is drawn; one listener on the document serves the parts htmx swaps in as well.
document.documentElement.classList.add("js");

async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");  // plain http on a non-local address: the old way
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.appendChild(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  if (!done) throw new Error("copy refused");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest(".copy-button");
  if (!button) return;
  const state = button.querySelector(".copy-state");
  const label = button.dataset.label || state.textContent;
  button.dataset.label = label;
  try {
    await copy(button.dataset.copy);
    state.textContent = button.dataset.copied;
  } catch {
    state.textContent = label;
    return;
  }
  clearTimeout(button.copyTimer);
  button.copyTimer = setTimeout(() => { state.textContent = label; }, 2000);
});
