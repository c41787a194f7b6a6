"""Kind ssh: Linux boards (Raspberry Pi) over SSH, the agent spoken to over one exec channel."""
