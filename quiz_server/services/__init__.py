"""Services: functions that change state in one transaction. Views stay thin."""
