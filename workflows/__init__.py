"""The department's rules, free of I/O: plain data and a clock in, decisions out."""
