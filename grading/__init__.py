"""nbgrader course, gradebook sync and certification for the Netralitas ASN kit."""
