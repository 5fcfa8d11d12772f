// One prediction as the API returned it: the grade and class first, the server's red flags and
// reasons, the contributions drawn, warnings, the model's ratios on bars against the training
// population, the other ratios, the model line. Nothing here computes a ratio or phrases a
// reason: every number and every judgement shown is the API's.
import {el, numberFormat} from "./dom.js";
import {ratioLabel, ratioUnit} from "./fields.js";
import {currentLang, languageOf, localized, t} from "./i18n.js";

export function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const locale = currentLang() === "ko" ? "ko-KR" : "en-US";
  return numberFormat(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(value);
}

/** A ratio's value with its unit: "−14.33%", "1.30회". */
export function formatRatio(name, value) {
  const number = formatNumber(value);
  return number === "—" ? number : `${number}${ratioUnit(name)}`;
}

export function formatPercent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

/** The class in words, as the API named it: its Korean word, or its English name (which the
 * style sheet capitalizes where it stands alone). */
export function className(prediction) {
  return currentLang() === "ko" ? prediction.class_ko : prediction.class;
}

/** The grade as words ("위험 등급 4/5 · 높음"), "" when the answer carries none. */
export function gradeText(prediction) {
  const grade = prediction.grade;
  if (!grade) return "";
  const name = localized(grade);
  return Number.isInteger(grade.grade) ? `${t("grade_line", {grade: grade.grade})} · ${name}` : name;
}

/** The short line a screen reader hears when a result comes: "위험 등급 4/5 · 높음, 비건전, 비건전 확률 12.3%". */
export function announcement(prediction) {
  const grade = gradeText(prediction);
  return t("announce", {grade: grade ? `${grade}, ` : "", class: className(prediction),
    probability: formatPercent(prediction.probability_unsound)});
}

// ------------------------------------------------------------ where a value sits

function usableQuantiles(quantiles) {
  const q = quantiles?.q;
  const values = quantiles?.values;
  if (!Array.isArray(q) || !Array.isArray(values) || q.length < 2 || q.length !== values.length) return null;
  if (![...q, ...values].every(Number.isFinite)) return null;
  // q may be given as fractions (0.25) or as percents (25).
  const scale = Math.max(...q) > 1 ? 1 : 100;
  return {percents: q.map((x) => x * scale), values};
}

/** {percent, side}: the share of training companies below `value` (interpolated). */
export function percentileOf(value, quantiles) {
  const {percents, values} = quantiles;
  const last = values.length - 1;
  if (value < values[0]) return {percent: percents[0], side: "below"};
  if (value > values[last]) return {percent: percents[last], side: "above"};
  const first = values.indexOf(value);
  if (first >= 0) {
    // Tied quantiles (many companies with the same value): the middle of the tie.
    const lastEqual = values.lastIndexOf(value);
    return {percent: (percents[first] + percents[lastEqual]) / 2, side: "inside"};
  }
  const i = values.findIndex((v) => v > value) - 1;
  const share = (value - values[i]) / (values[i + 1] - values[i]);
  return {percent: percents[i] + share * (percents[i + 1] - percents[i]), side: "inside"};
}

function nearestIndex(percents, target) {
  return percents.reduce((best, p, i) => (Math.abs(p - target) < Math.abs(percents[best] - target) ? i : best), 0);
}

function placed(className, left, width) {
  const node = el("div", {class: className});
  node.style.left = `${left}%`;
  if (width !== undefined) node.style.width = `${width}%`;
  return node;
}

function whereText(position) {
  const p = Math.round(position.percent);
  if (position.side === "below") return t("below_range", {p});
  if (position.side === "above") return t("above_range", {p: 100 - p});
  return t("percentile", {p});
}

function bar(name, value, quantiles) {
  const {percents, values} = quantiles;
  const position = percentileOf(value, quantiles);
  const low = nearestIndex(percents, 25);
  const high = nearestIndex(percents, 75);
  const middle = nearestIndex(percents, 50);
  const markerAt = position.side === "below" ? 0 : position.side === "above" ? 100 : position.percent;
  const axisPoint = (i) => el("span", {}, t("quantile_axis", {q: Math.round(percents[i]), value: formatRatio(name, values[i])}));
  return [
    el("div", {class: "bar", "aria-hidden": "true"},
      placed("bar-band", percents[low], Math.max(percents[high] - percents[low], 0)),
      placed("bar-median", percents[middle]),
      placed("bar-marker", markerAt)),
    el("p", {class: "bar-where", dataset: {testid: "percentile"}}, whereText(position)),
    el("p", {class: "bar-axis"}, axisPoint(0), axisPoint(middle), axisPoint(values.length - 1)),
  ];
}

// ------------------------------------------------------------ what the server says it means

