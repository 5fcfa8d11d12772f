// Filling the form from DART: search a listed company, pick it, get its annual statements.
// The API reads DART and names the filing; the page only shows the matches and copies the
// values it is given into the form, where they stay editable. Fields the filing lacks (for a
// model that takes unknowns the API gives the rest) stay blank, and the page says which. Without
// a year chosen the API picks the latest one that has a filing (in February, the year before last).
import {call, problemText} from "./api.js";
import {el, say} from "./dom.js";
import {drawHistory, setHistoryCompany, startHistory} from "./history.js";
import {currentLang, localized, particle, t} from "./i18n.js";

const FIRST_YEAR = 2015; // DART's financial data starts with the 2015 reports
const SEARCH_DELAY_MS = 250;
const $ = (id) => document.getElementById(id);

const state = {
  available: false, // GET /model says this server has a DART key
  refused: false, // the server answered lookup_not_configured after all
  companies: null, // the last search's matches, or null before any search
  query: "",
  chosen: null, // the company last picked: a new year fetches its statements again
  picked: null, // {company, year, source, values, missing, warnings, currency, market} once filled in
  message: null, // {key, values, details, state}, or {answer, state} for an answer worded by api.js
};

let fill = () => {};
let labelOf = (name) => name; // a statement field's label in the current language
let drawnCompanies; // the matches on screen: redrawn only when they change, so focus stays put
let searchTimer = null;
let searchCount = 0; // answers to older searches are dropped when a newer one was sent

/** The latest finished fiscal year: the year before this one. */
function latestYear() {
  return new Date().getFullYear() - 1;
}

/** "Latest" first (the API finds the latest year with a filing), then each year down to 2015. */
function buildYears() {
  const select = $("lookup-year");
  const years = [el("option", {value: ""}, t("lookup_year_latest"))];
  for (let year = latestYear(); year >= FIRST_YEAR; year -= 1) years.push(el("option", {value: String(year)}, String(year)));
  select.replaceChildren(...years);
  select.value = "";
}

// ------------------------------------------------------------ searching

async function search() {
  clearTimeout(searchTimer);
  const query = $("company-search").value.trim();
  if (!query) {
    state.companies = null;
    state.message = null;
    drawLookup();
    return;
  }
  const mine = ++searchCount;
  const answer = await call(`/companies?q=${encodeURIComponent(query)}`);
  if (mine !== searchCount) return;
  state.query = query;
  if (answer.kind === "ok") {
    state.companies = answer.data.companies;
    state.message = state.companies.length ? null : {key: "lookup_no_match", values: {query}, state: "info"};
  } else {
    state.companies = null;
    state.message = failure(answer);
  }
  drawLookup();
}

function onSearchInput() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, SEARCH_DELAY_MS);
}

function onSearchKey(event) {
  if (event.key === "ArrowDown") {
    event.preventDefault();
    resultButtons()[0]?.focus();
  }
}

/** Arrow keys move between the matches; Escape goes back to the search box. */
function onResultsKey(event) {
  const buttons = resultButtons();
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = at + (event.key === "ArrowDown" ? 1 : -1);
    (buttons[next] ?? (next < 0 ? $("company-search") : buttons[at])).focus();
  } else if (event.key === "Escape") {
    $("company-search").focus();
  }
}

function resultButtons() {
  return [...$("company-results").querySelectorAll("button")];
}

// ------------------------------------------------------------ picking

async function pick(company) {
  const year = $("lookup-year").value;
  const fs = $("lookup-fs").value;
  state.chosen = company;
  state.message = {key: year ? "lookup_loading" : "lookup_loading_latest", values: {name: company.name, year}, state: "info"};
  setHistoryCompany(null);
  drawLookup();
  const query = new URLSearchParams({...(year ? {year} : {}), ...(fs ? {fs} : {})});
  const answer = await call(`/companies/${encodeURIComponent(company.stock_code)}/statements?${query}`);
  if (answer.kind === "ok") {
    const {statements, source, year: filedYear, missing = [], warnings = [], currency, market} = answer.data;
    state.picked = {company: answer.data.company, year: filedYear, source, values: statements,
      missing: missing.map((m) => m.field), warnings, currency, market};
    state.message = null;
    fill(statements);
    setHistoryCompany(answer.data.company, fs);
  } else {
    state.picked = null;
    state.message = failure(answer, {name: company.name, year: year || latestYear()});
  }
  drawLookup();
}

function onChoiceChange() {
  if (state.chosen) pick(state.chosen);
}

