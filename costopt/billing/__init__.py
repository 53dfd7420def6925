"""Invoices: import a month's bill (FOCUS 1.x, AWS CUR 2.0, Confluent Cloud costs), reconcile
it with the estimate, allocate the billed total to topics and owners, export as FOCUS."""
