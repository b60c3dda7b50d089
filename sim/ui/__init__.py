"""The Solara browser view for workshops (`loyalty-sim ui`)."""
