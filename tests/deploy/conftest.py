"""The deploy checks' tools (deploy/tools.py): made once into .venv-deploy, about a minute on a new
machine (PyPI and npm, pinned by hash). The tests skip, saying why, only when that fails."""
from __future__ import annotations

import pytest

from deploy import tools as deploy_tools


@pytest.fixture(scope="session")
def tools():
    try:
        deploy_tools.install()
    except deploy_tools.ToolError as error:
        pytest.skip(f"the deploy tools could not be installed into .venv-deploy: {error}")
    return deploy_tools
