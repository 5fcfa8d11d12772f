// Where the page finds the API. One line, rewritten by deploy:
//   window.SOUNDNESS_CONFIG = {apiBase: "https://example-function-url"};
// apiBase is the function's URL without a trailing slash; "" means the page's own origin
// (the function serves this page, so that is the usual case).
window.SOUNDNESS_CONFIG = {apiBase: ""};
