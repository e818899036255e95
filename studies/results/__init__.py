"""What a run leaves behind and how it is read back.

- ``store``: the store of record, one SQLite database per run directory (``results.sqlite``);
- ``table``: the tidy table (one row per trial and sparsity level) and its export;
- ``status``: done / failed / pending trials of every run directory below a folder;
- ``files``: atomic writes of every file the package produces.
"""
