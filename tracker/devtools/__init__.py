"""Development tools that are not the product: the demo and the loopback mirror that serves recorded pages."""
