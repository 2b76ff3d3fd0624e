from qinglian.cli import app

app()
