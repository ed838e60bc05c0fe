"""The owner rule: only an owner grants or revokes the owner role; other changes are open."""

from __future__ import annotations

import itertools

import pytest

from siar.runtime.roles import Role
from siar_vault.domain import check_owner_rule
from siar_vault.errors import OwnerOnly

ROLES: list[Role | None] = [*Role, None]  # None: not a member (before) or removed (after)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (None, Role.OWNER),  # adding someone as owner
        (Role.ADMIN, Role.OWNER),  # promoting
        (Role.OWNER, Role.ADMIN),  # demoting
        (Role.OWNER, Role.VIEWER),
        (Role.OWNER, None),  # removing an owner
    ],
)
@pytest.mark.parametrize("actor", [r for r in ROLES if r is not Role.OWNER])
def test_only_an_owner_grants_or_revokes_ownership(
    actor: Role | None, current: Role | None, new: Role | None
) -> None:
    with pytest.raises(OwnerOnly, match="only an owner can grant or revoke the owner role"):
        check_owner_rule(actor, current, new)
    check_owner_rule(Role.OWNER, current, new)


def test_every_change_that_leaves_ownership_alone_is_allowed_to_any_manager() -> None:
    checked = 0
    for actor, current, new in itertools.product(ROLES, ROLES, ROLES):
        touches_owner = current != new and Role.OWNER in (current, new)
        if touches_owner and actor is not Role.OWNER:
            with pytest.raises(OwnerOnly):
                check_owner_rule(actor, current, new)
        else:
            check_owner_rule(actor, current, new)
            checked += 1
    # Owner to owner (a no-op) and every non-owner change pass for admins too.
    assert checked > len(ROLES) ** 2
