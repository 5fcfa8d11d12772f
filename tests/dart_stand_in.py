"""A stand-in for OpenDART on 127.0.0.1, serving recorded answers of the real API
(tests/dart_answers/, README there) and shapes made from them as DART's published guide says.

corpCode.xml: a zip holding CORPCODE.xml (<result><list>corp_code, corp_name, corp_eng_name,
stock_code, modify_date</list>...); fnlttSinglAcnt.json: {"status", "message", "list": [rows]}
with DART's row fields; company.json: the company's profile. A wrong key gets DART's "010" (XML
for corpCode.xml, JSON otherwise); a year with nothing to serve gets "013". Besides 삼성전자 (real
answers for 2018 and 2019) the companies are made up; each exists to show one behaviour (see
COMPANIES), some of them hostile ones (HOSTILE).
"""

from __future__ import annotations

import copy
import io
import json
import re
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

KEY = "stand-in-key-0123456789abcdef0123456789"
SLOW_SECONDS = 3.0
TRICKLE_SECONDS = 8.0  # how long the trickling answer keeps sending, a byte at a time
PAUSE_SECONDS = 0.5  # the pausing company's answer comes after this long
YEAR = 2023
RECORDED = Path(__file__).parent / "dart_answers"
NO_DATA = {"status": "013", "message": "조회된 데이타가 없습니다."}


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


SAMSUNG = {year: recorded(f"samsung_fnlttSinglAcnt_{year}.json") for year in (2018, 2019)}
SAMSUNG_PROFILE = recorded("company_samsung.json")


@dataclass
class StandInCompany:
    corp_code: str
    name: str
    name_en: str
    stock_code: str  # blank: not listed
    # fs_div -> account name -> (this year, prior year) amount texts, as DART writes them
    filings: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    status: str = "000"  # what fnlttSinglAcnt answers instead of rows, when not "000"
    slow: bool = False
    # year -> a whole answer (a recorded one, or one made from it), besides `filings` for YEAR
    answers: dict[int, dict] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=lambda: {"corp_cls": "Y", "induty_code": "264", "acc_mt": "12"})
    filed_year: int = YEAR  # the year `filings` are served for
    # A hostile answer: serve(handler) writes the whole HTTP answer itself
    serve: Callable | None = None


def balance_and_income(
    scale: int, revenue="매출액", operating="영업이익", net="당기순이익", operating_loss=False
) -> dict[str, tuple[str, str]]:
    """The main accounts fnlttSinglAcnt lists, in DART's order, sized by `scale`."""

    def amount(n: int) -> str:
        return f"{n * scale:,}"

    op_this = -7 if operating_loss else 12
    return {
        "유동자산": (amount(120), amount(110)),
        "비유동자산": (amount(280), amount(250)),
        "자산총계": (amount(400), amount(360)),
        "유동부채": (amount(60), amount(55)),
        "비유동부채": (amount(40), amount(45)),
        "부채총계": (amount(100), amount(100)),
        "자본금": (amount(10), amount(10)),
        "이익잉여금": (amount(250), amount(220)),
        "자본총계": (amount(300), amount(260)),
        revenue: (amount(500), amount(450)),
        operating: (amount(op_this), amount(30)),
        "법인세차감전 순이익": (amount(15), amount(33)),
        net: (amount(11), amount(25)),
    }


def _malformed() -> dict[str, tuple[str, str]]:
    accounts = balance_and_income(1_000_000)
    accounts["매출액"] = ("12,3O4,000", accounts["매출액"][1])  # a letter O where a zero belongs
    return accounts


def _without_operating_income() -> dict[str, tuple[str, str]]:
    accounts = balance_and_income(1_000_000)
    del accounts["영업이익"]
    return accounts


def _first_filing() -> dict[str, tuple[str, str]]:
    """A newly listed company's first annual report: no prior year to compare with."""
    return {name: (this_year, "") for name, (this_year, _) in balance_and_income(1_000_000).items()}


def _only(*names: str) -> dict[str, tuple[str, str]]:
    accounts = balance_and_income(1_000_000)
    return {name: accounts[name] for name in names}


# ---------------------------------------------------------------- shapes made from the real answers


