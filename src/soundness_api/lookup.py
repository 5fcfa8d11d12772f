"""The company lookup: find a listed company, read its annual statements from DART, one year or
every year.

Framework-agnostic: methods take the request's strings and return answer bodies, or raise a
Refusal by kind (errors.py maps kinds to statuses). DART's company list is fetched on first use, once per instance (under a lock, like
the model) and again after a day, and searched through an index built once. DART's answers are
kept in a bounded LRU cache (a "no data" answer until midnight in Seoul, the rest a day), an
answer being fetched is shared by every request that wants it, and the calls that do reach DART
are bounded per client and per instance, so nobody can spend the key's daily quota for everyone.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from soundness import flags
from soundness.ratios import STATEMENT_FIELDS, compute

from . import logs
from .config import Settings
from .dart import (
    CORP_CODE,
    STATEMENT_NAMES,
    STOCK_CODE,
    Company,
    DartBadAnswer,
    DartClient,
    DartFailure,
    DartStatus,
    DartTimeout,
    Filing,
    NoStatements,
    UnreadableAmounts,
    cut,
    read_filing,
)
from .errors import Busy, Invalid, NotFound, Refusal, Unavailable, UpstreamFailed, UpstreamTimeout, detail

if TYPE_CHECKING:
    from soundness.predictor import Predictor

MAX_RESULTS = 20
MAX_QUERY_LENGTH = 100
FIRST_YEAR = 2015  # DART's financial data starts with the 2015 reports
FINANCIAL_DATA_FROM = 2023  # DART has structured statements of financial companies from FY2023
REFRESH_SECONDS = 24 * 3600  # the company list and cached answers are renewed after a day
RETRY_SECONDS = 60  # after a failed fetch of the list, answers repeat the failure this long
WINDOW_SECONDS = 3600  # DART calls are counted per client and per instance over the last hour
DART_SLOTS = 4  # DART calls at once per instance; a request finding none free is 503 at once
MAX_CLIENTS = 4096  # clients whose recent DART calls are remembered (the least recent forgotten)
KST = timezone(timedelta(hours=9))
KEY_PROBLEMS = {"010", "011", "012", "901"}  # unregistered, disabled, IP not allowed, expired
NO_DATA, OVER_LIMIT, MAINTENANCE = "013", "020", "800"
STATEMENT_BASES = ("CFS", "OFS")
MARKETS = {"Y": "KOSPI", "K": "KOSDAQ", "N": "KONEX", "E": "OTHER"}  # company.json's corp_cls
# KSIC section K (finance and insurance) is 64-66; 6499x (other finance, holding companies of every
# industry among them) is judged by the balance sheet instead.
FINANCIAL_INDUSTRY = re.compile(r"6[4-6][0-9]*")
MIXED_INDUSTRY = re.compile(r"6499[0-9]*")
LEGAL_FORMS = ("(주)", "(株)", "주식회사", "(유)", "유한회사")  # NFKC makes ㈜ (주) and ㈱ (株)
LEGAL_WORDS = {"co", "ltd", "inc", "corp", "corporation", "company", "limited", "plc", "llc"}


def normal_name(text: str) -> str:
    """How names are compared: full-width letters made plain, case, spaces, punctuation and the
    legal form ignored ("㈜삼성전자" and "주식회사 삼성전자" are 삼성전자; "Samsung Electronics Co., Ltd."
    is DART's "SAMSUNG ELECTRONICS CO,.LTD")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for form in LEGAL_FORMS:
        text = text.replace(form, " ")
    words = re.sub(r"[\W_]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_WORDS:
        words.pop()
    return "".join(words)


def latest_finished_year(now: datetime | None = None) -> int:
    return (now or datetime.now(KST)).astimezone(KST).year - 1


def seconds_to_kst_midnight(now: datetime | None = None) -> int:
    """DART's request limit is a daily one, counted in Korean time."""
    now = (now or datetime.now(KST)).astimezone(KST)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def requester(headers: dict[str, str], peer: str | None) -> str:
    """Who is asking, for the per-client bound: the API key when one is sent, else the address the
    platform's front end appended last to X-Forwarded-For (a client can only prepend to it), else
    the connection's peer."""
    key = headers.get("x-api-key")
    if key:
        return "key:" + key
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    return "ip:" + (forwarded[-1] if forwarded else peer or "?")[:64]


def _grams(text: str) -> set[str]:
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


class CompanyIndex:
    """The listed companies, found by code and ranked by how well their names match. Built once:
    a search looks at the companies sharing the query's rarest one- or two-letter piece, not at
    every company."""

    def __init__(self, companies: list[Company]):
        self.companies = companies
        self._by_code = {c.stock_code: c for c in companies} | {c.corp_code: c for c in companies}
        self._names = [
            tuple(dict.fromkeys(n for n in (normal_name(c.name), normal_name(c.name_en or "")) if n)) for c in companies
        ]
        self._grams: dict[str, list[int]] = {}
        for i, (company, names) in enumerate(zip(companies, self._names)):
            for gram in set().union(*(_grams(n) for n in (*names, company.stock_code))):
                self._grams.setdefault(gram, []).append(i)

    def find(self, code: str) -> tuple[Company | None, str | None]:
        """The company with this stock or DART code, and the common share's code when `code` is a
        preferred share's (KRX gives them the common share's code with another last character:
        005935 is 삼성전자우, 005930 삼성전자; DART lists only the common share)."""
        company = self._by_code.get(code)
        if company is None and len(code) == 6 and code[-1] != "0":
            company = self._by_code.get(code[:5] + "0")
            if company is not None:
                return company, company.stock_code
        return company, None

    def search(self, query: str) -> list[Company]:
        """Best first: the exact stock code, exact names, names that begin with the query, then
        names (and, for digits, stock codes) that contain it; shorter names first within each."""
        code = query.strip().upper()
        exact, _ = self.find(code) if STOCK_CODE.fullmatch(code) or CORP_CODE.fullmatch(code) else (None, None)
        if exact is not None and code.isdigit():
            return [exact]  # a whole code names one company (digits share pieces with many codes)
        q = normal_name(query)
        ranked = [(0, 0, "", "", exact)] if exact else []
        for i in self._candidates(q):
            company, names = self.companies[i], self._names[i]
            if company is exact:
                continue
            if q in names:
                rank = 1
            elif any(n.startswith(q) for n in names):
                rank = 2
            elif any(q in n for n in names) or (q.isdigit() and q in company.stock_code):
                rank = 3
            else:
                continue
            ranked.append((rank, len(company.name), company.name, company.stock_code, company))
        ranked.sort(key=lambda entry: entry[:4])
        return [entry[-1] for entry in ranked[:MAX_RESULTS]]

    def _candidates(self, q: str) -> list[int]:
        if not q:
            return []
        pieces = [q] if len(q) == 1 else [q[i : i + 2] for i in range(len(q) - 1)]
        postings = [self._grams.get(piece, []) for piece in pieces]
        return min(postings, key=len)


class TimedCache:
    """Least recently used entries, each kept until its own expiry."""

    def __init__(self, size: int, clock: Callable[[], float]):
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() >= entry[0]:
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Any, value: Any, seconds: float) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class SharedCalls:
    """Identical calls at the same time make one: the first caller runs it, the others wait for
    its result (or its exception)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Any, Future] = {}

    def run(self, key: Any, call: Callable[[], Any]) -> Any:
        with self._lock:
            running = self._running.get(key)
            if running is None:
                future = self._running[key] = Future()
        if running is not None:
            return running.result()
        try:
            result = call()
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            with self._lock:
                del self._running[key]


class CallBudget:
    """At most so many DART calls per WINDOW_SECONDS for each client and for the instance; beyond,
    429 with the seconds until one is free again."""

    def __init__(self, per_client: int, per_instance: int, clock: Callable[[], float]):
        self._limits = (per_client, per_instance)
        self._clock = clock
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._instance: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self, client: str, calls: int = 1, spend: bool = False) -> None:
        with self._lock:
            now = self._clock()
            mine = self._clients.pop(client, None) or deque()
            self._clients[client] = mine
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
            for log, limit, whose in (
                (mine, self._limits[0], "this client"),
                (self._instance, self._limits[1], "this server"),
            ):
                while log and log[0] <= now - WINDOW_SECONDS:
                    log.popleft()
                if len(log) + calls > limit:
                    free_at = (
                        log[len(log) + calls - limit - 1] + WINDOW_SECONDS if calls <= limit else now + WINDOW_SECONDS
                    )
                    raise Busy(
                        "lookup_limit",
                        f"{whose} has made {len(log)} DART lookups in the last hour, the most allowed is {limit}: "
                        "answers already fetched are still given",
                        retry_after=max(1, math.ceil(free_at - now)),
                    )
            if spend:
                mine.extend([now] * calls)
                self._instance.extend([now] * calls)


class CompanyLookup:
    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(KST),
    ):
        self.enabled = bool(settings.dart_api_key)
        self._client = DartClient(settings.dart_api_key, settings.dart_api_url, settings.dart_timeout)
        self._clock = clock
        self._now = now  # the calendar: which fiscal years are finished
        self._lock = threading.Lock()
        self._index: CompanyIndex | None = None
        self._renew_at = 0.0
        self._failure: tuple[float, DartFailure] | None = None
        self._reported: set[str] = set()  # DART statuses already logged (at most 1000: they are 3 digits)
        self.cache = TimedCache(settings.dart_cache_size, clock)  # fnlttSinglAcnt answers by (corp_code, year)
        self._profiles = TimedCache(settings.dart_cache_size, clock)  # company.json answers by corp_code
        self._shared = SharedCalls()
        self._budget = CallBudget(settings.dart_calls_per_client, settings.dart_calls_per_instance, clock)
        self._slots = threading.BoundedSemaphore(DART_SLOTS)
        self._closed_until = 0.0  # after DART's "limit used up" (020), until midnight in Seoul
        self.list_fetches = 0  # how many times the company list was fetched

    # ------------------------------------------------------------ the routes

    def search(self, query: str | None) -> dict[str, Any]:
        self._require_configured()
        query = (query or "").strip()
        if not query or len(query) > MAX_QUERY_LENGTH:
            raise Invalid(
                "invalid_query",
                "q must be a company name or stock code",
                [detail("q", f"must be 1 to {MAX_QUERY_LENGTH} characters")],
            )
        return {"companies": [c.public() for c in self._companies().search(query)]}

    def list_ready(self) -> bool:
        """Whether a search can be answered without asking DART (the list is loaded and fresh)."""
        return self._index is not None and self._clock() < self._renew_at

    def statements(self, code: str, year: str | None, fs: str | None = None, client: str = "?") -> dict[str, Any]:
        """One year's statements; without a year, the latest year that has a filing."""
        self._require_configured()
        company, common = self._company(code)
        basis = self._basis(fs)
        if year:
            fiscal_year = self._year(year)
            try:
                return self._statements(company, fiscal_year, basis, client, common)
            except NotFound as error:
                if error.code == "no_filing":
                    error.message += self._years_kept(company)
                raise
        latest = latest_finished_year(self._now())
        try:
            return self._statements(company, latest, basis, client, common)
        except NotFound as error:
            if error.code != "no_filing":
                raise
        # The latest year's report is due by the end of March: until then the year before is the
        # latest with a filing.
        answer = self._statements(company, latest - 1, basis, client, common)
        if self._now().astimezone(KST).month <= 4:
            en = f"{company.name}'s annual report for {latest} is not on DART yet (due by the end of March)"
            ko = f"{company.name}의 {latest}년 사업보고서는 아직 DART에 없습니다(3월 말까지 제출)"
        else:
            en = f"DART has no structured statements for {company.name}'s annual report for {latest}"
            ko = f"DART에 {company.name}의 {latest}년 사업보고서 재무제표가 없습니다"
        answer["warnings"] = [
            *answer["warnings"],
            _warning(
                "latest_year_not_filed",
                f"{en}: {latest - 1}'s, the latest there is, is given",
                ko=f"{ko}. 가장 최근인 {latest - 1}년 것을 가져왔습니다",
            ),
        ]
        return answer

    def history(self, code: str, fs: str | None = None, client: str = "?") -> dict[str, Any]:
        """Every fiscal year DART has statements for, from FIRST_YEAR to the latest finished one:
        one DART call per year not already kept, all of them within the client's budget."""
        self._require_configured()
        company, common = self._company(code)
        basis = self._basis(fs)
        years = list(range(FIRST_YEAR, latest_finished_year(self._now()) + 1))
        unknown = [year for year in years if self.cache.get((company.corp_code, year)) is None]
        self._budget.check(client, len(unknown) + (self._profiles.get(company.corp_code) is None))
        found, absent = [], []
        for year in years:
            try:
                found.append(self._statements(company, year, basis, client, common))
            except Refusal as error:
                if isinstance(error, (Busy, Unavailable, UpstreamTimeout)):  # no year can be answered now
                    raise
                absent.append({"year": year, "code": error.code, "problem": error.message})
        return {"company": company.public(), "fs": basis, "years": found, "absent": absent}

    # ------------------------------------------------------------ the parts

    def _require_configured(self) -> None:
        if not self.enabled:
            raise Unavailable(
                "lookup_not_configured",
                "the DART company lookup is not configured on this server (no DART_API_KEY)",
            )

    def _company(self, code: str) -> tuple[Company, str | None]:
        if not (STOCK_CODE.fullmatch(code) or CORP_CODE.fullmatch(code)):
            raise Invalid(
                "invalid_code",
                "the company code is not a stock code or a DART code",
                [detail("code", "must be a 6-character stock code or an 8-digit DART corp_code")],
            )
        company, common = self._companies().find(code)
        if company is None:
            raise NotFound(
                "company_not_found",
                f"no listed company has the code {code}",
                [detail("code", "not in DART's list of listed companies")],
            )
        return company, common

    @staticmethod
    def _basis(fs: str | None) -> str | None:
        if fs is None or fs == "":
            return None
        if fs not in STATEMENT_BASES:
            raise Invalid(
                "invalid_fs",
                "fs must be CFS (consolidated statements) or OFS (separate statements)",
                [detail("fs", "must be CFS or OFS")],
            )
        return fs

    def _year(self, year: str) -> int:
        """The fiscal year asked for (ASCII digits only)."""
        latest = latest_finished_year(self._now())
        if not re.fullmatch(r"[0-9]{4}", year) or not FIRST_YEAR <= int(year) <= latest + 1:
            raise Invalid(
                "invalid_year",
                "year must be a fiscal year DART has statements for",
                [detail("year", f"must be a year from {FIRST_YEAR} to {latest + 1}")],
            )
        return int(year)

    def _companies(self) -> CompanyIndex:
        """DART's list of listed companies, fetched once and renewed after a day. While one
        request renews it, the others keep answering from the old list."""
        index = self._index
        if index is not None and (self._clock() < self._renew_at or not self._lock.acquire(blocking=False)):
            return index  # fresh, or another request is renewing it
        if index is None:
            self._lock.acquire()  # no list yet: wait for the request fetching it
        try:
            if self._index is None or self._clock() >= self._renew_at:
                self._renew()
        finally:
            self._lock.release()
        index, failure = self._index, self._failure
        if index is not None:
            return index
        assert failure is not None, "_renew leaves a list or the failure that kept it from one"
        raise self._as_refusal(failure[1])

    def _renew(self) -> None:
        now = self._clock()
        if self._failure and now - self._failure[0] < RETRY_SECONDS:
            return  # a fetch failed moments ago: do not ask DART again for every request
        self.list_fetches += 1
        try:
            companies = self._client.companies()
        except DartFailure as failure:
            self._failure = (now, failure)
            if self._index is not None:  # no request fails for it, so only this line tells
                logs.emit(
                    "WARNING", "DART's company list could not be renewed; the old one is kept", reason=str(failure)
                )
                self._renew_at = now + RETRY_SECONDS
            return
        self._index = CompanyIndex(companies)
        self._renew_at, self._failure = now + REFRESH_SECONDS, None
        logs.emit("INFO", "DART's company list loaded", listed_companies=len(companies))

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise Unavailable(
                "lookup_busy",
                f"this server is waiting on DART for {DART_SLOTS} lookups already; try again in a moment",
                retry_after=2,
            )
        try:
            yield
        finally:
            self._slots.release()

    def _dart(self, cache: TimedCache, key: Any, client: str, call: Callable[[], Any]) -> Any:
        """DART's answer for `key`: kept, or being fetched for another request, or fetched now
        within the budget; a "no data" status is kept until DART's day ends."""
        kept = cache.get(key)
        if kept is None:
            kept = self._shared.run((id(cache), key), lambda: self._fetch(cache, key, client, call))
        if isinstance(kept, DartStatus):
            raise kept
        return kept

    def _fetch(self, cache: TimedCache, key: Any, client: str, call: Callable[[], Any]) -> Any:
        kept = cache.get(key)  # fetched by a request that finished just before this one
        if kept is not None:
            return kept
        if self._clock() < self._closed_until:  # DART said its daily limit is used up: not asked again today
            raise DartStatus(OVER_LIMIT)
        with self._slot():
            self._budget.check(client, spend=True)
            try:
                answer = call()
            except DartStatus as status:
                if status.status == OVER_LIMIT:
                    self._closed_until = self._clock() + seconds_to_kst_midnight(self._now())
                if status.status != NO_DATA:
                    raise
                answer = status
        kept_for = seconds_to_kst_midnight(self._now()) if isinstance(answer, DartStatus) else REFRESH_SECONDS
        cache.put(key, answer, kept_for)
        return answer

    def _profile(self, company: Company, client: str) -> dict[str, Any]:
        """The company's market and industry (company.json), when DART gives them: an extra, so a
        failure or a spent budget leaves them unknown rather than failing the lookup."""
        try:
            return self._dart(
                self._profiles, company.corp_code, client, lambda: self._client.company_info(company.corp_code)
            )
        except (Refusal, DartFailure):
            return {}

    def _statements(
        self, company: Company, year: int, fs: str | None, client: str, common: str | None
    ) -> dict[str, Any]:
        try:
            rows = self._dart(
                self.cache,
                (company.corp_code, year),
                client,
                lambda: self._client.annual_accounts(company.corp_code, year),
            )
            filing = read_filing(rows, fs)
        except DartStatus as failure:
            if failure.status == NO_DATA:
                raise self._no_data(company, year, client) from None
            raise self._as_refusal(failure) from None
        except NoStatements as absent:
            raise NotFound(
                "no_statements",
                f"{company.name}'s {year} annual report on DART has no {STATEMENT_NAMES[absent.fs_div]} "
                f"({absent.fs_div}) statements",
                [detail("fs", str(absent))],
            ) from None
        except UnreadableAmounts as problem:
            raise UpstreamFailed(
                "dart_bad_answer", str(problem), [detail(field, text) for field, text in problem.details]
            ) from None
        except DartFailure as failure:
            raise self._as_refusal(failure) from None
        return self._answer(company, year, filing, fs, self._profile(company, client), common)

    def _no_data(self, company: Company, year: int, client: str) -> NotFound:
        """What DART's "no data" (013) means for this company and year, in words that are true."""
        profile = self._profile(company, client)
        if year > latest_finished_year(self._now()) or (
            year == latest_finished_year(self._now()) and self._now().astimezone(KST).month <= 4
        ):
            why = f"{company.name}'s annual report for {year} is not on DART yet (they are due by the end of March)"
        elif _financial_industry(profile) and year < FINANCIAL_DATA_FROM:
            why = (
                f"DART has no structured statements of financial companies before {FINANCIAL_DATA_FROM}: "
                f"{company.name}'s {year} annual report is on DART as a document only"
            )
        else:
            why = f"DART has no structured statements for {company.name}'s {year} annual report"
        return NotFound("no_filing", why, [detail("year", "no structured annual statements on DART for this year")])

    def _years_kept(self, company: Company) -> str:
        """The years this instance knows DART has statements for, said after a "no data"."""
        known = [
            str(year)
            for year in range(FIRST_YEAR, latest_finished_year(self._now()) + 1)
            if isinstance(self.cache.get((company.corp_code, year)), list)
        ]
        return f"; it has them for {', '.join(known)}" if known else ""

    def _answer(
        self, company: Company, year: int, filing: Filing, fs: str | None, profile: dict[str, Any], common: str | None
    ) -> dict[str, Any]:
        warnings = []
        if fs is None and filing.fs_div == "OFS":
            warnings.append(
                _warning(
                    "separate_statements_only",
                    "the filing has no consolidated statements: the separate ones are given",
                    ko="공시에 연결재무제표가 없어 별도재무제표의 값을 가져왔습니다",
                )
            )
        if _financial_industry(profile) or not filing.classified:
            warnings.append(
                _warning(
                    "financial_company",
                    f"{company.name} looks like a financial company (a bank, insurer, securities firm or financial "
                    "holding company): the model learnt from non-financial companies, and a financial company's "
                    "revenue (interest, fees, trading gains) and leverage do not mean what they mean elsewhere, so "
                    "its score says little",
                    ko=f"{company.name}은(는) 금융회사(은행·보험·증권·금융지주)로 보입니다. 모델은 비금융회사로 학습했고, 금융회사의 "
                    "영업수익(이자·수수료·매매이익)과 부채비율은 다른 뜻이라 점수를 믿기 어렵습니다",
                )
            )
        if common is not None:
            warnings.append(
                _warning(
                    "preferred_share",
                    f"the code asked for is a preferred share's: the statements are those of {company.name}, "
                    f"whose common share is {common}",
                    ko=f"우선주 코드입니다. 보통주 {common}인 {company.name}의 재무제표입니다",
                )
            )
        corp_cls = profile.get("corp_cls")
        return {
            "company": company.public(),
            "year": year,
            # Every field named, null where the filing does not give it; `missing` says why.
            "statements": {field: filing.statements.get(field) for field in STATEMENT_FIELDS},
            "missing": [detail(field, text) for field, text in filing.missing],
            "source": {
                "rcept_no": filing.rcept_no,
                "url": filing.url,
                "fs_div": filing.fs_div,
                "report": "annual",
                "thstrm_dt": filing.period.get("thstrm_dt"),
                "frmtrm_dt": filing.period.get("frmtrm_dt"),
            },
            "currency": filing.currency,
            "market": MARKETS.get(corp_cls) if isinstance(corp_cls, str) else None,
            "warnings": warnings,
        }

    def _as_refusal(self, failure: DartFailure) -> Refusal:
        if isinstance(failure, DartTimeout):
            return UpstreamTimeout("dart_timeout", str(failure))
        if isinstance(failure, DartBadAnswer):
            return UpstreamFailed("dart_bad_answer", str(failure))
        status = failure.status if isinstance(failure, DartStatus) else "unknown"
        if status == OVER_LIMIT:
            return Busy(
                "dart_busy",
                "DART's daily request limit for this server is used up",
                retry_after=seconds_to_kst_midnight(self._now()),
            )
        self._report_once(status)
        if status in KEY_PROBLEMS:
            return Unavailable(
                "lookup_unavailable", "the DART company lookup is unavailable: DART refuses this server's key"
            )
        if status == MAINTENANCE:
            return Unavailable("lookup_unavailable", "DART is down for maintenance", retry_after=600)
        return UpstreamFailed("dart_bad_answer", f"DART answered status {status}")

    def _report_once(self, status: str) -> None:
        """A misconfigured key would otherwise fill the log with one line per request. Statuses
        are three digits or "unknown" (dart.DartStatus), so at most 1001 are ever remembered."""
        if status not in self._reported:
            self._reported.add(status)
            logs.emit(
                "ERROR",
                f"DART refused a request with status {cut(status)}",
                hint="check DART_API_KEY" if status in KEY_PROBLEMS else None,
            )


def _warning(code: str, message: str, ko: str) -> dict[str, str]:
    return {"code": code, "message": message, "en": message, "ko": ko}


def _financial_industry(profile: dict[str, Any]) -> bool:
    industry = profile.get("induty_code")
    return (
        isinstance(industry, str)
        and FINANCIAL_INDUSTRY.fullmatch(industry) is not None
        and MIXED_INDUSTRY.fullmatch(industry) is None
    )


def require_scoreable(answer: dict[str, Any], predictor: Predictor) -> None:
    """Refuse (422 accounts_missing) a statements answer with accounts missing that the served
    model cannot score as it is: the model needs every account, or the accounts found give none
    of its inputs. A model that takes unknown inputs scores the rest as unknown."""
    company, year = answer["company"]["name"], answer["year"]
    if not predictor.accepts_missing:
        raise Invalid(
            "accounts_missing",
            f"{company}'s {year} annual report lacks accounts this model needs: it takes no unknown inputs",
            answer["missing"],
        )
    if not _usable(answer, predictor):
        found = [field for field, value in answer["statements"].items() if value is not None]
        raise Invalid(
            "accounts_missing",
            f"{company}'s {year} annual report gives none of the model's inputs",
            [*answer["missing"], detail(None, f"the accounts found ({', '.join(found) or 'none'}) give no input")],
        )


def _usable(answer: dict[str, Any], predictor: Predictor) -> bool:
    ratios = compute(answer["statements"]).values
    return any(ratios.get(name) is not None for name in predictor.features)  # as POST /predict reads a company


def scored_history(history: dict[str, Any], predictor: Predictor, max_batch: int) -> dict[str, Any]:
    """Each year of a history scored as POST /predict scores that year's statements (the same
    answer builder: grade, flags, warnings and explanation included), beside the year's source."""
    from .answers import answer as predict_answer  # numpy and friends: only once predictions are asked for

    years, absent = [], list(history["absent"])
    for entry in history["years"]:
        if not entry["missing"] or (predictor.accepts_missing and _usable(entry, predictor)):
            years.append(entry)
        else:
            absent.append(
                {
                    "year": entry["year"],
                    "code": "accounts_missing",
                    "problem": "the filing lacks accounts the model needs: "
                    + ", ".join(m["field"] for m in entry["missing"]),
                }
            )
    rows = [_company_row(entry) for entry in years]
    predictions = []
    for start in range(0, len(rows), max_batch):
        body, _ = predict_answer(predictor, {"companies": rows[start : start + max_batch]}, max_batch)
        predictions.extend(body["predictions"])
        model = {key: value for key, value in body.items() if key != "predictions"}
    scored = [
        {
            "year": entry["year"],
            "prediction": prediction,
            "statements": entry["statements"],
            "missing": entry["missing"],
            "source": entry["source"],
            "warnings": entry["warnings"],
        }
        for entry, prediction in zip(years, predictions)
    ]
    answer = {
        "company": history["company"],
        "fs": history["fs"],
        "years": scored,
        "absent": sorted(absent, key=lambda a: a["year"]),
    }
    return {**(model if rows else {"model": {"name": predictor.name, "version": predictor.version}}), **answer}


def _company_row(entry: dict[str, Any]) -> dict[str, Any]:
    """A statements answer as a POST /predict companies row: its currency and market too, for the
    flags that depend on them (the KRX revenue floors)."""
    known = {key: entry[key] for key in (flags.CURRENCY, flags.MARKET) if entry.get(key) is not None}
    return {"id": str(entry["year"]), **entry["statements"], **known}
