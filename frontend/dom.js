// Building elements from data. Text always goes in as text (never as HTML), so nothing
// the API or a CSV file says can become markup.

/** el("p", {class: "note", dataset: {testid: "x"}}, "text", child, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

// Characters that are invisible or reorder the text around them (U+202E shows "exe.txt" as
// "txt.exe"): a name from a file carrying one could pass for another in a table.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with each such character written out as [U+202E], so what is shown is what is there. */
export function visible(text) {
  return String(text ?? "").replace(HIDDEN, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}]`);
}

/** Show `message` in `node` with a state class (info, error, ok), or hide it when empty. */
export function say(node, message, state = "info") {
  node.textContent = message;
  node.hidden = !message;
  node.dataset.state = state;
}

const FORMATS = new Map();

/** Intl.NumberFormat(locale, options), made once per pair: making one loads the locale's data,
 * which costs a page at load more than all its own scripts. */
export function numberFormat(locale, options) {
  const key = `${locale} ${JSON.stringify(options)}`;
  if (!FORMATS.has(key)) FORMATS.set(key, new Intl.NumberFormat(locale, options));
  return FORMATS.get(key);
}