function flagsSection(prediction) {
  if (!prediction.flags?.length) return null;
  return el("section", {class: "flags", dataset: {testid: "flags"}},
    el("h3", {}, t("flags_heading")),
    el("ul", {}, prediction.flags.map((flag) => el("li", {dataset: {code: flag.code}, title: flag.rule || null},
      localized(flag)))));
}

function reasonsSection(prediction) {
  if (!prediction.reasons?.length) return null;
  return el("section", {class: "reasons", dataset: {testid: "reasons"}},
    el("h3", {}, t("reasons_heading")),
    el("ul", {}, prediction.reasons.map((reason) => el("li", {
      class: reason.direction === "raised" ? "raises" : "lowers", dataset: {name: reason.name}}, localized(reason)))));
}

// ------------------------------------------------------------ the contributions, drawn

/** A group's name: GET /model's words for a group of tied ratios, else the ratio's label. */
function groupLabel(name, model) {
  const group = model?.reason_groups?.[name];
  return group ? localized(group) : ratioLabel(name);
}

function contributionValue(c) {
  if (c === 0) return t("chart_none");
  return t(c > 0 ? "chart_raised" : "chart_lowered", {value: formatNumber(Math.abs(c))});
}

/** A signed bar per entry, most raising first, most lowering last; each row says its number in
 * text, so a screen reader (and a printout) has them all. */
function barChart(entries, testid) {
  const sorted = entries.filter(([, c]) => Number.isFinite(c)).sort((a, b) => b[1] - a[1]);
  const largest = Math.max(...sorted.map(([, c]) => Math.abs(c)), 1e-12);
  return el("ol", {class: "chart-bars", dataset: {testid}}, sorted.map(([name, c, label]) => {
    const share = (Math.abs(c) / largest) * 50;
    const barNode = el("span", {class: "chart-bar"});
    barNode.style.left = `${c >= 0 ? 50 : 50 - share}%`;
    barNode.style.width = `${share}%`;
    return el("li", {class: c > 0 ? "raises" : c < 0 ? "lowers" : "none", dataset: {name, contribution: String(c)}},
      el("span", {class: "chart-label"}, label),
      el("span", {class: "chart-track", "aria-hidden": "true"}, el("span", {class: "chart-axis"}), barNode),
      el("span", {class: "chart-value"}, contributionValue(c)));
  }));
}

function chartSection(prediction, model) {
  const explanation = prediction.explanation;
  const contributions = explanation?.contributions;
  if (!contributions) return null;
  const unknown = (name) => !Number.isFinite(prediction.ratios?.[name]) ? ` ${t("chart_unknown")}` : "";
  const byRatio = Object.entries(contributions).map(([name, c]) => [name, c, ratioLabel(name) + unknown(name)]);
  const groups = explanation.groups && Object.keys(explanation.groups).length ? explanation.groups : null;
  return el("section", {class: "chart", dataset: {testid: "contributions"}},
    el("h3", {}, t("chart_heading")),
    el("p", {class: "note"}, t("chart_note")),
    groups ? barChart(Object.entries(groups).map(([name, c]) => [name, c, groupLabel(name, model)]), "chart-groups")
      : barChart(byRatio, "chart-ratios"),
    groups ? el("details", {class: "chart-detail"}, el("summary", {}, t("chart_features")), barChart(byRatio, "chart-ratios"))
      : null);
}

// ------------------------------------------------------------ the parts

function features(prediction, model, names) {
  const items = names.map((name) => {
    const value = prediction.ratios?.[name];
    const quantiles = usableQuantiles(model?.feature_quantiles?.[name]);
    return el("li", {class: "feature"},
      el("div", {class: "feature-head"},
        el("span", {class: "feature-name"}, ratioLabel(name)),
        el("span", {class: "feature-value", dataset: {testid: `feature-${name}`}}, formatRatio(name, value))),
      !Number.isFinite(value) ? el("p", {class: "bar-where", dataset: {testid: "unknown"}}, t("ratio_unknown"))
        : quantiles ? bar(name, value, quantiles) : null);
  });
  const anyBar = names.some((name) => usableQuantiles(model?.feature_quantiles?.[name]));
  return el("section", {class: "features", "aria-labelledby": "features-heading"},
    el("h3", {id: "features-heading"}, t("features_heading")),
    el("p", {class: "note"}, anyBar ? t("features_note") : t("no_quantiles")),
    el("ul", {class: "feature-list"}, items));
}

function otherRatios(prediction, shown) {
  const names = Object.keys(prediction.ratios || {}).filter((name) => !shown.includes(name));
  if (!names.length) return null;
  return el("section", {class: "other-ratios"},
    el("h3", {}, t("other_ratios")),
    el("table", {class: "ratio-table", dataset: {testid: "other-ratios"}},
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("ratio")), el("th", {scope: "col"}, t("value")))),
      el("tbody", {}, names.map((name) => el("tr", {dataset: {ratio: name}},
        el("th", {scope: "row"}, ratioLabel(name)),
        el("td", {}, formatRatio(name, prediction.ratios[name])))))));
}

