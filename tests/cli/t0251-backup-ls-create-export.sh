#!/usr/bin/env bash
# carnet-backup ls (by folder, list and date; --list, --folder, --format
# json/ndjson), create (a manual backup, its line and its JSON form),
# export (CSV by default, JSON, NDJSON, --delimiter: exactly what
# `carnet-contacts export` printed when the backup was taken, typed JSON
# attributes included), and the usage errors of these commands.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
D1=1795334400	# 2026-11-22T08:00:00Z
D0=$((D1 - 86400))	# 2026-11-21T08:00:00Z

cat >clients.csv <<'EOF'
email,phone,first_name,last_name,city,code
alice@example.fr,06 12 34 56 78,Alice,Martin,Lyon,C001
bob@example.com,0690 12 34 56,Bob,Durand,Pointe-à-Pitre,
chloe@example.org,07 23 45 67 89,Chloé,"Petit, Jr","Paris",C003
EOF
# a list from JSON: attributes keep their types; a value with a quote, a
# comma and a line break
printf '%s\n' \
	'{"email":"a@x.fr","first_name":"Ann","score":42,"vip":true,"tags":["x","y"],"addr":{"city":"Lyon"}}' \
	'{"email":"b@x.fr","phone":"0612345678","note":"hello, \"world\"\nline2","score":1.5}' \
	'{"phone":"0611111111","last_name":"Ünïcode €"}' >j.ndjson
export CARNET_NOW=$D1
carnet-contacts import -q --list clients clients.csv >/dev/null
carnet-contacts import -q --list json j.ndjson >/dev/null
carnet-contacts import -q --folder lyon --list clients clients.csv >/dev/null

# --- create ------------------------------------------------------------------------
for fmt in csv json ndjson; do
	carnet-contacts export --list clients --format $fmt >clients0.$fmt
	carnet-contacts export --list json --format $fmt >json0.$fmt
done
carnet-contacts export --list clients --delimiter ';' >clients0-semi.csv
run carnet-backup create --list clients
is "$status" 0 "create exits 0"
f1=$(sql "SELECT file FROM backup WHERE id = 1")
is "$out" "backup 1 of list 'clients' (folder 'default'): 3 rows, $(stat -c %s "$f1") bytes, sha256 $(sha256sum "$f1" | cut -d' ' -f1)" \
	"create prints the id, list, folder, rows, size and sha256"
is "$err" "" "and nothing on stderr"
run carnet-backup create --list json --format json
is "$status" 0 "create --format json exits 0"
is "$(printf '%s' "$out" | jq -c '[.id, .folder, .list, .reason, .rows, .user, .created]')" \
	'[2,"default","json","manual",3,"tester","2026-11-22T08:00:00Z"]' "create --format json: one JSON object"
is "$(printf '%s' "$out" | jq -r .sha256)" "$(sha256sum "$(sql "SELECT file FROM backup WHERE id = 2")" | cut -d' ' -f1)" \
	"with the file's sha256"
# an earlier date taken later, and a backup of the other folder
CARNET_NOW=$D0 carnet-backup create --list clients >/dev/null	# id 3
carnet-backup --folder lyon create --list clients >/dev/null	# id 4
run carnet-backup --user ops create --list clients	# id 5
is "$(sql "SELECT u.name FROM backup b JOIN user u ON u.id = b.user_id WHERE b.id = 5")" ops \
	"--user names who took it"
run carnet-backup create --list nope
is "$status" 66 "create of a missing list exits 66"
is "$err" "carnet-backup: no list 'nope' in folder 'default'" "and names it"
is "$(sql "SELECT count(*) FROM backup")" 5 "and records nothing"
run carnet-backup create
is "$status" 64 "create without --list exits 64"
like "$err" "create: --list NAME is required" "and says so"

# change the lists after the backups
printf 'email,city\nalice@example.fr,Nantes\nnew@example.fr,Metz\n' >up.csv
carnet-contacts import -q --list clients --mode replace up.csv >/dev/null
printf '{"email":"a@x.fr","score":0}\n' | carnet-contacts import -q --list json --mode replace >/dev/null

# --- ls ---------------------------------------------------------------------------------
run carnet-backup ls
is "$status" 0 "ls exits 0"
is "$(printf '%s\n' "$out" | cut -d, -f1-7,9)" "id,folder,list,created,reason,rows,size,user
3,default,clients,2026-11-21T08:00:00Z,manual,3,$(sql "SELECT size FROM backup WHERE id = 3"),tester
1,default,clients,2026-11-22T08:00:00Z,manual,3,$(sql "SELECT size FROM backup WHERE id = 1"),tester
5,default,clients,2026-11-22T08:00:00Z,manual,3,$(sql "SELECT size FROM backup WHERE id = 5"),ops
6,default,clients,2026-11-22T08:00:00Z,import,3,$(sql "SELECT size FROM backup WHERE id = 6"),tester
2,default,json,2026-11-22T08:00:00Z,manual,3,$(sql "SELECT size FROM backup WHERE id = 2"),tester
7,default,json,2026-11-22T08:00:00Z,import,3,$(sql "SELECT size FROM backup WHERE id = 7"),tester
4,lyon,clients,2026-11-22T08:00:00Z,manual,3,$(sql "SELECT size FROM backup WHERE id = 4"),tester" \
	"ls: every folder, by folder, list and date (then id)"
