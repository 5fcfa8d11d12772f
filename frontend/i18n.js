// The page's own words, in Korean (the default) and English, and the chosen language. Words
// that name the API's things (the statement fields, the ratios, the classes) are the API's:
// GET /model and each prediction carry them.

const TEXT = {
  ko: {
    title: "기업 건전성 예측",
    subtitle: "재무제표의 아홉 값으로 기업이 건전한지 비건전한지 예측합니다.",
    lang_switch: "English",
    lang_switch_label: "Switch to English",
    form_heading: "재무제표 값",
    unit_note: "금액 단위는 원, 천원, 백만원, 달러 등 무엇이든 됩니다. 모든 칸에 같은 단위를 쓰세요. " +
      "1,234,567 · 1 234 567 · -1,234 · (1,234) 모두 읽습니다.",
    placeholder: "예: 1,234,567",
    submit: "예측",
    submit_busy: "예측하는 중…",
    fill_example: "예시 값 채우기",
    reset: "지우기",
    err_empty: "값을 입력하세요.",
    err_all_blank: "값을 하나 이상 입력하세요.",
    err_not_a_number: "숫자로 읽을 수 없습니다. 예: 1,234,567 또는 (1,234)",
    err_server: "서버: {message}",
    fix_fields: "표시된 칸을 고쳐 주세요.",
    unknown_note: "모르는 항목은 비워 두세요. 비워 둔 항목은 모르는 값으로 처리됩니다.",
    rejected: "서버가 입력을 받아들이지 않았습니다: {message}",
    connecting: "서비스에 연결하는 중… 첫 요청은 서버를 깨우느라 몇 초 걸릴 수 있습니다.",
    ready: "서비스 준비됨",
    unreachable: "서비스에 연결할 수 없습니다. 인터넷 연결을 확인하고 잠시 뒤 다시 시도하세요.",
    service_error: "서비스가 오류로 응답했습니다 (HTTP {status}): {message}",
    no_message: "응답 내용을 읽을 수 없습니다",
    result_heading: "예측 결과",
    result_empty: "값을 입력하고 ‘예측’을 누르세요.",
    result_for: "회사: {id}",
    probability: "비건전일 확률",
    threshold: "확률이 {threshold} 이상이면 비건전으로 판정합니다.",
    warnings: "주의",
    warning_balance_mismatch: "자본총계가 자산총계 − 부채총계와 맞지 않습니다. 입력한 자본총계를 그대로 썼습니다.",
    warning_unknown_inputs: "다음 재무비율은 구할 수 없어(비워 둔 항목, 0인 분모 등) 모르는 값으로 두고 예측했습니다: {ratios}",
    reasons_heading: "판정에 가장 크게 작용한 비율",
    reasons_note: "학습 기업 전체와 비교해 각 비율이 위험(로그 오즈)을 얼마나 옮겼는지로 고른 것입니다.",
    reason_low: "{label}{subject} 낮아 {effect}",
    reason_high: "{label}{subject} 높아 {effect}",
    reason_unknown: "{label}{object} 알 수 없어 {effect}",
    effect_raised: "위험을 높였습니다",
    effect_lowered: "위험을 낮췄습니다",
    warning_outside_training_range: "{ratio} {value}은(는) 학습 기업 {share}%가 있는 범위({low} ~ {high}) 밖입니다. " +
      "모델은 이 값을 학습한 가장 극단적인 기업처럼 다룹니다. 단위를 확인하세요.",
    features_heading: "모델이 본 재무비율",
    features_note: "막대는 학습 데이터 기업들의 분포입니다. 칠한 부분이 가운데 50%, 가는 선이 중앙값, 파란 선이 이 기업입니다.",
    no_quantiles: "이 모델에는 학습 데이터의 분포가 기록되어 있지 않아 막대를 그리지 않습니다.",
    percentile: "학습 기업의 {p}%보다 큼",
    below_range: "학습 기업의 {p}% 미만 구간",
    above_range: "학습 기업의 {p}% 초과 구간",
    quantile_axis: "{q}%: {value}",
    ratio_unknown: "알 수 없음: 모르는 값으로 예측에 넣었습니다.",
    other_ratios: "그 밖의 재무비율",
    ratio: "비율",
    value: "값",
    model_line: "모델 {name} (버전 {version}) · 학습 데이터: {data}",
    model_limits: "이 모델의 한계",
    model_line_short: "모델 {name} (버전 {version})",
    unknown: "기록 없음",
    batch_heading: "여러 기업 한 번에 (CSV)",
    batch_help: "한 줄에 한 기업입니다. 첫 줄 머리글은 API 이름(total_assets …)이나 위의 한글 항목명을 쓰고, " +
      "회사명(또는 name, id) 열은 넣어도 되고 빼도 됩니다.",
    batch_unknown_note: "빈 칸은 모르는 값으로 처리됩니다. 값이 하나도 없는 행은 예측하지 않습니다.",
    batch_file: "CSV 파일",
    batch_submit: "일괄 예측",
    batch_busy: "예측하는 중…",
    batch_example: "예시 CSV 내려받기",
    batch_no_file: "CSV 파일을 고르세요.",
    batch_no_rows: "CSV에 데이터 행이 없습니다.",
    batch_unclosed_quote: "{line}행에서 시작한 따옴표가 닫히지 않았습니다.",
    batch_missing: "CSV에 이 열이 없습니다: {columns}",
    batch_duplicate: "CSV에 같은 항목의 열이 두 번 있습니다: {columns}",
    batch_ignored: "무시한 열: {columns}",
    batch_summary: "{total}개 기업 중 {scored}개 예측, {failed}개 오류",
    batch_progress: "예측하는 중… {total}개 기업 중 {done}개 완료 (요청 {request}/{requests}, 한 번에 최대 {size}개)",
    batch_stopped: "{total}개 기업 중 {done}개를 예측한 뒤 멈췄습니다. {message}",
    batch_unreported: "서버가 오류가 너무 많아 이 행의 오류를 따로 적지 않았습니다.",
    batch_download: "결과 CSV 내려받기",
    col_line: "행",
    col_company: "회사",
    col_class: "판정",
    col_probability: "비건전 확률",
    col_notes: "오류 · 주의",
    lookup_heading: "DART에서 재무제표 불러오기",
    lookup_label: "회사명 또는 종목코드",
    lookup_placeholder: "예: 삼성전자 또는 005930",
    lookup_submit: "찾기",
    lookup_year: "사업연도",
    lookup_results: "찾은 회사",
    lookup_no_match: "‘{query}’와 맞는 상장회사가 없습니다.",
    lookup_loading: "{name}의 {year}년 사업보고서를 불러오는 중…",
    lookup_source: "{name} {year}년 사업보고서({statements})의 값을 채웠습니다. 고쳐 쓸 수 있습니다.",
    lookup_source_link: "DART에서 공시 보기",
    lookup_cfs: "연결재무제표",
    lookup_ofs: "별도재무제표",
    lookup_no_filing: "DART에 {name}의 {year}년 사업보고서 재무제표가 없습니다(아직 제출 전이거나 재무제표 자료가 없는 보고서). 다른 연도를 고르세요.",
    lookup_no_statements: "{name}의 {year}년 사업보고서에는 고른 종류의 재무제표가 없습니다. 다른 종류를 고르세요.",
    lookup_year_latest: "가장 최근",
    lookup_loading_latest: "{name}의 가장 최근 사업보고서를 불러오는 중…",
    lookup_fs: "재무제표",
    lookup_fs_default: "연결(없으면 별도)",
    lookup_fs_ofs: "별도",
    lookup_period: "회계기간 {period}",
    lookup_limit: "DART 조회가 너무 잦습니다(한 시간 한도). 이미 불러온 회사와 연도는 그대로 볼 수 있고, 나머지는 나중에 다시 시도하세요.",
    lookup_busy: "DART가 지금은 요청을 받지 않습니다(일일 요청 한도). 나중에 다시 시도하거나 값을 직접 입력하세요.",
    lookup_not_configured: "이 서버에는 DART 조회가 설정되어 있지 않습니다. 값을 직접 입력하세요.",
    lookup_timeout: "DART가 제때 응답하지 않았습니다. 잠시 뒤 다시 시도하세요.",
    lookup_accounts_missing: "{name}의 {year}년 보고서에 필요한 계정이 없습니다: {missing}",
    lookup_missing: "공시에서 {fields}{object} 찾지 못해 비워 두었습니다. 값을 알면 입력하고, 모르면 비워 둔 채 예측하세요.",
  },
  en: {
    title: "Company soundness prediction",
    subtitle: "Predicts from nine financial statement values whether a company is financially sound or unsound.",
    lang_switch: "한국어",
    lang_switch_label: "한국어로 보기",
    form_heading: "Financial statement values",
    unit_note: "Any currency unit works (won, thousands of won, dollars…) as long as every field uses the same one. " +
      "1,234,567 · 1 234 567 · -1,234 · (1,234) are all read.",
    placeholder: "e.g. 1,234,567",
    submit: "Predict",
    submit_busy: "Predicting…",
    fill_example: "Fill in an example",
    reset: "Clear",
    err_empty: "Enter a value.",
    err_all_blank: "Enter at least one value.",
    err_not_a_number: "Not a number. For example: 1,234,567 or (1,234)",
    err_server: "Server: {message}",
    fix_fields: "Please correct the marked fields.",
    unknown_note: "Leave a field blank if you do not know it: fields left blank are treated as unknown.",
    rejected: "The server did not accept the input: {message}",
    connecting: "Connecting to the service… the first request may take a few seconds while the server starts.",
    ready: "Service ready",
    unreachable: "The service cannot be reached. Check your connection and try again in a moment.",
    service_error: "The service answered with an error (HTTP {status}): {message}",
    no_message: "the answer could not be read",
    result_heading: "Prediction",
    result_empty: "Enter the values and press Predict.",
    result_for: "Company: {id}",
    probability: "Probability of being unsound",
    threshold: "A probability of {threshold} or more is classed as unsound.",
    warnings: "Warnings",
    warning_balance_mismatch: "Total equity does not equal total assets minus total liabilities; the equity entered was used.",
    warning_unknown_inputs: "These ratios could not be computed (a field left blank, a zero denominator…) " +
      "and were scored as unknown: {ratios}",
    reasons_heading: "What moved the result most",
    reasons_note: "Chosen by how far each ratio moved the risk (log-odds) away from the training companies' average.",
    reason_low: "{label}{subject} is low, which {effect}",
    reason_high: "{label}{subject} is high, which {effect}",
    reason_unknown: "{label}{object} is unknown, which {effect}",
    effect_raised: "raised the risk",
    effect_lowered: "lowered the risk",
    warning_outside_training_range: "{ratio} is {value}, outside the range of {share}% of the training companies " +
      "({low} to {high}). The model treats it like the most extreme companies it learnt from: check the units.",
    features_heading: "Ratios the model used",
    features_note: "Each bar is the training companies' distribution: the shaded part is the middle 50%, the thin line the median, the blue line this company.",
    no_quantiles: "This model does not record its training distribution, so no bars are drawn.",
    percentile: "higher than {p}% of training companies",
    below_range: "in the lowest {p}% of training companies",
    above_range: "in the highest {p}% of training companies",
    quantile_axis: "{q}%: {value}",
    ratio_unknown: "Unknown: scored as an unknown value.",
    other_ratios: "Other ratios",
    ratio: "Ratio",
    value: "Value",
    model_line: "Model {name} (version {version}) · trained on: {data}",
    model_limits: "This model's limits",
    model_line_short: "Model {name} (version {version})",
    unknown: "not recorded",
    batch_heading: "Many companies at once (CSV)",
    batch_help: "One company per line. Headers are the API names (total_assets …) or the Korean labels above; " +
      "a company name column (name or id) is optional.",
    batch_unknown_note: "A blank cell is treated as unknown; a row with no value at all is not predicted.",
    batch_file: "CSV file",
    batch_submit: "Predict all",
    batch_busy: "Predicting…",
    batch_example: "Download an example CSV",
    batch_no_file: "Choose a CSV file.",
    batch_no_rows: "The CSV has no data rows.",
    batch_unclosed_quote: "A quote opened on line {line} is never closed.",
    batch_missing: "The CSV lacks these columns: {columns}",
    batch_duplicate: "The CSV has two columns for the same field: {columns}",
    batch_ignored: "Ignored columns: {columns}",
    batch_summary: "{scored} of {total} companies predicted, {failed} with errors",
    batch_progress: "Predicting… {done} of {total} companies done (request {request} of {requests}, at most {size} each)",
    batch_stopped: "Stopped after {done} of {total} companies. {message}",
    batch_unreported: "The server had too many errors to list this row's own.",
    batch_download: "Download results as CSV",
    col_line: "Line",
    col_company: "Company",
    col_class: "Class",
    col_probability: "Probability unsound",
    col_notes: "Errors · warnings",
    lookup_heading: "Fill in from DART",
    lookup_label: "Company name or stock code",
    lookup_placeholder: "e.g. Samsung Electronics or 005930",
    lookup_submit: "Search",
    lookup_year: "Fiscal year",
    lookup_results: "Companies found",
    lookup_no_match: "No listed company matches ‘{query}’.",
    lookup_loading: "Fetching {name}'s annual report for {year}…",
    lookup_source: "Filled in from {name}'s annual report for {year} ({statements}); every value can be edited.",
    lookup_source_link: "See the filing on DART",
    lookup_cfs: "consolidated statements",
    lookup_ofs: "separate statements",
    lookup_no_filing: "DART has no statements of {name}'s annual report for {year} (not filed yet, or a report without structured statements). Choose another year.",
    lookup_no_statements: "{name}'s annual report for {year} has no statements of the kind chosen. Choose the other kind.",
    lookup_year_latest: "Latest",
    lookup_loading_latest: "Fetching {name}'s latest annual report…",
    lookup_fs: "Statements",
    lookup_fs_default: "Consolidated (else separate)",
    lookup_fs_ofs: "Separate",
    lookup_period: "period {period}",
    lookup_limit: "Too many DART lookups (an hourly limit). Companies and years already fetched still show; try the others later.",
    lookup_busy: "DART is not taking requests right now (daily limit). Try again later or type the values.",
    lookup_not_configured: "This server has no DART lookup configured. Please type the values.",
    lookup_timeout: "DART did not answer in time. Please try again in a moment.",
    lookup_accounts_missing: "{name}'s report for {year} lacks accounts the form needs: {missing}",
    lookup_missing: "Not found in the filing, so left blank: {fields}. Type them if you know them, " +
      "or predict without them.",
  },
};

const STORAGE_KEY = "soundness.lang";
let lang = readStoredLang();

function readStoredLang() {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "ko";
  } catch {
    return "ko"; // storage blocked (private mode, policy): Korean, not remembered
  }
}

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === "en" ? "en" : "ko";
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered, still switched
  }
}

/** The text for `key` in the current language, with {placeholders} filled in. */
export function t(key, values = {}) {
  const template = TEXT[lang][key] ?? TEXT.ko[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** The Korean particle after a word: its first form after a final consonant (이, 을), else the second. */
export function particle(word, pair) {
  const last = word.replace(/\s*\([^)]*\)\s*$/, "").trim().slice(-1);
  const code = last.charCodeAt(0) - 0xac00;
  const batchim = code >= 0 && code < 11172 ? code % 28 !== 0 : false;
  return batchim ? pair[0] : pair[1];
}

/** A value the API gives as plain text or as {ko, en}, in the current language. */
export function localized(value) {
  if (value && typeof value === "object") return value[lang] ?? value.en ?? value.ko ?? "";
  return value ?? "";
}

/** Fill every element marked data-i18n (text) or data-i18n-placeholder / -aria-label. */
export function translateStatic(root = document) {
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
}
