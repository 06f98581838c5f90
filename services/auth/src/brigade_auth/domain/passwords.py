"""What a password must be: long enough, and not the account's own e-mail address.

Length is what makes a password hard to guess (NIST SP 800-63B); composition rules are not
required. An upper bound keeps one request from feeding the hash megabytes.
"""

from __future__ import annotations

from brigade_auth.domain.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 1024


def check_password(password: str, email: str) -> None:
    """`WeakPassword` naming the rule `password` breaks, for the account of `email`."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must be at most {MAX_LENGTH} characters long")
    folded = password.strip().casefold()
    address = email.strip().casefold()
    if folded in (address, address.partition("@")[0]):
        raise WeakPassword("the password must not be the e-mail address")
