// The nine statement fields a company is given by, as the API names them (the request's own
// words; a browser test holds them equal to the fields GET /model labels), in the form's order.
// Their labels in Korean and English are the API's: GET /model's statement_labels.
import {localized} from "./i18n.js";

export const FIELDS = [
  "total_assets", "total_assets_prior", "total_liabilities", "total_equity", "revenue", "revenue_prior",
  "operating_income", "operating_income_prior", "net_income",
];

/** A field's label from GET /model in the current language; "" until /model has answered. */
export function fieldLabel(name, model) {
  return localized(model?.statement_labels?.[name]);
}
