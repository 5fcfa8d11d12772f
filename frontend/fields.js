// The nine statement fields a company is given by, as the API names them, in the form's order,
// and the ratios: their labels are labels.js, written from the API's own source
// (src/soundness/ratios.py) and held equal to GET /model's by a test.
import {parseAmount} from "./amounts.js";
import {currentLang, localized, t} from "./i18n.js";
import {FIELD_PROBLEMS, RATIO_LABELS, STATEMENT_LABELS} from "./labels.js";

export const FIELDS = Object.keys(STATEMENT_LABELS);

/** A field's label in the current language. */
export function fieldLabel(name) {
  return localized(STATEMENT_LABELS[name]) || name;
}

/** A ratio's label in the current language (the name itself for one the page does not know). */
export function ratioLabel(name) {
  return localized(RATIO_LABELS[name]) || name;
}

/** The unit a ratio's value is in ("%", "회"), in the current language; "" for one not known. */
export function ratioUnit(name) {
  return RATIO_LABELS[name]?.unit?.[currentLang()] ?? "";
}

/** Whether the served model scores a field left out as unknown (GET /model says so); until it
 * has answered, every field is needed, as for a model that needs them all. */
export function takesUnknowns(model) {
  return model?.accepts_unknown_inputs === true;
}

/** The nine fields' texts (textOf(name)) read into {values, problems, allBlank}: problems maps a
 * field to "empty" or "not_a_number". For a model that takes unknowns a blank field is null
 * (sent as unknown), not a problem; allBlank says that no field was given at all. `unit` is what
 * a plain number is in (won per unit). */
export function readStatement(textOf, model, unit = 1) {
  const unknownAllowed = takesUnknowns(model);
  const values = {};
  const problems = {};
  for (const name of FIELDS) {
    const parsed = parseAmount(textOf(name), unit);
    if (parsed.problem === "empty" && unknownAllowed) values[name] = null;
    else if (parsed.problem) problems[name] = parsed.problem;
    else values[name] = parsed.value;
  }
  return {values, problems, allBlank: FIELDS.every((name) => values[name] === null)};
}

/** The API's problem with a field ("must be greater than 0 to compute equity_ratio_pct and
 * debt_ratio_pct") in the page's words, the ratios by their labels. */
export function fieldProblemText(problem) {
  const text = String(problem ?? "");
  const said = Object.keys(FIELD_PROBLEMS).find((words) => text.startsWith(words));
  if (!said) return t("problem_other");
  const computed = /to compute (.+)$/.exec(text.slice(said.length));
  const ratios = computed ? computed[1].split(/ and |, /).map((name) => ratioLabel(name.trim())) : [];
  return t(`problem_${FIELD_PROBLEMS[said]}`, {ratios: ratios.join(", ")});
}
