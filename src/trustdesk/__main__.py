from trustdesk.cli.main import app

app()
