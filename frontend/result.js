// One prediction as the API returned it: class, probability, warnings, the model's
// ratios on bars against the training population, the other ratios, the model line.
// Nothing here computes a ratio: every number shown is the API's.
import {el} from "./dom.js";
import {currentLang, localized, particle, t} from "./i18n.js";

export function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const locale = currentLang() === "ko" ? "ko-KR" : "en-US";
  return new Intl.NumberFormat(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(value);
}

export function formatPercent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

/** The class in words, as the API named it: its Korean word, or its English name (which the
 * style sheet capitalizes where it stands alone). */
export function className(prediction) {
  return currentLang() === "ko" ? prediction.class_ko : prediction.class;
}

/** Labels for a ratio's name from GET /model, or the name itself. */
export function ratioLabel(name, model) {
  const label = model?.ratio_labels?.[name] ?? model?.feature_labels?.[name];
  return label ? localized(label) : name;
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

function bar(value, quantiles) {
  const {percents, values} = quantiles;
  const position = percentileOf(value, quantiles);
  const low = nearestIndex(percents, 25);
  const high = nearestIndex(percents, 75);
  const middle = nearestIndex(percents, 50);
  const markerAt = position.side === "below" ? 0 : position.side === "above" ? 100 : position.percent;
  const axisPoint = (i) => el("span", {}, t("quantile_axis", {q: Math.round(percents[i]), value: formatNumber(values[i])}));
  return [
    el("div", {class: "bar", "aria-hidden": "true"},
      placed("bar-band", percents[low], Math.max(percents[high] - percents[low], 0)),
      placed("bar-median", percents[middle]),
      placed("bar-marker", markerAt)),
    el("p", {class: "bar-where", dataset: {testid: "percentile"}}, whereText(position)),
    el("p", {class: "bar-axis"}, axisPoint(0), axisPoint(middle), axisPoint(values.length - 1)),
  ];
}

// ------------------------------------------------------------ why: the largest contributions

const REASONS = 3;

/** Low or high against the training median (GET /model's quantiles), or unknown. */
function level(value, quantiles) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "unknown";
  const q = usableQuantiles(quantiles);
  if (!q) return null;
  return percentileOf(value, q).percent < 50 ? "low" : "high";
}

/** The few inputs that moved this company's score most, each as a sentence; [] without an explanation. */
export function reasons(prediction, model, count = REASONS) {
  const contributions = prediction.explanation?.contributions;
  if (!contributions) return [];
  return Object.entries(contributions)
    .filter(([, c]) => Number.isFinite(c) && c !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, count)
    .map(([name, c]) => {
      const where = level(prediction.ratios?.[name], model?.feature_quantiles?.[name]);
      if (!where) return null;
      const label = ratioLabel(name, model);
      const korean = currentLang() === "ko";
      return {name, contribution: c, text: t(`reason_${where}`, {
        label, effect: t(c > 0 ? "effect_raised" : "effect_lowered"),
        subject: korean ? particle(label, ["이", "가"]) : "",
        object: korean ? particle(label, ["을", "를"]) : ""})};
    })
    .filter(Boolean);
}

function reasonsSection(prediction, model) {
  const found = reasons(prediction, model);
  if (!found.length) return null;
  return el("section", {class: "reasons", dataset: {testid: "reasons"}},
    el("h3", {}, t("reasons_heading")),
    el("ul", {}, found.map((r) => el("li", {class: r.contribution > 0 ? "raises" : "lowers", dataset: {ratio: r.name}},
      r.text))),
    el("p", {class: "note"}, t("reasons_note")));
}

// ------------------------------------------------------------ the parts

