#!/usr/bin/python3
"""triage-report.py LABELS.tsv CLASSIFY.jsonl: scores `intake classify`
output against the labels (see tools/triage-report.sh)."""
import json
import os
import sys

TYPES = ["crisis", "tip", "tta", "referral", "info", "related", "automated"]


def main():
    labels = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(head, line.rstrip("\n").split("\t")))
            labels[row["file"]] = row
    got = {}
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            got[os.path.basename(o["file"])] = o
    n = ok = 0
    conf = {a: {b: 0 for b in TYPES + ["unclassified"]} for a in TYPES}
    urg_n = urg_hit = 0
    calm_n = calm_urgent = 0
    by_lang = {}
    minor_ok = danger_ok = lang_ok = 0
    auto_missed, human_auto, crisis_missed, wrong = [], [], [], []
    for fn, lab in sorted(labels.items()):
        o = got.get(fn)
        if o is None:
            print("missing output for", fn)
            wrong.append(fn)
            continue
        n += 1
        t, p = lab["type"], o["type"]
        conf[t][p] = conf[t].get(p, 0) + 1
        if t == p:
            ok += 1
        else:
            wrong.append("%s: %s -> %s (%s)" % (fn, t, p, lab.get("note", "")[:70]))
        if lab["urgency"] == "urgent":
            urg_n += 1
            urg_hit += o["urgency"] == "urgent"
        else:
            calm_n += 1
            calm_urgent += o["urgency"] == "urgent"
        bl = by_lang.setdefault(lab["lang"], [0, 0])
        bl[0] += t == p
        bl[1] += 1
        minor_ok += int(lab["minor"]) == int(o["minor"])
        danger_ok += int(lab["danger"]) == int(o["danger"])
        lang_ok += lab["lang"] == o["lang"]
        if t == "automated" and p != "automated":
            auto_missed.append(fn)
        if t != "automated" and o["automated"]:
            human_auto.append(fn)
        if t == "crisis" and p != "crisis":
            crisis_missed.append(fn)

    def pct(a, b):
        return 100.0 * a / b if b else 100.0

    print("messages: %d" % n)
    print("type accuracy: %.1f%% (%d/%d)" % (pct(ok, n), ok, n))
    print("urgent recall: %.1f%% (%d/%d)" % (pct(urg_hit, urg_n), urg_hit, urg_n))
    print("minor agreement: %.1f%%  danger agreement: %.1f%%  lang agreement: %.1f%%"
          % (pct(minor_ok, n), pct(danger_ok, n), pct(lang_ok, n)))
    na = sum(conf["automated"].values())
    print("automated detected: %d/%d; human messages called automated: %d"
          % (na - len(auto_missed), na, len(human_auto)))
    print("\n%-10s %9s %9s" % ("type", "precision", "recall"))
    for t in TYPES:
        tp = conf[t][t]
        pred = sum(conf[a][t] for a in TYPES)
        act = sum(conf[t].values())
        print("%-10s %8.1f%% %8.1f%%" % (t, pct(tp, pred), pct(tp, act)))
    print("\nconfusion (rows: label, columns: classified)")
    cols = TYPES
    print("%-10s " % "" + " ".join("%5s" % c[:5] for c in cols))
    for t in TYPES:
        print("%-10s " % t + " ".join("%5d" % conf[t][c] for c in cols))
    if wrong:
        print("\nmisclassified:")
        for w in wrong:
            print("  " + w)
    crisis_recall = pct(sum(1 for fn, l in labels.items() if l["type"] == "crisis") - len(crisis_missed),
                        sum(1 for l in labels.values() if l["type"] == "crisis"))
    print("\ncrisis recall: %.1f%%" % crisis_recall)
    ncrisis = sum(1 for l in labels.values() if l["type"] == "crisis")
    print("summary: type %.1f%% (%d/%d)  crisis %d/%d  urgent %d/%d  "
          "false urgent %d/%d (%.1f%%)" % (pct(ok, n), ok, n, ncrisis - len(crisis_missed),
                                          ncrisis, urg_hit, urg_n, calm_urgent, calm_n,
                                          100.0 * calm_urgent / calm_n if calm_n else 0.0))
    print("by language: " + ", ".join("%s %d/%d" % (k, v[0], v[1])
                                      for k, v in sorted(by_lang.items(), key=lambda kv: -kv[1][1])))
    if os.environ.get("TRIAGE_REPORT_STRICT") == "1":
        bad = []
        if crisis_missed:
            bad.append("crisis missed: " + " ".join(crisis_missed))
        if auto_missed:
            bad.append("automated missed: " + " ".join(auto_missed))
        if human_auto:
            bad.append("human called automated: " + " ".join(human_auto))
        if bad:
            print("FAIL: " + "; ".join(bad))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
