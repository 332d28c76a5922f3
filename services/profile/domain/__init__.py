"""Profile's pure domain: identifiers, consents, contactability and the computed attributes. No I/O here."""
