// The page: the form, the result, the batch upload and the language switch.
import {formatAmount, parseAmount} from "./amounts.js";
import {call, problemText} from "./api.js";
import {attachAnswer, batchesOf, readCompanies, readFile, renderTable, requestFor, resultsCsv} from "./batch.js";
import {parseCsv} from "./csv.js";
import {el, say} from "./dom.js";
import {FIELDS, fieldLabel, readStatement, takesUnknowns} from "./fields.js";
import {currentLang, setLang, t, translateStatic} from "./i18n.js";
import {drawLookup, filledFrom, forgetPick, setLookupAvailable, startLookup} from "./lookup.js";
import {modelLine, renderResult} from "./result.js";

const $ = (id) => document.getElementById(id);

// What is on screen, kept so a language switch can draw it again in the other language.
const state = {
  model: null, // GET /model
  service: null, // {key} or {text} for the service line
  form: null, // {key} or {text} for the form's message
  fieldErrors: {}, // field -> {key} (the page's check) or {text} (the server's words)
  result: null, // {prediction, model} of the last scored company
  batch: null, // {entries, model, ignored} of the last CSV
  batchMessage: null, // {key, values, state} or {text}; state "info" while under way, else an error
  example: null, // the nine amounts the example button fills, once read
};

const messageText = (m) => (m?.key ? t(m.key, m.values) : m?.text ?? "");

// ------------------------------------------------------------ the form

function buildFields() {
  $("fields").replaceChildren(...FIELDS.map((name) => el("div", {class: "field"},
    el("label", {for: `f-${name}`},
      el("span", {class: "label-text", dataset: {field: name}}), " ",
      el("code", {class: "api-name"}, name)),
    el("input", {id: `f-${name}`, name, type: "text", autocomplete: "off",
      spellcheck: "false", "aria-describedby": `e-${name}`, "data-i18n-placeholder": "placeholder"}),
    el("p", {class: "field-error", id: `e-${name}`, dataset: {testid: `error-${name}`}, hidden: true}))));
}

function input(name) {
  return $("company-form").elements.namedItem(name);
}

function showFieldErrors() {
  for (const name of FIELDS) {
    const error = state.fieldErrors[name];
    const text = !error ? "" : error.key ? t(error.key) : t("err_server", {message: error.text});
    say($(`e-${name}`), text, "error");
    input(name).setAttribute("aria-invalid", error ? "true" : "false");
  }
}

/** The form's amounts (null where left blank for a model that takes unknowns); the fields that
 * cannot be sent go into state.fieldErrors. */
function readForm() {
  const read = readStatement((name) => input(name).value, state.model);
  state.fieldErrors = Object.fromEntries(Object.entries(read.problems).map(([name, problem]) => [name, {key: `err_${problem}`}]));
  return read;
}

/** Server errors that name a field go beside it; the rest become the form's message. */
function placeServerErrors(error) {
  const unplaced = [];
  for (const detail of error?.details ?? []) {
    if (FIELDS.includes(detail.field)) state.fieldErrors[detail.field] = {text: detail.problem};
    else unplaced.push(detail.problem);
  }
  const message = unplaced.length ? `${error.message}: ${unplaced.join("; ")}` : error?.message;
  state.form = {key: "rejected", values: {message}};
}

function setBusy(button, busy, key, idleKey) {
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
  button.dataset.i18n = busy ? key : idleKey;
  button.textContent = t(button.dataset.i18n);
}

function focusFirstError() {
  const first = FIELDS.find((name) => state.fieldErrors[name]);
  if (first) input(first).focus();
}

