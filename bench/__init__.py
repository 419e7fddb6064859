"""The benchmark: `bash bench/run.sh` (or `python3 -m bench.bench`), see docs/PERFORMANCE.md."""
