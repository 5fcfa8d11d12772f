// The page: the form, the result, the batch upload and the language switch.
import {formatAmount, parseAmount, wonInEnglish, wonInKorean} from "./amounts.js";
import {call, needsKey, problemText, setApiKey, transient} from "./api.js";
import {
  attachAnswer, batchesOf, fileProblem, readCompanies, readFile, renderTable, requestFor, resultsCsv, resultsFileName,
} from "./batch.js";
import {parseCsv} from "./csv.js";
import {el, say} from "./dom.js";
import {FIELDS, fieldLabel, fieldProblemText, readStatement, takesUnknowns} from "./fields.js";
import {currentLang, setLang, t, translateStatic} from "./i18n.js";
import {drawLookup, filledFrom, forgetPick, setLookupAvailable, startLookup} from "./lookup.js";
import {announcement, modelLine, renderResult} from "./result.js";

const $ = (id) => document.getElementById(id);

// What is on screen, kept so a language switch can draw it again in the other language.
const state = {
  model: null, // GET /model
  modelLoading: null, // the GET /model under way (a promise), so a prediction can wait for it
  service: null, // {key} or {text} for the service line
  form: null, // {key, values} or {answer} (an error answer) for the form's message
  fieldErrors: {}, // field -> {key} (the page's check) or {problem} (the server's, in the page's words)
  result: null, // {prediction, answer} of the last scored company
  batch: null, // {entries, ignored, page, withRatios} of the last CSV
  batchMessage: null, // {key, values, state} or {answer}; state "info" while under way, else an error
  example: null, // the nine amounts the example button fills, once read
};

const messageText = (m) => (m?.key ? t(m.key, m.values) : m?.answer ? problemText(m.answer) : m?.text ?? "");

// ------------------------------------------------------------ the form

function input(name) {
  return $("company-form").elements.namedItem(name);
}

/** What a plain amount is in: won per unit (1 for won, and for another currency as typed). */
function unit() {
  const value = Number($("unit").value);
  return Number.isFinite(value) && value > 0 ? value : 1;
}

const inWon = () => $("unit").value !== "other";

/** Under a field, what was read from it: "≈ 4,559억 원" (or the number, in another currency). */
function drawReading(name) {
  const parsed = parseAmount(input(name).value, unit());
  let text = "";
  if (!parsed.problem) {
    const amount = !inWon() && !parsed.inWon ? formatAmount(parsed.value)
      : currentLang() === "ko" ? wonInKorean(parsed.value) : wonInEnglish(parsed.value);
    text = t("read_as", {amount});
  }
  $(`r-${name}`).textContent = text;
}

function showFieldErrors() {
  for (const name of FIELDS) {
    const error = state.fieldErrors[name];
    const text = !error ? "" : error.key ? t(error.key) : fieldProblemText(error.problem);
    say($(`e-${name}`), text, "error");
    input(name).setAttribute("aria-invalid", error ? "true" : "false");
  }
}

/** The form's amounts in won (null where left blank for a model that takes unknowns); the
 * fields that cannot be sent go into state.fieldErrors. */
function readForm() {
  const read = readStatement((name) => input(name).value, state.model, unit());
  state.fieldErrors = Object.fromEntries(Object.entries(read.problems).map(([name, problem]) => [name, {key: `err_${problem}`}]));
  return read;
}

/** Server errors that name a field go beside it; a whole-request error becomes the form's message. */
function placeServerErrors(answer, rowError) {
  const details = rowError?.details ?? answer.data?.error?.details ?? [];
  let placed = false;
  for (const detail of details) {
    if (FIELDS.includes(detail.field)) {
      state.fieldErrors[detail.field] = {problem: detail.problem};
      placed = true;
    }
  }
  state.form = placed ? {key: "fix_fields"} : rowError ? {key: "code_invalid_row"} : {answer};
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
  return Boolean(first);
}

/** GET /model, once; a prediction waits for it (its facts say whether blanks may be sent). */
async function modelReady() {
  if (state.model) return;
  if (!state.modelLoading) loadModel();
  state.form = {key: "waiting_model"};
  drawForm();
  await state.modelLoading;
}

