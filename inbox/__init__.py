"""Reading mail: transports, MIME parsing, classification."""
