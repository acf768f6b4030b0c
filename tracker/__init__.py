"""Treaty ratification tracker: the domain, the sources' parsers, the services and the edges."""
