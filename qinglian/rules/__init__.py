"""The office's rules configuration (DESIGN §5): one YAML file set, validated, loaded into the warehouse.

`load_rules()` reads the shipped defaults (config/rules.yaml) and, on top of them, the office's own
file (QINGLIAN_RULES or --rules; the demo's labelled file in demo mode), validates every value and
returns one `RuleSet` per (rules version, group). `install_rules()` writes them to the warehouse
(schema `rules`), where dbt reads them as sources: every figure that depends on a rule is computed
there, and every page, export and check reads it back from the marts.
"""

from qinglian.rules.config import (
    GROUPS,
    INDICATORS,
    Rules,
    RulesError,
    RuleSet,
    load_rules,
    rules_paths,
)
from qinglian.rules.install import install_rules

__all__ = ["GROUPS", "INDICATORS", "RuleSet", "Rules", "RulesError", "install_rules", "load_rules", "rules_paths"]
