// Many companies from a CSV file: read the columns, turn cells into numbers, ask the API
// in batches of at most its MAX_BATCH rows, show a table with each row's result or errors a
// page at a time, offer the results as CSV in the page's language.
import {CsvError, decodeCsv, parseCsv, toCsv} from "./csv.js";
import {el, visible} from "./dom.js";
import {FIELDS, fieldLabel, fieldProblemText, ratioLabel, ratioUnit, readStatement} from "./fields.js";
import {currentLang, localized, t} from "./i18n.js";
import {ACCOUNT_HEADERS, STATEMENT_LABELS} from "./labels.js";
import {className, formatPercent, formatRatio, gradeText, warningText} from "./result.js";

const ID_HEADERS = ["id", "name", "company", "companyname", "회사명", "기업명", "회사", "회사이름"];
// A file past this is refused before it is read: a page's memory grows with the rows it holds
// (about 1.5 KB each once answered), and this keeps it near 100 MB.
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const PAGE_ROWS = 100;

// Headers compare without case, spaces, underscores and brackets: "당기 수익(매출액)",
// "당기수익 (매출액)", "TOTAL_ASSETS" and "Total assets (current year)" all match.
function headerKey(text) {
  return String(text).normalize("NFKC").toLowerCase().replace(/[\s_()[\]\-.·]/g, "");
}

/** Header (as headerKey reads it) -> field: the API names, the labels in both languages and
 * DART's account names (자산총계, 매출액, 전기 영업이익 …). */
const FIELD_OF_HEADER = new Map([
  ...Object.entries(ACCOUNT_HEADERS).map(([header, name]) => [headerKey(header), name]),
  ...FIELDS.flatMap((name) => [name, STATEMENT_LABELS[name].ko, STATEMENT_LABELS[name].en]
    .map((header) => [headerKey(header), name])),
]);

/** Which column holds which field; a problem message when the header cannot be used. */
function mapColumns(header) {
  const columns = {};
  const ignored = [];
  const duplicated = [];
  let idColumn = null;
  header.forEach((text, index) => {
    const key = headerKey(text);
    const field = FIELD_OF_HEADER.get(key);
    if (field) {
      if (field in columns) duplicated.push(text.trim());
      columns[field] = index;
    } else if (ID_HEADERS.includes(key) && idColumn === null) {
      idColumn = index;
    } else if (key) {
      ignored.push(text.trim());
    }
  });
  const missing = FIELDS.filter((name) => !(name in columns));
  let problem = null;
  if (duplicated.length) problem = t("batch_duplicate", {columns: duplicated.join(", ")});
  else if (missing.length) problem = t("batch_missing", {columns: missing.map(fieldLabel).join(", ")});
  return {columns, idColumn, ignored, problem};
}

/** One CSV row to {line, id, values, errors}; errors are the cells that cannot be sent (as in
 * the form: a blank cell is unknown for a model that takes unknowns), or a row with none given. */
function readRow(row, mapping, model, unit) {
  const read = readStatement((name) => row.cells[mapping.columns[name]], model, unit);
  const errors = Object.entries(read.problems).map(([field, problem]) => ({field, key: `err_${problem}`}));
  if (read.allBlank) errors.push({field: null, key: "err_all_blank"});
  const id = mapping.idColumn === null ? "" : (row.cells[mapping.idColumn] ?? "").trim();
  return {line: row.line, id, values: read.values, errors};
}

/** The problem with a file before it is read (too large), or null. */
export function fileProblem(file) {
  if (file.size <= MAX_FILE_BYTES) return null;
  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
  return t("batch_too_large", {size: mb(file.size), max: mb(MAX_FILE_BYTES)});
}

/** Text of a CSV file to {entries, ignored} or {problem}; `model` is GET /model's facts (or
 * null), `unit` what a plain amount is in. */
