// A preview of a file chosen on the page, before it is uploaded: an object URL of the file itself in an <img>,
// <audio> or <video> (the page's CSP allows blob: for images and media). Nothing leaves the browser. A file the
// browser cannot show (a TIFF, a QuickTime codec it lacks) gets a sentence instead of a broken element.

const BY_EXTENSION = {
  audio: ["mp3", "wav", "flac", "ogg", "oga", "opus", "m4a", "aac"],
  video: ["mp4", "m4v", "mov", "webm"],
  image: ["png", "jpg", "jpeg", "gif", "webp", "avif", "tif", "tiff", "svg"],
};

// "image" | "audio" | "video" | null, from the type the browser reports or else the name's extension (browsers
// report no type, or "application/ogg", for some audio). Only a guide: the server decides from the bytes.
export function mediaKind(file) {
  if (!file) return null;
  const top = (file.type || "").split("/")[0];
  if (top === "image" || top === "audio" || top === "video") return top;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  for (const [kind, extensions] of Object.entries(BY_EXTENSION)) {
    if (extensions.includes(extension)) return kind;
  }
  return null;
}

export const humanSize = (bytes) =>
  bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

export class Preview {
  // wrapper: shown while there is a preview; body: where it goes; messages: noPreview(file), cannotPlay(file)
  constructor(wrapper, body, messages) {
    this.wrapper = wrapper;
    this.body = body;
    this.messages = messages;
    this.url = null;
  }

  clear() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.body.replaceChildren();
    this.wrapper.hidden = true;
  }

  show(file) {
    this.clear();
    if (!file) return;
    const kind = mediaKind(file);
    const caption = document.createElement("p");
    caption.className = "hint";
    caption.textContent = `${file.name} · ${humanSize(file.size)}`;
    if (kind) {
      this.url = URL.createObjectURL(file);
      const element = document.createElement(kind === "image" ? "img" : kind);
      if (kind === "image") element.alt = file.name;
      else {
        element.controls = true;
        element.preload = "metadata";
      }
      element.className = "preview-media";
      element.dataset.kind = kind;
      // the browser cannot decode it: say so instead of showing a broken element
      element.addEventListener("error", () => {
        if (!element.isConnected) return;
        if (kind === "image") caption.remove(); // the sentence names the file and its size
        element.replaceWith(this.note(kind === "image" ? "noPreview" : "cannotPlay", file));
      }, { once: true });
      element.src = this.url;
      this.body.append(element, caption);
    } else {
      this.body.append(this.note("noPreview", file));
    }
    this.wrapper.hidden = false;
  }

  note(name, file) {
    const note = document.createElement("p");
    note.className = "muted preview-note";
    note.textContent = this.messages[name](file);
    return note;
  }
}
