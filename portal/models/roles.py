from django.db import models


class Role(models.TextChoices):
    """Membership roles, ordered: each role can do everything the one before it can."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.OPERATOR, cls.ADMIN].index(cls(role))

    @classmethod
    def at_least(cls, role: str) -> list[str]:
        """The roles that satisfy a requirement of ``role``."""
        return [r.value for r in cls if cls.rank(r) >= cls.rank(role)]
