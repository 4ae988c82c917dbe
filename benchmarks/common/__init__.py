"""Code shared by the benchmarks: token counting, timing, tables, JSON results, the baselines,
Memory construction and the (optional) LLM answer/judge client."""
