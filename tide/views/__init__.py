"""What people read about the queue, built from a sync's report and rendered, with no HTTP:
the view models (`queue`, `overview`, `explain`), the answer for one PR (`answers`), and
their renderings as terminal text (`text`), dashboard HTML (`pages`, `pr_page`) and Tide's
JSON (`prow`). The status server and the `tide status` / `tide explain` commands share them."""
