"""Camera passwords are sealed with the instance key; sites are validated and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from controller.errors import ValidationError
from controller.operations.cameras import add_site
from controller.sealing import seal, unseal
from controller.store import sites


def test_sealed_password_opens_only_with_the_same_key() -> None:
    token = seal("key-one", "Cam-Pass-1")
    assert "Cam-Pass-1" not in token
    assert unseal("key-one", token) == "Cam-Pass-1"
    with pytest.raises(ValidationError, match="another instance key"):
        unseal("key-two", token)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"code": "", "name": "x"}, "code"),
    ({"code": "S1", "name": "x", "latitude": 91.0}, "latitude"),
    ({"code": "S1", "name": "x", "longitude": -181.0}, "longitude"),
])
def test_bad_site_is_refused_naming_the_field(engine: Engine, kwargs: dict[str, object],
                                               field: str) -> None:
    with pytest.raises(ValidationError, match=f"^{field}:"):
        add_site(engine, actor="t", **kwargs)  # type: ignore[arg-type]
    assert sites.list_cameras(engine) == []
