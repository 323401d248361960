import datetime as dt

import pytest

from netralitas.errors import InvalidNIP
from netralitas.nip import NIPKind, is_valid_nip, parse_nip

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    "raw",
    ["198609262015051001", "19860926 201505 1 001", " 19860926  201505 1 001 ", "199212312019032002"],
)
def test_valid_pns_numbers(raw):
    nip = parse_nip(raw, today=TODAY)
    assert nip.digits == "".join(raw.split())
    assert nip.kind is NIPKind.PNS


def test_parsed_fields_and_formatting():
    nip = parse_nip("19860926 201505 1 001", today=TODAY)
    assert nip.birth_date == dt.date(1986, 9, 26)
    assert (nip.appointment_year, nip.appointment_month, nip.sex) == (2015, 5, 1)
    assert nip.formatted() == "19860926 201505 1 001"
    assert nip.masked() == "1986**** 201505 1 ***"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("19860926201505100", "nip_length"),
        ("1986092620150510011", "nip_length"),
        ("", "nip_length"),
        ("19860926-201505-1-001", "nip_not_digits"),
        ("1986O926201505100l", "nip_not_digits"),
        ("١٩٨٦٠٩٢٦٢٠١٥٠٥١٠٠١", "nip_not_digits"),
        ("198602302015051001", "nip_birth_date"),  # 30 February
        ("198613012015051001", "nip_birth_date"),  # month 13
        ("203001012050011001", "nip_birth_date"),  # born in the future
        ("198609262003051001", "nip_appointment_date"),  # appointed at 16
        ("198609262004081001", "nip_appointment_date"),  # a month before turning 18
        ("198609262030011001", "nip_appointment_date"),  # appointed in the future
        ("198609262015131001", "nip_appointment_date"),  # month 13
        ("198609262015053001", "nip_sex_digit"),
        ("198609262015050001", "nip_sex_digit"),
    ],
)
def test_rejections_have_their_own_code(raw, reason):
    with pytest.raises(InvalidNIP) as err:
        parse_nip(raw, today=TODAY)
    assert err.value.reason == reason
    assert err.value.code == "invalid_nip"
    assert err.value.message  # Indonesian text for the user
    assert "NIP" in err.value.message


def test_appointment_in_month_of_18th_birthday_is_accepted():
    assert parse_nip("198609262004091001", today=TODAY).appointment_month == 9


def test_non_string_is_rejected():
    with pytest.raises(InvalidNIP) as err:
        parse_nip(["19860926"], today=TODAY)
    assert err.value.reason == "nip_not_digits"


@pytest.mark.parametrize("raw", ["199005172023211002", "19900517 2023 21 1 002", "198801012022011001"])
def test_valid_pppk_numbers(raw):
    nip = parse_nip(raw, NIPKind.PPPK, today=TODAY)
    assert nip.kind is NIPKind.PPPK
    assert nip.appointment_month is None


def test_pppk_checks_only_the_year_in_digits_9_to_14():
    # Digits 13-14 are not a month for PPPK, so "21" there is fine (no "21 = PPPK" rule either way).
    assert parse_nip("199005172023211002", "pppk", today=TODAY).appointment_year == 2023
    assert parse_nip("199005172023991002", "pppk", today=TODAY).appointment_year == 2023
    # ...but the same digits are an impossible month in a PNS NIP.
    assert not is_valid_nip("199005172023211002", "pns")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("199005172027011002", "nip_appointment_date"),  # year in the future
        ("199005172005011002", "nip_appointment_date"),  # before the 18th birthday year
        ("199005172023013002", "nip_sex_digit"),
        ("199002302023011002", "nip_birth_date"),
    ],
)
def test_pppk_rejections(raw, reason):
    with pytest.raises(InvalidNIP) as err:
        parse_nip(raw, NIPKind.PPPK, today=TODAY)
    assert err.value.reason == reason