/** What to say when the lookup failed: DART's usual refusals in words, the rest as the API said. */
function failure(answer, values = {}) {
  const error = answer.data?.error;
  const known = {
    no_filing: "lookup_no_filing", no_statements: "lookup_no_statements", dart_busy: "lookup_busy",
    lookup_not_configured: "lookup_not_configured", dart_timeout: "lookup_timeout",
    accounts_missing: "lookup_accounts_missing", lookup_limit: "lookup_limit", lookup_busy: "lookup_slots",
  };
  if (error?.code === "lookup_not_configured") state.refused = true;
  // Worded when drawn, not now: a change of language rewords it.
  if (error && known[error.code]) return {key: known[error.code], values, details: error.details ?? [], state: "error"};
  return {answer, state: "error"};
}

/** The message's words in the page's language: an account the filing lacks by its label. */
function messageText(message) {
  if (!message.key) return problemText(message.answer);
  const missing = (message.details ?? []).filter((d) => d.field).map((d) => labelOf(d.field)).join(", ");
  return t(message.key, {...message.values, missing});
}

// ------------------------------------------------------------ drawing

function resultItem(company) {
  const button = el("button", {type: "button", class: "company-result", dataset: {testid: "company-result"}},
    el("span", {class: "company-name"}, company.name),
    el("span", {class: "company-code"}, company.stock_code),
    company.name_en ? el("span", {class: "company-name-en", lang: "en"}, company.name_en) : null);
  button.addEventListener("click", () => pick(company));
  return el("li", {}, button);
}

function sourceLine(picked) {
  const basis = t(picked.source.fs_div === "CFS" ? "lookup_cfs" : "lookup_ofs");
  const period = picked.source.thstrm_dt ? t("lookup_period", {period: picked.source.thstrm_dt}) : "";
  const statements = period ? `${basis}, ${period}` : basis;
  return [
    t("lookup_source", {name: picked.company.name, year: picked.year, statements}), " ",
    el("a", {href: picked.source.url, target: "_blank", rel: "noopener noreferrer"}, t("lookup_source_link")),
  ];
}

/** The fields the filing lacks, left blank, by their labels: the person types them or predicts without. */
function missingLine(missing) {
  if (!missing?.length) return "";
  const labels = missing.map(labelOf);
  const object = currentLang() === "ko" ? particle(labels.at(-1), ["을", "를"]) : "";
  return t("lookup_missing", {fields: labels.join(", "), object});
}

export function drawLookup() {
  $("lookup").hidden = !state.available;
  $("lookup-form").hidden = state.refused;
  const list = $("company-results");
  if (state.companies !== drawnCompanies) {
    list.replaceChildren(...(state.companies ?? []).map(resultItem));
    drawnCompanies = state.companies;
  }
  list.hidden = state.refused || !state.companies?.length;
  const message = state.message;
  say($("lookup-status"), message ? messageText(message) : "", message?.state);
  const source = $("lookup-source");
  source.replaceChildren(...(state.picked ? sourceLine(state.picked) : []));
  source.hidden = !state.picked;
  say($("lookup-missing"), missingLine(state.picked?.missing), "info");
  const warnings = state.picked?.warnings ?? [];
  $("lookup-warnings").replaceChildren(...warnings.map((w) => el("li", {dataset: {code: w.code}}, localized(w))));
  $("lookup-warnings").hidden = !warnings.length;
  $("lookup-year").options[0].textContent = t("lookup_year_latest");
  drawHistory();
}

/** Offer the lookup or not, as GET /model says this server can. */
export function setLookupAvailable(available) {
  state.available = available;
  drawLookup();
}

/** While the form still holds exactly the picked filing's values: the filing's name as the row's id,
 * and the company's currency and market (for the flags that depend on them); else null. */
export function filledFrom(values) {
  const picked = state.picked;
  if (!picked || Object.keys(picked.values).some((name) => picked.values[name] !== values[name])) return null;
  const known = Object.entries({currency: picked.currency, market: picked.market}).filter(([, v]) => v);
  return {id: `${picked.company.name} ${picked.year}`, ...Object.fromEntries(known)};
}

/** The form was cleared: the filing no longer describes it. */
export function forgetPick() {
  state.picked = null;
  setHistoryCompany(null);
  drawLookup();
}

/** onFill(values) puts the filing's values in the form (null: left blank); label(name) is a
 * statement field's label in the current language. */
export function startLookup(onFill, label) {
  fill = onFill;
  labelOf = label;
  buildYears();
  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  $("company-search").addEventListener("input", onSearchInput);
  $("company-search").addEventListener("keydown", onSearchKey);
  $("company-results").addEventListener("keydown", onResultsKey);
  $("lookup-year").addEventListener("change", onChoiceChange);
  $("lookup-fs").addEventListener("change", onChoiceChange);
  startHistory($("history"));
  drawLookup();
}
