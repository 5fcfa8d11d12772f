// Amounts as people type or paste them, read into numbers. No ratio is computed here:
// the API does that; the page only turns text into the numbers it sends.

// A currency sign says nothing about the amount: every field uses the same unit.
const CURRENCY_SIGNS = /[₩$€£¥원]/g;
const SPACES = /[\s\u00a0\u2009\u202f]/g;
const MINUS = /^[-\u2212]/;
// Digits with optional thousands groups, an optional fraction and exponent.
const NUMBER = /^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Text to {value} or {problem: "empty" | "not_a_number"}. */
export function parseAmount(text) {
  // NFKC turns full-width digits, commas and brackets into ASCII ones.
  let s = String(text ?? "").normalize("NFKC").replace(SPACES, "").replace(CURRENCY_SIGNS, "");
  if (s === "") return {problem: "empty"};
  let negative = false;
  const bracketed = /^\((.*)\)$/.exec(s); // accounting style: (1,234) is -1,234
  if (bracketed) {
    negative = true;
    s = bracketed[1];
  }
  if (MINUS.test(s) && !negative) {
    negative = true;
    s = s.slice(1);
  } else if (s.startsWith("+") && !negative) {
    s = s.slice(1);
  }
  if (!/\d/.test(s) || !NUMBER.test(s)) return {problem: "not_a_number"};
  const value = Number(s.replace(/,/g, ""));
  if (!Number.isFinite(value)) return {problem: "not_a_number"};
  return {value: negative ? -value : value};
}

const GROUPED = new Intl.NumberFormat("en-US", {maximumFractionDigits: 10});

/** A number as the page writes it back into a field: 1,234,567 or -1,234.5 */
export function formatAmount(value) {
  return GROUPED.format(value);
}
