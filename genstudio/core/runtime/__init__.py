"""What the process runs on: devices, memory budgets, bundled resources and the user's folders."""