async function onSubmit(event) {
  event.preventDefault();
  const {values, allBlank} = readForm();
  state.form = null;
  if (allBlank || Object.keys(state.fieldErrors).length) {
    state.form = {key: allBlank ? "err_all_blank" : "fix_fields"};
    drawForm();
    if (allBlank) input(FIELDS[0]).focus();
    else focusFirstError();
    return;
  }
  const button = $("submit");
  setBusy(button, true, "submit_busy", "submit");
  state.form = state.model ? null : {key: "connecting"};
  drawForm();
  const filled = filledFrom(values); // the filing's name, currency and market, while the form holds its values
  const answer = await call("/predict", {companies: [filled ? {...filled, ...values} : values]});
  setBusy(button, false, "submit_busy", "submit");
  const prediction = answer.kind === "ok" ? answer.data.predictions[0] : null;
  if (prediction && !prediction.error) {
    state.form = null;
    state.result = {prediction, model: answer.data.model};
    // Warm now: if the first GET /model failed, its facts come quickly on a second try.
    if (!state.model && state.service?.key !== "connecting") loadModel();
  } else if (prediction || (answer.status === 422 && answer.data?.error)) {
    placeServerErrors(prediction ? prediction.error : answer.data.error);
  } else {
    state.form = {text: problemText(answer)};
  }
  drawForm();
  drawResult();
  focusFirstError();
}

/** Put these amounts in the nine fields, as if typed (null: left blank); the last result no
 * longer matches them. */
function fillFields(values) {
  for (const name of FIELDS) input(name).value = values[name] == null ? "" : formatAmount(values[name]);
  state.fieldErrors = {};
  state.form = null;
  state.result = null;
  drawForm();
  drawResult();
}

function fillExample() {
  forgetPick();
  fillFields(state.example);
}

/** The worked example is the first company of the example CSV offered for download (its
 * columns after the company's name are the nine fields in the form's order); the button
 * that fills it waits for it. */
async function loadExample() {
  try {
    const response = await fetch("example-companies.csv");
    if (!response.ok) return;
    const [, first] = parseCsv(await response.text());
    state.example = Object.fromEntries(FIELDS.map((name, i) => [name, parseAmount(first.cells[i + 1]).value]));
    $("fill-example").disabled = false;
  } catch {
    // the page's own file could not be fetched: the button stays disabled, as on a bad answer
  }
}

/** After a field is left, write what was read back in one style, so a person sees it. */
function onFieldLeft(event) {
  const target = event.target;
  if (!FIELDS.includes(target.name)) return;
  const parsed = parseAmount(target.value);
  if (!parsed.problem) target.value = formatAmount(parsed.value);
}

function drawLabels() {
  for (const name of FIELDS) document.querySelector(`[data-field="${name}"]`).textContent = fieldLabel(name, state.model);
}

/** The notes that blank fields and cells are unknown, shown (and read with each field) only for
 * a model that takes them. */
function drawUnknownNotes() {
  const shown = takesUnknowns(state.model);
  $("unknown-note").hidden = !shown;
  $("batch-unknown-note").hidden = !shown;
  for (const name of FIELDS) input(name).setAttribute("aria-describedby", shown ? `e-${name} unknown-note` : `e-${name}`);
}

function drawForm() {
  drawLabels();
  drawUnknownNotes();
  showFieldErrors();
  const message = messageText(state.form);
  const isError = state.form && state.form.key !== "connecting";
  say($("form-message"), message, isError ? "error" : "info");
}

function drawResult() {
  const container = $("result");
  if (!state.result) {
    container.replaceChildren(el("p", {class: "placeholder"}, t("result_empty")));
    return;
  }
  renderResult(container, state.result.prediction, state.model, state.result.model);
}

// ------------------------------------------------------------ the service

async function loadModel() {
  const answer = await call("/model");
  if (answer.kind === "ok") {
    state.model = answer.data;
    state.service = {key: "ready"};
    setLookupAvailable(answer.data.company_lookup === true);
    drawForm();
  } else {
    state.service = {text: problemText(answer)};
  }
  drawService();
  drawResult();
  drawBatch();
}

function drawService() {
  const line = $("service-status");
  const ready = state.service?.key === "ready";
  const text = ready && state.model ? `${t("ready")} · ${modelLine(state.model, null, true)}` : messageText(state.service);
  say(line, text, ready ? "ok" : state.service?.key === "connecting" ? "info" : "error");
}

