// The only place the page talks to the service. An answer is one of
//   {kind: "ok", status, data}          2xx with a JSON body
//   {kind: "error", status, data}       the service answered, with an error (data may be null)
//   {kind: "unreachable"}               no answer at all: offline, wrong URL, CORS, timeout
import {t} from "./i18n.js";

const BASE = String((window.SOUNDNESS_CONFIG || {}).apiBase || "").replace(/\/+$/, "");
// A cold function loads its model on the first request; wait well past that, not forever.
const TIMEOUT_MS = 120000;

export async function call(path, body) {
  const init = {headers: {Accept: "application/json"}, signal: AbortSignal.timeout(TIMEOUT_MS)};
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    return {kind: "unreachable"};
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON (a proxy's error page, an empty body): reported as an error without details
  }
  return {kind: response.ok && data ? "ok" : "error", status: response.status, data};
}

/** What to tell a person about an answer that is not "ok". */
export function problemText(answer) {
  if (answer.kind === "unreachable") return t("unreachable");
  const message = answer.data?.error?.message || t("no_message");
  return t("service_error", {status: answer.status, message});
}
