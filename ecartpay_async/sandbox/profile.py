"""A sandbox profile: how a real Ecart Pay answered where its documents are silent.

``ecartpay-async probe`` asks the live sandbox API a few questions (a reused
reference_id, the list's shape and pages, error answers, the token's lifetime) and
writes what it found as a profile; ``Sandbox(profile=...)`` and ``sandbox serve
--profile FILE`` then behave as that API did. A setting the probe could not observe
stays ``None`` and leaves the emulator's default alone.

The file is JSON::

    {"format": "ecartpay-sandbox-profile/1", "probed": "https://sandbox.ecartpay.com",
     "settings": {"reuse_behavior": "reject_409", "list_shape": "envelope", ...},
     "findings": {"reused reference_id, same payment": "409 {...}", ...}}

Settings the emulator does not know (written by a newer probe) are kept and reported,
never a reason to refuse the file. This module imports nothing of the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from ._reprs import safe_repr

__all__ = ["FORMAT", "ProfileSettings", "SandboxProfile", "load_profile"]

FORMAT: Final = "ecartpay-sandbox-profile/1"

#: The values each setting may take (``None``: not observed, the emulator's default).
_CHOICES: Final[dict[str, tuple[object, ...]]] = {
    "reuse_behavior": ("reject_400", "reject_409", "return_original"),
    "reuse_conflict_behavior": ("reject_400", "reject_409", "return_original"),
    "list_shape": ("envelope", "array"),
}


@safe_repr
@attrs.frozen
class ProfileSettings:
    """What the emulator takes from a profile; ``None`` is "as the emulator does".

    ``reuse_behavior``: a reference_id sent again with the same payment;
    ``reuse_conflict_behavior``: sent again with another amount (or recipient);
    ``list_shape``: ``GET /api/payouts`` as an envelope or a bare array;
    ``token_ttl``: the token's lifetime in seconds; ``payout_email``: whether a payout
    answer carries the recipient's email; ``error_style``: how a refused request is
    answered (``"http"``: its own 4xx, ``"openapi"``: HTTP 500 with a body whose
    ``statusCode`` is the 4xx). Room for more: unknown keys land in ``extra``.
    """

    reuse_behavior: str | None = None
    reuse_conflict_behavior: str | None = None
    list_shape: str | None = None
    token_ttl: int | None = None
    payout_email: bool | None = None
    error_style: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise ValueError(f"profile: {name} must be one of {', '.join(map(str, choices))}, "
                                 f"got {value!r}")
        if self.token_ttl is not None and (
            not isinstance(self.token_ttl, int) or self.token_ttl <= 0
        ):
            raise ValueError(f"profile: token_ttl must be a positive number of seconds, "
                             f"got {self.token_ttl!r}")

    def to_json(self) -> dict[str, Any]:
        known = {a.name: getattr(self, a.name) for a in attrs.fields(ProfileSettings)
                 if a.name != "extra"}
        return {**dict(self.extra), **{k: v for k, v in known.items() if v is not None}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileSettings:
        names = {a.name for a in attrs.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in names},
                   extra={k: v for k, v in data.items() if k not in names})


@safe_repr
@attrs.frozen
class SandboxProfile:
    """A probe's result: the settings, the origin probed and what was seen (text)."""

    settings: ProfileSettings = attrs.field(factory=ProfileSettings)
    probed: str = ""
    findings: Mapping[str, str] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "probed": self.probed, "settings": self.settings.to_json(),
                "findings": dict(self.findings)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: object) -> SandboxProfile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a sandbox profile (expected \"format\": \"{FORMAT}\")")
        settings = data.get("settings", {})
        findings = data.get("findings", {})
        if not isinstance(settings, dict) or not isinstance(findings, dict):
            raise ValueError("profile: settings and findings must be JSON objects")
        return cls(ProfileSettings.from_json(settings), str(data.get("probed", "")),
                   {str(k): str(v) for k, v in findings.items()})


def load_profile(profile: SandboxProfile | str | Path) -> SandboxProfile:
    """A profile given as itself or as the path of its JSON file."""
    if isinstance(profile, SandboxProfile):
        return profile
    try:
        data = json.loads(Path(profile).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"profile {profile}: cannot be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"profile {profile}: not JSON ({exc.msg}, line {exc.lineno})") from None
    return SandboxProfile.from_json(data)
