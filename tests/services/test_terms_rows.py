"""The terms a close reads are plain rows, not Tortoise model objects (and the same terms).

Building a model object per row of the terms' tables was a fifth of a month-end close's CPU;
``load_terms_many`` reads them with ``.values()``, which converts every field as the model does.
"""

from __future__ import annotations

import pytest

from app.db import models
from app.db.models import Contract
from app.services import contract_terms
from tests.services.close_batch_data import varied_org

TERM_TABLES = ("Price", "PriceTier", "ServiceLine", "Commitment", "RampStep", "FeeDate",
               "CommitmentProduct", "Penalty", "PenaltyTier")


async def test_the_terms_are_read_without_building_model_objects(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await varied_org("Rows")
    contracts = await Contract.filter(organization_id=org.id).order_by("id")
    expected = await contract_terms.load_terms_many(org.id, contracts)
    assert any(t.commitments for t in expected.values()) and any(t.prices for t in expected.values())
    built: list[str] = []
    for name in TERM_TABLES:
        model = getattr(models, name)
        original = model._init_from_db.__func__

        def counting(cls, *args, _original=original, **kw):  # type: ignore[no-untyped-def]
            built.append(cls.__name__)
            return _original(cls, *args, **kw)

        monkeypatch.setattr(model, "_init_from_db", classmethod(counting))
    again = await contract_terms.load_terms_many(org.id, contracts)
    assert built == []
    assert again == expected
    # one contract alone gets the same terms as in the batch
    first = contracts[0]
    assert await contract_terms.load_terms(org.id, first) == expected[first.id]
