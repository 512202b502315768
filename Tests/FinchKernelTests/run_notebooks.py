"""Executes Jupyter notebooks with the Finch kernel through nbclient, as `jupyter nbconvert
--execute` would. Usage: run_notebooks.py JUPYTER_DATA_DIR WORKING_DIR IN.ipynb:OUT.ipynb ...
Prints one line per notebook: its seconds."""
import os
import sys
import time

os.environ["JUPYTER_PATH"] = sys.argv[1]
import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

for pair in sys.argv[3:]:
    source, target = pair.split(":")
    nb = nbformat.read(source, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name="finch", timeout=900, resources={"metadata": {"path": sys.argv[2]}}).execute()
    print(f"{source} {time.perf_counter() - t0:.1f}")
    nbformat.write(nb, target)
