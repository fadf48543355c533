// The studio's upload form: drag and drop, a preview before submitting (media-preview.js), a cover picker for
// audio and video, checks next to the fields, and a real progress bar (XMLHttpRequest upload events). Without
// JavaScript the form still posts and the server answers with the same messages. Messages come from data-msg-*
// attributes (rendered in the page's language).

import { Preview, humanSize, mediaKind } from "./media-preview.js";

const form = document.getElementById("upload-form");

if (form) {
  const msg = (name, values = {}) =>
    Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), form.dataset[name] || "");
  const fileInput = form.querySelector("#file");
  const dropzone = form.querySelector("#dropzone");
  const coverField = form.querySelector("#cover-field");
  const coverInput = form.querySelector("#cover");
  const progressWrap = form.querySelector("#progress-wrap");
  const progress = form.querySelector("#upload-progress");
  const progressText = form.querySelector("#progress-text");
  const submit = form.querySelector("#upload-submit");
  const formError = form.querySelector("#form-error");
  const maxBytes = Number(form.dataset.maxBytes || 0);
  const maxCoverBytes = Number(form.dataset.maxCoverBytes || 0);
  // the limits the server enforces (marketplace/core/limits.py), given by the page
  const maxPriceCents = Number(form.dataset.maxPriceCents || 100000000);
  const maxRoyaltyPct = Number(form.dataset.maxRoyaltyBps || 2500) / 100;
  const maxEditionSize = Number(form.dataset.maxEditionSize || 1000);
  const amount = /^\d{1,9}([.,]\d{1,2})?$/;
  const messages = {
    noPreview: (file) => msg("msgNoPreview", { name: file.name, size: humanSize(file.size) }),
    cannotPlay: (file) => msg("msgCannotPlay", { name: file.name }),
  };
  const preview = new Preview(form.querySelector("#preview"), form.querySelector("#preview-body"), messages);
  const coverPreview = new Preview(form.querySelector("#cover-preview"), form.querySelector("#cover-preview-body"),
                                   messages);
  const FIELDS = ["file", "cover", "title", "description", "discipline", "license", "price", "royalty",
                  "edition_size"];

  function setError(name, text) {
    const el = form.querySelector(`#${name}-error`);
    const field = form.elements.namedItem(name);
    if (el) {
      el.textContent = text || "";
      el.hidden = !text;
    }
    if (field && field.setAttribute) {
      if (text) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
      const ids = new Set((field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
      if (text) ids.add(`${name}-error`);
      else ids.delete(`${name}-error`);
      if (ids.size) field.setAttribute("aria-describedby", [...ids].join(" "));
    }
    if (name === "file") dropzone.dataset.hasError = text ? "true" : "false";
  }

  function showFormError(text) {
    formError.textContent = text || "";
    formError.hidden = !text;
  }

  function checkFile() {
    const file = fileInput.files && fileInput.files[0];
    if (!file || file.size === 0) return msg("msgFileRequired");
    if (maxBytes && file.size > maxBytes) return msg("msgTooLarge");
    return "";
  }

  function checkCover() {
    const cover = coverInput.files && coverInput.files[0];
    if (!cover || coverField.hidden) return "";
    const kind = mediaKind(cover);
    if (kind !== "image" && (kind || cover.type)) return msg("msgCoverType"); // unknown to the browser: the server decides
    if (maxCoverBytes && cover.size > maxCoverBytes) return msg("msgCoverSize");
    return "";
  }

  function validate() {
    const errors = {};
    const value = (name) => (form.elements.namedItem(name).value || "").trim();
    const fileError = checkFile();
    if (fileError) errors.file = fileError;
    const coverError = checkCover();
    if (coverError) errors.cover = coverError;
    if (!value("title")) errors.title = msg("msgRequired");
    if (!value("discipline")) errors.discipline = msg("msgChoice");
    if (!value("license")) errors.license = msg("msgChoice");
    const price = value("price").replace(/[\s\u00a0\u202f€]/g, "");
    if (!price) errors.price = msg("msgRequired");
    else if (!amount.test(price)) errors.price = msg("msgPrice");
    else {
      const cents = Math.round(Number(price.replace(",", ".")) * 100);
      if (cents <= 0 || cents > maxPriceCents) errors.price = msg("msgPriceRange");
    }
    const royalty = value("royalty").replace(",", ".");
    const pct = royalty === "" ? 0 : Number(royalty);
    if (!Number.isFinite(pct) || pct < 0 || pct > maxRoyaltyPct || Math.abs(Math.round(pct * 100) - pct * 100) > 1e-6) {
      errors.royalty = msg("msgRoyalty");
    }
    const editions = value("edition_size");
    if (editions !== "" && (!/^\d{1,4}$/.test(editions) || Number(editions) < 1 || Number(editions) > maxEditionSize)) {
      errors.edition_size = msg("msgEditionSize");
    }
    return errors;
  }

  function showErrors(errors) {
    for (const name of FIELDS) setError(name, errors[name]);
    const names = FIELDS.filter((n) => errors[n]);
    showFormError(errors.form || (names.length ? msg("msgForm") : ""));
    const first = names[0];
    if (first) {
      const field = form.elements.namedItem(first);
      if (field && field.focus) field.focus();
    }
  }

  // The cover picker is for audio and video: shown once one is chosen; hidden (and emptied, so no cover is sent
  // with an image) otherwise.
  function showCoverField() {
    const kind = mediaKind(fileInput.files && fileInput.files[0]);
    const wanted = kind === "audio" || kind === "video";
    coverField.hidden = !wanted;
    if (!wanted && coverInput.value) {
      coverInput.value = "";
      coverPreview.clear();
      setError("cover", "");
    }
  }

  fileInput.addEventListener("change", () => {
    setError("file", checkFile());
    preview.show(fileInput.files && fileInput.files[0]);
    showCoverField();
  });
  coverInput.addEventListener("change", () => {
    setError("cover", checkCover());
    coverPreview.show(coverInput.files && coverInput.files[0]);
  });
  showCoverField(); // without script the picker is always there; with it, only for audio and video

  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) return;
    const transfer = new DataTransfer();
    transfer.items.add(files[0]);
    fileInput.files = transfer.files;
    fileInput.dispatchEvent(new Event("change", { bubbles: true }));
  });

  function setBusy(busy) {
    submit.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const errors = validate();
    showErrors(errors);
    if (Object.keys(errors).length) return;

    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    progressWrap.hidden = false;
    progress.value = 0;
    progressText.textContent = msg("msgUploading", { percent: "0" });
    setBusy(true);

    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      progress.value = percent;
      progressText.textContent = msg("msgUploading", { percent: String(percent) });
    });
    xhr.upload.addEventListener("load", () => {
      progress.value = 100;
      progressText.textContent = msg("msgProcessing");
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response || {};
      if (xhr.status === 201 && body.redirect) {
        window.location.assign(body.redirect);
        return;
      }
      setBusy(false);
      progressWrap.hidden = true;
      if (xhr.status === 413) showErrors({ file: msg("msgTooLarge") });
      else if (xhr.status === 403) showErrors({ form: msg("msgCsrf") });
      else if (body.errors) showErrors(body.errors);
      else showErrors({ form: msg("msgFailed") });
    });
    xhr.addEventListener("error", () => {
      setBusy(false);
      progressWrap.hidden = true;
      showErrors({ form: msg("msgFailed") });
    });
    xhr.send(new FormData(form));
  });
}
