// Many companies from a CSV file: read the columns, turn cells into numbers, ask the API
// in batches of at most its MAX_BATCH rows, show a table with each row's result or errors,
// offer it as CSV.
import {CsvError, decodeCsv, parseCsv, toCsv} from "./csv.js";
import {el, visible} from "./dom.js";
import {FIELDS, readStatement} from "./fields.js";
import {t} from "./i18n.js";
import {className, formatNumber, formatPercent, ratioLabel, reasons, warningText} from "./result.js";

const ID_HEADERS = ["id", "name", "company", "companyname", "회사명", "기업명", "회사", "회사이름"];

// Headers compare without case, spaces, underscores and brackets: "당기 수익(매출액)",
// "당기수익 (매출액)", "TOTAL_ASSETS" and "Total assets (current year)" all match.
function headerKey(text) {
  return String(text).normalize("NFKC").toLowerCase().replace(/[\s_()[\]\-.·]/g, "");
}

/** Header (as headerKey reads it) -> field: the API names, and GET /model's labels once known. */
function headersOf(model) {
  return new Map(FIELDS.flatMap((name) => {
    const label = model?.statement_labels?.[name] ?? {};
    return [name, label.ko, label.en].filter(Boolean).map((header) => [headerKey(header), name]);
  }));
}

/** Which column holds which field; a problem message when the header cannot be used. */
function mapColumns(header, model) {
  const fieldOf = headersOf(model);
  const columns = {};
  const ignored = [];
  const duplicated = [];
  let idColumn = null;
  header.forEach((text, index) => {
    const key = headerKey(text);
    const field = fieldOf.get(key);
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
  else if (missing.length) problem = t("batch_missing", {columns: missing.join(", ")});
  return {columns, idColumn, ignored, problem};
}

/** One CSV row to {line, id, values, errors}; errors are the cells that cannot be sent (as in
 * the form: a blank cell is unknown for a model that takes unknowns), or a row with none given. */
function readRow(row, mapping, model) {
  const read = readStatement((name) => row.cells[mapping.columns[name]], model);
  const errors = Object.entries(read.problems).map(([field, problem]) => ({field, key: `err_${problem}`}));
  if (read.allBlank) errors.push({field: null, key: "err_all_blank"});
  const id = mapping.idColumn === null ? "" : (row.cells[mapping.idColumn] ?? "").trim();
  return {line: row.line, id, values: read.values, errors};
}

/** Text of a CSV file to {entries, ignored} or {problem}; `model` is GET /model's facts (or null). */
export function readCompanies(text, model) {
  let rows;
  try {
    rows = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvError) return {problem: t("batch_unclosed_quote", {line: error.line})};
    throw error;
  }
  if (rows.length < 2) return {problem: t("batch_no_rows")};
  const mapping = mapColumns(rows[0].cells, model);
  if (mapping.problem) return {problem: mapping.problem};
  return {entries: rows.slice(1).map((row) => readRow(row, mapping, model)), ignored: mapping.ignored};
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

/** Put the API's answer (or a 422's row details) onto the entries that were sent. */
export function attachAnswer(sent, answer) {
  if (answer.kind === "ok") {
    answer.data.predictions.forEach((prediction, i) => {
      if (prediction.error) sent[i].errors.push(...serverErrors(prediction.error.details, prediction.error.message));
      else sent[i].prediction = prediction;
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

function serverErrors(details, message) {
  if (!details?.length) return [{field: null, text: message}];
  return details.map((d) => ({field: d.field, text: d.problem}));
}

/** An error as "field: what" (or "what" for the whole row): in words, or as the CSV's code. */
function errorText(error, asCode = false) {
  const what = !error.key ? error.text : asCode ? error.key.replace("err_", "") : t(error.key);
  return error.field ? `${error.field}: ${what}` : what;
}

function notes(entry, model) {
  const texts = entry.errors.map((error) => errorText(error));
  for (const warning of entry.prediction?.warnings ?? []) texts.push(warningText(warning, model));
  return texts.join(" · ");
}

/** The results table: one row per CSV row, in file order. */
export function renderTable(container, entries, model) {
  const features = model?.features ?? [];
  const header = [t("col_line"), t("col_company"), t("col_class"), t("col_probability"),
    ...features.map((name) => ratioLabel(name, model)), t("col_notes")];
  const row = (entry) => {
    const p = entry.prediction;
    return el("tr", {class: p ? `is-${p.class}` : "is-error"},
      el("td", {}, String(entry.line)),
      el("th", {scope: "row"}, visible(entry.id) || "—"),
      el("td", {class: "class-cell"}, p ? className(p) : "—"),
      el("td", {class: "num"}, p ? formatPercent(p.probability_unsound) : "—"),
      features.map((name) => el("td", {class: "num"}, formatNumber(p?.ratios?.[name]))),
      el("td", {class: "notes"}, notes(entry, model)));
  };
  container.replaceChildren(el("div", {class: "table-scroll"},
    el("table", {class: "batch-table", dataset: {testid: "batch-table"}},
      el("thead", {}, el("tr", {}, header.map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, entries.map(row)))));
}

// A spreadsheet runs a cell that starts like a formula; a name from a file must not.
function inert(text) {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The results as CSV text: machine names as headers, full-precision numbers; each ratio's
 * contribution to the log-odds (contribution_<ratio>) and the largest ones in words. */
export function resultsCsv(entries, model) {
  const ratioNames = [...new Set(entries.flatMap((e) => Object.keys(e.prediction?.ratios ?? {})))];
  const explained = [...new Set(entries.flatMap((e) => Object.keys(e.prediction?.explanation?.contributions ?? {})))];
  const header = ["line", "id", "label", "class", "class_ko", "probability_unsound", ...ratioNames,
    "reasons", "explanation_baseline_log_odds", ...explained.map((name) => `contribution_${name}`), "warnings", "errors"];
  const rows = entries.map((entry) => {
    const p = entry.prediction;
    return [entry.line, inert(entry.id), p?.label, p?.class, p?.class_ko, p?.probability_unsound,
      ...ratioNames.map((name) => p?.ratios?.[name]),
      p ? reasons(p, model).map((r) => r.text).join(" · ") : "",
      p?.explanation?.baseline,
      ...explained.map((name) => p?.explanation?.contributions?.[name]),
      (p?.warnings ?? []).map((w) => w.code).join(";"),
      inert(entry.errors.map((e) => errorText(e, true)).join("; "))];
  });
  return "\uFEFF" + toCsv([header, ...rows]); // the mark makes Excel read UTF-8 Korean
}
