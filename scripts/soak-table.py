#!/usr/bin/env python3
"""soak-table.py: the table of a soak (scripts/soak.sh): for every scenario, how many runs
ran it, how many failed, and the first failing step with its message. Reads each run's
Cucumber Messages report (NDJSON), so it sees exactly what the runner recorded."""
import json
import sys
from collections import OrderedDict


def scenarios_of(path):
    """Yields (scenario, failed step text or None, message) per final attempt of a report."""
    pickles, cases, starts, steps_of_case = {}, {}, {}, {}
    hooks, failures, finished = {}, {}, {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                env = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e}): the report is torn")
            if "pickle" in env:
                p = env["pickle"]
                pickles[p["id"]] = p
            elif "hook" in env:
                hooks[env["hook"]["id"]] = env["hook"]
            elif "testCase" in env:
                c = env["testCase"]
                cases[c["id"]] = c
            elif "testCaseStarted" in env:
                s = env["testCaseStarted"]
                starts[s["id"]] = s
            elif "testStepFinished" in env:
                s = env["testStepFinished"]
                r = s["testStepResult"]
                if r["status"] not in ("PASSED", "SKIPPED") and s["testCaseStartedId"] not in failures:
                    failures[s["testCaseStartedId"]] = (s["testStepId"], r)
            elif "testCaseFinished" in env:
                s = env["testCaseFinished"]
                finished[s["testCaseStartedId"]] = s
    for sid, start in starts.items():
        fin = finished.get(sid)
        if fin is not None and fin.get("willBeRetried"):
            continue
        case = cases[start["testCaseId"]]
        p = pickles[case["pickleId"]]
        name = f'{p["uri"]}: {p["name"]}'
        if fin is None:
            yield name, "(never finished)", "the run ended inside this scenario"
            continue
        if sid not in failures:
            yield name, None, None
            continue
        step_id, result = failures[sid]
        text = step_id
        for ts in case["testSteps"]:
            if ts["id"] != step_id:
                continue
            if "pickleStepId" in ts:
                text = next((s["text"] for s in p["steps"] if s["id"] == ts["pickleStepId"]), step_id)
            elif "hookId" in ts:
                h = hooks.get(ts["hookId"], {})
                text = "hook " + (h.get("name") or h.get("tagExpression") or ts["hookId"])
        msg = (result.get("message") or result["status"]).strip().splitlines()
        yield name, text, msg[0] if msg else result["status"]


def main(argv):
    table = OrderedDict()
    for path in argv[1:]:
        for name, step, msg in scenarios_of(path):
            row = table.setdefault(name, {"runs": 0, "failures": 0, "first": None})
            row["runs"] += 1
            if step is not None:
                row["failures"] += 1
                if row["first"] is None:
                    row["first"] = f"{step}: {msg} ({path})"
    width = max([len(k) for k in table] + [8])
    print(f'{"scenario":<{width}}  runs  failures  first failing step')
    total_fail = 0
    for name, row in table.items():
        total_fail += row["failures"]
        print(f'{name:<{width}}  {row["runs"]:>4}  {row["failures"]:>8}  {row["first"] or "-"}')
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
