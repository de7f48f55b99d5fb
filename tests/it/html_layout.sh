#!/bin/sh
# The HTML follow-up list (the reminder's HTML part is the same renderer,
# report_render_html) laid out by headless Chromium at 1280 and 390 px:
# never wider than the window however long a word or URL, "overdue by
# 18h 27m" on one line, urgent rows tinted.  Skips (77) without Chromium.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "skip: chromium is not installed (apt-get install chromium; tools/deps.sh has it)"
	exit 77
fi
chrome() {	# chrome URL: the DOM after scripts ran
	timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --no-first-run --user-data-dir="$T/profile" \
	    --allow-file-access-from-files --virtual-time-budget=10000 \
	    --dump-dom "$1" 2>/dev/null
}
printf '<!DOCTYPE html><html><body><script>document.body.setAttribute("data-ok","yes")</script></body></html>' > "$T/probe.html"
if ! chrome "file://$T/probe.html" | grep -q 'data-ok="yes"'; then
	echo "skip: chromium cannot run here ($CHROMIUM --headless --dump-dom failed)"
	exit 77
fi

maildir_conf

msg() {	# msg ID SUBJECT BODY [FROM]
	printf 'From: %s\r\nTo: help@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\n%s\r\n' \
	    "${4:-Someone <someone@example.net>}" "$2" "$1" "$3"
}

url="https://ads.example.com/$(printf 'x%.0s' $(seq 1 240))?id=$(printf '9%.0s' $(seq 1 60))"
t1=$(msg h1@x "see $url now" 'they hold my passport and I cannot leave, please help' | ingest_id)
t2=$(msg h2@x 'training request' 'Could you give a training to our staff?' \
    "Averyveryveryverylongdisplaynamewithoutanyspaces <$(printf 'a%.0s' $(seq 1 120))@example.net>" | ingest_id)
t3=$(msg h3@x "$(printf 'word%.0s' $(seq 1 80))" 'What are the statistics for Ohio?' | ingest_id)
now=$(date +%s)
# #1 overdue by 18h 27m (and not breached, so it stays in the due-today group)
q "update tickets set urgency = 'urgent', response_due = $now - 66420 - 30, breach_at = $now + 86400 where id = $t1"
q "update tickets set response_due = $now + 3600, breach_at = $now + 7200 where id in ($t2, $t3)"
$INTAKE followups $C --all-open --format html > "$T/page.html"
check "the list names the overdue time" grep -q 'overdue by 18h 27m' "$T/page.html"

measure() {	# measure WIDTH: JSON of what the page does in a WIDTH px window
	cat > "$T/wrap-$1.html" <<HTML
<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="border:0;width:$1px;height:900px" src="page.html"></iframe>
<script>
document.getElementById("f").onload = function () {
	var d = this.contentDocument, w = this.contentWindow, out = {};
	out.scroll = d.documentElement.scrollWidth;
	out.inner = w.innerWidth;
	out.lines = [];
	out.urgent = [];
	var tds = d.getElementsByTagName("td");
	for (var i = 0; i < tds.length; i++) {
		var t = tds[i];
		if (t.textContent.indexOf("overdue by") !== 0)
			continue;
		var r = d.createRange(), tops = {};
		r.selectNodeContents(t);
		var rects = r.getClientRects();
		for (var k = 0; k < rects.length; k++)
			tops[Math.round(rects[k].top)] = 1;
		out.lines.push(Object.keys(tops).length);
		out.urgent.push(w.getComputedStyle(t.parentNode).backgroundColor);
	}
	out.plain = [];
	for (var j = 0; j < tds.length; j++)
		if (tds[j].getAttribute("data-l") === "Urgency" &&
		    tds[j].textContent !== "urgent")
			out.plain.push(w.getComputedStyle(tds[j].parentNode).backgroundColor);
	document.body.setAttribute("data-m", JSON.stringify(out));
};
</script></body></html>
HTML
	chrome "file://$T/wrap-$1.html" | $PY -c '
import html, re, sys
m = re.search(r"data-m=\"([^\"]*)\"", sys.stdin.read())
print(html.unescape(m.group(1)) if m else "{}")'
}

for w in 1280 390; do
	m=$(measure $w)
	echo "# $w px: $m"
	check "$w px: the page is no wider than the window" $PY -c '
import json, sys
m = json.loads(sys.argv[1])
assert m["inner"] == int(sys.argv[2]), m
assert m["scroll"] <= m["inner"], m
' "$m" "$w"
	check "$w px: \"overdue by 18h 27m\" on one line" $PY -c '
import json, sys
m = json.loads(sys.argv[1])
assert m["lines"] == [1], m
' "$m"
	check "$w px: the urgent row stands out" $PY -c '
import json, sys
m = json.loads(sys.argv[1])
assert m["urgent"] and m["plain"], m
assert m["urgent"][0] != "rgba(0, 0, 0, 0)" and m["urgent"][0] not in m["plain"], m
' "$m"
done
finish
