"""The Dagster definitions by domain: ingest (landing → raw), dbt (raw → marts), serving (publish), schedules."""
