"""The simulation core: tenants, clocks, scheduling, calls, money and journals; stdlib only."""
