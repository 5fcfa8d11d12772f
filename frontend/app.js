// The page: the form, the result, the batch upload and the language switch.
import {formatAmount, parseAmount} from "./amounts.js";
import {call, problemText} from "./api.js";
import {attachAnswer, batchesOf, readCompanies, readFile, renderTable, requestFor, resultsCsv} from "./batch.js";
import {el, say} from "./dom.js";
import {currentLang, FIELDS, fieldLabel, setLang, t, translateStatic} from "./i18n.js";
import {drawLookup, filledFrom, forgetPick, setLookupAvailable, startLookup} from "./lookup.js";
import {modelLine, renderResult} from "./result.js";

// The seed write-up's public worked example (seed-example.json).
const EXAMPLE = {
  total_assets: 273842119656, total_assets_prior: 203882590806, total_liabilities: 186096875465,
  total_equity: 87745244191, revenue: 356740019691, revenue_prior: 237961500135,
  operating_income: 20804647592, operating_income_prior: 15215334844, net_income: 21679416652,
};

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
};

const messageText = (m) => (m?.key ? t(m.key, m.values) : m?.text ?? "");

// ------------------------------------------------------------ the form

function buildFields() {
  $("fields").replaceChildren(...FIELDS.map((field) => el("div", {class: "field"},
    el("label", {for: `f-${field.name}`},
      el("span", {class: "label-text", dataset: {field: field.name}}), " ",
      el("code", {class: "api-name"}, field.name)),
    el("input", {id: `f-${field.name}`, name: field.name, type: "text", autocomplete: "off",
      spellcheck: "false", "aria-describedby": `e-${field.name}`, "data-i18n-placeholder": "placeholder"}),
    el("p", {class: "field-error", id: `e-${field.name}`, dataset: {testid: `error-${field.name}`}, hidden: true}))));
}

function input(name) {
  return $("company-form").elements.namedItem(name);
}

function showFieldErrors() {
  for (const field of FIELDS) {
    const error = state.fieldErrors[field.name];
    const text = !error ? "" : error.key ? t(error.key) : t("err_server", {message: error.text});
    say($(`e-${field.name}`), text, "error");
    input(field.name).setAttribute("aria-invalid", error ? "true" : "false");
  }
}

function readForm() {
  const values = {};
  state.fieldErrors = {};
  for (const field of FIELDS) {
    const parsed = parseAmount(input(field.name).value);
    if (parsed.problem) state.fieldErrors[field.name] = {key: `err_${parsed.problem}`};
    else values[field.name] = parsed.value;
  }
  return values;
}

/** Server errors that name a field go beside it; the rest become the form's message. */
function placeServerErrors(error) {
  const unplaced = [];
  for (const detail of error?.details ?? []) {
    if (FIELDS.some((f) => f.name === detail.field)) state.fieldErrors[detail.field] = {text: detail.problem};
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
  const first = FIELDS.find((f) => state.fieldErrors[f.name]);
  if (first) input(first.name).focus();
}

async function onSubmit(event) {
  event.preventDefault();
  const values = readForm();
  state.form = null;
  if (Object.keys(state.fieldErrors).length) {
    state.form = {key: "fix_fields"};
    drawForm();
    focusFirstError();
    return;
  }
  const button = $("submit");
  setBusy(button, true, "submit_busy", "submit");
  state.form = state.model ? null : {key: "connecting"};
  drawForm();
  const id = filledFrom(values);
  const answer = await call("/predict", {companies: [id ? {id, ...values} : values]});
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

/** Put these amounts in the nine fields, as if typed; the last result no longer matches them. */
function fillFields(values) {
  for (const field of FIELDS) input(field.name).value = formatAmount(values[field.name]);
  state.fieldErrors = {};
  state.form = null;
  state.result = null;
  drawForm();
  drawResult();
}

function fillExample() {
  forgetPick();
  fillFields(EXAMPLE);
}

/** After a field is left, write what was read back in one style, so a person sees it. */
function onFieldLeft(event) {
  const target = event.target;
  if (!FIELDS.some((f) => f.name === target.name)) return;
  const parsed = parseAmount(target.value);
  if (!parsed.problem) target.value = formatAmount(parsed.value);
}

function drawForm() {
  for (const field of FIELDS) document.querySelector(`[data-field="${field.name}"]`).textContent = fieldLabel(field);
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
  const read = readCompanies(await readFile(file));
  if (read.problem) {
    state.batchMessage = {text: read.problem};
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
  if (!state.model) await loadModel(); // a first GET /model that failed: its limit is needed now
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
  downloadUrl = URL.createObjectURL(new Blob([resultsCsv(entries)], {type: "text/csv;charset=utf-8"}));
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
  startLookup(fillFields);
  state.service = {key: "connecting"};
  drawAll();
  loadModel(); // also wakes a cold function before the first prediction
}

start();
