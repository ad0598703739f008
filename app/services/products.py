"""The product catalog: usage classes, services and packages with the services they hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tortoise.transactions import in_transaction

from app.billing.terms import ProductKind
from app.db.models import (
    Commitment,
    CommitmentProduct,
    PackageItem,
    Price,
    Product,
    ServiceLine,
    UsageEvent,
)
from app.db.models.balances import BalanceProduct
from app.services.checks import (
    MAX_CODE,
    MAX_PACKAGE_ITEMS,
    MAX_UNIT,
    count_problem,
    decimal_problem,
    name_problem,
    require,
)
from app.services.errors import ErrorCode, InvalidInput, UserError, fail


@dataclass(frozen=True)
class PackageItemSpec:
    service_id: int
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class ProductSpec:
    """On update, None keeps the stored value; ``package_items`` replaces the list when given."""

    code: str | None = None
    name: str | None = None
    kind: ProductKind | None = None
    unit: str | None = None
    package_items: tuple[PackageItemSpec, ...] | None = None


ProductRef = tuple[int, set[ProductKind], str]  # a product id, the kinds it may be, its input field


async def kind_problems(org_id: int, refs: Sequence[ProductRef]) -> list[UserError]:
    """NOT_FOUND or WRONG_PRODUCT_KIND for each reference that is not a tenant's product of its
    kinds: one query for the whole list, however long."""
    if not refs:
        return []
    rows = await Product.filter(organization_id=org_id, id__in={pk for pk, _, _ in refs})
    found = {row.id: row for row in rows}
    errors: list[UserError] = []
    for pk, kinds, field in refs:
        product = found.get(pk)
        if product is None:
            errors.append(UserError(ErrorCode.NOT_FOUND, "no Product with this id", field))
        elif ProductKind(product.kind) not in kinds:
            wanted = " or ".join(sorted(k.value for k in kinds))
            message = f"{product.code} is a {product.kind}, not a {wanted}"
            errors.append(UserError(ErrorCode.WRONG_PRODUCT_KIND, message, field))
    return errors


async def require_kind(org_id: int, product_id: int, kinds: set[ProductKind], field: str) -> Product:
    """The tenant's product ``product_id``, refused unless it is one of ``kinds``."""
    product = await require(Product, org_id, product_id, field)
    if ProductKind(product.kind) not in kinds:
        wanted = " or ".join(sorted(k.value for k in kinds))
        raise fail(ErrorCode.WRONG_PRODUCT_KIND, f"{product.code} is a {product.kind}, not a {wanted}", field)
    return product


async def _check(org_id: int, spec: ProductSpec, kind: ProductKind, product_id: int | None) -> None:
    errors = [e for e in [name_problem(spec.name, "input.name"),
                          name_problem(spec.code, "input.code", max_length=MAX_CODE),
                          name_problem(spec.unit, "input.unit", max_length=MAX_UNIT),
                          count_problem(spec.package_items, "input.packageItems", MAX_PACKAGE_ITEMS)] if e]
    if errors:  # a code or unit the column cannot hold is never looked up
        raise InvalidInput(errors)
    if spec.code is not None:
        clash = Product.filter(organization_id=org_id, code=spec.code)
        if product_id is not None:
            clash = clash.exclude(id=product_id)
        if await clash.exists():
            errors.append(UserError(ErrorCode.DUPLICATE, f"product code {spec.code!r} exists", "input.code"))
    if spec.package_items and kind is not ProductKind.PACKAGE:
        errors.append(UserError(ErrorCode.INVALID_INPUT, "only packages hold services", "input.packageItems"))
    items = spec.package_items or ()
    for i, item in enumerate(items):
        problem = decimal_problem(item.quantity, f"input.packageItems.{i}.quantity", minimum=Decimal(0))
        if problem:
            errors.append(problem)
    errors.extend(await kind_problems(org_id, [
        (item.service_id, {ProductKind.SERVICE}, f"input.packageItems.{i}.serviceId") for i, item in enumerate(items)]))
    if errors:
        raise InvalidInput(errors)


async def _write_items(org_id: int, package: Product, items: tuple[PackageItemSpec, ...]) -> None:
    await PackageItem.filter(package_id=package.id).delete()
    await PackageItem.bulk_create([
        PackageItem(organization_id=org_id, package_id=package.id, service_id=it.service_id,
                    quantity=it.quantity, position=i)
        for i, it in enumerate(items)
    ])


async def create_product(org_id: int, spec: ProductSpec) -> Product:
    missing = [f for f in ("code", "name", "kind", "unit") if getattr(spec, f) is None]
    if missing:
        raise InvalidInput([UserError(ErrorCode.INVALID_INPUT, f"{f} is required", f"input.{f}") for f in missing])
    assert spec.kind is not None
    await _check(org_id, spec, spec.kind, None)
    async with in_transaction():
        product = await Product.create(organization_id=org_id, code=spec.code, name=spec.name,
                                       kind=spec.kind.value, unit=spec.unit)
        await _write_items(org_id, product, spec.package_items or ())
    return product


async def update_product(org_id: int, product_id: int, spec: ProductSpec) -> Product:
    product = await require(Product, org_id, product_id, "id")
    if spec.kind is not None and spec.kind.value != product.kind:
        raise fail(ErrorCode.INVALID_INPUT, "a product's kind cannot change", "input.kind")
    await _check(org_id, spec, ProductKind(product.kind), product_id)
    async with in_transaction():
        for attr in ("code", "name", "unit"):
            if getattr(spec, attr) is not None:
                setattr(product, attr, getattr(spec, attr))
        await product.save()
        if spec.package_items is not None:
            await _write_items(org_id, product, spec.package_items)
    return product


async def delete_product(org_id: int, product_id: int) -> None:
    product = await require(Product, org_id, product_id, "id")
    pid = product.id
    used = (
        await Price.filter(usage_class_id=pid).exists()
        or await ServiceLine.filter(product_id=pid).exists()
        or await ServiceLine.filter(package_id=pid).exists()
        or await PackageItem.filter(service_id=pid).exists()
        or await Commitment.filter(usage_class_id=pid).exists()
        or await Commitment.filter(service_id=pid).exists()
        or await Commitment.filter(package_id=pid).exists()
        or await CommitmentProduct.filter(product_id=pid).exists()
        or await BalanceProduct.filter(product_id=pid).exists()
        or await UsageEvent.filter(organization_id=org_id, usage_class_id=pid).exists()  # no FK: 0007
    )
    if used:
        raise fail(ErrorCode.IN_USE, f"product {product.code} is used by contracts or balances", "id")
    async with in_transaction():
        await PackageItem.filter(package_id=pid).delete()
        await product.delete()
