#!/usr/bin/env bash
# carnet-stats: the counting rules on states the sending paths reach only
# by accident, set up with SQL: a message still preparing (a send killed
# mid-way) is not sent; a message refused at hand-over (failed, no
# sent_at) counts at the time it failed; weeks start on Monday across a
# month and a year; months; campaigns with their names; messages without
# user or template; the ranking by recipients and --top; the default
# period; and every usage error (exit 64, nothing printed on stdout).
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1798675200	# 2026-12-31T00:00:00Z (a Thursday)

carnet-stats >/dev/null	# creates the store
D=86400
TS=1798675200
sql "INSERT INTO folder(id, name, created_at) VALUES(1, 'default', 0);
INSERT INTO user(id, name, created_at) VALUES(1, 'JK', 0);
INSERT INTO template(id, uuid, title, body, created_at, updated_at) VALUES
  (1, 't1', 'Relance', 'x', 0, 0), (2, 't2', 'Accueil', 'x', 0, 0);
INSERT INTO campaign(id, uuid, folder_id, user_id, name, created_at) VALUES
  (1, 'c1', 1, 1, 'dec', 0), (2, 'c2', 1, NULL, 'jan', 0);
INSERT INTO message(ref, campaign_id, folder_id, user_id, template_id, phone, body,
  encoding, segments, status, created_at, sent_at, done_at) VALUES
  ('a', 1, 1, 1, 1, '+33600000001', 'x', 'gsm7', 3, 'delivered', $TS, $TS, $TS),
  ('b', 1, 1, 1, 1, '+33600000002', 'x', 'gsm7', 3, 'preparing', $TS, NULL, NULL),
  ('c', 1, 1, 1, 2, '+33600000003', 'x', 'gsm7', 1, 'failed', $TS - 3 * $D, NULL, $TS - 3 * $D),
  ('d', 1, 1, 1, 2, '+33600000004', 'x', 'gsm7', 1, 'delivered', $TS - 4 * $D, $TS - 4 * $D, NULL),
  ('e', 1, 1, 1, 2, '+33600000005', 'x', 'gsm7', 1, 'delivered', $TS - 4 * $D, $TS - 4 * $D, NULL),
  ('f', 2, 1, NULL, NULL, '+33600000006', 'x', 'gsm7', 2, 'sent', $TS + $D, $TS + $D, NULL),
  ('g', 2, 1, NULL, NULL, '+33600000007', 'x', 'gsm7', 2, 'delivered', $TS + 4 * $D, $TS + 4 * $D, NULL);
INSERT INTO reply(uuid, message_id, campaign_id, phone, body, kind, received_at) VALUES
  ('r1', 7, 2, '+33600000007', 'oui', 'reply', $TS + 4 * $D),
  ('r2', NULL, NULL, '+33600000099', 'hello', 'unsolicited', $TS),
  ('r3', 2, 1, '+33600000002', 'oui', 'reply', $TS);"

# the default period is this month: December 2026
# a (3 SMS delivered), c (1 failed, no sent_at: counts on the 28th), d, e
# (1 each, delivered); b is preparing: not counted; f, g are in January
run carnet-stats
is "$out" "from,to,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients
2026-12-01,2026-12-31,sms,6,4,5,1,0,83.3,0,0,0,0.0,0,0,0" \
	"this month by default; preparing not counted; refused at hand-over counted; a reply to a preparing message not counted"

# weeks: Monday 2026-12-21 (d, e on the 27th... Sunday), Monday 2026-12-28
# (c on the 28th, a on the 31st), Monday 2027-01-04 (g on 4 Jan); f on
# Friday 1 Jan is in the week of Monday 28 Dec
run carnet-stats --from 2026-12-21 --to 2027-01-10 --by week --count recipients
is "$out" "week,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients
2026-12-21,recipients,2,2,2,0,0,100.0,0,0,0,0.0,0,0,0
2026-12-28,recipients,6,3,1,1,1,50.0,0,0,0,0.0,0,0,0
2027-01-04,recipients,2,1,1,0,0,100.0,0,1,1,100.0,0,0,0" \
	"--by week: named by their Monday, across the year; pending f outside the rate"