function features(prediction, model, names) {
  const items = names.map((name) => {
    const value = prediction.ratios?.[name];
    const quantiles = usableQuantiles(model?.feature_quantiles?.[name]);
    return el("li", {class: "feature"},
      el("div", {class: "feature-head"},
        el("span", {class: "feature-name"}, ratioLabel(name, model)),
        el("span", {class: "feature-value", dataset: {testid: `feature-${name}`}}, formatNumber(value))),
      !Number.isFinite(value) ? el("p", {class: "bar-where", dataset: {testid: "unknown"}}, t("ratio_unknown"))
        : quantiles ? bar(value, quantiles) : null);
  });
  const anyBar = names.some((name) => usableQuantiles(model?.feature_quantiles?.[name]));
  return el("section", {class: "features", "aria-labelledby": "features-heading"},
    el("h3", {id: "features-heading"}, t("features_heading")),
    el("p", {class: "note"}, anyBar ? t("features_note") : t("no_quantiles")),
    el("ul", {class: "feature-list"}, items));
}

function otherRatios(prediction, model, shown) {
  const names = Object.keys(prediction.ratios || {}).filter((name) => !shown.includes(name));
  if (!names.length) return null;
  return el("section", {class: "other-ratios"},
    el("h3", {}, t("other_ratios")),
    el("table", {class: "ratio-table", dataset: {testid: "other-ratios"}},
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("ratio")), el("th", {scope: "col"}, t("value")))),
      el("tbody", {}, names.map((name) => el("tr", {dataset: {ratio: name}},
        el("th", {scope: "row"}, ratioLabel(name, model)),
        el("td", {}, formatNumber(prediction.ratios[name])))))));
}

// The values a warning's text needs, by its code, from the warning itself (numbers as the API
// gave them, ratios by GET /model's labels).
const WARNING_VALUES = {
  outside_training_range(warning, model) {
    const [qLow, qHigh] = warning.quantiles ?? [];
    const percent = Math.max(qLow, qHigh) > 1 ? 1 : 100; // quantiles as fractions or percents
    return {ratio: ratioLabel(warning.fields?.[0], model), value: formatNumber(warning.value),
      low: formatNumber(warning.range?.[0]), high: formatNumber(warning.range?.[1]),
      share: Math.round((qHigh - qLow) * percent)};
  },
  unknown_inputs(warning, model) {
    return {ratios: (warning.fields ?? []).map((name) => ratioLabel(name, model)).join(", ")};
  },
};

/** A warning in the page's language; the API's own words for a code the page does not know. */
export function warningText(warning, model) {
  const key = `warning_${warning.code}`;
  const known = t(key, WARNING_VALUES[warning.code]?.(warning, model) ?? {});
  return known === key ? warning.message || warning.code : known;
}

function warnings(prediction, model) {
  if (!prediction.warnings?.length) return null;
  return el("section", {class: "warnings", dataset: {testid: "warnings"}},
    el("h3", {}, t("warnings")),
    el("ul", {}, prediction.warnings.map((warning) => el("li", {
      dataset: {code: warning.code, field: warning.fields?.[0]}, title: warning.message}, warningText(warning, model)))));
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
    el("ul", {}, info.limits.map((limit) => el("li", {}, localized(limit)))));
}

/** The whole result card for one scored prediction. */
export function renderResult(container, prediction, model, answeredModel) {
  const names = model?.features ?? []; // without GET /model every ratio goes in the table
  const threshold = model?.decision?.threshold;
  const parts = [
    el("div", {class: `verdict is-${prediction.class}`},
      el("p", {class: "verdict-class", dataset: {testid: "result-class"}}, className(prediction)),
      el("p", {class: "verdict-probability"},
        el("span", {}, t("probability")), " ",
        el("strong", {dataset: {testid: "result-probability"}}, formatPercent(prediction.probability_unsound)))),
    prediction.id !== null && prediction.id !== undefined ? el("p", {class: "note"}, t("result_for", {id: prediction.id})) : null,
    Number.isFinite(threshold) ? el("p", {class: "note"}, t("threshold", {threshold: formatPercent(threshold)})) : null,
    warnings(prediction, model),
    reasonsSection(prediction, model),
    names.length ? features(prediction, model, names) : null,
    otherRatios(prediction, model, names),
    el("p", {class: "model-line", dataset: {testid: "model-line"}}, modelLine(model, answeredModel)),
    modelLimits(model)];
  container.replaceChildren(...parts.filter(Boolean));
}
