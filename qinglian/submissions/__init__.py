"""Uploads through the portal: the store, the intake (dry run, landing write, receipt) and 报送情况."""