run carnet-stats --from 2026-11 --to 2027-01 --by month
is "$(printf '%s\n' "$out" | cut -d, -f1,3,4)" "month,sms,recipients
2026-11,0,0
2026-12,6,4
2027-01,4,2" "--by month over three months, November empty"

# campaigns, with their names; a campaign without a user; messages without template
run carnet-stats --from 2026-12 --to 2027-01 --by campaign,user,template --format json
is "$(printf '%s' "$out" | jq -c '.[] | [.campaign, .campaign_name, .user, .template, .sms, .recipients]')" \
'["1","dec","JK","Accueil",3,3]
["1","dec","JK","Relance",3,1]
["2","jan",null,null,4,2]' "--by campaign,user,template: names, null user and template"

# templates ranked by SMS, then by recipients; --top
run carnet-stats templates --from 2026-12 --to 2027-01
is "$(printf '%s\n' "$out" | cut -d, -f1,2,4,5)" "rank,template,sms,recipients
1,Accueil,3,3
2,Relance,3,1" "templates by SMS (a tie: by title); messages without a template left out"
run carnet-stats templates --from 2026-12 --to 2027-01 --count sms --top 1
is "$(printf '%s\n' "$out" | cut -d, -f1,2)" "rank,template
1,Accueil" "--top 1"
sql "UPDATE message SET segments = 5 WHERE ref = 'a'"
run carnet-stats templates --from 2026-12 --count recipients
is "$(printf '%s\n' "$out" | cut -d, -f1,2,4,5)" "rank,template,sms,recipients
1,Accueil,3,3
2,Relance,5,1" "--count recipients ranks by recipients"
run carnet-stats templates --from 2026-12
is "$(printf '%s\n' "$out" | cut -d, -f1,2)" "rank,template
1,Relance
2,Accueil" "and by SMS by default"

# a campaign is counted whatever its dates, its preparing message left out
run carnet-stats campaign 1 --format csv
is "$(printf '%s\n' "$out" | cut -d, -f2,9-14 | tail -n 1)" "dec,sms,8,4,7,1,0" \
	"campaign 1: 8 SMS to 4 recipients, 7 delivered, 1 failed"

# a campaign by its name; an unknown name
run carnet-stats campaign dec --format csv
is "$(printf '%s\n' "$out" | cut -d, -f1,2 | tail -n 1)" "1,dec" "a campaign by its name"
run carnet-stats campaign nope
is "$status,$err" "66,carnet-stats: no campaign 'nope'" "an unknown name: exit 66"
sql "INSERT INTO folder(id, name, created_at) VALUES(2, 'lyon', 0);
INSERT INTO campaign(id, uuid, folder_id, name, created_at) VALUES(3, 'c3', 2, 'dec', 0);"
run carnet-stats campaign dec
is "$status,$err" "64,carnet-stats: 2 campaigns are named 'dec' (one per folder): give its id, or --folder" \
	"a name in two folders: exit 64"
run carnet-stats campaign dec --folder lyon --format csv
is "$(printf '%s\n' "$out" | cut -d, -f1-3 | tail -n 1)" "3,dec,lyon" "--folder picks one"

# --- usage errors: exit 64, nothing on stdout -------------------------------------------
for args in "--by hour" "--by day,month" "--by user,user" "--by user," "--count pages" \
	"--from 2026-13-01" "--from 2026-02-30" "--to 26-01-01" \
	"--from 2026-12-10 --to 2026-12-01" "--top 3" "templates --by user" "templates --top 0" \
	"campaign" "campaign 1 2" "campaign 1 --by day" "frobnicate"; do
	# shellcheck disable=SC2086
	run carnet-stats $args
	is "$status,$out" "64," "carnet-stats $args: exit 64"
done
run carnet-stats --by hour
is "$err" "carnet-stats: --by: unknown key 'hour' (day, week, month, folder, user, campaign, template)
Try 'carnet-stats --help' for more information." "the message names the bad key and the good ones"
run carnet-stats --from 2026-12-10 --to 2026-12-01
like "$err" "carnet-stats: --to 2026-12-01 is before --from 2026-12-10" "a period backwards"
done_testing
