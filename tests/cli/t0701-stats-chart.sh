#!/usr/bin/env bash
# carnet-stats --chart: the SVG is well-formed XML (xmllint) with one bar
# (three stacked rects) per row, a title, both axis titles, a legend and
# the reply-rate line; 1 point and 400 points (labels thinned, never more
# than fit); an empty period; --chart - gives a text chart on a terminal
# (script(1)) and SVG otherwise; a chart file that cannot be written.
# The messages are inserted with SQL: the chart's subject is rendering,
# the figures themselves are checked on real sends in t0700.
. "$(dirname "$0")/../lib.sh"
command -v xmllint >/dev/null || skip_all "xmllint is not installed (make deps: libxml2-utils)"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

carnet-stats >/dev/null	# creates the store
# 400 days from 2025-10-19 to 2026-11-22, one campaign; on day i: i % 5 + 1
# messages delivered, one failed every 3rd day, one pending every 4th,
# a reply on every 2nd day's first message
sql "INSERT INTO folder(id, name, created_at) VALUES(1, 'default', 0);
INSERT INTO user(id, name, created_at) VALUES(1, 'JK & <co>', 0);
INSERT INTO campaign(id, uuid, folder_id, user_id, name, status, created_at)
  VALUES(1, 'c1', 1, 1, 'year', 'sent', 0);
WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 399),
 k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 6)
INSERT INTO message(ref, campaign_id, folder_id, user_id, phone, body, encoding,
  segments, status, created_at, sent_at)
SELECT 'm' || i || '-' || j, 1, 1, 1, '+3360000' || printf('%04d', i), 'x', 'gsm7', 1,
  CASE WHEN j < i % 5 + 1 THEN 'delivered' WHEN j = 5 AND i % 3 = 0 THEN 'failed'
       WHEN j = 6 AND i % 4 = 0 THEN 'sent' ELSE 'preparing' END,
  1795334400 - (399 - i) * 86400, 1795334400 - (399 - i) * 86400 + 3600
FROM d, k;
DELETE FROM message WHERE status = 'preparing';
INSERT INTO reply(uuid, message_id, campaign_id, phone, body, kind, received_at)
SELECT 'r' || id, id, 1, phone, 'oui', 'reply', sent_at + 60 FROM message
WHERE ref GLOB 'm*-0' AND CAST(substr(ref, 2, instr(ref, '-') - 2) AS INT) % 2 = 0;"

bars() { xmllint --xpath 'count(//*[local-name()="g"][@class="bar"])' "$1"; }
rects() { xmllint --xpath "count(//*[local-name()=\"rect\"][@class=\"$2\"])" "$1"; }
labels() { xmllint --xpath 'count(//*[local-name()="text"][@class="xlabel"])' "$1"; }

# --- a month by day ----------------------------------------------------------------
run carnet-stats --from 2026-11 --by day --chart nov.svg
is "$status" 0 "--by day --chart FILE: exit 0"
is "$(printf '%s\n' "$out" | wc -l)" 31 "the table is still printed (header + 30 days)"
xmllint --noout nov.svg 2>xmllint.err
ok $? "the SVG is well-formed XML"
is "$(cat xmllint.err)" "" "xmllint has nothing to say"
is "$(bars nov.svg)" 30 "one bar per day of November, empty days too"
is "$(rects nov.svg delivered),$(rects nov.svg failed),$(rects nov.svg pending)" "30,30,30" \
	"each bar stacks delivered, failed and pending"
is "$(labels nov.svg)" 30 "30 bars: every label fits"
svg=$(cat nov.svg)
like "$svg" '<title>SMS delivery and replies, 2026-11-01 to 2026-11-30</title>' "a title"
like "$svg" '>SMS \(segments\)</text>' "the primary axis is titled with the unit"
like "$svg" '>reply rate</text>' "the secondary axis is titled"
like "$svg" '>day</text>' "the x axis is titled"
like "$svg" 'class="legend"' "a legend"
like "$svg" '<polyline points="' "the reply-rate line"
unlike "$svg" '(^|[^&])&[^a-z#]' "no raw ampersand"
# 2026-11-22 is day 399: 399 % 5 + 1 = 5 delivered, 399 % 3 = 0: 1 failed, 399 % 4 = 3: none pending
like "$svg" '<title>2026-11-22: 5 delivered, 1 failed, 0 pending, reply rate 0.0%</title>' \
	"each bar has a tooltip with its figures"

# --- 400 points ------------------------------------------------------------------------
run carnet-stats --from 2025-10-19 --to 2026-11-22 --by day --chart year.svg --format json
is "$status" 0 "400 days: exit 0"
is "$(printf '%s' "$out" | jq length)" 400 "400 rows"
xmllint --noout year.svg
ok $? "the SVG of 400 points is well-formed"
is "$(bars year.svg)" 400 "400 bars"
n=$(labels year.svg)
ok "$([ "$n" -ge 20 ] && [ "$n" -le 100 ]; echo $?)" "labels thinned: $n of 400 shown"
w=$(xmllint --xpath 'string(/*/@width)' year.svg)
ok "$([ "$w" -le 1600 ]; echo $?)" "the chart stays a sane width ($w px)"

# --- 1 point, and a user name that needs escaping --------------------------------------
run carnet-stats --from 2026-11 --by user --chart one.svg
xmllint --noout one.svg
ok $? "one point: well-formed"
is "$(bars one.svg)" 1 "one bar"
like "$(cat one.svg)" 'JK &amp; &lt;co&gt;' "the user's name is escaped"
like "$(cat one.svg)" '<circle ' "a single reply rate is drawn as a point"

# --- an empty period -------------------------------------------------------------------
run carnet-stats --from 2024-01 --by user --chart none.svg
xmllint --noout none.svg
ok $? "no data: still a well-formed chart"
is "$(bars none.svg)" 0 "with no bar"
like "$(cat none.svg)" 'no messages in this period' "and says so"

# --- --chart - ----------------------------------------------------------------------------
run carnet-stats --from 2026-11-20 --to 2026-11-22 --by day --chart -
like "$out" '^<\?xml' "--chart - off a terminal: SVG on stdout"
unlike "$out" 'day,count' "and no table"
if command -v script >/dev/null; then
	LC_ALL=C script -qec "carnet-stats --from 2026-11-19 --to 2026-11-22 --by day --chart -" /dev/null |
		tr -d '\r' >tty.out
	# the longest bar (6 SMS) is 40 columns: 6.67 a message, parts rounded
	# cumulatively; 11-19: 2 delivered, 1 failed, 1 pending
	is "$(sed -n '3,6p' tty.out)" "2026-11-19 #############xxxxxxx.......              4  delivered 66.7%  replies 25.0%
2026-11-20 ####################                     3  delivered 100.0%  replies 0.0%
2026-11-21 ###########################              4  delivered 100.0%  replies 25.0%
2026-11-22 #################################xxxxxxx 6  delivered 83.3%  replies 0.0%" \
		"--chart - on a terminal: one text line per day, delivered #, failed x, pending ., in proportion"
	is "$(sed -n 2p tty.out)" "           # delivered  x failed  . pending   (SMS (segments))" "a key"
else
	ok 0 "# SKIP script(1) not installed"
fi

# --- errors ------------------------------------------------------------------------------
run carnet-stats --by day --chart /nonexistent/dir/x.svg
is "$status" 73 "a chart file that cannot be created: exit 73"
like "$err" "/nonexistent/dir/x.svg: cannot create" "with the file named"
done_testing