def _from_samsung(corp_code: str, stock_code: str, fs_div: str = "CFS") -> list[dict]:
    """삼성전자's real FY2018 rows of one basis, as another company's (its codes) for YEAR: the
    years in the periods moved on by as many years, everything else as filed."""
    shift = YEAR - 2018
    rows = [copy.deepcopy(row) for row in SAMSUNG[2018]["list"] if row["fs_div"] == fs_div]
    for row in rows:
        row.update(corp_code=corp_code, stock_code=stock_code, bsns_year=str(YEAR))
        for key in ("thstrm_dt", "frmtrm_dt", "bfefrmtrm_dt"):
            row[key] = re.sub(r"\d{4}", lambda m: str(int(m.group()) + shift), row[key])
    return rows


def _answer(rows: list[dict]) -> dict:
    return {"status": "000", "message": "정상", "list": rows}


def _account(rows: list[dict], name: str) -> dict:
    return next(row for row in rows if row["account_nm"] == name)


def first_filing_answer() -> dict:
    """A newly listed company's first annual report: DART leaves the prior-year keys out where they
    do not apply, or gives them blank ("") or as "-"."""
    rows = _from_samsung("00999009", "900009")
    for row in rows:
        for key in ("frmtrm_nm", "frmtrm_dt", "frmtrm_amount", "bfefrmtrm_nm", "bfefrmtrm_dt", "bfefrmtrm_amount"):
            row.pop(key)
    _account(rows, "매출액")["frmtrm_amount"] = ""
    _account(rows, "영업이익")["frmtrm_amount"] = "-"
    return _answer(rows)


OWNERS_NET_INCOME = "43,890,877,000,000"  # 삼성전자's FY2018 net income attributable to its owners


def duplicate_accounts_answer() -> dict:
    """당기순이익 listed twice with different amounts: the whole (ord 29), then the owners' share
    listed after it, as some filings' main accounts do; and 자본총계 listed again before its place."""
    rows = _from_samsung("00999010", "900010")
    owners = {**_account(rows, "당기순이익"), "thstrm_amount": OWNERS_NET_INCOME, "ord": "31"}
    equity = {**_account(rows, "자본총계"), "thstrm_amount": "1", "ord": "99"}
    return _answer([*rows, owners, equity])


FINANCIAL_AMOUNTS = {  # in won: a bank holding company's scale, on a balance sheet without current items
    "현금및예치금": ("31,000,000,000,000", "29,000,000,000,000"),
    "대출채권": ("450,000,000,000,000", "430,000,000,000,000"),
    "자산총계": ("715,000,000,000,000", "690,000,000,000,000"),
    "예수부채": ("420,000,000,000,000", "400,000,000,000,000"),
    "부채총계": ("663,000,000,000,000", "640,000,000,000,000"),
    "자본금": ("2,090,000,000,000", "2,090,000,000,000"),
    "이익잉여금": ("30,000,000,000,000", "28,000,000,000,000"),
    "자본총계": ("52,000,000,000,000", "50,000,000,000,000"),
    "영업수익": ("81,000,000,000,000", "72,000,000,000,000"),
    "영업이익": ("6,300,000,000,000", "5,900,000,000,000"),
    "법인세차감전 순이익": ("6,200,000,000,000", "5,800,000,000,000"),
    "당기순이익": ("4,600,000,000,000", "4,400,000,000,000"),
}


def financial_answer(corp_code: str, stock_code: str) -> dict:
    """A financial company from FY2023 on: the real rows' shape, a bank's accounts (no current
    assets or liabilities; revenue as 영업수익)."""
    template = _from_samsung(corp_code, stock_code)
    rows = []
    for order, (name, (this_year, prior)) in enumerate(FINANCIAL_AMOUNTS.items(), start=1):
        like = _account(template, "자산총계" if order <= 8 else "매출액")
        rows.append(
            {
                **like,
                "account_nm": name,
                "thstrm_amount": this_year,
                "frmtrm_amount": prior,
                "ord": str(order),
            }
        )
    return _answer(rows)


def only_separate_answer() -> dict:
    """A company without subsidiaries: separate statements (OFS) only."""
    return _answer(_from_samsung("00999012", "900012", fs_div="OFS"))


def bank_answer() -> dict:
    """A bank whose main accounts happen to include current items: its industry code tells."""
    return _answer(_from_samsung("00999014", "900014"))


def march_year_end_answer() -> dict:
    """A fiscal year from April to March: the periods say so."""
    rows = _from_samsung("00999013", "900013")
    for row in rows:
        balance = row["sj_div"] == "BS"
        row["thstrm_dt"] = "2024.03.31 현재" if balance else "2023.04.01 ~ 2024.03.31"
        row["frmtrm_dt"] = "2023.03.31 현재" if balance else "2022.04.01 ~ 2023.03.31"
    return _answer(rows)


