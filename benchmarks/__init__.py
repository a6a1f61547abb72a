"""Side-by-side training benchmarks: chainrule against PyTorch (not tests)."""
