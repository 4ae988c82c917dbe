"""`python -m benchmarks.serve`: graphmem served over REST and MCP, against in-process calls."""
