from qinglian.cli import app

# Guarded: the ingest's parse workers are spawned processes, which import __main__ again.
if __name__ == "__main__":
    app()
