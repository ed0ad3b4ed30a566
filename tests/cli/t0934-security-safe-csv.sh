#!/usr/bin/env bash
# Security (issue 9, point 6): CSV exports neutralise spreadsheet formulas
# (--safe-csv; the default when stdout is a file ending in .csv): a cell
# starting with = + - @, a tab or a CR gets a leading "'" and quotes,
# unless it is an E.164 phone number, which stays a phone number.
# carnet-contacts export and carnet-backup export; pipes, JSON and
# --no-safe-csv are left as they are.
. "$(dirname "$0")/../lib.sh"
backups_off
cat >in.csv <<'IN'
email,phone,first_name,last_name,note,=cmd
a@x.fr,+33612345678,"=HYPERLINK(""http://evil/"",""x"")",@SUM(A1),-2+3,x
b@x.fr,0612345679,+cmd,Plain,+33 6 12 34,y
c@x.fr,,Ann,-,"	tab",z
IN
carnet-contacts import -q --list L in.csv >/dev/null

# --- --safe-csv ------------------------------------------------------------------------
carnet-contacts export --list L --safe-csv | cut -d, -f2- >safe.csv
cat >want.csv <<'W'
email,phone,first_name,last_name,note,"'=cmd"
a@x.fr,+33612345678,"'=HYPERLINK(""http://evil/"",""x"")","'@SUM(A1)","'-2+3",x
b@x.fr,+33612345679,"'+cmd",Plain,"'+33 6 12 34",y
c@x.fr,,Ann,"'-",tab,z
W
file_is safe.csv want.csv "--safe-csv: = + - @ cells and the header neutralised, E.164 phones kept"

# --- the default ---------------------------------------------------------------------------
carnet-contacts export --list L | cut -d, -f2- >pipe.csv
is "$(sed -n 2p pipe.csv)" 'a@x.fr,+33612345678,"=HYPERLINK(""http://evil/"",""x"")",@SUM(A1),-2+3,x' \
	"to a pipe the cells are written as they are"
carnet-contacts export --list L >file.csv
is "$(cut -d, -f2- file.csv)" "$(cat want.csv)" "to a file ending in .csv: neutralised by default"
carnet-contacts export --list L >file.CSV
is "$(cut -d, -f2- file.CSV)" "$(cat want.csv)" "... whatever the case of .csv"
carnet-contacts export --list L >file.txt
is "$(cut -d, -f2- file.txt)" "$(cat pipe.csv)" "to another file: as they are"
carnet-contacts export --list L --no-safe-csv >raw.csv
is "$(cut -d, -f2- raw.csv)" "$(cat pipe.csv)" "--no-safe-csv to a .csv file: as they are"
carnet-contacts export --list L --format json --safe-csv >out.json
is "$(jq -r '.[0].first_name' out.json)" '=HYPERLINK("http://evil/","x")' \
	"JSON output is not touched"

# --- a phone number stays a phone number ---------------------------------------------------
is "$(sed -n 2p safe.csv | cut -d, -f2)" "+33612345678" "an E.164 number is not neutralised"
is "$(sed -n 3p safe.csv | cut -d, -f5)" "\"'+33 6 12 34\"" "a number with spaces (not E.164) is"

# --- carnet-backup export ------------------------------------------------------------------------
printf 'backup:\n  enabled: true\n' >"$XDG_CONFIG_HOME/carnet/config.yaml"
carnet-backup create -q --list L >/dev/null
carnet-backup export 1 >b.csv
is "$(cut -d, -f2- b.csv)" "$(cat want.csv)" "carnet-backup export to a .csv file: neutralised"
carnet-backup export 1 --no-safe-csv | cut -d, -f2- >b-raw.csv
file_is b-raw.csv pipe.csv "carnet-backup export --no-safe-csv: as they are"
carnet-backup export 1 --safe-csv | cut -d, -f2- >b-safe.csv
file_is b-safe.csv want.csv "carnet-backup export --safe-csv to a pipe: neutralised"
done_testing