// ------------------------------------------------------------ the CSV

let downloadUrl = null;

async function onBatchSubmit(event) {
  event.preventDefault();
  const file = $("batch-file").files[0];
  state.batch = null;
  if (!file) {
    state.batchMessage = {key: "batch_no_file"};
    drawBatch();
    return;
  }
  // GET /model's labels read the headers and its limit sizes the requests: a failed first look is retried.
  if (!state.model) await loadModel();
  const read = readCompanies(await readFile(file), state.model);
  if (read.problem) {
    // Without GET /model only API names are known as headers: say why the service is away.
    state.batchMessage = state.model ? {text: read.problem} : state.service;
    drawBatch();
    return;
  }
  if (!(await sendInBatches(read.entries))) return;
  state.batch = {entries: read.entries, ignored: read.ignored};
  state.batchMessage = null;
  drawBatch();
}

/** Ask the API in requests of at most its MAX_BATCH rows (GET /model says it), saying how far
 * it got; true when every request was answered, else the message says where it stopped. */
async function sendInBatches(entries) {
  const size = state.model?.max_batch;
  const batches = batchesOf(entries, size);
  const total = batches.reduce((sum, batch) => sum + batch.length, 0);
  const button = $("batch-submit");
  setBusy(button, true, "batch_busy", "batch_submit");
  let done = 0;
  try {
    for (const [i, batch] of batches.entries()) {
      state.batchMessage = {key: "batch_progress", values: {done, total, request: i + 1, requests: batches.length,
        size: size ?? total}, state: "info"};
      drawBatch();
      const answer = await call("/predict", requestFor(batch));
      if (!attachAnswer(batch, answer)) {
        state.batchMessage = {key: "batch_stopped", values: {done, total, message: problemText(answer)}};
        drawBatch();
        return false;
      }
      done += batch.length;
    }
  } finally {
    setBusy(button, false, "batch_busy", "batch_submit");
  }
  return true;
}

function drawBatch() {
  const status = $("batch-status");
  const table = $("batch-result");
  const link = $("batch-download");
  if (!state.batch) {
    say(status, messageText(state.batchMessage), state.batchMessage?.state ?? "error");
    table.replaceChildren();
    link.hidden = true;
    return;
  }
  const {entries, ignored} = state.batch;
  const scored = entries.filter((e) => e.prediction).length;
  let text = t("batch_summary", {total: entries.length, scored, failed: entries.length - scored});
  if (ignored.length) text += ` · ${t("batch_ignored", {columns: ignored.join(", ")})}`;
  say(status, text, scored === entries.length ? "ok" : "info");
  renderTable(table, entries, state.model);
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([resultsCsv(entries, state.model)], {type: "text/csv;charset=utf-8"}));
  link.href = downloadUrl;
  link.hidden = false;
}

// ------------------------------------------------------------ language

function drawAll() {
  translateStatic();
  $("lang-toggle").lang = currentLang() === "ko" ? "en" : "ko"; // the button names the other language
  drawLookup();
  drawForm();
  drawService();
  drawResult();
  drawBatch();
}

function toggleLanguage() {
  setLang(currentLang() === "ko" ? "en" : "ko");
  drawAll();
}

function start() {
  buildFields();
  const form = $("company-form");
  form.addEventListener("submit", onSubmit);
  form.addEventListener("focusout", onFieldLeft);
  form.addEventListener("reset", () => {
    state.fieldErrors = {};
    state.form = null;
    state.result = null;
    forgetPick();
    drawForm();
    drawResult();
  });
  $("fill-example").addEventListener("click", fillExample);
  $("lang-toggle").addEventListener("click", toggleLanguage);
  $("batch-form").addEventListener("submit", onBatchSubmit);
  startLookup(fillFields, (name) => fieldLabel(name, state.model) || name);
  state.service = {key: "connecting"};
  drawAll();
  loadExample();
  loadModel(); // also wakes a cold function before the first prediction
}

start();
