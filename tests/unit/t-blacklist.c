/*
 * t-blacklist.c - unit tests of lib/blacklist.c: reasons and their
 * strength, add/upgrade/unchanged, remove (STOP only when forced), START,
 * batches (all or nothing, inside a caller's transaction), the checker,
 * the listing and the sync marks.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "tap.h"

static struct cn_store *st;
static sqlite3 *db;

/* The first column of the first row of sql as text ("" if none). */
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

static void
test_reasons(void)
{
	enum cn_bl_reason r = CN_BL_NONE;

	ok(cn_blacklist_reason_parse("stop", &r) == 0 && r == CN_BL_STOP,
	   "'stop' parses as STOP");
	ok(cn_blacklist_reason_parse("NPAI", &r) == 0 && r == CN_BL_NPAI,
	   "'NPAI' parses");
	ok(cn_blacklist_reason_parse("Undeliverable", &r) == 0 &&
	   r == CN_BL_NPAI, "'undeliverable' is NPAI");
	ok(cn_blacklist_reason_parse("MANUAL", &r) == 0 && r == CN_BL_MANUAL,
	   "'MANUAL' parses");
	r = CN_BL_STOP;
	ok(cn_blacklist_reason_parse("spam", &r) < 0 && r == CN_BL_STOP,
	   "an unknown reason fails and leaves out alone");
	ok(cn_blacklist_reason_parse(NULL, &r) < 0, "NULL fails");
	is_str(cn_blacklist_reason_name(CN_BL_STOP), "STOP", "name of STOP");
	is_str(cn_blacklist_reason_name(CN_BL_MANUAL), "manual",
	       "name of manual");
	is_str(cn_blacklist_reason_name(CN_BL_NONE), "", "name of none");
	ok(CN_BL_STOP > CN_BL_NPAI && CN_BL_NPAI > CN_BL_MANUAL,
	   "STOP > NPAI > manual");
}

static void
test_normalize(const struct cn_phone_rules *fr)
{
	char out[CN_ADDRESS_MAX];
	struct cn_err err;

	ok(cn_blacklist_normalize(fr, "06 12 34 56 78", out, sizeof(out),
				  &err) == 0, "a national number normalises");
	is_str(out, "+33612345678", "to E.164");
	cn_blacklist_normalize(fr, "+33 6 12 34 56 78", out, sizeof(out),
			       &err);
	is_str(out, "+33612345678", "an international one to the same");
	cn_blacklist_normalize(fr, " Ann@Example.FR ", out, sizeof(out), &err);
	is_str(out, "Ann@example.fr", "an email: trimmed, domain lower-cased");
	ok(cn_blacklist_normalize(fr, "06 12", out, sizeof(out), &err) < 0,
	   "a short number fails");
	is_str(err.msg, "invalid phone '06 12': too short", "with the reason");
	is_int(err.code, CN_EDATA, "as bad data");
	ok(cn_blacklist_normalize(fr, "a@b", out, sizeof(out), &err) < 0 &&
	   err.code == CN_EDATA, "a bad email fails");
}

