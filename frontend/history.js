// The company's risk over the years: every fiscal year DART has, each scored by the API (GET
// /companies/{code}/history), drawn as a chart with a table of the same figures. The page asks
// only when the person opens it (each year not yet kept is one DART call), and shows what the API
// computed: the probability, the grade, the class and the flags, never a formula of its own.
import {call, problemText} from "./api.js";
import {el, say} from "./dom.js";
import {currentLang, localized} from "./i18n.js";

// This chart's own words; the API's words (grades, flags, warnings) come with it in both languages.
const TEXT = {
  ko: {
    heading: "연도별 위험",
    open: "연도별 위험 보기",
    loading: "{name}의 2015년 이후 사업보고서를 불러와 연도별로 예측하는 중…",
    title: "{name}의 연도별 비건전 확률",
    axis: "비건전 확률 (로그 눈금)",
    sound: "건전",
    unsound: "비건전",
    absent: "없음",
    none: "DART에 {name}의 2015년 이후 사업보고서 재무제표가 없습니다.",
    year: "연도",
    probability: "비건전 확률",
    grade: "등급",
    class: "판정",
    flags: "위험 신호",
    filing: "공시",
    link: "보기",
    summary: "{first}년 {p1}에서 {last}년 {p2}로",
  },
  en: {
    heading: "Risk over the years",
    open: "Show the risk over the years",
    loading: "Fetching and scoring {name}'s annual reports from 2015 on…",
    title: "{name}: probability of being unsound by year",
    axis: "probability unsound (log scale)",
    sound: "sound",
    unsound: "unsound",
    absent: "none",
    none: "DART has no statements of {name}'s annual reports from 2015 on.",
    year: "Year",
    probability: "Probability unsound",
    grade: "Grade",
    class: "Class",
    flags: "Red flags",
    filing: "Filing",
    link: "view",
    summary: "from {p1} in {first} to {p2} in {last}",
  },
};
const SVG = "http://www.w3.org/2000/svg";
// Drawn for the form's column (about 360 px wide on a desktop, the width of a phone): the
// coordinates are those pixels, so text stays readable when the chart is scaled to fit.
const WIDTH = 400;
const HEIGHT = 250;
const PLOT = {left: 52, right: 24, top: 30, bottom: 30};
const FLOOR = 1e-4; // the chart's bottom: 0.01 %; smaller probabilities sit on it
const TICKS = [[1e-4, "0.01 %"], [1e-3, "0.1 %"], [1e-2, "1 %"], [1e-1, "10 %"], [1, "100 %"]];

const state = {company: null, fs: "", answer: null, loading: false, message: null};
let root = null;
let asked = 0; // answers to an older company's history are dropped

