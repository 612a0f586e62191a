"""notebooks/quickstart.ipynb runs headless, cell by cell, without errors."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # The revenue-by-region cell printed four regions.
    texts = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    for region in ("north", "south", "east", "west"):
        assert region in texts
