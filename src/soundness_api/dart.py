"""OpenDART, the Financial Supervisory Service's open API: the two calls the company lookup makes.

Standard library only (urllib, zipfile, xml.etree): the request path stays lean, and the two
answers are simple enough that a client library (OpenDartReader and dart-fss bring pandas,
requests and more) would add weight, not correctness. How they are read follows DART's guide:
every answer carries a `status` ("000" is success) and a `message`; corpCode.xml is a zip holding
CORPCODE.xml, or a small XML `<result>` with the status when it is refused.

The key travels only in the query string of the outbound request: it is never part of an
exception's message, so nothing that logs or answers one can show it.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from soundness.ratios import STATEMENT_FIELDS

ANNUAL_REPORT = "11011"  # reprt_code of the 사업보고서
FILING_URL = "https://dart.fss.or.kr/dsaf001/main.do?rcpNo={}"
MAX_ZIP_BYTES = 32 << 20  # the real corpCode.xml zip is a few MB
MAX_XML_BYTES = 256 << 20  # CORPCODE.xml unpacked is some tens of MB
MAX_ANSWER_BYTES = 4 << 20  # a statements answer, or a refusal in place of the zip
CHUNK = 1 << 16

# Each statement field: the account names filings use for it, and the column it is read from
# (thstrm_amount: this year; frmtrm_amount: the prior year). 영업수익 is how holding and service
# companies name their revenue.
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

AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
NOT_REPORTED = {"", "-"}  # how DART leaves an amount blank


class DartFailure(Exception):
    """DART did not give a usable answer. Messages are safe to log and to show."""


class DartStatus(DartFailure):
    """DART answered with a status other than "000"."""

    def __init__(self, status: str):
        super().__init__(f"DART answered status {status}")
        self.status = status


class DartTimeout(DartFailure):
    pass


class DartBadAnswer(DartFailure):
    """DART could not be reached, or answered something this client cannot read."""


class UnreadableAmounts(Exception):
    """DART's own answer is at fault: an amount that is no number, or one account twice;
    `details` are (field, problem)."""

    def __init__(self, message: str, details: list[tuple[str, str]]):
        super().__init__(message)
        self.details = details


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

    @property
    def url(self) -> str:
        return FILING_URL.format(self.rcept_no)


class DartClient:
    def __init__(self, api_key: str, base_url: str, timeout: float):
        self._key = api_key
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"DartClient({self._base!r})"

    def companies(self) -> list[Company]:
        """Every listed company in DART's company list (corpCode.xml)."""
        return read_company_list(self._get("corpCode.xml", {}, MAX_ZIP_BYTES))

    def annual_accounts(self, corp_code: str, year: int) -> list[dict[str, Any]]:
        """The main accounts of the company's annual report for `year` (fnlttSinglAcnt.json rows)."""
        raw = self._get(
            "fnlttSinglAcnt.json",
            {"corp_code": corp_code, "bsns_year": str(year), "reprt_code": ANNUAL_REPORT},
            MAX_ANSWER_BYTES,
        )
        try:
            answer = json.loads(raw)
        except ValueError:
            raise DartBadAnswer("DART's statements answer is not JSON") from None
        if not isinstance(answer, dict):
            raise DartBadAnswer("DART's statements answer is not a JSON object")
        if answer.get("status") != "000":
            raise DartStatus(str(answer.get("status")))
        rows = answer.get("list")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise DartBadAnswer("DART's statements answer has no list of accounts")
        return rows

    def _get(self, endpoint: str, params: dict[str, str], limit: int) -> bytes:
        query = urllib.parse.urlencode({"crtfc_key": self._key, **params})
        request = urllib.request.Request(
            f"{self._base}/{endpoint}?{query}", headers={"User-Agent": "soundness-company-lookup"}
        )
        deadline = time.monotonic() + self._timeout
        # Only the exception's type is looked at: its text may hold the URL, and the URL the key.
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return _read_until(response, limit, deadline)
        except TimeoutError:
            raise DartTimeout(f"DART did not answer within {self._timeout:g} s") from None
        except urllib.error.HTTPError as error:
            raise DartBadAnswer(f"DART answered HTTP {error.code}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise DartTimeout(f"DART did not answer within {self._timeout:g} s") from None
            raise DartBadAnswer("DART cannot be reached") from None
        except (OSError, http.client.HTTPException):
            raise DartBadAnswer("the connection to DART broke off") from None


def _read_until(response, limit: int, deadline: float) -> bytes:
    """The body, refusing one larger than `limit` or one that trickles in past the deadline."""
    chunks, size = [], 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise DartBadAnswer(f"DART's answer is larger than {limit} bytes")
        if time.monotonic() > deadline:
            raise TimeoutError
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- corpCode.xml


class _CompanyRows:
    """An ElementTree parser target that keeps only listed companies, without building a tree.

    A document with a DTD is refused as defusedxml would: DART's list needs none, and a DTD is
    where entity expansion bombs and external entities live."""

    FIELDS = {"corp_code", "corp_name", "corp_eng_name", "stock_code"}

    def __init__(self):
        self.companies: list[Company] = []
        self.status: str | None = None
        self._row: dict[str, str] | None = None
        self._field: str | None = None
        self._text: list[str] = []

    def doctype(self, name, pubid, system):
        raise DartBadAnswer("DART's company list declares a DTD; refused")

    def start(self, tag, attrs):
        if tag == "list":
            self._row = {}
        if tag in self.FIELDS or tag == "status":
            self._field, self._text = tag, []

    def data(self, text):
        if self._field:
            self._text.append(text)

    def end(self, tag):
        if tag == self._field:
            value = "".join(self._text).strip()
            if tag == "status":
                self.status = value
            elif self._row is not None:
                self._row[tag] = value
            self._field = None
        elif tag == "list" and self._row is not None:
            row, self._row = self._row, None
            if row.get("stock_code") and row.get("corp_code") and row.get("corp_name"):
                self.companies.append(
                    Company(row["corp_code"], row["corp_name"], row.get("corp_eng_name") or None, row["stock_code"])
                )


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
    """DART's amount text ("1,234", "-5,678") as a number; None when blank; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(text)
    text = text.strip()
    if text in NOT_REPORTED:
        return None
    if not AMOUNT.fullmatch(text):
        raise ValueError(text)
    number = text.replace(",", "")
    return float(number) if "." in number else int(number)


def _normal_name(name: Any) -> str:
    return "".join(str(name).split())  # filings differ in spaces: "당기순이익 (손실)"


def _why_missing(found: list[dict[str, Any]], names: tuple[str, ...], column: str, fs_div: str) -> str:
    """A first filing has no prior year; some statements lack an account or leave it blank."""
    accounts = " / ".join(names)
    if not found:
        return f"the filing ({fs_div}) has no {accounts} account"
    year = "prior year" if column == "frmtrm_amount" else "this year"
    return f"the filing ({fs_div}) leaves {accounts} blank for the {year} ({column})"


def read_filing(rows: list[dict[str, Any]]) -> Filing:
    """The statement values one fnlttSinglAcnt answer gives, and why each other one is missing:
    consolidated rows when the filing has them, else separate ones, never a mix."""
    fs_div = "CFS" if any(row.get("fs_div") == "CFS" for row in rows) else "OFS"
    chosen = [row for row in rows if row.get("fs_div") == fs_div]
    if not chosen:
        raise DartBadAnswer("DART's answer has neither consolidated nor separate statements")
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in chosen:
        by_name.setdefault(_normal_name(row.get("account_nm", "")), []).append(row)
    statements, missing, malformed = {}, [], []
    for field, (names, column) in ACCOUNTS.items():
        found = [row for name in names for row in by_name.get(name, [])]
        try:
            values = {parse_amount(row.get(column)) for row in found} - {None}
        except ValueError as error:
            malformed.append(
                (field, f"DART gave {str(error.args[0])[:40]!r} for {' / '.join(names)}, which is not an amount")
            )
            continue
        if len(values) > 1:
            malformed.append((field, f"DART gave {' / '.join(names)} more than once, with different amounts"))
        elif not values:
            missing.append((field, _why_missing(found, names, column, fs_div)))
        else:
            statements[field] = values.pop()
    if malformed:
        raise UnreadableAmounts("DART's answer has amounts that cannot be read", malformed)
    rcept_no = str(chosen[0].get("rcept_no", ""))
    if not re.fullmatch(r"\d{14}", rcept_no):
        raise DartBadAnswer("DART's answer has no valid receipt number (rcept_no)")
    currency = chosen[0].get("currency")
    return Filing(statements, missing, fs_div, rcept_no, currency if isinstance(currency, str) and currency else None)
