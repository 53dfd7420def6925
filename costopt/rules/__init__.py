"""Recommenders: one small class per rule behind one protocol, registered in `registry.py`."""

from costopt.rules.base import Rule
from costopt.rules.history import History
from costopt.rules.recommendation import Evidence, Recommendation
from costopt.rules.registry import RULE_NAMES, RULES, check_rule_settings, run_rules

__all__ = ["RULES", "RULE_NAMES", "Evidence", "History", "Recommendation", "Rule",
           "check_rule_settings", "run_rules"]
