"""CSV cells that a spreadsheet would run as a formula (CSV injection).

OWASP's advice: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading single quote, which spreadsheets show as text. The import removes that quote again, so an exported file
re-imports to the same values.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def formula_unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
