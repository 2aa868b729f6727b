"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-character set (the digits and the capitals without I, O, Z, S and V):
position 1 the registering authority (5 = 民政, civil affairs), 2 the organisation type, 3-8 the
administrative division, 9-17 the organisation code, 18 the check character. The check character
is ``31 - (Σ value(c_i) × w_i mod 31)``, with 31 written as 0, over the weights below.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
CIVIL_AFFAIRS = "5"  # registering-authority code of 民政 (social organisations)


def check_char(body: str) -> str:
    """The check character for the first 17 characters (which must be from the alphabet)."""
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise ValueError("the body must be 17 characters from the GB 32100 alphabet")
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    return code.strip().upper()


def problem(code: str) -> str | None:
    """Why ``code`` (normalized) is not a valid credit code, or None when it is."""
    if len(code) != 18:
        return "must have 18 characters"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"contains characters outside GB 32100's set: {''.join(bad)}"
    if not code[2:8].isdigit():
        return "characters 3 to 8 must be an administrative division code"
    if check_char(code[:17]) != code[17]:
        return "the check character does not match"
    return None