// The values a warning's text needs, by its code, from the warning itself (numbers as the API
// gave them, ratios by their labels).
const WARNING_VALUES = {
  outside_training_range(warning) {
    const [qLow, qHigh] = warning.quantiles ?? [];
    const percent = Math.max(qLow, qHigh) > 1 ? 1 : 100; // quantiles as fractions or percents
    const name = warning.fields?.[0];
    return {ratio: ratioLabel(name), value: formatRatio(name, warning.value),
      low: formatRatio(name, warning.range?.[0]), high: formatRatio(name, warning.range?.[1]),
      share: Math.round((qHigh - qLow) * percent)};
  },
  unknown_inputs: ratioList,
  more_outside_training_range: ratioList,
};

function ratioList(warning) {
  return {ratios: (warning.fields ?? []).map((name) => ratioLabel(name)).join(", ")};
}

/** A warning in the page's language; the API's own words for a code the page does not know. */
export function warningText(warning) {
  const key = `warning_${warning.code}`;
  const known = t(key, WARNING_VALUES[warning.code]?.(warning) ?? {});
  return known === key ? warning.message || warning.code : known;
}

function warnings(prediction) {
  if (!prediction.warnings?.length) return null;
  return el("section", {class: "warnings", dataset: {testid: "warnings"}},
    el("h3", {}, t("warnings")),
    el("ul", {}, prediction.warnings.map((warning) => el("li", {
      dataset: {code: warning.code, field: warning.fields?.[0]}}, warningText(warning)))));
}

/** "Model X (version v) · trained on …" from GET /model, or the answer's model. */
export function modelLine(info, answered, short = false) {
  const model = info?.model ?? answered;
  if (!model) return "";
  if (!info || short) return t("model_line_short", {name: model.name, version: model.version});
  const data = localized(info.training_data?.description) || t("unknown");
  return t("model_line", {name: model.name, version: model.version, data});
}

/** The model's limits from GET /model, folded under the model line; null when it records none. */
function modelLimits(info) {
  if (!Array.isArray(info?.limits) || !info.limits.length) return null;
  return el("details", {class: "model-limits", dataset: {testid: "model-limits"}},
    el("summary", {}, t("model_limits")),
    // A limit the model records in one language only is shown as it is, marked as that language.
    el("ul", {}, info.limits.map((limit) => {
      const text = localized(limit);
      return el("li", {lang: languageOf(text) === currentLang() ? null : languageOf(text)}, text);
    })));
}

/** The whole result card for one scored prediction; `answer` is the rest of the API's answer
 * (its model and event). The verdict (grade, class, probability) comes first and takes focus. */
export function renderResult(container, prediction, model, answer) {
  const names = model?.features ?? []; // without GET /model every ratio goes in the table
  const threshold = model?.decision?.threshold;
  const grade = gradeText(prediction);
  const event = localized(answer?.event);
  const parts = [
    el("div", {class: `verdict is-${prediction.class}`, id: "verdict", tabindex: "-1", dataset: {testid: "verdict"}},
      grade ? el("p", {class: `verdict-grade grade-${prediction.grade.grade ?? "none"}`, dataset: {testid: "result-grade"}}, grade) : null,
      el("p", {class: "verdict-class", dataset: {testid: "result-class"}}, className(prediction)),
      el("p", {class: "verdict-probability"},
        el("span", {}, t("probability")), " ",
        el("strong", {dataset: {testid: "result-probability"}}, formatPercent(prediction.probability_unsound)))),
    event ? el("p", {class: "note", dataset: {testid: "event"}}, t("event_line", {event})) : null,
    prediction.id !== null && prediction.id !== undefined ? el("p", {class: "note"}, t("result_for", {id: prediction.id})) : null,
    Number.isFinite(threshold) ? el("p", {class: "note"}, t("threshold", {threshold: formatPercent(threshold)})) : null,
    flagsSection(prediction),
    reasonsSection(prediction),
    warnings(prediction),
    chartSection(prediction, model),
    names.length ? features(prediction, model, names) : null,
    otherRatios(prediction, names),
    el("p", {class: "model-line", dataset: {testid: "model-line"}}, modelLine(model, answer?.model)),
    modelLimits(model),
    el("p", {class: "note screen-only", dataset: {testid: "link-note"}}, t("link_note")),
    el("div", {class: "actions screen-only"},
      el("button", {type: "button", id: "print", dataset: {testid: "print"}}, t("print_button")))];
  container.replaceChildren(...parts.filter(Boolean));
}
