"""Cost anomalies with their cause: daily cost per topic, owner, cluster and component tested
against its own recent behaviour (`detect`), named by the change behind it (`drivers`), kept
open or resolved in the store (`costopt.store.anomalies`)."""
