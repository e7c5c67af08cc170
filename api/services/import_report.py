"""What an import found and did, batch by batch: what the command line prints and the
HTTP route answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from campledger.api.services.import_checked import RowProblem


@dataclass
class BatchOutcome:
    index: int
    first_line: int
    last_line: int
    size: int
    # planned (dry run) | imported | replayed (by a concurrent run) | refused
    status: str
    position: int | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportReport:
    """What an import found and did; ``ok`` says whether it did all it was asked."""

    site_code: str
    digest: str
    rows: int
    dry_run: bool
    skip_bad_rows: bool
    problems: list[RowProblem] = field(default_factory=list)
    batches: list[BatchOutcome] = field(default_factory=list)
    # Good rows left out because an earlier run of this file imported them.
    already_imported: int = 0
    # Good rows to be imported in batches.
    to_import: int = 0
    seconds: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(b.size for b in self.batches if b.status in statuses)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def replayed(self) -> int:
        return self.count("replayed")

    @property
    def refused(self) -> int:
        return self.count("refused")

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})

    @property
    def position(self) -> int | None:
        found = [b.position for b in self.batches if b.position is not None]
        return max(found) if found else None

    @property
    def ok(self) -> bool:
        if self.refused:
            return False
        return self.skip_bad_rows or not self.problems

    def all_problems(self) -> list[RowProblem]:
        found = [*self.problems, *(p for b in self.batches for p in b.problems)]
        return sorted(found, key=lambda p: p.line)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_code": self.site_code,
            "sha256": self.digest,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "skip_bad_rows": self.skip_bad_rows,
            "ok": self.ok,
            "imported": self.imported,
            "replayed": self.replayed,
            "already_imported": self.already_imported,
            "to_import": self.to_import,
            "refused": self.refused,
            "bad_rows": self.bad_rows,
            "position": self.position,
            "seconds": round(self.seconds, 3),
            "problems": [p.as_dict() for p in self.all_problems()],
            "batches": [b.as_dict() for b in self.batches],
        }
