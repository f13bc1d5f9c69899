"""Explanation: item cards, caveats, verdict and evidence wording, next steps, built from kernel results."""
