"""Layer 8, report: the document model, its Markdown / HTML / junit writers, plots, and the
sections of every report (bench, comparison, eembc, attribution, recipes, lab)."""
