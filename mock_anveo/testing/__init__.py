"""Testing helpers: the controller (ops, transport, spec, base, verbs, controller), its
records (records, sent), the pytest plugin and Hypothesis strategies."""
