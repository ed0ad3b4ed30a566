#!/usr/bin/env bash
# Folders and users: the same list name in two folders are two lists with
# their own contacts; --folder beats CARNET_FOLDER beats the config's
# folder; --user (CARNET_USER, the config's user, USER) is recorded as the
# list's creator and last editor; ls shows every folder unless --folder.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1
export CARNET_NOW=1795334400

printf 'email,first_name\na@x.fr,Ann\n' >a.csv
printf 'email,first_name\na@x.fr,Anna\nb@x.fr,Bob\n' >b.csv

# list_user FOLDER LIST: "creator,last editor" of a list
list_user() {
	sql_raw "SELECT cu.name || ',' || uu.name FROM list l JOIN folder f ON f.id = l.folder_id
	     LEFT JOIN user cu ON cu.id = l.created_by LEFT JOIN user uu ON uu.id = l.updated_by
	     WHERE f.name = '$1' AND l.name = '$2'"
}

# --- two folders, one list name ---------------------------------------------------------------
run carnet-contacts import --list clients --folder agence-lyon --user alice a.csv
is "$status" 0 "import into folder agence-lyon"
run carnet-contacts import --list clients --folder agence-paris --user bob b.csv
is "$status" 0 "import into folder agence-paris"
is "$out" "clients: 2 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"a@ of another folder is a new contact here"
is "$(export_noid clients --folder agence-lyon | sed 1d)" "a@x.fr,,Ann," "agence-lyon's list is untouched by agence-paris's import"
is "$(export_noid clients --folder agence-paris | sed 1d)" "$(printf '%s\n' 'a@x.fr,,Anna,' 'b@x.fr,,Bob,')" \
	"agence-paris's list has its own contacts"
is "$(sql_raw "SELECT f.name || ':' || c.first_name FROM contact c JOIN folder f ON f.id = c.folder_id WHERE c.email = 'a@x.fr' ORDER BY f.name")" \
	"$(printf '%s\n' 'agence-lyon:Ann' 'agence-paris:Anna')" "each folder has its own contact a@"
run carnet-contacts export --list clients
is "$status" 66 "the folder 'default' has no list clients"
like "$err" "no list 'clients' in folder 'default'" "and says which folder it looked in"
is "$(list_user agence-lyon clients)" "alice,alice" "--user is recorded as creator and editor"
is "$(list_user agence-paris clients)" "bob,bob" "for each list"
run carnet-contacts import --list clients --folder agence-lyon --user carol b.csv
is "$(list_user agence-lyon clients)" "alice,carol" "a later import by another user: creator kept, editor updated"
run carnet-contacts rm --list clients --folder agence-lyon
is "$status" 0 "rm in one folder"
is "$(export_noid clients --folder agence-paris | sed 1d | wc -l)" 2 "leaves the list of the same name in the other folder"
is "$(sql "SELECT count(*) FROM contact c JOIN folder f ON f.id = c.folder_id WHERE f.name = 'agence-paris'")" 2 \
	"and its contacts"

# --- CARNET_FOLDER and the config's folder -------------------------------------------------------
run env CARNET_FOLDER=from-env carnet-contacts import --list L a.csv
is "$status" 0 "import with CARNET_FOLDER"
is "$(sql "SELECT f.name FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'L'")" "from-env" \
	"CARNET_FOLDER chooses the folder"
run env CARNET_FOLDER=from-env carnet-contacts export --list L
is "$status" 0 "export with CARNET_FOLDER finds the list"
printf '%s\nfolder: from-config\nuser: cfguser\n' "$BACKUPS_OFF" >"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-contacts import --list M a.csv
is "$status" 0 "import with folder and user in the config"
is "$(sql "SELECT f.name FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'M'")" "from-config" \
	"the config's folder is used"
is "$(list_user from-config M)" "cfguser,cfguser" "the config's user is recorded"
run env CARNET_FOLDER=env-wins CARNET_USER=envuser carnet-contacts import --list N a.csv
is "$(sql "SELECT f.name FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'N'")" "env-wins" \
	"CARNET_FOLDER beats the config"
is "$(list_user env-wins N)" "envuser,envuser" "CARNET_USER beats the config"
run env CARNET_FOLDER=env-loses CARNET_USER=envuser carnet-contacts import --list P --folder cli-wins --user cliuser a.csv
is "$(sql "SELECT f.name FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'P'")" "cli-wins" \
	"--folder beats CARNET_FOLDER"
is "$(list_user cli-wins P)" "cliuser,cliuser" "--user beats CARNET_USER"
is "$(sql "SELECT count(*) FROM folder WHERE name = 'env-loses'")" 0 "the losing folder is not created"
printf '%s\nuser: cfguser\n' "$BACKUPS_OFF" >"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-contacts import --list Q a.csv
is "$(sql "SELECT f.name FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'Q'")" "default" \
	"without --folder, CARNET_FOLDER or folder: the folder 'default'"
backups_off
run carnet-contacts import --list R a.csv
is "$(list_user default R)" "tester,tester" "without --user, CARNET_USER or user: USER"
run env -u USER carnet-contacts import --list S a.csv
is "$(list_user default S)" "carnet,carnet" "and without USER: carnet"

# --- ls across folders ------------------------------------------------------------------------
run carnet-contacts ls
is "$status" 0 "ls exits 0"
want=$(cat <<'EOF'
folder,list,members,backup,created,updated
agence-paris,clients,2,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
cli-wins,P,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
default,Q,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
default,R,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
default,S,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
env-wins,N,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
from-config,M,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
from-env,L,1,true,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
EOF
)
is "$out" "$want" "ls shows the lists of every folder, by folder then name"
run carnet-contacts ls --folder default
is "$out" "$(printf '%s\n' "$want" | grep -E '^(folder|default),')" "ls --folder shows that folder only"
run carnet-contacts ls --folder none-such
is "$status" 0 "ls --folder of an unknown folder exits 0"
is "$out" "folder,list,members,backup,created,updated" "and prints the header only"
run carnet-contacts ls --folder agence-paris --format json
is "$(printf '%s' "$out" | jq -c 'map([.folder, .list, .members])')" '[["agence-paris","clients",2]]' \
	"ls --folder --format json"
done_testing
