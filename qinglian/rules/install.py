"""Write the validated rules into the warehouse (schema `rules`), where dbt reads them as sources.

Called right before every dbt build (qinglian build, the orchestrator's dbt step): the tables always
hold exactly the configuration in force when the marts were built, replaced in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from qinglian.rules.config import INDICATORS, SCALARS, Rules, load_rules

_SCALAR_TYPES = {int: "INTEGER", float: "DOUBLE"}


def install_rules(warehouse: Path, rules: Rules | None = None, override: Path | str | None = None) -> Rules:
    """Validate the configuration (raises RulesError) and replace rules.rule_sets / rule_weights / indicators."""
    import duckdb

    rules = rules or load_rules(override)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("BEGIN")
        con.execute("CREATE SCHEMA IF NOT EXISTS rules")
        scalar_cols = ", ".join(f"{k} {_SCALAR_TYPES[s.kind]}" for k, s in SCALARS.items())
        con.execute(f"""CREATE OR REPLACE TABLE rules.rule_sets (
            rules_version VARCHAR NOT NULL, from_year INTEGER, body_group VARCHAR NOT NULL, note VARCHAR,
            source_file VARCHAR, {scalar_cols})""")
        con.execute("""CREATE OR REPLACE TABLE rules.rule_weights (
            rules_version VARCHAR NOT NULL, body_group VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
            weight DOUBLE NOT NULL)""")
        con.execute("""CREATE OR REPLACE TABLE rules.indicators (
            indicator VARCHAR NOT NULL, indicator_name VARCHAR NOT NULL, sort_order INTEGER NOT NULL)""")
        keys = list(SCALARS)
        marks = ", ".join("?" for _ in range(5 + len(keys)))
        con.executemany(f"INSERT INTO rules.rule_sets VALUES ({marks})", [
            [s.rules_version, s.from_year, s.body_group, s.note, s.source, *(s.values[k] for k in keys)]
            for s in rules.sets])
        con.executemany("INSERT INTO rules.rule_weights VALUES (?, ?, ?, ?)", [
            [s.rules_version, s.body_group, k, w] for s in rules.sets for k, w in s.weights.items()])
        con.executemany("INSERT INTO rules.indicators VALUES (?, ?, ?)",
                        [[k, name, order] for k, (name, order, _) in INDICATORS.items()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return rules