function say_(key, values = {}) {
  const template = TEXT[currentLang()][key] ?? TEXT.ko[key];
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A probability as a person reads it: 0.14 %, 3.2 %, 41 %. */
function percent(p) {
  const value = p * 100;
  return `${value >= 10 ? value.toFixed(0) : value.toPrecision(2)} %`;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function gradeText(prediction) {
  return prediction.grade ? localized(prediction.grade) : "";
}

function classText(prediction) {
  return currentLang() === "ko" ? prediction.class_ko : prediction.class;
}

// ------------------------------------------------------------ the chart

function chart(answer) {
  const years = answer.years;
  const all = [...years.map((y) => y.year), ...answer.absent.map((a) => a.year)];
  const first = Math.min(...all);
  const last = Math.max(...all);
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (year) => PLOT.left + (last === first ? plotWidth / 2 : ((year - first) / (last - first)) * plotWidth);
  const y = (p) => PLOT.top + (Math.log10(Math.max(p, FLOOR)) / Math.log10(FLOOR)) * plotHeight;
  const name = answer.company.name;
  const title = say_("title", {name});
  const parts = [svg("title", {}, title)];
  for (const [tick, text] of TICKS) {
    parts.push(svg("line", {class: "grid", x1: PLOT.left, x2: WIDTH - PLOT.right, y1: y(tick), y2: y(tick)}));
    parts.push(svg("text", {class: "tick", x: PLOT.left - 6, y: y(tick) + 4, "text-anchor": "end"}, text));
  }
  parts.push(svg("text", {class: "axis", x: 0, y: 14}, say_("axis")));
  // Every year has its place; with many, every other one is labelled (and the last), so the
  // labels never run into each other.
  const every = last - first > 7 ? 2 : 1;
  for (let year = first; year <= last; year += 1) {
    if ((last - year) % every) continue;
    parts.push(svg("text", {class: "tick", x: x(year), y: HEIGHT - PLOT.bottom + 18, "text-anchor": "middle"}, String(year)));
  }
  // The line joins consecutive years only: a year without statements is a gap, not a slope.
  const runs = [[]];
  for (let year = first; year <= last; year += 1) {
    const entry = years.find((e) => e.year === year);
    if (entry) runs.at(-1).push(entry);
    else if (runs.at(-1).length) runs.push([]);
  }
  for (const segment of runs.filter((r) => r.length > 1)) {
    const points = segment.map((e) => `${x(e.year)},${y(e.prediction.probability_unsound)}`).join(" ");
    parts.push(svg("polyline", {class: "trend", points}));
  }
  for (const [i, entry] of years.entries()) {
    const p = entry.prediction;
    // Next to a neighbour's label, this one goes below its point.
    const below = i % 2 === 1 && years[i - 1].year === entry.year - 1;
    const cls = p.class === "unsound" ? "unsound" : "sound";
    const label = [String(entry.year), percent(p.probability_unsound), gradeText(p), classText(p)].filter(Boolean).join(" · ");
    parts.push(svg("g", {class: `point ${cls}`, "data-testid": "history-point", "data-year": entry.year},
      svg("title", {}, label),
      svg("circle", {cx: x(entry.year), cy: y(p.probability_unsound), r: 6}),
      svg("text", {class: "point-label", x: x(entry.year), y: y(p.probability_unsound) + (below ? 20 : -10),
        "text-anchor": "middle"},
        percent(p.probability_unsound))));
  }
  for (const missing of answer.absent) {
    parts.push(svg("g", {class: "absent", "data-testid": "history-absent", "data-year": missing.year},
      svg("title", {}, `${missing.year}: ${missing.problem}`),
      svg("text", {x: x(missing.year), y: HEIGHT - PLOT.bottom - 4, "text-anchor": "middle"}, "–")));
  }
  parts.push(legend());
  return svg("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": `${title}: ${trend(answer)}`,
    class: "history-chart", "data-testid": "history-chart"}, ...parts);
}

function legend() {
  const right = WIDTH - PLOT.right;
  return svg("g", {class: "legend"},
    svg("circle", {class: "point-mark sound", cx: right - 118, cy: 10, r: 5}),
    svg("text", {x: right - 110, y: 14}, say_("sound")),
    svg("circle", {class: "point-mark unsound", cx: right - 58, cy: 10, r: 5}),
    svg("text", {x: right - 50, y: 14}, say_("unsound")));
}

/** The trend in words, for a screen reader and as the chart's caption. */
function trend(answer) {
  const years = answer.years;
  if (!years.length) return say_("none", {name: answer.company.name});
  const first = years[0];
  const last = years.at(-1);
  return say_("summary", {first: first.year, last: last.year, p1: percent(first.prediction.probability_unsound),
    p2: percent(last.prediction.probability_unsound)});
}

// ------------------------------------------------------------ the table

function table(answer) {
  const head = ["year", "probability", "grade", "class", "flags", "filing"].map((key) => el("th", {scope: "col"}, say_(key)));
  const rows = answer.years.map((entry) => {
    const p = entry.prediction;
    const flags = (p.flags ?? []).map((flag) => localized(flag)).join(", ");
    return el("tr", {dataset: {testid: "history-row", year: String(entry.year)}},
      el("th", {scope: "row"}, String(entry.year)),
      el("td", {dataset: {testid: "history-probability"}}, percent(p.probability_unsound)),
      el("td", {}, gradeText(p)),
      el("td", {class: p.class === "unsound" ? "is-unsound" : "is-sound"}, classText(p)),
      el("td", {}, flags),
      el("td", {}, el("a", {href: entry.source.url, target: "_blank", rel: "noopener noreferrer"}, say_("link"))));
  });
  return el("table", {class: "history-table"}, el("thead", {}, el("tr", {}, ...head)), el("tbody", {}, ...rows));
}

function warnings(answer) {
  const seen = new Map();
  for (const entry of answer.years) for (const w of entry.warnings) if (w.code !== "latest_year_not_filed") seen.set(w.code, w);
  return [...seen.values()].map((w) => el("li", {dataset: {code: w.code}}, localized(w)));
}

// ------------------------------------------------------------ asking and drawing

async function open() {
  const company = state.company;
  const mine = ++asked;
  state.loading = true;
  state.message = null;
  drawHistory();
  const query = state.fs ? `?fs=${encodeURIComponent(state.fs)}` : "";
  const answer = await call(`/companies/${encodeURIComponent(company.stock_code)}/history${query}`);
  if (mine !== asked) return;
  state.loading = false;
  if (answer.kind === "ok") state.answer = answer.data;
  else state.message = problemText(answer);
  drawHistory();
}

export function drawHistory() {
  if (!root) return;
  root.hidden = !state.company;
  if (!state.company) return root.replaceChildren();
  const name = state.company.name;
  const button = el("button", {type: "button", dataset: {testid: "history-open"}}, say_("open"));
  button.addEventListener("click", open);
  button.disabled = state.loading;
  const status = el("p", {class: "message", role: "status", dataset: {testid: "history-status"}});
  if (state.loading) say(status, say_("loading", {name}), "info");
  else if (state.message) say(status, state.message, "error");
  else say(status, "");
  const parts = [el("h4", {id: "history-heading"}, say_("heading"))];
  const answer = state.answer;
  if (!answer) parts.push(button);
  parts.push(status);
  if (answer) {
    const caption = el("figcaption", {class: "note", dataset: {testid: "history-trend"}}, trend(answer));
    const notes = warnings(answer);
    parts.push(el("ul", {class: "lookup-warnings", dataset: {testid: "history-warnings"}, hidden: !notes.length}, ...notes));
    if (answer.years.length) parts.push(el("figure", {class: "history-figure"}, chart(answer), caption), table(answer));
    else parts.push(caption);
  }
  root.replaceChildren(...parts);
}

/** The company whose history may be asked for (null: none); a new one forgets the last chart. */
export function setHistoryCompany(company, fs = "") {
  if (company?.corp_code === state.company?.corp_code && fs === state.fs) return;
  asked += 1;
  Object.assign(state, {company, fs, answer: null, loading: false, message: null});
  drawHistory();
}

export function startHistory(node) {
  root = node;
  drawHistory();
}
