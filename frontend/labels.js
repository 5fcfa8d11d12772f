// Written by `python -m soundness_api.page_labels` from src/soundness/ratios.py and
// src/soundness_api/dart.py (the API's own sources for these names): do not edit by hand.
// The statement fields in the form's order, as the API names them, with their labels:
export const STATEMENT_LABELS = {
  "total_assets": {
    "ko": "당기 자산총계",
    "en": "Total assets (current year)"
  },
  "total_assets_prior": {
    "ko": "전기 자산총계",
    "en": "Total assets (prior year)"
  },
  "total_liabilities": {
    "ko": "부채총계",
    "en": "Total liabilities"
  },
  "total_equity": {
    "ko": "자본총계",
    "en": "Total equity"
  },
  "revenue": {
    "ko": "당기 수익(매출액)",
    "en": "Revenue (current year)"
  },
  "revenue_prior": {
    "ko": "전기 수익(매출액)",
    "en": "Revenue (prior year)"
  },
  "operating_income": {
    "ko": "당기 영업이익",
    "en": "Operating income (current year)"
  },
  "operating_income_prior": {
    "ko": "전기 영업이익",
    "en": "Operating income (prior year)"
  },
  "net_income": {
    "ko": "당기순이익",
    "en": "Net income (current year)"
  }
};
// Every ratio a prediction carries, with its label and the unit its value is in:
export const RATIO_LABELS = {
  "revenue_growth_pct": {
    "ko": "매출액증가율",
    "en": "Revenue growth (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "total_asset_growth_pct": {
    "ko": "총자산증가율",
    "en": "Total asset growth (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "operating_margin_pct": {
    "ko": "매출액영업이익률",
    "en": "Operating margin (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "equity_ratio_pct": {
    "ko": "자기자본비율",
    "en": "Equity ratio (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "total_asset_turnover": {
    "ko": "총자산회전율",
    "en": "Total asset turnover (times)",
    "unit": {
      "ko": "회",
      "en": "×"
    }
  },
  "debt_ratio_pct": {
    "ko": "부채비율",
    "en": "Debt ratio (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "liabilities_to_assets_pct": {
    "ko": "부채자산비율",
    "en": "Liabilities to assets (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "net_margin_pct": {
    "ko": "매출액순이익률",
    "en": "Net margin (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "roa_pct": {
    "ko": "총자산순이익률(ROA)",
    "en": "Return on assets (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "operating_roa_pct": {
    "ko": "총자산영업이익률",
    "en": "Operating income to assets (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "operating_income_growth_pct": {
    "ko": "영업이익증가율",
    "en": "Operating income growth (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "prior_operating_roa_pct": {
    "ko": "전기 총자산영업이익률",
    "en": "Prior-year operating income to assets (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "prior_total_asset_turnover": {
    "ko": "전기 총자산회전율",
    "en": "Prior-year total asset turnover (times)",
    "unit": {
      "ko": "회",
      "en": "×"
    }
  },
  "prior_operating_margin_pct": {
    "ko": "전기 매출액영업이익률",
    "en": "Prior-year operating margin (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "non_operating_to_assets_pct": {
    "ko": "영업외손익 총자산비율",
    "en": "Net minus operating income, to assets (%)",
    "unit": {
      "ko": "%",
      "en": "%"
    }
  },
  "operating_roa_change_pp": {
    "ko": "총자산영업이익률 변화(%p)",
    "en": "Change in operating income to assets (percentage points)",
    "unit": {
      "ko": "%p",
      "en": "pp"
    }
  }
};
// DART's account names a CSV header may use instead of a label -> field:
export const ACCOUNT_HEADERS = {
  "자산총계": "total_assets",
  "당기자산총계": "total_assets",
  "전기자산총계": "total_assets_prior",
  "자산총계(전기)": "total_assets_prior",
  "부채총계": "total_liabilities",
  "당기부채총계": "total_liabilities",
  "자본총계": "total_equity",
  "당기자본총계": "total_equity",
  "매출액": "revenue",
  "당기매출액": "revenue",
  "수익(매출액)": "revenue",
  "당기수익(매출액)": "revenue",
  "영업수익": "revenue",
  "당기영업수익": "revenue",
  "전기매출액": "revenue_prior",
  "매출액(전기)": "revenue_prior",
  "전기수익(매출액)": "revenue_prior",
  "수익(매출액)(전기)": "revenue_prior",
  "전기영업수익": "revenue_prior",
  "영업수익(전기)": "revenue_prior",
  "영업이익": "operating_income",
  "당기영업이익": "operating_income",
  "영업이익(손실)": "operating_income",
  "당기영업이익(손실)": "operating_income",
  "전기영업이익": "operating_income_prior",
  "영업이익(전기)": "operating_income_prior",
  "전기영업이익(손실)": "operating_income_prior",
  "영업이익(손실)(전기)": "operating_income_prior",
  "당기순이익": "net_income",
  "당기순이익(손실)": "net_income"
};
// How the API says what is wrong with a field ("must be greater than 0 to compute ...") -> the
// page's key for it in its own words:
export const FIELD_PROBLEMS = {
  "must be greater than 0": "positive",
  "must not be 0": "nonzero",
  "is too close to 0": "too_close_to_zero",
  "was not given": "not_given"
};
