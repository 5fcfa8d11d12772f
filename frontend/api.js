// The only place the page talks to the service. An answer is one of
//   {kind: "ok", status, data}          2xx with a JSON body
//   {kind: "error", status, data}       the service answered, with an error (data may be null)
//   {kind: "unreachable"}               no answer at all: offline, wrong URL, timeout
//   {kind: "cors"}                      the service is there but refuses this page's origin
// The API's error codes are the contract; the words for them are the page's (i18n.js).
import {t} from "./i18n.js";

const BASE = String((window.SOUNDNESS_CONFIG || {}).apiBase || "").replace(/\/+$/, "");
// A cold function loads its model on the first request; wait well past that, not forever.
const TIMEOUT_MS = 120000;
const KEY_STORAGE = "soundness.apiKey";
// Statuses worth trying again as they are: the service or the way to it may be back in a moment.
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

let apiKey = storedKey();

/** The X-API-Key to send from now on ("" for none), kept for this tab only. */
export function setApiKey(key) {
  apiKey = String(key).trim();
  try {
    sessionStorage.setItem(KEY_STORAGE, apiKey);
  } catch {
    // kept in memory only
  }
}

export function hasApiKey() {
  return apiKey !== "";
}

function crossOrigin() {
  return BASE !== "" && new URL(BASE, location.href).origin !== location.origin;
}

/** After a failed fetch: a cross-origin service that answers a no-cors request is there, so
 * the browser refused its answer for want of CORS headers; anything else is unreachable. */
async function whyUnreachable() {
  if (!crossOrigin()) return {kind: "unreachable"};
  try {
    await fetch(BASE + "/health", {mode: "no-cors", signal: AbortSignal.timeout(10000)});
    return {kind: "cors"};
  } catch {
    return {kind: "unreachable"};
  }
}

export async function call(path, body) {
  const init = {headers: {Accept: "application/json"}, signal: AbortSignal.timeout(TIMEOUT_MS)};
  if (apiKey) init.headers["X-API-Key"] = apiKey;
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    return whyUnreachable();
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON (a proxy's error page, an empty body): reported as an error without details
  }
  return {kind: response.ok && data ? "ok" : "error", status: response.status, data};
}

/** Whether trying the same request again may well succeed. */
export function transient(answer) {
  return answer.kind === "unreachable" || (answer.kind === "error" && TRANSIENT.has(answer.status));
}

/** Whether the service refused for want of a (valid) API key. */
export function needsKey(answer) {
  return answer.kind === "error" && answer.status === 401;
}

/** What to tell a person about an answer that is not "ok", in the page's language. */
export function problemText(answer) {
  if (answer.kind === "unreachable") return t("unreachable");
  if (answer.kind === "cors") return t("cors_refused", {origin: new URL(BASE, location.href).origin});
  const code = answer.data?.error?.code;
  const key = `code_${code}`;
  if (code && t(key) !== key) return t(key);
  return t("service_error_code", {status: answer.status, code: code || t("no_message")});
}
