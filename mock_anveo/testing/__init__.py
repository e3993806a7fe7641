"""Testing helpers: the controller, its records, the pytest plugin and Hypothesis strategies."""
