"""Bulk import of CSV files (contacts, orders with lines, catalogue, the UCI Online Retail file) through
ingest's API: the same validation, de-duplication and identity rules as live events.

Readers turn rows into events (`ImportItem`, which remembers the file rows it came from) or into
`RowProblem`s for rows that cannot even be read; `ImportRun` sends the events in batches and sums up
what was accepted, what was a duplicate and what was refused, by reason.
"""
