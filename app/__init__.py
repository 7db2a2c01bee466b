"""The service wired together: intake passes, the daemon loop, and the commands main.py calls."""
