// A small CSV reader and writer: RFC 4180 quotes ("" inside quotes), a byte order mark,
// CRLF or LF line ends, and comma, semicolon or tab as the separator (Excel's choice
// depends on the locale).

export class CsvError extends Error {
  constructor(code, line) {
    super(`${code} at line ${line}`);
    this.code = code;
    this.line = line;
  }
}

function separatorOf(text) {
  const firstLine = text.split(/\r?\n/, 1)[0];
  const count = (ch) => firstLine.split(ch).length - 1;
  return [",", ";", "\t"].reduce((best, ch) => (count(ch) > count(best) ? ch : best), ",");
}

/** CSV text to [{line, cells}], blank lines left out; line is where the row starts (1-based). */
export function parseCsv(text) {
  text = text.replace(/^\uFEFF/, "");
  const separator = separatorOf(text);
  const rows = [];
  let cells = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.some((c) => c.trim() !== "")) rows.push({line: rowLine, cells});
    cells = [];
    cell = "";
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (ch === separator) {
      cells.push(cell);
      cell = "";
    } else if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
  }
  if (quoted) throw new CsvError("unclosed_quote", rowLine);
  if (cell !== "" || cells.length) endRow();
  return rows;
}

/** Bytes of a file to text: UTF-8, or the Korean Windows encoding Excel often saves. */
export function decodeCsv(buffer) {
  try {
    return new TextDecoder("utf-8", {fatal: true}).decode(buffer);
  } catch {
    return new TextDecoder("euc-kr").decode(buffer);
  }
}

function quote(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of values to CSV text with CRLF line ends. */
export function toCsv(rows) {
  return rows.map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
}
