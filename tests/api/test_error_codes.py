"""The error codes are one documented enum: every code has a description and a README entry."""

from __future__ import annotations

from pathlib import Path

from app.billing.errors import BillingErrorCode
from app.services.errors import ERROR_CODE_DESCRIPTIONS, ErrorCode

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_billing_code_is_an_api_code() -> None:
    assert {c.value for c in BillingErrorCode} <= {c.value for c in ErrorCode}


def test_every_code_is_described_in_code_and_readme() -> None:
    readme = README.read_text()
    for code in ErrorCode:
        assert ERROR_CODE_DESCRIPTIONS.get(code.value), code
        assert f"| `{code.value}` |" in readme, f"README lacks {code.value}"
