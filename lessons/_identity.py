"""Who is using the app: the seam between pages and the class server's sign-in.

Laptop mode (the default): one user, no sign-in, allowed everything. Class mode (issue 15,
see README "Running a class server"): a student or the teacher signs in; identity lives in
the session (never in a URL that can be shared).

Pages ask only `current_user()` and the `can_*` questions below; how a user signed in, and
where accounts live, is not their business.
"""

from __future__ import annotations

from dataclasses import dataclass

LAPTOP, STUDENT, TEACHER = "laptop", "student", "teacher"


@dataclass(frozen=True)
class User:
    name: str  # shown on boards and run lists; the owner recorded with every run
    role: str  # LAPTOP, STUDENT or TEACHER

    @property
    def is_teacher(self) -> bool:
        return self.role in (LAPTOP, TEACHER)


def current_user() -> User:
    """The user of this browser session (laptop mode: the one local user)."""
    return User("you", LAPTOP)