static void
test_add(void)
{
	struct cn_blacklist_result res;
	struct cn_err err;
	char uuid[37];

	ok(cn_blacklist_add(st, "+33612345678", CN_BL_MANUAL, "operator",
			    "asked", "ann", &res, &err) == 0, "add manual");
	is_int(res.action, CN_BL_ADDED, "a new entry");
	is_int(res.reason, CN_BL_MANUAL, "reason manual");
	is_int(res.previous, CN_BL_NONE, "not listed before");
	is_int(strlen(res.uuid), 36, "with a uuid");
	ok(res.uuid[14] == '7', "a version 7 uuid");
	memcpy(uuid, res.uuid, sizeof(uuid));
	is_str(q("SELECT reason || '|' || source || '|' || note || '|' || "
		 "u.name FROM blacklist b JOIN user u ON u.id = b.user_id "
		 "WHERE address = '+33612345678'"),
	       "manual|operator|asked|ann", "stored with source, note, user");
	is_str(q("SELECT state || '|' || deleted FROM sync_item WHERE kind = "
		 "'blacklist'"), "pending|0", "marked for sync");

	ok(cn_blacklist_add(st, "+33612345678", CN_BL_MANUAL, "operator", NULL,
			    "bob", &res, &err) == 0, "add manual again");
	is_int(res.action, CN_BL_UNCHANGED, "unchanged");
	is_str(q("SELECT u.name FROM blacklist b JOIN user u ON u.id = "
		 "b.user_id"), "ann", "and not touched");

	ok(cn_blacklist_add(st, "+33612345678", CN_BL_NPAI, "sms-send", NULL,
			    NULL, &res, &err) == 0, "add NPAI over manual");
	is_int(res.action, CN_BL_UPGRADED, "upgraded");
	is_int(res.previous, CN_BL_MANUAL, "from manual");
	is_str(res.uuid, uuid, "same uuid");
	is_str(q("SELECT note FROM blacklist"), "asked",
	       "the note is kept when none is given");

	ok(cn_blacklist_optout(st, "+33612345678", "sms-fetch", &res,
			       &err) == 0, "optout over NPAI");
	is_int(res.action, CN_BL_UPGRADED, "upgraded to STOP");
	is_int(res.reason, CN_BL_STOP, "reason STOP");
	is_str(q("SELECT reason || '|' || source || '|' || "
		 "coalesce(user_id, 'none') FROM blacklist"),
	       "STOP|sms-fetch|none", "source and user follow the change");

	ok(cn_blacklist_add(st, "+33612345678", CN_BL_MANUAL, "operator",
			    "again", "ann", &res, &err) == 0,
	   "add manual over STOP");
	is_int(res.action, CN_BL_UNCHANGED, "STOP wins: unchanged");
	is_int(res.reason, CN_BL_STOP, "still STOP");
	is_str(q("SELECT note FROM blacklist"), "asked", "note untouched");
	ok(cn_blacklist_add(st, "+33612345678", CN_BL_NPAI, NULL, NULL, NULL,
			    &res, &err) == 0 && res.action == CN_BL_UNCHANGED,
	   "NPAI over STOP: unchanged");

	ok(cn_blacklist_add(st, "+33612345679", CN_BL_NPAI, NULL, NULL, NULL,
			    &res, &err) == 0 && res.action == CN_BL_ADDED,
	   "add NPAI");
	ok(cn_blacklist_add(st, "+33612345679", CN_BL_MANUAL, NULL, NULL, NULL,
			    &res, &err) == 0 && res.action == CN_BL_UNCHANGED,
	   "manual over NPAI: unchanged");

	ok(cn_blacklist_add(st, "06 12 34 56 78", CN_BL_MANUAL, NULL, NULL,
			    NULL, &res, &err) < 0, "an address not normalised"
	   " is refused");
	is_int(err.code, CN_EDATA, "as bad data");
	ok(cn_blacklist_add(st, "+0612", CN_BL_MANUAL, NULL, NULL, NULL, &res,
			    &err) < 0, "'+0612' is refused");
	ok(cn_blacklist_add(st, "Ann@EXAMPLE.fr", CN_BL_MANUAL, NULL, NULL,
			    NULL, &res, &err) < 0, "an email not normalised "
	   "is refused");
	ok(cn_blacklist_add(st, "+33612340000", CN_BL_NONE, NULL, NULL, NULL,
			    &res, &err) < 0 && err.code == CN_EUSAGE,
	   "reason none is refused");
	{
		char note[1100];

		memset(note, 'x', sizeof(note) - 1);
		note[sizeof(note) - 1] = '\0';
		ok(cn_blacklist_add(st, "+33612340000", CN_BL_MANUAL, NULL,
				    note, NULL, &res, &err) < 0 &&
		   err.code == CN_EDATA, "a note of 1099 bytes is refused");
	}
	ok(cn_blacklist_add(st, "+33612340000", CN_BL_MANUAL, NULL,
			    "caf\xe9", NULL, &res, &err) < 0 &&
	   err.code == CN_EDATA, "a note in Latin-1 is refused");
	is_str(q("SELECT count(*) FROM blacklist"), "2",
	       "refused adds wrote nothing");
	ok(cn_blacklist_add(st, "ann@example.fr", CN_BL_MANUAL, NULL, NULL,
			    NULL, &res, &err) == 0 && res.action == CN_BL_ADDED,
	   "an email address");
}

