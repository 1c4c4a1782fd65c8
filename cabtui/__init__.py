"""cabtui: a terminal browser for CodingAgentBench sweeps."""
