"""The fictional sample organisation `init` and `demo` write: Wexcombe County Council (invented)."""
