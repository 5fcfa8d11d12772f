// The nine statement fields a company is given by, as the API names them (the request's own
// words; a browser test holds them equal to the fields GET /model labels), in the form's order.
// Their labels in Korean and English are the API's: GET /model's statement_labels.
import {parseAmount} from "./amounts.js";
import {localized} from "./i18n.js";

export const FIELDS = [
  "total_assets", "total_assets_prior", "total_liabilities", "total_equity", "revenue", "revenue_prior",
  "operating_income", "operating_income_prior", "net_income",
];

/** A field's label from GET /model in the current language; "" until /model has answered. */
export function fieldLabel(name, model) {
  return localized(model?.statement_labels?.[name]);
}

/** Whether the served model scores a field left out as unknown (GET /model says so); until it
 * has answered, every field is needed, as for a model that needs them all. */
export function takesUnknowns(model) {
  return model?.accepts_unknown_inputs === true;
}

/** The nine fields' texts (textOf(name)) read into {values, problems, allBlank}: problems maps a
 * field to "empty" or "not_a_number". For a model that takes unknowns a blank field is null
 * (sent as unknown), not a problem; allBlank says that no field was given at all. */
export function readStatement(textOf, model) {
  const unknownAllowed = takesUnknowns(model);
  const values = {};
  const problems = {};
  for (const name of FIELDS) {
    const parsed = parseAmount(textOf(name));
    if (parsed.problem === "empty" && unknownAllowed) values[name] = null;
    else if (parsed.problem) problems[name] = parsed.problem;
    else values[name] = parsed.value;
  }
  return {values, problems, allBlank: FIELDS.every((name) => values[name] === null)};
}
