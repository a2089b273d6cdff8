"""Who works in the demo company, and the id formats of the source systems.

Salesforce record ids are real 18-character ids (15-character id plus the
case-safety checksum), so tools that validate ids accept them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elif", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Klara", "Lukas",
    "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Umut", "Vera", "Wim", "Yara", "Zoe",
    "Marta", "Omar", "Lena", "Tobias", "Priya", "Nils", "Sofia", "Emil",
)
LAST_NAMES = (
    "Ruiz", "Schmidt", "Novak", "Okafor", "Yilmaz", "Berger", "Lindqvist", "Kowalski", "Moreau", "Rossi",
    "Jansen", "Fischer", "Dubois", "Weber", "Costa", "Nowak", "Petersen", "Hoffmann", "Sato", "Kaya",
    "Meyer", "Larsen", "Brandt", "Varga", "Silva", "Keller", "Horvat", "Lund", "Wagner", "Ibrahim",
)


def salesforce_checksum(id15: str) -> str:
    """The 3-character suffix that turns a 15-character Salesforce id into the 18-character one."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def salesforce_ids(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """18-character ids ``<prefix>Hs0000<6 base62 digits><checksum>`` for the given record numbers (vectorised).

    ``prefix`` is the key prefix (``006`` Opportunity, ``005`` User); ``Hs`` is the pod.
    Returns an object array of ``str``.
    """
    n = np.asarray(numbers, dtype=np.int64).copy()
    head = f"{prefix}Hs0000"
    m = n.size
    chars = np.empty((m, 18), dtype=np.uint8)
    chars[:, :9] = np.frombuffer(head.encode("ascii"), dtype=np.uint8)
    alphabet = np.frombuffer(_BASE62.encode("ascii"), dtype=np.uint8)
    for pos in range(14, 8, -1):
        chars[:, pos] = alphabet[n % 62]
        n //= 62
    upper = (chars[:, :15] >= ord("A")) & (chars[:, :15] <= ord("Z"))
    weights = 1 << np.arange(5)
    checksum = np.frombuffer(_CHECKSUM_ALPHABET.encode("ascii"), dtype=np.uint8)
    for chunk in range(3):
        bits = (upper[:, 5 * chunk: 5 * chunk + 5] * weights).sum(axis=1)
        chars[:, 15 + chunk] = checksum[bits]
    return chars.view("S18").ravel().astype(str).astype(object)


def person_names(rng: np.random.Generator, count: int, *, exclude: set[str] | None = None) -> list[str]:
    """``count`` distinct "First Last" names."""
    taken = set(exclude or ())
    names: list[str] = []
    while len(names) < count:
        name = f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def jira_account_id(rng: np.random.Generator) -> str:
    """A Jira Cloud account id (24 hex digits, the current format)."""
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, size=12).tolist())


@dataclass(frozen=True)
class Person:
    """One user of a source system: the id the export shows, the display name, and the role."""

    user_id: str
    name: str
    role: str
    team: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"id": self.user_id, "name": self.name, "role": self.role, "team": self.team}
