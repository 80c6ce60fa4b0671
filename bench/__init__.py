"""outpost-mesh benchmarks (``make bench`` / ``python -m bench``): not tests, figures."""
