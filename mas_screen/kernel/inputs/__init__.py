"""Inputs: reading numbers (bounded work, locale-safe), table columns, safe CSV text, decoded-size budgets,
and normalising a patient's values into facts (intervals plus input warnings) for the rules."""