export function readCompanies(text, model, unit = 1) {
  let rows;
  try {
    rows = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvError) return {problem: t("batch_unclosed_quote", {line: error.line})};
    throw error;
  }
  if (rows.length < 2) return {problem: t("batch_no_rows")};
  const mapping = mapColumns(rows[0].cells);
  if (mapping.problem) return {problem: mapping.problem};
  const entries = new Array(rows.length - 1);
  for (let i = 1; i < rows.length; i++) entries[i - 1] = readRow(rows[i], mapping, model, unit);
  return {entries, ignored: mapping.ignored};
}

export async function readFile(file) {
  return decodeCsv(await file.arrayBuffer());
}

/** The rows that parsed, in requests of at most `size` rows (all in one when size is unknown). */
export function batchesOf(entries, size) {
  const sendable = entries.filter((entry) => !entry.errors.length);
  const step = Number.isInteger(size) && size > 0 ? size : sendable.length;
  const batches = [];
  for (let start = 0; start < sendable.length; start += step) batches.push(sendable.slice(start, start + step));
  return batches;
}

/** The request body for one batch of entries. */
export function requestFor(sent) {
  return {companies: sent.map((entry) => (entry.id ? {id: entry.id, ...entry.values} : {...entry.values}))};
}

/** What the table and the CSV need of a prediction: the explanation's numbers are drawn only
 * for one company, so a batch of many keeps its memory to the rest. */
function kept(prediction) {
  const {explanation, ...rest} = prediction;
  return rest;
}

/** Put the API's answer (or a 422's row details) onto the entries that were sent. */
export function attachAnswer(sent, answer) {
  if (answer.kind === "ok") {
    answer.data.predictions.forEach((prediction, i) => {
      if (prediction.error) sent[i].errors.push(...serverErrors(prediction.error.details));
      else sent[i].prediction = kept(prediction);
    });
    return true;
  }
  const details = answer.data?.error?.details;
  if (answer.status === 422 && details?.every((d) => Number.isInteger(d.index))) {
    for (const detail of details) sent[detail.index]?.errors.push(...serverErrors([detail]));
    // The API lists at most a few dozen details; rows past them are refused all the same.
    for (const entry of sent) if (!entry.errors.length) entry.errors.push({field: null, key: "batch_unreported"});
    return true;
  }
  return false;
}

function serverErrors(details) {
  if (!details?.length) return [{field: null, key: "code_invalid_row"}];
  return details.map((d) => (FIELDS.includes(d.field) ? {field: d.field, problem: d.problem}
    : {field: null, key: d.field === "id" ? "problem_id" : "code_invalid_row"}));
}

/** An error in the page's words: "당기 자산총계: 0보다 커야 합니다 …" (or the words alone for the row). */
function errorText(error) {
  const what = error.key ? t(error.key) : fieldProblemText(error.problem);
  return error.field ? `${fieldLabel(error.field)}: ${what}` : what;
}

function notes(entry) {
  const texts = entry.errors.map(errorText);
  for (const warning of entry.prediction?.warnings ?? []) texts.push(warningText(warning));
  return texts.join(" · ");
}

/** The results table, one page of PAGE_ROWS rows in file order: the verdict, grade,
 * probability and errors first; the ratios only when asked for (`withRatios`). */
