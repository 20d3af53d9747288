"""`bot eval`: run the bot over a question set, score the answers, write a report, gate CI.

Data flows one way through the modules:

- `questions`: the `Question` model and the JSONL/CSV reader (bad lines become `file:line: problem`);
- `matching`: the text normalisation behind `must_mention`, `must_not_say` and "supports";
- `metrics`: the metric table and one scoring function per metric family (`score_question`);
- `aggregate`: the figures over a set of questions, breakdowns, baseline comparison, thresholds;
- `report`: the HTML report and the terminal summary;
- `runner`: asks the questions (resuming), scores a run folder and writes its files;
- `command`: the `bot eval` click command.

The metrics are defined in docs/evaluation.md; `tests/test_docs.py` checks that its table names
exactly the metrics of `metrics.METRICS`.
"""
