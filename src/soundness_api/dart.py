"""OpenDART, the Financial Supervisory Service's open API: the three calls the company lookup makes.

Standard library only (http.client, zipfile, xml.etree): the request path stays lean, and the
answers are simple enough that a client library (OpenDartReader and dart-fss bring pandas,
requests and more) would add weight, not correctness. How they are read follows DART's guide:
every answer carries a `status` ("000" is success) and a `message`; corpCode.xml is a zip holding
CORPCODE.xml, or a small XML `<result>` with the status when it is refused.

The key travels only in the query string of the outbound request: it is never part of an
exception's message, so nothing that logs or answers one can show it. DART's own text (a status,
an amount, a period) is repeated cut to MAX_TEXT characters, never whole.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import re
import socket
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from soundness.ratios import STATEMENT_FIELDS

ANNUAL_REPORT = "11011"  # reprt_code of the 사업보고서
FILING_URL = "https://dart.fss.or.kr/dsaf001/main.do?rcpNo={}"
MAX_ZIP_BYTES = 16 << 20  # the real corpCode.xml zip is a few MB
MAX_XML_BYTES = 64 << 20  # CORPCODE.xml unpacked is some tens of MB
MAX_ENTRIES = 400_000  # entries of every kind in the list (about 115,000 in 2025)
MAX_LISTED = 20_000  # listed companies among them (about 3,900)
MAX_ANSWER_BYTES = 1 << 20  # a statements answer is some 15 KB (30 rows)
MAX_TEXT = 40  # characters of DART's own text repeated in an answer or a log
CHUNK = 1 << 16
STATUS = re.compile(r"[0-9]{3}")
CORP_CODE = re.compile(r"[0-9]{8}")
STOCK_CODE = re.compile(r"[0-9A-Z]{6}")  # KRX codes are digits, newer ones end in a letter

# Each statement field: the account names filings use for it, and the column it is read from
# (thstrm_amount: this year; frmtrm_amount: the prior year). 영업수익 is how holding, service and
# financial companies name their revenue.
REVENUE = ("매출액", "수익(매출액)", "영업수익")
OPERATING_INCOME = ("영업이익", "영업이익(손실)")
NET_INCOME = ("당기순이익", "당기순이익(손실)")
ACCOUNTS: dict[str, tuple[tuple[str, ...], str]] = {
    "total_assets": (("자산총계",), "thstrm_amount"),
    "total_assets_prior": (("자산총계",), "frmtrm_amount"),
    "total_liabilities": (("부채총계",), "thstrm_amount"),
    "total_equity": (("자본총계",), "thstrm_amount"),
    "revenue": (REVENUE, "thstrm_amount"),
    "revenue_prior": (REVENUE, "frmtrm_amount"),
    "operating_income": (OPERATING_INCOME, "thstrm_amount"),
    "operating_income_prior": (OPERATING_INCOME, "frmtrm_amount"),
    "net_income": (NET_INCOME, "thstrm_amount"),
}
assert list(ACCOUNTS) == list(STATEMENT_FIELDS), "one DART mapping per statement field, in order"
# A balance sheet split into current and non-current items; banks, insurers and securities firms
# present theirs in order of liquidity instead (K-IFRS 1001 paragraph 60), without these accounts.
CURRENT_ACCOUNTS = ("유동자산", "유동부채")
STATEMENT_NAMES = {"CFS": "consolidated", "OFS": "separate"}

AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")  # ASCII digits only
MAX_AMOUNT = 10**18  # won; the largest Korean balance sheet is under 10**15
NOT_REPORTED = {"", "-"}  # how DART leaves an amount blank


def cut(text: Any, limit: int = MAX_TEXT) -> str:
    """DART's text as an answer or a log line repeats it: printable, at most `limit` characters."""
    text = "".join(c if c.isprintable() else "?" for c in str(text)[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"


class DartFailure(Exception):
    """DART did not give a usable answer. Messages are safe to log and to show."""


class DartStatus(DartFailure):
    """DART answered with a status other than "000" ("unknown" when it is not three digits)."""

    def __init__(self, status: Any):
        self.status = status if isinstance(status, str) and STATUS.fullmatch(status) else "unknown"
        super().__init__(f"DART answered status {self.status}")


class DartTimeout(DartFailure):
    pass


class DartBadAnswer(DartFailure):
    """DART could not be reached, or answered something this client cannot read."""


class UnreadableAmounts(Exception):
    """DART's own answer is at fault: an amount that is no number; `details` are (field, problem)."""

    def __init__(self, message: str, details: list[tuple[str, str]]):
        super().__init__(message)
        self.details = details


class NoStatements(Exception):
    """The filing has statements, but not of the basis (CFS or OFS) asked for."""

    def __init__(self, fs_div: str):
        super().__init__(f"the filing has no {STATEMENT_NAMES[fs_div]} ({fs_div}) statements")
        self.fs_div = fs_div


@dataclass(frozen=True)
class Company:
    corp_code: str
    name: str
    name_en: str | None
    stock_code: str

    def public(self) -> dict[str, Any]:
        return {"corp_code": self.corp_code, "name": self.name, "name_en": self.name_en, "stock_code": self.stock_code}


@dataclass(frozen=True)
class Filing:
    statements: dict[str, int | float]  # the statement fields the filing gives
    missing: list[tuple[str, str]]  # (field, why it is missing) for the fields it does not give
    fs_div: str  # CFS (consolidated) or OFS (separate)
    rcept_no: str
    currency: str | None
    period: dict[str, str]  # thstrm_dt, frmtrm_dt as DART writes them (this year's and the prior)
    classified: bool  # the balance sheet has current assets or liabilities (no bank or insurer)

    @property
    def url(self) -> str:
        return FILING_URL.format(self.rcept_no)


class DartClient:
    def __init__(self, api_key: str, base_url: str, timeout: float):
        self._key = api_key
        self._base = urllib.parse.urlsplit(base_url.rstrip("/"))
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"DartClient({self._base.geturl()!r})"

    def companies(self) -> list[Company]:
        """Every listed company in DART's company list (corpCode.xml)."""
        return read_company_list(self._get("corpCode.xml", {}, MAX_ZIP_BYTES))

    def annual_accounts(self, corp_code: str, year: int) -> list[dict[str, Any]]:
        """The main accounts of the company's annual report for `year` (fnlttSinglAcnt.json rows)."""
        answer = self._json(
            "fnlttSinglAcnt.json", {"corp_code": corp_code, "bsns_year": str(year), "reprt_code": ANNUAL_REPORT}
        )
        rows = answer.get("list")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise DartBadAnswer("DART's statements answer has no list of accounts")
        return rows

    def company_info(self, corp_code: str) -> dict[str, Any]:
        """The company's profile (company.json): its market (corp_cls), industry (induty_code) and
        the month its fiscal year ends (acc_mt)."""
        return self._json("company.json", {"corp_code": corp_code})

    def _json(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            answer = json.loads(self._get(endpoint, params, MAX_ANSWER_BYTES))
        except ValueError:
            raise DartBadAnswer(f"DART's {endpoint} answer is not JSON") from None
        if not isinstance(answer, dict):
            raise DartBadAnswer(f"DART's {endpoint} answer is not a JSON object")
        if answer.get("status") != "000":
            raise DartStatus(answer.get("status"))
        return answer

    def _get(self, endpoint: str, params: dict[str, str], limit: int) -> bytes:
        """One GET, over within the timeout from start to last byte, whatever pace DART sends at
        (a socket timeout alone bounds each read, not the call). A redirect is never followed: the
        key is in the query, and DART has no reason to send one."""
        base = self._base
        connection = (http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection)(
            base.hostname or "", base.port, timeout=self._timeout
        )
        expired, sockets = threading.Event(), list[socket.socket]()

        def cut_off() -> None:  # wakes a read blocked on the socket; the reader sees `expired`
            expired.set()
            for sock in sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(self._timeout, cut_off)
        watchdog.daemon = True
        watchdog.start()
        query = urllib.parse.urlencode({"crtfc_key": self._key, **params})
        # Only the exception's type is looked at: its text may hold the URL, and the URL the key.
        try:
            connection.connect()
            # Kept here: the connection hands its socket to the response (and forgets it) when
            # the answer closes the connection.
            sockets.append(connection.sock)
            if expired.is_set():
                raise TimeoutError
            connection.request(
                "GET", f"{base.path}/{endpoint}?{query}", headers={"User-Agent": "soundness-company-lookup"}
            )
            response = connection.getresponse()
            if 300 <= response.status < 400:
                raise DartBadAnswer(f"DART answered a redirect (HTTP {response.status}), which is not followed")
            if response.status != 200:
                raise DartBadAnswer(f"DART answered HTTP {response.status}")
            body = _read_within(response, limit)
        except (OSError, http.client.HTTPException) as error:
            # A read can time out on its own (the socket's timeout) a moment before the watchdog runs.
            if expired.is_set() or isinstance(error, TimeoutError):
                raise DartTimeout(f"DART did not answer within {self._timeout:g} s") from None
            raise DartBadAnswer("DART cannot be reached, or the connection broke off") from None
        finally:
            watchdog.cancel()
            connection.close()
            for sock in sockets:
                sock.close()
        if expired.is_set():  # cut off at the deadline: what was read may be a truncated answer
            raise DartTimeout(f"DART did not answer within {self._timeout:g} s")
        return body


def _read_within(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The body, refusing one larger than `limit`."""
    chunks, size = [], 0
    while chunk := response.read1(CHUNK):
        size += len(chunk)
        if size > limit:
            raise DartBadAnswer(f"DART's answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- corpCode.xml


class _CompanyRows:
    """An ElementTree parser target that keeps only listed companies, without building a tree.

    A document with a DTD is refused as defusedxml would: DART's list needs none, and a DTD is
    where entity expansion bombs and external entities live. The list is bounded (MAX_ENTRIES,
    MAX_LISTED, MAX_TEXT per name and field), so a hostile one cannot fill the instance's memory."""

    FIELDS = {"corp_code", "corp_name", "corp_eng_name", "stock_code"}

    def __init__(self) -> None:
        self.companies: list[Company] = []
        self.status: str | None = None
        self.entries = 0
        self._row: dict[str, str] | None = None
        self._field: str | None = None
        self._text: list[str] = []
        self._length = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise DartBadAnswer("DART's company list declares a DTD; refused")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "list":
            self._row = {}
            self.entries += 1
            if self.entries > MAX_ENTRIES:
                raise DartBadAnswer(f"DART's company list has more than {MAX_ENTRIES} entries")
        if tag in self.FIELDS or tag == "status":
            self._field, self._text, self._length = tag, [], 0

    def data(self, text: str) -> None:
        if self._field and self._length <= 4 * MAX_TEXT:
            self._text.append(text)
            self._length += len(text)

    def end(self, tag: str) -> None:
        if tag == self._field:
            value = "".join(self._text).strip()
            if tag == "status":
                self.status = value[:MAX_TEXT]
            elif self._row is not None:
                self._row[tag] = value
            self._field = None
        elif tag == "list" and self._row is not None:
            row, self._row = self._row, None
            self._keep(row)

    def _keep(self, row: dict[str, str]) -> None:
        code, stock, name = row.get("corp_code", ""), row.get("stock_code", ""), row.get("corp_name", "")
        if not (CORP_CODE.fullmatch(code) and STOCK_CODE.fullmatch(stock) and 0 < len(name) <= 4 * MAX_TEXT):
            return  # not listed (a blank stock code), or not a company this lookup can name
        if len(self.companies) >= MAX_LISTED:
            raise DartBadAnswer(f"DART's company list names more than {MAX_LISTED} listed companies")
        name_en = row.get("corp_eng_name", "")[: 4 * MAX_TEXT]
        self.companies.append(Company(code, name, name_en or None, stock))


def _parse_xml(stream, limit: int) -> _CompanyRows:
    rows = _CompanyRows()
    parser = ElementTree.XMLParser(target=rows)
    size = 0
    try:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise DartBadAnswer(f"DART's company list is larger than {limit} bytes unpacked")
            parser.feed(chunk)
        parser.close()
    except ElementTree.ParseError:
        raise DartBadAnswer("DART's company list is not well-formed XML") from None
    return rows


def read_company_list(data: bytes) -> list[Company]:
    """The listed companies in a corpCode.xml answer; DartStatus when it is DART's refusal."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        # A refusal is a small XML <result> with the status instead of the zip.
        status = _parse_xml(io.BytesIO(data), MAX_ANSWER_BYTES).status
        if status and status != "000":
            raise DartStatus(status)
        raise DartBadAnswer("DART's company list is neither a zip nor a status")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = next((info for info in archive.infolist() if info.filename.upper() == "CORPCODE.XML"), None)
        if member is None:
            raise DartBadAnswer("DART's company list zip holds no CORPCODE.xml")
        try:
            with archive.open(member) as stream:
                rows = _parse_xml(stream, MAX_XML_BYTES)
        except (zipfile.BadZipFile, EOFError, NotImplementedError):
            raise DartBadAnswer("DART's company list zip is damaged") from None
    if not rows.companies:
        raise DartBadAnswer("DART's company list names no listed company")
    return rows.companies


# ---------------------------------------------------------------- fnlttSinglAcnt.json


def parse_amount(text: Any) -> int | float | None:
    """DART's amount text ("1,234", "-5,678") as a number; None when blank; ValueError otherwise
    (digits other than ASCII's, and amounts no statement has, included)."""
    if not isinstance(text, str):
        raise ValueError(text)
    text = text.strip()
    if text in NOT_REPORTED:
        return None
    if len(text) > 32 or not AMOUNT.fullmatch(text):
        raise ValueError(text)
    number = text.replace(",", "")
    value = float(number) if "." in number else int(number)
    if not math.isfinite(value) or abs(value) >= MAX_AMOUNT:
        raise ValueError(text)
    return value


def _normal_name(name: Any) -> str:
    return "".join(str(name).split())  # filings differ in spaces: "당기순이익 (손실)"


def _order(row: dict[str, Any]) -> int:
    """Where DART lists the row (`ord`); rows without a readable one come last."""
    order = row.get("ord")
    return int(order) if isinstance(order, str) and re.fullmatch(r"[0-9]{1,6}", order) else 1 << 30


def _why_missing(rows: list[dict[str, Any]], names: tuple[str, ...], column: str, fs_div: str) -> str:
    """A first filing has no prior year; some statements lack an account or leave it blank."""
    accounts = " / ".join(names)
    if not rows:
        return f"the filing ({fs_div}) has no {accounts} account"
    year = "prior year" if column == "frmtrm_amount" else "this year"
    if all(column not in row for row in rows):
        return f"the filing ({fs_div}) gives no amount for {accounts} for the {year} ({column} absent)"
    return f"the filing ({fs_div}) leaves {accounts} blank for the {year} ({column})"


def _read_field(rows: list[dict[str, Any]], column: str) -> int | float | None:
    """The amount of the first row DART lists (by `ord`) that gives one: an account listed twice
    (당기순이익, then the owners' share of it) is read as DART orders it. ValueError for a malformed one."""
    for row in sorted(rows, key=_order):
        text = row.get(column)
        if text is None:  # DART leaves out the keys that do not apply
            continue
        value = parse_amount(text)
        if value is not None:
            return value
    return None


def _period(rows: list[dict[str, Any]]) -> dict[str, str]:
    """This year's and the prior year's period as the filing states them, from the income
    statement ("2023.04.01 ~ 2024.03.31" shows a March year-end), else the balance sheet's dates."""
    ordered = sorted(rows, key=lambda row: (row.get("sj_div") not in ("IS", "CIS"), _order(row)))
    period = {}
    for key in ("thstrm_dt", "frmtrm_dt"):
        text = next((row[key] for row in ordered if isinstance(row.get(key), str) and row[key].strip()), None)
        if text is not None:
            period[key] = cut(text.strip())
    return period


def choose_statements(rows: list[dict[str, Any]], fs: str | None) -> str:
    """The basis to read: the one asked for; without one, consolidated when the filing has it."""
    bases = {row.get("fs_div") for row in rows}
    if fs is not None:
        if fs not in bases:
            raise NoStatements(fs)
        return fs
    if "CFS" in bases:
        return "CFS"
    if "OFS" in bases:
        return "OFS"
    raise DartBadAnswer("DART's answer has neither consolidated nor separate statements")


def read_filing(rows: list[dict[str, Any]], fs: str | None = None) -> Filing:
    """The statement values one fnlttSinglAcnt answer gives, and why each other one is missing:
    the statements of one basis (`fs`, else consolidated when there are any), never a mix."""
    fs_div = choose_statements(rows, fs)
    chosen = [row for row in rows if row.get("fs_div") == fs_div]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in chosen:
        by_name.setdefault(_normal_name(row.get("account_nm", "")), []).append(row)
    statements, missing, malformed = {}, [], []
    for field, (names, column) in ACCOUNTS.items():
        found = [row for name in names for row in by_name.get(name, [])]
        try:
            value = _read_field(found, column)
        except ValueError as error:
            text = cut(error.args[0])
            malformed.append((field, f"DART gave {text!r} for {' / '.join(names)}, which is not an amount"))
            continue
        if value is None:
            missing.append((field, _why_missing(found, names, column, fs_div)))
        else:
            statements[field] = value
    if malformed:
        raise UnreadableAmounts("DART's answer has amounts that cannot be read", malformed)
    rcept_no = chosen[0].get("rcept_no")
    if not (isinstance(rcept_no, str) and re.fullmatch(r"[0-9]{14}", rcept_no)):
        raise DartBadAnswer("DART's answer has no valid receipt number (rcept_no)")
    currency = chosen[0].get("currency")
    return Filing(
        statements,
        missing,
        fs_div,
        rcept_no,
        currency if isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency) else None,
        _period(chosen),
        any(name in by_name for name in CURRENT_ACCOUNTS),
    )
