"""Profile's intake of ingest's hand-off: the consumer (`consumer.ProfileIntake`), the translation of records
into commands (`translation`), the set-based application of customer events (`events`, `signals`)."""
