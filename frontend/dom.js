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

/** Show `message` in `node` with a state class (info, error, ok), or hide it when empty. */
export function say(node, message, state = "info") {
  node.textContent = message;
  node.hidden = !message;
  node.dataset.state = state;
}