async function onSubmit(event) {
  event.preventDefault();
  await modelReady();
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
  drawForm();
  const filled = filledFrom(values); // the filing's name, currency and market, while the form holds its values
  const answer = await call("/predict", {companies: [filled ? {...filled, ...values} : values]});
  setBusy(button, false, "submit_busy", "submit");
  const prediction = answer.kind === "ok" ? answer.data.predictions[0] : null;
  if (prediction && !prediction.error) {
    state.form = null;
    state.result = {prediction, answer: answer.data};
  } else if (prediction || (answer.status === 422 && answer.data?.error)) {
    placeServerErrors(answer, prediction?.error);
  } else {
    state.form = {answer};
  }
  drawForm();
  drawResult();
  if (state.result?.prediction === prediction) showVerdict();
  else if (!focusFirstError()) $("form-message").focus();
}

/** The verdict in view with focus on it, a short line said to a screen reader, and the inputs
 * kept in the address's fragment (never sent: a browser keeps what follows # to itself). */
function showVerdict() {
  const verdict = $("verdict");
  verdict.focus({preventScroll: true});
  verdict.scrollIntoView({block: "start"});
  const line = $("announce");
  line.textContent = "";
  requestAnimationFrame(() => (line.textContent = announcement(state.result.prediction)));
  const kept = new URLSearchParams({unit: $("unit").value});
  for (const name of FIELDS) kept.set(name, input(name).value);
  history.replaceState(null, "", `#${kept}`);
}

/** The fields as a link made them (#unit=…&total_assets=…); false when the address has none. */
function restoreFromLink() {
  const kept = new URLSearchParams(location.hash.slice(1));
  if (!FIELDS.some((name) => kept.has(name))) return false;
  if ([...$("unit").options].some((option) => option.value === kept.get("unit"))) $("unit").value = kept.get("unit");
  for (const name of FIELDS) input(name).value = kept.get(name) ?? "";
  state.form = {key: "restored"};
  return true;
}

/** Put these amounts (in won) in the nine fields, as if typed (null: left blank); the last
 * result no longer matches them. */
