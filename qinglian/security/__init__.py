"""Accounts, sessions, lockout and the append-only audit log (DESIGN §8).

Nothing here imports Streamlit: the dashboards (dashboards/auth.py), the upload portal and the
`qinglian user` / `qinglian audit` commands share these modules.

- config:   demo or production, the state directory, the configured secret (never in the repository)
- scope:    who is looking — role and bound unit — the object pages and exports are given
- accounts: the account store (bcrypt, password policy, roles, units checked against the warehouse)
- sessions: opaque server-side sessions behind a signed cookie, inactivity expiry
- lockout:  failed-login counting per account and per client address, with a growing wait
- audit:    the append-only, hash-chained audit log
"""
