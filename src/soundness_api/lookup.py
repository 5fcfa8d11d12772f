"""The company lookup: find a listed company, read its annual statements from DART.

Framework-agnostic: methods take the request's strings and return answer bodies, or raise
a Refusal (errors.py). DART's company list is fetched on first use, once per instance (under a lock, like
the model) and again after a day; statements answers are kept in a bounded LRU cache, so a
person going back and forth between companies does not spend DART's daily quota.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from soundness.ratios import STATEMENT_FIELDS, compute

from . import logs
from .config import Settings
from .dart import (
    Company,
    DartBadAnswer,
    DartClient,
    DartFailure,
    DartStatus,
    DartTimeout,
    UnreadableAmounts,
    read_filing,
)
from .errors import Busy, Invalid, NotFound, Refusal, Unavailable, UpstreamFailed, UpstreamTimeout, detail

if TYPE_CHECKING:
    from soundness.predictor import Predictor

MAX_RESULTS = 20
MAX_QUERY_LENGTH = 100
FIRST_YEAR = 2015  # DART's financial data starts with the 2015 reports
REFRESH_SECONDS = 24 * 3600  # the company list and cached statements are renewed after a day
RETRY_SECONDS = 60  # after a failed fetch of the list, answers repeat the failure this long
KST = timezone(timedelta(hours=9))
KEY_PROBLEMS = {"010", "011", "012", "901"}  # unregistered, disabled, IP not allowed, expired
NO_DATA, OVER_LIMIT, MAINTENANCE = "013", "020", "800"
STOCK_CODE = re.compile(r"\d{6}")
CORP_CODE = re.compile(r"\d{8}")


def _folded(text: str) -> str:
    """How names are compared: full-width letters made plain, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def latest_finished_year(now: datetime | None = None) -> int:
    return (now or datetime.now(KST)).astimezone(KST).year - 1


def seconds_to_kst_midnight(now: datetime | None = None) -> int:
    """DART's request limit is a daily one, counted in Korean time."""
    now = (now or datetime.now(KST)).astimezone(KST)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


class CompanyIndex:
    """The listed companies, found by code and ranked by how well their names match."""

    def __init__(self, companies: list[Company]):
        self.companies = companies
        self._by_code = {c.stock_code: c for c in companies} | {c.corp_code: c for c in companies}
        self._names = [(c, _folded(c.name), _folded(c.name_en or "")) for c in companies]

    def find(self, code: str) -> Company | None:
        return self._by_code.get(code)

    def search(self, query: str) -> list[Company]:
        """Best first: the exact stock code, exact names, names that begin with the query, then
        names (and, for digits, stock codes) that contain it; shorter names first within each."""
        q = _folded(query)
        ranked = []
        for company, name, name_en in self._names:
            names = (name, name_en) if name_en else (name,)
            if q in (company.stock_code, company.corp_code):
                rank = 0
            elif q in names:
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


class StatementsCache:
    """Least recently used statements answers, each kept at most a day."""

    def __init__(self, size: int, clock: Callable[[], float]):
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, int], tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> dict | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry[0] >= REFRESH_SECONDS:
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[str, int], answer: dict) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class CompanyLookup:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self.enabled = bool(settings.dart_api_key)
        self._client = DartClient(settings.dart_api_key, settings.dart_api_url, settings.dart_timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._index: CompanyIndex | None = None
        self._renew_at = 0.0
        self._failure: tuple[float, DartFailure] | None = None
        self._reported: set[str] = set()  # DART statuses already logged
        self.cache = StatementsCache(settings.dart_cache_size, clock)
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

    def statements(self, code: str, year: str | None) -> dict[str, Any]:
        self._require_configured()
        if not (STOCK_CODE.fullmatch(code) or CORP_CODE.fullmatch(code)):
            raise Invalid(
                "invalid_code",
                "the company code is not a stock code or a DART code",
                [detail("code", "must be a 6-digit stock code or an 8-digit DART corp_code")],
            )
        fiscal_year = self._year(year)
        company = self._companies().find(code)
        if company is None:
            raise NotFound(
                "company_not_found",
                f"no listed company has the code {code}",
                [detail("code", "not in DART's list of listed companies")],
            )
        key = (company.corp_code, fiscal_year)
        answer = self.cache.get(key)
        if answer is None:
            answer = self._fetch_statements(company, fiscal_year)
            self.cache.put(key, answer)
        return answer

    # ------------------------------------------------------------ the parts

    def _require_configured(self) -> None:
        if not self.enabled:
            raise Unavailable(
                "lookup_not_configured",
                "the DART company lookup is not configured on this server (no DART_API_KEY)",
            )

    def _year(self, year: str | None) -> int:
        """The fiscal year asked for; the latest finished one when none is given."""
        latest = latest_finished_year()
        if not year:
            return latest
        if not re.fullmatch(r"\d{4}", year) or not FIRST_YEAR <= int(year) <= latest + 1:
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
        if index is not None and self._clock() < self._renew_at:
            return index
        if not self._lock.acquire(blocking=index is None):
            return index
        try:
            if self._index is None or self._clock() >= self._renew_at:
                self._renew()
        finally:
            self._lock.release()
        if self._index is None:
            raise self._as_refusal(self._failure[1])
        return self._index

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

    def _fetch_statements(self, company: Company, year: int) -> dict[str, Any]:
        try:
            filing = read_filing(self._client.annual_accounts(company.corp_code, year))
        except DartStatus as failure:
            if failure.status == NO_DATA:
                raise NotFound(
                    "no_filing",
                    f"{company.name} ({company.stock_code}) has no annual report on DART for {year}",
                    [detail("year", "no annual report with statements for this year")],
                ) from None
            raise self._as_refusal(failure) from None
        except UnreadableAmounts as problem:
            raise UpstreamFailed(
                "dart_bad_answer", str(problem), [detail(field, text) for field, text in problem.details]
            ) from None
        except DartFailure as failure:
            raise self._as_refusal(failure) from None
        return {
            "company": company.public(),
            "year": year,
            # Every field named, null where the filing does not give it; `missing` says why.
            "statements": {field: filing.statements.get(field) for field in STATEMENT_FIELDS},
            "missing": [detail(field, text) for field, text in filing.missing],
            "source": {"rcept_no": filing.rcept_no, "url": filing.url, "fs_div": filing.fs_div, "report": "annual"},
            "currency": filing.currency,
        }

    def _as_refusal(self, failure: DartFailure) -> Refusal:
        if isinstance(failure, DartTimeout):
            return UpstreamTimeout("dart_timeout", str(failure))
        if isinstance(failure, DartBadAnswer):
            return UpstreamFailed("dart_bad_answer", str(failure))
        status = failure.status if isinstance(failure, DartStatus) else "?"
        if status == OVER_LIMIT:
            return Busy(
                "dart_busy",
                "DART's daily request limit for this server is used up",
                retry_after=seconds_to_kst_midnight(),
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
        """A misconfigured key would otherwise fill the log with one line per request."""
        if status not in self._reported:
            self._reported.add(status)
            logs.emit(
                "ERROR",
                f"DART refused a request with status {status}",
                hint="check DART_API_KEY" if status in KEY_PROBLEMS else None,
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
    ratios = compute(answer["statements"]).values
    if all(ratios.get(name) is None for name in predictor.features):  # as POST /predict reads a company
        found = [field for field, value in answer["statements"].items() if value is not None]
        raise Invalid(
            "accounts_missing",
            f"{company}'s {year} annual report gives none of the model's inputs",
            [*answer["missing"], detail(None, f"the accounts found ({', '.join(found) or 'none'}) give no input")],
        )
