// Amounts as people type or paste them, read into numbers. No ratio is computed here:
// the API does that; the page only turns text into the numbers it sends.
//
// Read as a Korean statement writes them: △1,234 and ▲1,234 (DART's and Excel's minus), (1,234),
// "-" alone for zero, the counting units 만, 억, 조 (with 천, 백, 십 inside them: 3억 5천만), and
// a unit after the number (1,234백만원, 12억원). A plain number is in the unit the page's unit
// choice names (won by default).

import {numberFormat} from "./dom.js";

// A currency sign says nothing about the amount: every field uses the same unit.
const CURRENCY_SIGNS = /[₩$€£¥]/g;
const SPACES = /[\s\u00a0\u2009\u202f]/g;
const MINUS = /^[-\u2212\u2013\u25b3\u25b2]/; // - − – △ ▲
const ZERO = /^[-\u2212\u2013\u2014]$/; // a dash alone: how Excel and DART show zero
// Digits with optional thousands groups, an optional fraction and exponent.
const NUMBER = /^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Units a number may be written in, in won. */
export const UNITS = {"원": 1, "천원": 1e3, "만원": 1e4, "백만원": 1e6, "천만원": 1e7, "억원": 1e8, "십억원": 1e9, "조원": 1e12};
const SUFFIX = /(십억원|천만원|백만원|천원|만원|억원|조원|원)$/;
const BIG = [["조", 1e12], ["억", 1e8], ["만", 1e4]];
const SMALL = [["천", 1e3], ["백", 1e2], ["십", 10]];

function plain(text) {
  if (!/\d/.test(text) || !NUMBER.test(text)) return null;
  const value = Number(text.replace(/,/g, ""));
  return Number.isFinite(value) ? value : null;
}

/** Text counted in `units` (largest first): "1조2,345억" with BIG, "5천2백" with SMALL. Each count
 * before a unit, and the tail after the last, is read by `count`; a bare unit counts one (천만 is
 * 1000만). null when the text is not such a number. */
function counted(text, units, count) {
  let total = 0;
  let rest = text;
  let seen = false;
  for (const [unit, size] of units) {
    const at = rest.indexOf(unit);
    if (at < 0) continue;
    const head = rest.slice(0, at);
    const n = head === "" ? 1 : count(head);
    if (n === null) return null;
    total += n * size;
    rest = rest.slice(at + 1);
    seen = true;
  }
  if (rest === "") return seen ? total : null;
  const tail = count(rest);
  return tail === null ? null : total + tail;
}

const smallUnits = (text) => counted(text, SMALL, plain);
const countingUnits = (text) => counted(text, BIG, smallUnits);

/** Text to {value, inWon} or {problem: "empty" | "not_a_number"}. `unit` is what a plain number
 * is in (won per unit); inWon says the text named its own unit or counting unit, so value is won. */
export function parseAmount(text, unit = 1) {
  // NFKC turns full-width digits, commas and brackets into ASCII ones.
  let s = String(text ?? "").normalize("NFKC").replace(SPACES, "").replace(CURRENCY_SIGNS, "");
  if (s === "") return {problem: "empty"};
  if (ZERO.test(s)) return {value: 0, inWon: false};
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
  let scale = unit;
  let inWon = false;
  let suffix = SUFFIX.exec(s);
  // 1억 2천만원: the 원 ends a number counted in units, it does not make 천만원 the unit
  if (suffix && /[조억만천백십]/.test(s.slice(0, -suffix[1].length))) suffix = s.endsWith("원") ? ["원", "원"] : null;
  if (suffix) {
    scale = UNITS[suffix[1]];
    inWon = true;
    s = s.slice(0, -suffix[1].length);
  }
  let value = plain(s);
  if (value === null) {
    value = countingUnits(s);
    if (value === null) return {problem: "not_a_number"};
    if (!suffix) scale = 1; // 1억 is won whatever the unit choice says
    inWon = true;
  }
  value *= scale;
  if (!Number.isFinite(value)) return {problem: "not_a_number"};
  return {value: negative && value !== 0 ? -value : value, inWon};
}


/** A number as the page writes it back into a field: 1,234,567 or -1,234.5 */
export function formatAmount(value) {
  return numberFormat("en-US", {maximumFractionDigits: 10}).format(value);
}

const koGroup = () => numberFormat("ko-KR", {maximumFractionDigits: 0});

/** Won as a Korean reader counts them: "4,559억 원", "1조 2,345억 원", "3,400만 원", "−512 원". */
export function wonInKorean(won) {
  const sign = won < 0 ? "−" : "";
  let rest = Math.round(Math.abs(won));
  if (rest < 1e4) return `${sign}${koGroup().format(rest)} 원`;
  const parts = [];
  for (const [unit, size] of BIG) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${koGroup().format(count)}${unit}`);
    rest -= count * size;
    if (parts.length === 2) break; // two units are enough to read a size: 1조 2,345억
  }
  return `${sign}${parts.join(" ")} 원`;
}

/** Won as an English reader counts them: "45.6 billion won". */
export function wonInEnglish(won) {
  const sign = won < 0 ? "−" : "";
  const size = Math.abs(won);
  for (const [word, scale] of [["trillion", 1e12], ["billion", 1e9], ["million", 1e6]]) {
    if (size >= scale) return `${sign}${numberFormat("en-US", {maximumFractionDigits: 1}).format(size / scale)} ${word} won`;
  }
  return `${sign}${koGroup().format(Math.round(size))} won`;
}