def _amount_answer(corp_code: str, stock_code: str, account: str, text: str) -> dict:
    rows = _from_samsung(corp_code, stock_code)
    _account(rows, account)["thstrm_amount"] = text
    return _answer(rows)


# ---------------------------------------------------------------- hostile answers


def _trickle(handler) -> None:
    """A valid answer sent a byte at a time, for longer than any deadline."""
    body = json.dumps(_answer(_from_samsung("00999020", "900020")), ensure_ascii=False).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    ends = time.monotonic() + TRICKLE_SECONDS
    try:
        for byte in body:
            if time.monotonic() > ends:
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.05)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up at its deadline, as it should


def _redirect(location: str):
    def serve(handler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return serve


def _long_status(handler) -> None:
    """A refusal whose status and message are 600 KB of text (under the answer size bound)."""
    body = json.dumps({"status": "9" * 300_000, "message": "x" * 300_000}).encode()
    handler._send(body, "application/json")


COMPANIES = [
    # Consolidated and separate rows with different amounts: the consolidated ones are used.
    # The real answers for 2018 and 2019 (and its real profile); a made-up one for YEAR.
    StandInCompany(
        "00126380",
        "삼성전자",
        "SAMSUNG ELECTRONICS CO,.LTD",
        "005930",
        {"CFS": balance_and_income(1_000_000_000), "OFS": balance_and_income(700_000_000)},
        answers=SAMSUNG,
        profile=SAMSUNG_PROFILE,
    ),
    # Separate statements only, with the other account names and an operating loss.
    StandInCompany(
        "00164779",
        "SK하이닉스",
        "SK hynix Inc.",
        "000660",
        {
            "OFS": balance_and_income(
                500_000_000, "수익(매출액)", "영업이익(손실)", "당기순이익(손실)", operating_loss=True
            )
        },
    ),
    StandInCompany(
        "00126371", "삼성전기", "SAMSUNG ELECTRO-MECHANICS CO.,LTD", "009150", {"CFS": balance_and_income(100_000_000)}
    ),
    StandInCompany(
        "00149655", "삼성물산", "SAMSUNG C&T CORPORATION", "028260", {"CFS": balance_and_income(300_000_000)}
    ),
    StandInCompany("00999001", "전자삼성", "JEONJA SAMSUNG", "900001", {"CFS": balance_and_income(1_000)}),
    StandInCompany("00999002", "한도초과", "OVER LIMIT CO", "900002", status="020"),
    StandInCompany("00999003", "느린회사", "SLOW CO", "900003", {"CFS": balance_and_income(1_000)}, slow=True),
    StandInCompany("00999004", "이상한금액", "MALFORMED CO", "900004", {"CFS": _malformed()}),
    StandInCompany(
        "00999005", "영업이익없음", "NO OPERATING INCOME CO", "900005", {"CFS": _without_operating_income()}
    ),
    StandInCompany("00999006", "새내기상장", "NEWLY LISTED CO", "900006", {"CFS": _first_filing()}),
    # Nothing usable: of the nine accounts only net income, which gives no ratio alone; or none.
    StandInCompany("00999007", "순이익만", "NET INCOME ONLY CO", "900007", {"CFS": _only("유동자산", "당기순이익")}),
    StandInCompany("00999008", "계정없음", "NO ACCOUNTS CO", "900008", {"CFS": _only("유동자산", "자본금")}),
    # The shapes of real answers (made from 삼성전자's FY2018 answer), each for YEAR.
    StandInCompany("00999009", "첫해상장", "FIRST YEAR CO", "900009", answers={YEAR: first_filing_answer()}),
    StandInCompany(
        "00999010", "중복계정", "DUPLICATE ACCOUNTS CO", "900010", answers={YEAR: duplicate_accounts_answer()}
    ),
    # A financial holding company (industry 64992 holds holding companies of every kind: its
    # unclassified balance sheet tells) and a bank (its industry tells); DART has no structured
    # statements of financial companies before FY2023: 013 for the years before.
    StandInCompany(
        "00999011",
        "가상금융지주",
        "VIRTUAL FINANCIAL GROUP",
        "900011",
        answers={YEAR: financial_answer("00999011", "900011")},
        profile={"corp_cls": "Y", "induty_code": "64992", "acc_mt": "12"},
    ),
    StandInCompany(
        "00999014",
        "가상은행",
        "VIRTUAL BANK",
        "900014",
        answers={YEAR: only_separate_answer()},
        profile={"corp_cls": "Y", "induty_code": "64110", "acc_mt": "12"},
    ),
    StandInCompany("00999012", "별도만", "SEPARATE ONLY CO", "900012", answers={YEAR: only_separate_answer()}),
    StandInCompany(
        "00999013",
        "삼월결산",
        "MARCH YEAR END CO",
        "900013",
        answers={YEAR: march_year_end_answer()},
        profile={"corp_cls": "K", "induty_code": "264", "acc_mt": "03"},
    ),
    # Filed up to the year before last (the latest finished year's report not yet in).
    StandInCompany(
        "00999015",
        "작년미제출",
        "NOT YET FILED CO",
        "900015",
        {"CFS": balance_and_income(1_000_000)},
        filed_year=date.today().year - 2,
    ),
    # Amounts no statement has: digits other than ASCII's; an infinite one.
    StandInCompany(
        "00999016",
        "아랍숫자",
        "ARABIC DIGITS CO",
        "900016",
        answers={YEAR: _amount_answer("00999016", "900016", "자산총계", "٢٧٣٨٤٢١١٩٦٥٦")},
    ),
    StandInCompany(
        "00999017",
        "무한대",
        "INFINITE CO",
        "900017",
        answers={YEAR: _amount_answer("00999017", "900017", "매출액", "1" * 400 + ".0")},
    ),
    StandInCompany("00999018", "잠깐느림", "PAUSING CO", "900018", {"CFS": balance_and_income(1_000)}),
    # Not listed (blank stock code): never offered.
    StandInCompany("00434003", "다코", "", " "),
]
HOSTILE = [
    StandInCompany("00999020", "물방울", "TRICKLE CO", "900020", serve=_trickle),
    StandInCompany("00999021", "딴곳으로", "REDIRECT CO", "900021"),  # its Location is set by the stand-in
    StandInCompany("00999022", "에프티피", "FTP REDIRECT CO", "900022", serve=_redirect("ftp://127.0.0.1/x")),
    StandInCompany("00999023", "엉터리위치", "BAD LOCATION CO", "900023", serve=_redirect("http://[::1")),
    StandInCompany("00999024", "긴상태", "LONG STATUS CO", "900024", serve=_long_status),
]
COMPANIES += HOSTILE
BY_CORP_CODE = {c.corp_code: c for c in COMPANIES}
PAUSING = "00999018"
RCEPT_NO = {c.corp_code: f"{YEAR + 1}0312{i:06d}" for i, c in enumerate(COMPANIES)}


def corp_code_zip(companies=COMPANIES) -> bytes:
    entries = "".join(
        f"<list><corp_code>{c.corp_code}</corp_code><corp_name>{escape(c.name)}</corp_name>"
        f"<corp_eng_name>{escape(c.name_en)}</corp_eng_name><stock_code>{c.stock_code}</stock_code>"
        f"<modify_date>20240102</modify_date></list>"
        for c in companies
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("CORPCODE.xml", f'<?xml version="1.0" encoding="UTF-8"?>\n<result>{entries}</result>')
    return buffer.getvalue()


def statement_rows(company: StandInCompany, year: int) -> list[dict[str, str]]:
    rows = []
    for fs_div, accounts in company.filings.items():
        for order, (name, (this_year, prior_year)) in enumerate(accounts.items(), start=1):
            balance = order <= 9
            rows.append(
                {
                    "rcept_no": RCEPT_NO[company.corp_code],
                    "reprt_code": "11011",
                    "bsns_year": str(year),
                    "corp_code": company.corp_code,
                    "stock_code": company.stock_code,
                    "fs_div": fs_div,
                    "fs_nm": "연결재무제표" if fs_div == "CFS" else "재무제표",
                    "sj_div": "BS" if balance else "IS",
                    "sj_nm": "재무상태표" if balance else "손익계산서",
                    "account_nm": name,
                    "thstrm_nm": "제 55 기",
                    "thstrm_dt": f"{year}.12.31 현재" if balance else f"{year}.01.01 ~ {year}.12.31",
                    "thstrm_amount": this_year,
                    "frmtrm_nm": "제 54 기",
                    "frmtrm_dt": f"{year - 1}.12.31 현재" if balance else f"{year - 1}.01.01 ~ {year - 1}.12.31",
                    "frmtrm_amount": prior_year,
                    "bfefrmtrm_nm": "제 53 기",
                    "bfefrmtrm_dt": "",
                    "bfefrmtrm_amount": "",
                    "ord": str(order),
                    "currency": "KRW",
                }
            )
    return rows


def status_xml(status: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<result><status>{status}</status>'
        f"<message>{message}</message></result>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):  # quiet: the tests read `calls` instead
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        stand_in = self.server.stand_in
        stand_in.calls.append((url.path, params))
        if url.path == "/api/corpCode.xml":
            if params.get("crtfc_key") != KEY:
                return self._send(status_xml("010", "등록되지 않은 키입니다."), "application/xml")
            return self._send(
                stand_in.corp_code_zip,
                "application/x-msdownload",
                {"Content-Disposition": 'attachment; filename="CORPCODE.zip"'},
            )
        company = BY_CORP_CODE.get(params.get("corp_code", ""))
        if url.path in ("/api/fnlttSinglAcnt.json", "/api/company.json") and params.get("crtfc_key") == KEY:
            serve = stand_in.hostile.get(company.corp_code) if company else None
            if serve is not None and url.path.endswith("fnlttSinglAcnt.json"):
                return serve(self)
        if url.path == "/api/fnlttSinglAcnt.json":
            return self._send_json(self._statements(params, company))
        if url.path == "/api/company.json":
            return self._send_json(self._profile(params, company))
        self._send(b"not found", "text/plain", status=404)

    def _statements(self, params: dict[str, str], company: StandInCompany | None) -> dict:
        if params.get("crtfc_key") != KEY:
            return {"status": "010", "message": "등록되지 않은 키입니다."}
        if params.get("reprt_code") != "11011" or not params.get("bsns_year", "").isdigit():
            return {"status": "100", "message": "필드의 부적절한 값입니다."}
        if company and company.slow:
            time.sleep(SLOW_SECONDS)
        if company and company.corp_code == PAUSING:
            time.sleep(PAUSE_SECONDS)
        if company and company.status != "000":
            return {"status": company.status, "message": "요청 제한을 초과하였습니다."}
        year = int(params["bsns_year"])
        if company and year in company.answers:
            return company.answers[year]
        if not company or year != company.filed_year or not company.filings:
            return NO_DATA
        return {"status": "000", "message": "정상", "list": statement_rows(company, year)}

    def _profile(self, params: dict[str, str], company: StandInCompany | None) -> dict:
        if params.get("crtfc_key") != KEY:
            return {"status": "010", "message": "등록되지 않은 키입니다."}
        if company is None:
            return NO_DATA
        return {
            "status": "000",
            "message": "정상",
            "corp_code": company.corp_code,
            "corp_name": company.name,
            "corp_name_eng": company.name_en,
            "stock_code": company.stock_code,
            **company.profile,
        }

    def _send_json(self, body: dict) -> None:
        self._send(json.dumps(body, ensure_ascii=False).encode(), "application/json;charset=UTF-8")

    def _send(self, data: bytes, content_type: str, headers: dict | None = None, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the slow answer's client gave up waiting, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: DartStandIn


class DartStandIn:
    """Runs on a free port in a thread; `calls` records (path, params) of every request. Another
    server, `elsewhere`, is where the redirecting company sends its callers: `elsewhere.calls`
    says whether anyone followed."""

    def __init__(self, redirect_to: str | None = None):
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.corp_code_zip = corp_code_zip()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stand_in = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api"
        self.hostile = {c.corp_code: c.serve for c in HOSTILE if c.serve}
        self.elsewhere = DartStandIn(redirect_to="") if redirect_to is None else None
        if self.elsewhere is not None:
            self.hostile["00999021"] = _redirect(self.elsewhere.url + "/fnlttSinglAcnt.json?stolen=1")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def env(self, **overrides: str) -> dict[str, str]:
        """The function's environment for using this stand-in."""
        return {"DART_API_KEY": KEY, "DART_API_URL": self.url, "DART_TIMEOUT": "1", **overrides}

    def statement_calls(self) -> list[dict[str, str]]:
        return [params for path, params in self.calls if path.endswith("fnlttSinglAcnt.json")]

    def list_calls(self) -> int:
        return sum(path.endswith("corpCode.xml") for path, _ in self.calls)

    def profile_calls(self) -> int:
        return sum(path.endswith("company.json") for path, _ in self.calls)

    def stop(self) -> None:
        if self.elsewhere is not None:
            self.elsewhere.stop()
        self._server.shutdown()
        self._server.server_close()