export function renderTable(container, entries, model, {page = 0, withRatios = false, onPage, onRatios} = {}) {
  const features = withRatios ? model?.features ?? [] : [];
  const header = [t("col_line"), t("col_company"), t("col_grade"), t("col_class"), t("col_probability"),
    t("col_notes"), ...features.map((name) => ratioLabel(name))];
  const pages = Math.max(1, Math.ceil(entries.length / PAGE_ROWS));
  const current = Math.min(Math.max(page, 0), pages - 1);
  const shown = entries.slice(current * PAGE_ROWS, (current + 1) * PAGE_ROWS);
  const row = (entry) => {
    const p = entry.prediction;
    return el("tr", {class: p ? `is-${p.class}` : "is-error"},
      el("td", {}, String(entry.line)),
      el("th", {scope: "row"}, visible(entry.id) || "—"),
      el("td", {class: "grade-cell"}, p ? gradeText(p) || "—" : "—"),
      el("td", {class: "class-cell"}, p ? className(p) : "—"),
      el("td", {class: "num"}, p ? formatPercent(p.probability_unsound) : "—"),
      el("td", {class: "notes"}, notes(entry)),
      features.map((name) => el("td", {class: "num"}, formatRatio(name, p?.ratios?.[name]))));
  };
  const pager = pages > 1 ? el("div", {class: "pager", dataset: {testid: "batch-pager"}},
    el("button", {type: "button", disabled: current === 0, dataset: {testid: "page-prev"}}, t("page_prev", {size: PAGE_ROWS})),
    el("span", {role: "status"}, t("batch_page", {from: current * PAGE_ROWS + 1,
      to: current * PAGE_ROWS + shown.length, total: entries.length})),
    el("button", {type: "button", disabled: current === pages - 1, dataset: {testid: "page-next"}}, t("page_next", {size: PAGE_ROWS})))
    : null;
  pager?.querySelector('[data-testid="page-prev"]').addEventListener("click", () => onPage?.(current - 1));
  pager?.querySelector('[data-testid="page-next"]').addEventListener("click", () => onPage?.(current + 1));
  const toggle = el("label", {class: "ratio-toggle"},
    el("input", {type: "checkbox", checked: withRatios, dataset: {testid: "show-ratios"}}), " ", t("show_ratios"));
  toggle.querySelector("input").addEventListener("change", (event) => onRatios?.(event.target.checked));
  container.replaceChildren(toggle, pager ?? "",
    el("div", {class: "table-scroll", role: "region", tabindex: "0", "aria-labelledby": "batch-table-label",
      dataset: {testid: "batch-scroll"}},
    el("table", {class: "batch-table", dataset: {testid: "batch-table"}},
      el("caption", {id: "batch-table-label", class: "visually-hidden"}, t("batch_table_label")),
      el("thead", {}, el("tr", {}, header.map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, shown.map(row)))));
}

// A spreadsheet runs a cell that starts like a formula; a name from a file must not.
function inert(text) {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function ratioHeader(name) {
  const label = ratioLabel(name);
  const unit = ratioUnit(name);
  // English labels carry their unit ("Revenue growth (%)"); Korean ones mostly do not.
  return currentLang() === "en" || label.includes(`(${unit})`) ? label : `${label}(${unit})`;
}

const round = (value, digits) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : "");

/** The results as CSV text in the page's language: the inputs as sent, the grade, class,
 * probability in % (one decimal), red flags and reasons in words, the ratios (two decimals). */
export function resultsCsv(entries) {
  const ratioNames = [...new Set(entries.flatMap((e) => Object.keys(e.prediction?.ratios ?? {})))];
  const header = [t("csv_line"), t("csv_company"), ...FIELDS.map(fieldLabel), t("csv_grade"), t("csv_grade_name"),
    t("csv_class"), t("csv_probability"), t("csv_flags"), t("csv_reasons"), ...ratioNames.map(ratioHeader),
    t("csv_warnings"), t("csv_errors")];
  const rows = entries.map((entry) => {
    const p = entry.prediction;
    return [entry.line, inert(visible(entry.id)), ...FIELDS.map((name) => entry.values?.[name] ?? ""),
      p?.grade?.grade ?? "", p?.grade ? localized(p.grade) : "", p ? className(p) : "",
      p ? round(p.probability_unsound * 100, 1) : "",
      inert((p?.flags ?? []).map((flag) => localized(flag)).join(" · ")),
      inert((p?.reasons ?? []).map((reason) => localized(reason)).join(" · ")),
      ...ratioNames.map((name) => round(p?.ratios?.[name], 2)),
      inert((p?.warnings ?? []).map(warningText).join(" · ")),
      inert(entry.errors.map(errorText).join(" · "))];
  });
  return "\uFEFF" + toCsv([header, ...rows]); // the mark makes Excel read UTF-8 Korean
}

/** The results file's name, dated (local date): 건전성-예측-2026-12-02.csv */
export function resultsFileName(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return t("csv_name", {date: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`});
}
