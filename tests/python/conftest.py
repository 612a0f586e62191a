"""Shared fixtures for the llkv Python tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

import llkv


@pytest.fixture
def con() -> Iterator[llkv.Connection]:
    """A connection to a fresh in-memory database, closed afterwards."""
    connection = llkv.connect()
    yield connection
    connection.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a database file that does not exist yet."""
    return tmp_path / "test.llkv"


@pytest.fixture(params=["memory", "file"])
def any_con(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[llkv.Connection]:
    """A connection to a fresh database, in memory and on a file."""
    if request.param == "memory":
        connection = llkv.connect()
    else:
        connection = llkv.connect(tmp_path / "any.llkv")
    yield connection
    connection.close()
