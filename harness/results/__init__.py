"""Layer 6, results: the run directory — atomic files, the journal, and the typed records that own
every key of run.json, metrics.json and the .npz files."""
