"""A stand-in for OpenDART on 127.0.0.1, answering as DART's published guide says it does.

corpCode.xml: a zip holding CORPCODE.xml (<result><list>corp_code, corp_name, corp_eng_name,
stock_code, modify_date</list>...); fnlttSinglAcnt.json: {"status", "message", "list": [rows]}
with DART's row fields. A wrong key gets DART's "010" (XML for corpCode.xml, JSON otherwise).
The companies are made up; each exists to show one behaviour (see COMPANIES).
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

KEY = "stand-in-key-0123456789abcdef0123456789"
SLOW_SECONDS = 3.0
YEAR = 2023


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


COMPANIES = [
    # Consolidated and separate rows with different amounts: the consolidated ones are used.
    StandInCompany(
        "00126380",
        "삼성전자",
        "SAMSUNG ELECTRONICS CO,.LTD",
        "005930",
        {"CFS": balance_and_income(1_000_000_000), "OFS": balance_and_income(700_000_000)},
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
    # Not listed (blank stock code): never offered.
    StandInCompany("00434003", "다코", "", " "),
]
BY_CORP_CODE = {c.corp_code: c for c in COMPANIES}
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
        self.server.stand_in.calls.append((url.path, params))
        if url.path == "/api/corpCode.xml":
            if params.get("crtfc_key") != KEY:
                return self._send(status_xml("010", "등록되지 않은 키입니다."), "application/xml")
            return self._send(
                self.server.stand_in.corp_code_zip,
                "application/x-msdownload",
                {"Content-Disposition": 'attachment; filename="CORPCODE.zip"'},
            )
        if url.path == "/api/fnlttSinglAcnt.json":
            return self._send_json(self._statements(params))
        self._send(b"not found", "text/plain", status=404)

    def _statements(self, params: dict[str, str]) -> dict:
        if params.get("crtfc_key") != KEY:
            return {"status": "010", "message": "등록되지 않은 키입니다."}
        if params.get("reprt_code") != "11011" or not params.get("bsns_year", "").isdigit():
            return {"status": "100", "message": "필드의 부적절한 값입니다."}
        company = BY_CORP_CODE.get(params.get("corp_code", ""))
        if company and company.slow:
            time.sleep(SLOW_SECONDS)
        if company and company.status != "000":
            return {"status": company.status, "message": "요청 제한을 초과하였습니다."}
        if not company or int(params["bsns_year"]) != YEAR:
            return {"status": "013", "message": "조회된 데이타가 없습니다."}
        return {"status": "000", "message": "정상", "list": statement_rows(company, YEAR)}

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
    """Runs on a free port in a thread; `calls` records (path, params) of every request."""

    def __init__(self):
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.corp_code_zip = corp_code_zip()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stand_in = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def env(self, **overrides: str) -> dict[str, str]:
        """The function's environment for using this stand-in."""
        return {"DART_API_KEY": KEY, "DART_API_URL": self.url, "DART_TIMEOUT": "1", **overrides}

    def statement_calls(self) -> list[dict[str, str]]:
        return [params for path, params in self.calls if path.endswith("fnlttSinglAcnt.json")]

    def list_calls(self) -> int:
        return sum(path.endswith("corpCode.xml") for path, _ in self.calls)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