function fillFields(values) {
  $("unit").value = "1";
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

/** After a field is left, a plain number is written back grouped, so a person sees it read;
 * amounts in 억/조 stay as typed (the line under them says what they are). */
function onFieldLeft(event) {
  const target = event.target;
  if (!FIELDS.includes(target.name)) return;
  const parsed = parseAmount(target.value, 1);
  if (!parsed.problem && !parsed.inWon && !/^[△▲]/.test(target.value.trim())) target.value = formatAmount(parsed.value);
}

function onFieldInput(event) {
  if (FIELDS.includes(event.target.name)) drawReading(event.target.name);
  else if (event.target.id === "unit") FIELDS.forEach(drawReading);
}

/** The ± beside a field: a minus for keyboards (a phone's number pad) that have none. */
function toggleSign(event) {
  const name = event.target.closest("[data-sign-for]")?.dataset.signFor;
  if (!name) return;
  const field = input(name);
  const text = field.value.trim();
  field.value = /^[-−△▲]/.test(text) ? text.slice(1) : /^\(.*\)$/.test(text) ? text.slice(1, -1) : `-${text}`;
  drawReading(name);
  field.focus();
}

function drawLabels() {
  for (const name of FIELDS) {
    document.querySelector(`[data-field="${name}"]`).textContent = fieldLabel(name);
    document.querySelector(`[data-sign-for="${name}"]`).setAttribute("aria-label", t("sign_toggle", {label: fieldLabel(name)}));
    drawReading(name);
  }
}

/** The notes that blank fields and cells are unknown, shown (and read with each field) only for
 * a model that takes them. */
function drawUnknownNotes() {
  const shown = takesUnknowns(state.model);
  $("unknown-note").hidden = !shown;
  $("batch-unknown-note").hidden = !shown;
  for (const name of FIELDS) {
    input(name).setAttribute("aria-describedby", `r-${name} e-${name}${shown ? " unknown-note" : ""}`);
  }
}

/** The form's message, with what can be done about it: try again, or give an API key. */
function drawFormMessage() {
  const box = $("form-message");
  const message = messageText(state.form);
  const answer = state.form?.answer;
  const info = ["waiting_model", "restored"].includes(state.form?.key);
  say(box, message, info ? "info" : "error");
  box.tabIndex = -1;
  if (!answer) return;
  if (needsKey(answer)) {
    const key = el("input", {type: "password", id: "api-key", autocomplete: "off", dataset: {testid: "api-key"}});
    const save = el("button", {type: "button", dataset: {testid: "api-key-save"}}, t("api_key_save"));
    save.addEventListener("click", () => {
      setApiKey(key.value);
      $("company-form").requestSubmit();
    });
    box.append(el("div", {class: "key-row"}, el("label", {for: "api-key"}, t("api_key_label")), key, save),
      el("p", {class: "note"}, t("api_key_note")));
  } else if (transient(answer)) {
    const retry = el("button", {type: "button", dataset: {testid: "retry"}}, t("retry"));
    retry.addEventListener("click", () => $("company-form").requestSubmit());
    box.append(" ", retry);
  }
}

function drawForm() {
  drawLabels();
  drawUnknownNotes();
  showFieldErrors();
  drawFormMessage();
}

function drawResult() {
  const container = $("result");
  if (!state.result) {
    container.replaceChildren(el("p", {class: "placeholder"}, t("result_empty")));
    $("print-stamp").textContent = "";
    return;
  }
  const {prediction, answer} = state.result;
  renderResult(container, prediction, state.model, answer);
  $("print").addEventListener("click", () => window.print());
  const model = answer.model ?? state.model?.model ?? {};
  $("print-stamp").textContent = t("print_stamp", {
    date: new Date().toLocaleString(currentLang() === "ko" ? "ko-KR" : "en-GB"), name: model.name, version: model.version});
}

// ------------------------------------------------------------ the service

function loadModel() {
  state.modelLoading = (async () => {
    const answer = await call("/model");
    if (answer.kind === "ok") {
      state.model = answer.data;
      state.service = {key: "ready"};
      setLookupAvailable(answer.data.company_lookup === true);
    } else {
      state.service = {answer};
    }
    state.modelLoading = null;
    drawForm();
    drawService();
    drawResult();
    drawBatch();
  })();
  return state.modelLoading;
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
  const tooLarge = file && fileProblem(file);
  if (!file || tooLarge) {
    state.batchMessage = tooLarge ? {text: tooLarge} : {key: "batch_no_file"};
    drawBatch();
    return;
  }
  // GET /model's limit sizes the requests and says whether blank cells may be sent.
  if (!state.model) await (state.modelLoading ?? loadModel());
  const read = readCompanies(await readFile(file), state.model, unit());
  if (read.problem) {
    state.batchMessage = {text: read.problem};
    drawBatch();
    return;
  }
  const finished = await sendInBatches(read.entries);
  // Stopped midway, what was answered is still shown and offered; the rest says it was not sent.
  for (const entry of read.entries) if (!entry.prediction && !entry.errors.length) entry.errors.push({field: null, key: "batch_not_sent"});
  state.batch = {entries: read.entries, ignored: read.ignored, page: 0, withRatios: false};
  if (finished) state.batchMessage = null;
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
  if (state.batchMessage) say(status, messageText(state.batchMessage), "error"); // where it stopped
  else say(status, text, scored === entries.length ? "ok" : "info");
  renderTable(table, entries, state.model, {
    page: state.batch.page,
    withRatios: state.batch.withRatios,
    onPage(page) {
      state.batch.page = page;
      drawBatch();
      table.querySelector('[data-testid="batch-scroll"]').focus();
    },
    onRatios(withRatios) {
      state.batch.withRatios = withRatios;
      drawBatch();
      table.querySelector('[data-testid="show-ratios"]').focus();
    },
  });
  link.download = resultsFileName();
  link.hidden = false;
}

/** The results file is written when asked for, in the language of the moment. */
function onDownload() {
  if (!state.batch) return;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([resultsCsv(state.batch.entries)], {type: "text/csv;charset=utf-8"}));
  const link = $("batch-download");
  link.href = downloadUrl;
  link.download = resultsFileName();
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
  const form = $("company-form");
  form.addEventListener("submit", onSubmit);
  form.addEventListener("focusout", onFieldLeft);
  form.addEventListener("input", onFieldInput);
  form.addEventListener("change", onFieldInput);
  form.addEventListener("click", toggleSign);
  form.addEventListener("reset", () => {
    state.fieldErrors = {};
    state.form = null;
    state.result = null;
    forgetPick();
    history.replaceState(null, "", location.pathname + location.search);
    setTimeout(() => drawForm()); // after the browser has cleared the fields
    drawResult();
  });
  $("fill-example").addEventListener("click", fillExample);
  $("lang-toggle").addEventListener("click", toggleLanguage);
  $("batch-form").addEventListener("submit", onBatchSubmit);
  $("batch-download").addEventListener("click", onDownload);
  startLookup(fillFields, fieldLabel);
  state.service = {key: "connecting"};
  restoreFromLink();
  drawAll();
  loadExample();
  loadModel(); // also wakes a cold function before the first prediction
}

start();
