"""Who is looking: the role and the unit an account is bound to.

Pages, exports, watermarks and audit entries are given a Scope; it comes only from the account
store via the login, never from anything the browser sends.
"""

from __future__ import annotations

from dataclasses import dataclass

# role -> Chinese label
ROLES: dict[str, str] = {
    "leadership": "领导",
    "analyst": "分析人员",
    "county": "县区用户",
    "submitter": "报送单位",
    "admin": "系统管理员",
}
DEV_ROLE = "dev"
ROLE_LABELS = {**ROLES, DEV_ROLE: "本地开发"}
# Roles that read the dashboards' data; county is limited to its county and below (data.py).
DATA_ROLES = ("leadership", "analyst", "county")
# Roles whose account must name a unit: a county-level region, or (submitter) a department too.
UNIT_ROLES = ("county", "submitter")


@dataclass(frozen=True)
class Scope:
    """The signed-in viewer. unit_kind is 'county' (a 12-digit county-level region code) or
    'department' (a department code); None for the roles that see everything or nothing."""

    username: str
    display_name: str
    role: str
    unit_code: str | None = None
    unit_kind: str | None = None
    unit_name: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def county_code(self) -> str | None:
        """The county a data reader is limited to (data.py filters on it); None: everything."""
        return self.unit_code if self.unit_kind == "county" else None

    @property
    def reads_data(self) -> bool:
        return self.role in DATA_ROLES or self.role == DEV_ROLE

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def scope_text(self) -> str:
        """What this viewer may see, in words (watermarks, exports, the audit log)."""
        if self.role == "county":
            return f"{self.unit_name or self.unit_code}及所辖乡镇、村"
        if self.role == "submitter":
            return f"报送单位：{self.unit_name or self.unit_code}"
        if self.role == "admin":
            return "账号与审计管理"
        return "全部"

    def audit_fields(self) -> dict[str, str | None]:
        return {"username": self.username, "role": self.role, "scope": self.scope_text,
                "unit_code": self.unit_code}