run carnet-backup ls --list json
is "$(printf '%s\n' "$out" | cut -d, -f1,3)" "$(printf '%s\n' id,list 2,json 7,json)" "ls --list: only that list's backups"
run carnet-backup ls --list clients --folder lyon
is "$(printf '%s\n' "$out" | cut -d, -f1-3)" "$(printf '%s\n' id,folder,list 4,lyon,clients)" \
	"ls --folder: only that folder"
run carnet-backup ls --list nope
is "$status,$out" "0,id,folder,list,created,reason,rows,size,sha256,user,file" \
	"ls of a list without backups: the header alone, exit 0"
run carnet-backup ls --list clients --format json
is "$status" 0 "ls --format json exits 0"
is "$(printf '%s' "$out" | jq -r 'type + " " + (length|tostring)')" "array 5" "ls --format json is one array"
is "$(printf '%s' "$out" | jq -c '.[] | [.id, .folder, .list, .reason, .rows]' | head -2)" \
	"$(printf '%s\n' '[3,"default","clients","manual",3]' '[1,"default","clients","manual",3]')" \
	"its objects carry id, folder, list, reason and rows, numbers as numbers"
is "$(printf '%s' "$out" | jq -c '.[0] | keys_unsorted')" \
	'["id","folder","list","created","reason","rows","size","sha256","user","file"]' \
	"each object has the documented keys"
is "$(printf '%s' "$out" | jq -r '.[] | select(.id == 6) | .sha256')" \
	"$(sha256sum "$(sql "SELECT file FROM backup WHERE id = 6")" | cut -d' ' -f1)" \
	"the sha256 in ls is the file's"
run carnet-backup ls --format ndjson --list json
is "$(printf '%s\n' "$out" | jq -c '[.id, .reason]')" "$(printf '%s\n' '[2,"manual"]' '[7,"import"]')" \
	"ls --format ndjson: one object per line"

# --- export ------------------------------------------------------------------------------------
run carnet-backup export 1
is "$status" 0 "export exits 0"
is "$err" "" "and writes nothing on stderr"
printf '%s\n' "$out" >got.csv
ok "$(cmp -s got.csv clients0.csv; echo $?)" "export (CSV by default) is the list's export when the backup was taken"
for fmt in csv json ndjson; do
	carnet-backup export 1 --format $fmt >got.$fmt
	ok "$(cmp -s got.$fmt clients0.$fmt; echo $?)" "export --format $fmt equals carnet-contacts export --format $fmt then"
	carnet-backup export 2 --format $fmt >gotj.$fmt
	ok "$(cmp -s gotj.$fmt json0.$fmt; echo $?)" "the same for a list with typed attributes ($fmt)"
done
carnet-backup export 1 --delimiter ';' >got-semi.csv
ok "$(cmp -s got-semi.csv clients0-semi.csv; echo $?)" "export --delimiter ';' equals the export with that delimiter"
is "$(carnet-backup export 2 --format json | jq -c '.[0] | [.score, .vip, .tags, .addr]')" \
	'[42,true,["x","y"],{"city":"Lyon"}]' "JSON attributes keep their types through a backup"
is "$(carnet-backup export 6 | sed -n 2p | cut -d, -f2-)" "alice@example.fr,+33612345678,Alice,Martin,Lyon,C001" \
	"the automatic backup holds the row before the replace"
unlike "$(carnet-backup export 6)" "new@example.fr" "and not the rows the replace brought"
run carnet-backup export 99
is "$status" 66 "export of an unknown backup exits 66"
is "$err" "carnet-backup: no backup 99" "and says which"
is "$out" "" "and prints nothing on stdout"
run carnet-backup export abc
is "$status" 64 "export of something that is not an id exits 64"
like "$err" "'abc' is not a backup id" "and says so"
run carnet-backup export
is "$status" 64 "export without an id exits 64"
run carnet-backup export 1 --delimiter '""'
is "$status" 64 "a bad delimiter exits 64"

# --- usage --------------------------------------------------------------------------------------
run carnet-backup
is "$status" 64 "no command exits 64"
like "$err" "no command" "and says so"
run carnet-backup frobnicate
is "$status" 64 "an unknown command exits 64"
like "$err" "unknown command 'frobnicate'" "and names it"
run carnet-backup ls extra
is "$status" 64 "ls with an operand exits 64"
run carnet-backup ls --format xml
is "$status" 64 "an unknown format exits 64"
run carnet-backup --bogus ls
is "$status" 64 "an unknown option exits 64"
run carnet-backup --help
is "$status" 0 "--help exits 0"
like "$out" "^usage: carnet-backup" "--help prints the usage on stdout"
like "$out" "carnet-backup export 42 --format csv > clients-2026-11-20.csv" "with the issue's examples"
run carnet-backup --version
like "$status $out" "^0 carnet-backup [0-9]" "--version prints the version"
printf 'backup:\n  retention_days: abc\n' >bad.yaml
chmod 600 bad.yaml
run carnet-backup --config bad.yaml prune
is "$status" 78 "a bad configuration exits 78"
like "$err" "bad.yaml:2:.*retention_days: expected an integer, got 'abc'" "and names the file, line and key"
run carnet-restore --config bad.yaml 1
is "$status" 78 "carnet-restore too"
run carnet-backup --config missing.yaml ls
is "$status" 78 "a missing --config file exits 78"
run carnet backup ls --list json
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 2 7 " "carnet backup ls works through the dispatcher"
done_testing
