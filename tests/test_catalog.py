"""The catalog file is valid, complete and loads into the product table."""

from __future__ import annotations

import pytest

from core.catalog import load_catalog, parse

SANTANDER_24 = {
    "ahor_fin",
    "aval_fin",
    "cco_fin",
    "cder_fin",
    "cno_fin",
    "ctju_fin",
    "ctma_fin",
    "ctop_fin",
    "ctpp_fin",
    "deco_fin",
    "deme_fin",
    "dela_fin",
    "ecue_fin",
    "fond_fin",
    "hip_fin",
    "plan_fin",
    "pres_fin",
    "reca_fin",
    "tjcr_fin",
    "valo_fin",
    "viv_fin",
    "nomina",
    "nom_pens",
    "recibo",
}


def test_bank_products_are_santander_codes_and_partners_exist() -> None:
    cat = load_catalog()
    assert set(cat.bank_codes) <= SANTANDER_24
    assert len(cat.bank_codes) == 18
    assert {p.code for p in cat.partner} >= {"partner_auto", "partner_kids", "partner_travel"}
    assert cat["nomina"].requires == ("nom_pens",)
    assert cat["ctju_fin"].max_age == 17
    assert all(p.monthly_payment for p in cat.products if p.is_credit)
    assert cat["tjcr_fin"].santander_column == "ind_tjcr_fin_ult1"


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('code="x"\nkind="bank"\ncategory="nope"\nname_ru="a"\nname_en="a"', "unknown category"),
        (
            'code="x"\nkind="bank"\ncategory="credit"\nname_ru="a"\nname_en="a"\nis_credit=true',
            "monthly_payment",
        ),
        (
            'code="x"\nkind="bank"\ncategory="accounts"\nname_ru="a"\nname_en="a"\nrequires=["zzz"]',
            "unknown products",
        ),
        ('code="x"\nkind="bank"\ncategory="accounts"\nname_ru="a"\nname_en="a"\nbogus=1', "product 'x'"),
        ('code="x"\nkind="partner"\ncategory="partner"\nname_ru="a"\nname_en="a"', "start with 'partner_'"),
    ],
)
def test_bad_catalog_entries_are_refused_with_the_field(snippet: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse("[[product]]\n" + snippet)


async def test_catalog_in_database(conn) -> None:  # type: ignore[no-untyped-def]
    rows = await conn.fetch("SELECT code, kind, requires, active FROM product")
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == set(load_catalog().codes)
    assert by_code["nomina"]["requires"] == ["nom_pens"]
    assert by_code["partner_auto"]["kind"] == "partner"