static void
test_remove(void)
{
	struct cn_blacklist_result res;
	struct cn_err err;
	char uuid[37];
	char sql[256];

	ok(cn_blacklist_remove(st, "+33612345678", 0, &res, &err) < 0,
	   "a STOP entry is not removed without force");
	is_int(err.code, CN_ECHECK, "a check failure");
	is_str(err.msg, "+33612345678 opted out (STOP): only a START from "
	       "that number lifts it", "the message says START");
	is_str(q("SELECT reason FROM blacklist WHERE address = "
		 "'+33612345678'"), "STOP", "still there");

	ok(cn_blacklist_remove(st, "+33699999999", 0, &res, &err) < 0 &&
	   err.code == CN_ENOINPUT, "an address not listed: no input");
	is_str(err.msg, "+33699999999 is not on the blacklist", "message");

	ok(cn_blacklist_remove(st, "+33612345679", 0, &res, &err) == 0,
	   "an NPAI entry is removed");
	is_int(res.action, CN_BL_REMOVED, "removed");
	is_int(res.previous, CN_BL_NPAI, "it was NPAI");
	memcpy(uuid, res.uuid, sizeof(uuid));
	snprintf(sql, sizeof(sql), "SELECT state || '|' || deleted FROM "
		 "sync_item WHERE kind = 'blacklist' AND uuid = '%s'", uuid);
	is_str(q(sql), "pending|1", "marked deleted for sync");

	ok(cn_blacklist_remove(st, "+33612345678", 1, &res, &err) == 0,
	   "a STOP entry is removed with force");
	is_int(res.previous, CN_BL_STOP, "it was STOP");
	is_str(q("SELECT count(*) FROM blacklist WHERE address = "
		 "'+33612345678'"), "0", "gone");
}

static void
test_optin(void)
{
	struct cn_blacklist_result res;
	struct cn_err err;

	cn_blacklist_add(st, "+33611111111", CN_BL_NPAI, NULL, NULL, NULL,
			 &res, &err);
	cn_blacklist_add(st, "+33622222222", CN_BL_MANUAL, NULL, NULL, NULL,
			 &res, &err);
	cn_blacklist_optout(st, "+33622222222", "sms-fetch", &res, &err);
	cn_blacklist_optout(st, "+33633333333", "sms-fetch", &res, &err);
	is_int(res.action, CN_BL_ADDED, "optout of a new number adds it");

	is_int(cn_blacklist_optin(st, "+33611111111", &err), 0,
	       "START does not lift NPAI");
	is_str(q("SELECT reason FROM blacklist WHERE address = "
		 "'+33611111111'"), "NPAI", "NPAI stays");
	is_int(cn_blacklist_optin(st, "+33644444444", &err), 0,
	       "START of a number not listed: nothing");
	is_int(cn_blacklist_optin(st, "+33633333333", &err), 1,
	       "START lifts STOP");
	is_int(cn_blacklist_optin(st, "+33622222222", &err), 1,
	       "START lifts a manual entry upgraded to STOP");
	is_str(q("SELECT count(*) FROM blacklist WHERE address IN "
		 "('+33622222222', '+33633333333')"), "0", "both gone");
	is_int(cn_blacklist_optin(st, "0611", &err), -1, "a bad address");
}

