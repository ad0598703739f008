"""The adjustments area: credit and debit notes (SPEC §17)."""
