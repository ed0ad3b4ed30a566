/*
 * t-sync.c - unit tests of lib/sync.c without a server: kinds and
 * policies, cn_sync_mark (keeps the revision), status (items made before
 * sync was used become pending; new contacts by their ids), the summary,
 * conflicts and --take on nothing, and runs that fail before writing
 * anything (no URL, a server that does not answer).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "tap.h"

static struct cn_store *st;
static sqlite3 *db;

static const char *
q(const char *sql)
{
	static char buf[512];
	sqlite3_stmt *s;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return "(bad sql)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

struct seen {
	int n, pending;
	char kinds[256];
};

static int
count_item(void *ctx, const struct cn_sync_item *it)
{
	struct seen *s = ctx;

	s->n++;
	if (strcmp(it->state, "pending") == 0)
		s->pending++;
	strncat(s->kinds, it->kind, sizeof(s->kinds) - strlen(s->kinds) - 2);
	strcat(s->kinds, " ");
	return 0;
}

static int
count_conflict(void *ctx, const struct cn_sync_conflict *c)
{
	(void)c;
	(*(int *)ctx)++;
	return 0;
}

int
main(void)
{
	char path[] = "/tmp/t-sync-XXXXXX";
	char file[64];
	struct cn_err err;
	unsigned m;
	enum cn_sync_policy p;
	struct seen s;
	struct cn_sync_summary sm;
	struct cn_sync_opts o;
	struct cn_sync_stats stats;
	int n;

	/* --- kinds and policies --- */
	ok(cn_sync_kinds_parse("lists,contacts", &m) == 0 &&
	   m == (CN_SYNC_LISTS | CN_SYNC_CONTACTS), "kinds: lists,contacts");
	ok(cn_sync_kinds_parse("lists,contacts,blacklists,templates,campaigns",
			       &m) == 0 && m == CN_SYNC_ALL, "kinds: all five");
	ok(cn_sync_kinds_parse("", &m) == 0 && m == 0, "kinds: none");
	ok(cn_sync_kinds_parse("lists,messages", &m) < 0,
	   "kinds: messages go with campaigns, not alone");
	ok(cn_sync_kinds_parse("lists,bogus", &m) < 0, "kinds: unknown");
	ok(cn_sync_policy_parse("ask", &p) == 0 && p == CN_SYNC_ASK,
	   "policy: ask");
	ok(cn_sync_policy_parse("newer", &p) < 0, "policy: unknown");
	is_str(cn_sync_policy_name(CN_SYNC_REMOTE), "remote", "policy name");

	/* --- a store --- */
	if (!mkdtemp(path))
		return 1;
	snprintf(file, sizeof(file), "%s/s.db", path);
	st = cn_store_open(file, 5000, &err);
	ok(st != NULL, "store opens");
	if (!st)
		return 1;
	db = cn_store_db(st);
	sqlite3_exec(db,
		     "INSERT INTO folder(id, name, created_at) VALUES(1, "
		     "'default', 0);"
		     "INSERT INTO list(uuid, folder_id, name, created_at, "
		     "updated_at) VALUES('l-1', 1, 'clients', 0, 0);"
		     "INSERT INTO contact(id, folder_id, email, created_at, "
		     "updated_at) VALUES(1, 1, 'a@x.fr', 0, 5), (2, 1, "
		     "'b@x.fr', 0, 6);"
		     "INSERT INTO blacklist(uuid, address, reason, created_at, "
		     "updated_at) VALUES('b-1', '+33611111111', 'STOP', 0, 0);",
		     NULL, NULL, NULL);

	/* --- status adopts what no tool marked --- */
	memset(&s, 0, sizeof(s));
	ok(cn_sync_status(st, CN_SYNC_ALL, 1, count_item, &s, &err) == 0,
	   "status runs");
	is_int(s.n, 4, "status: 4 items (a list, 2 contacts, 1 entry)");
	is_int(s.pending, 4, "status: all pending");
	is_str(s.kinds, "blacklist contact contact list ", "in kind order");
	is_str(q("SELECT changed_at FROM sync_item WHERE kind = 'contact' "
		 "ORDER BY uuid DESC LIMIT 1"), "6",
	       "a new contact's change time is its updated_at");
	is_str(q("SELECT value FROM setting WHERE key = 'sync_contact_hw'"), "2",
	       "the contacts' high-water mark moves to 2");

	/* --- a new contact above the mark is seen the next time --- */
	sqlite3_exec(db, "UPDATE sync_item SET state = 'synced', rev = '1-a'",
		     NULL, NULL, NULL);
	sqlite3_exec(db, "INSERT INTO contact(id, folder_id, email, "
		     "created_at, updated_at) VALUES(3, 1, 'c@x.fr', 0, 7)",
		     NULL, NULL, NULL);
	memset(&s, 0, sizeof(s));
	cn_sync_status(st, CN_SYNC_ALL, 1, count_item, &s, &err);
	is_int(s.n, 1, "status --pending: only the new contact");
	memset(&s, 0, sizeof(s));
	cn_sync_status(st, CN_SYNC_LISTS, 0, count_item, &s, &err);
	is_int(s.n, 1, "status of lists only: one");

	/* --- cn_sync_mark keeps the revision --- */
	ok(cn_sync_mark(st, "blacklist", "b-1", 1, &err) == 0, "mark");
	is_str(q("SELECT state || ',' || deleted || ',' || rev FROM sync_item "
		 "WHERE uuid = 'b-1'"), "pending,1,1-a",
	       "marked deleted and pending, the revision kept");
	ok(cn_sync_summary(st, CN_SYNC_ALL, &sm, &err) == 0, "summary");
	is_int(sm.pending, 2, "summary: 2 pending");
	is_int(sm.deleted_pending, 1, "summary: 1 of them a deletion");
	is_int(sm.synced, 3, "summary: 3 synced");
	is_int(sm.last_sync, 0, "summary: never synced");

	/* --- conflicts: none; take on nothing --- */
	n = 0;
	ok(cn_sync_conflicts(st, 0, count_conflict, &n, &err) == 0 && n == 0,
	   "no open conflicts");
	ok(cn_sync_take(st, 42, 1, &err) < 0 && err.code == CN_ENOINPUT,
	   "take of an unknown conflict: CN_ENOINPUT");
	sqlite3_exec(db, "INSERT INTO sync_conflict(kind, uuid, local, remote, "
		     "created_at) VALUES('blacklist', 'b-1', NULL, "
		     "'{\"address\":\"+33622222222\",\"reason\":\"manual\","
		     "\"_rev\":\"2-b\"}', 0)", NULL, NULL, NULL);
	sqlite3_exec(db, "UPDATE sync_item SET state = 'conflict' WHERE uuid "
		     "= 'b-1'", NULL, NULL, NULL);
	ok(cn_sync_take(st, 1, 1, &err) == 0, "take remote");
	is_str(q("SELECT address || ',' || reason FROM blacklist WHERE uuid = "
		 "'b-1'"), "+33622222222,manual",
	       "the server's version is applied");
	is_str(q("SELECT state FROM sync_item WHERE uuid = 'b-1'"), "synced",
	       "and the item is synced");
	n = 0;
	cn_sync_conflicts(st, 1, count_conflict, &n, &err);
	is_int(n, 1, "one resolved conflict");

	/* --- runs that cannot start --- */
	memset(&o, 0, sizeof(o));
	o.kinds = CN_SYNC_ALL;
	o.push = o.pull = 1;
	o.database = "carnet";
	ok(cn_sync_run(st, &o, &stats, &err) < 0 && err.code == CN_ECONFIG,
	   "no URL: CN_ECONFIG");
	o.url = "http://127.0.0.1:9";
	o.timeout_s = 2;
	sqlite3_exec(db, "PRAGMA wal_checkpoint", NULL, NULL, NULL);
	ok(cn_sync_run(st, &o, &stats, &err) < 0 && err.code == CN_ETEMP,
	   "unreachable: CN_ETEMP");
	ok(strstr(err.msg, "try again later") != NULL,
	   "the message says to try later");
	is_str(q("SELECT value FROM setting WHERE key = 'sync_device_id'"), "",
	       "nothing written, not even a device id");
	o.url = "ftp://example.org";
	ok(cn_sync_run(st, &o, &stats, &err) < 0 && err.code == CN_ECONFIG,
	   "not http: CN_ECONFIG");

	cn_store_close(st);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