static void
test_batches(void)
{
	struct cn_blacklist_batch *b;
	struct cn_blacklist_checker *ck;
	struct cn_blacklist_result res;
	enum cn_bl_reason r;
	struct cn_err err;
	char before[32], syncs[32], sql[256];

	snprintf(before, sizeof(before), "%s",
		 q("SELECT count(*) FROM blacklist"));
	b = cn_blacklist_batch_open(st, &err);
	ok(b != NULL, "a batch opens");
	ck = cn_blacklist_checker_open(st, &err);
	ok(ck != NULL, "a checker opens");
	ok(cn_blacklist_batch_add(b, "+33655555555", CN_BL_MANUAL, NULL, NULL,
				  "carol", &res, &err) == 0, "add in a batch");
	ok(cn_blacklist_batch_add(b, "bad", CN_BL_MANUAL, NULL, NULL, NULL,
				  &res, &err) < 0, "a bad address fails");
	ok(cn_blacklist_batch_add(b, "+33655555556", CN_BL_STOP, NULL, NULL,
				  "carol", &res, &err) == 0,
	   "and the batch goes on");
	is_int(cn_blacklist_checker_check(ck, "+33655555556", &r, &err), 1,
	       "the checker sees the batch's change");
	is_int(r, CN_BL_STOP, "with its reason");
	cn_blacklist_batch_abort(b);
	is_str(q("SELECT count(*) FROM blacklist"), before,
	       "an aborted batch leaves nothing");
	is_int(cn_blacklist_checker_check(ck, "+33655555556", &r, &err), 0,
	       "the checker sees it gone");
	is_int(r, CN_BL_NONE, "reason none");
	is_str(q("SELECT count(*) FROM user WHERE name = 'carol'"), "0",
	       "not even the user");

	/* inside the caller's transaction: a savepoint */
	snprintf(syncs, sizeof(syncs), "%s", q("SELECT count(*) FROM sync_item"));
	ok(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	   "the caller begins a transaction");
	b = cn_blacklist_batch_open(st, &err);
	ok(b != NULL, "a batch opens inside it");
	cn_blacklist_batch_add(b, "+33655555557", CN_BL_NPAI, NULL, NULL, NULL,
			       &res, &err);
	ok(cn_blacklist_batch_commit(b, &err) == 0, "and is released");
	ok(cn_blacklist_add(st, "+33655555558", CN_BL_NPAI, NULL, NULL, NULL,
			    &res, &err) == 0, "a single add works inside too");
	is_int(cn_blacklist_checker_check(ck, "+33655555557", NULL, &err), 1,
	       "the entry is visible in the transaction");
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	is_str(q("SELECT count(*) FROM blacklist"), before,
	       "the caller's rollback takes it back");
	is_str(q("SELECT count(*) FROM sync_item"), syncs,
	       "and the sync marks");

	b = cn_blacklist_batch_open(st, &err);
	cn_blacklist_batch_add(b, "+33655555559", CN_BL_MANUAL, NULL, NULL,
			       NULL, &res, &err);
	ok(cn_blacklist_batch_remove(b, "+33655555559", 0, &res, &err) == 0,
	   "a batch removes what it added");
	ok(cn_blacklist_batch_commit(b, &err) == 0, "and commits");
	is_str(q("SELECT count(*) FROM blacklist WHERE address = "
		 "'+33655555559'"), "0", "the entry is gone");
	snprintf(sql, sizeof(sql), "SELECT deleted FROM sync_item WHERE "
		 "kind = 'blacklist' AND uuid = '%s'", res.uuid);
	is_str(q(sql), "1", "and its sync mark says deleted");
	is_int(cn_blacklist_lookup(st, "ann@example.fr", &r, &err), 1,
	       "lookup finds an email");
	is_int(cn_blacklist_lookup(st, "+33600000000", &r, &err), 0,
	       "lookup of an unknown number");
	cn_blacklist_checker_close(ck);
	cn_blacklist_checker_close(NULL);
	cn_blacklist_batch_abort(NULL);
}

struct each_ctx {
	char seen[512];
	int n, stop_at;
};

static int
each_fn(void *ctx, const struct cn_blacklist_entry *e)
{
	struct each_ctx *c = ctx;
	size_t len = strlen(c->seen);

	snprintf(c->seen + len, sizeof(c->seen) - len, "%s%s:%s", c->n ? " "
		 : "", e->address, cn_blacklist_reason_name(e->reason));
	c->n++;
	return c->stop_at && c->n >= c->stop_at;
}

static void
test_each(void)
{
	struct each_ctx c;
	struct cn_err err;

	memset(&c, 0, sizeof(c));
	ok(cn_blacklist_each(st, CN_BL_NONE, each_fn, &c, &err) == 0,
	   "each: every entry");
	is_str(c.seen, "+33611111111:NPAI ann@example.fr:manual",
	       "ordered by address");
	memset(&c, 0, sizeof(c));
	cn_blacklist_each(st, CN_BL_NPAI, each_fn, &c, &err);
	is_str(c.seen, "+33611111111:NPAI", "each: the NPAI entries");
	memset(&c, 0, sizeof(c));
	cn_blacklist_each(st, CN_BL_STOP, each_fn, &c, &err);
	is_int(c.n, 0, "each: no STOP entry");
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	ok(cn_blacklist_each(st, CN_BL_NONE, each_fn, &c, &err) == 0 &&
	   c.n == 1, "each stops when the callback says so");
}

int
main(void)
{
	char dir[] = "/tmp/t-blacklist.XXXXXX", path[300];
	struct cn_phone_rules fr;
	struct cn_err err;

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/carnet.db", dir);
	unsetenv("CARNET_NOW");
	st = cn_store_open(path, 5000, &err);
	if (!st) {
		printf("Bail out! %s\n", err.msg);
		return 2;
	}
	db = cn_store_db(st);
	if (cn_phone_rules_init(&fr, "FR", &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 2;
	}
	test_reasons();
	test_normalize(&fr);
	test_add();
	test_remove();
	test_optin();
	test_batches();
	test_each();
	cn_phone_rules_free(&fr);
	cn_store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 2;
	return done_testing();
}
