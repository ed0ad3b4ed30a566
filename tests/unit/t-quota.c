/*
 * t-quota.c - unit tests of lib/quota.c: months in UTC, names, which row
 * applies, the arithmetic of a verdict, the transactions of
 * cn_quota_reserve() and cn_quota_append() (their own, or the caller's:
 * committed, rolled back, refused inside it, a caller's read transaction
 * refused), dry runs, corrections, the verdict record, the usage sums.
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

static int
exec(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A send of sms SMS to recipients for user in folder, this month. */
static struct cn_quota_req
req(const char *folder, const char *user, int64_t sms, int64_t recipients)
{
	struct cn_quota_req r;

	memset(&r, 0, sizeof(r));
	r.folder = folder;
	r.user = user;
	r.sms = sms;
	r.recipients = recipients;
	return r;
}

/* Sets a row: limits in order (CN_QUOTA_KEEP for the ones not given). */
static int
set(const char *folder, const char *user, enum cn_quota_kind kind,
    int64_t send_sms, int64_t send_rcpt, int64_t month_sms,
    int64_t month_rcpt, int mode)
{
	struct cn_quota_change c;
	struct cn_err err;

	cn_quota_change_init(&c);
	c.folder = folder;
	c.user = user;
	c.kind = kind;
	c.limit[CN_QL_SEND_SMS] = send_sms;
	c.limit[CN_QL_SEND_RECIPIENTS] = send_rcpt;
	c.limit[CN_QL_MONTH_SMS] = month_sms;
	c.limit[CN_QL_MONTH_RECIPIENTS] = month_rcpt;
	c.mode = mode;
	if (cn_quota_set(st, &c, NULL, NULL, &err) < 0) {
		printf("# set: %s\n", err.msg);
		return -1;
	}
	return 0;
}

#define K CN_QUOTA_KEEP

static void
test_months(void)
{
	char m[8];

	cn_quota_month(0, m);
	is_str(m, "1970-01", "month of time 0");
	cn_quota_month(1795334400, m);
	is_str(m, "2026-11", "2026-11-22T08:00:00Z is 2026-11");
	cn_quota_month(1796083199, m);
	is_str(m, "2026-11", "the last second of November");
	cn_quota_month(1796083200, m);
	is_str(m, "2026-12", "the first second of December");
	setenv("TZ", "Pacific/Kiritimati", 1);
	cn_quota_month(1796083199, m);
	is_str(m, "2026-11", "UTC whatever TZ says (it is December there)");
	unsetenv("TZ");
	cn_quota_month_now(m);
	is_str(m, "2026-11", "cn_quota_month_now follows CARNET_NOW");
	ok(cn_quota_month_valid("2026-11"), "2026-11 is valid");
	ok(cn_quota_month_valid("1970-01"), "1970-01 is valid");
	ok(cn_quota_month_valid("9999-12"), "9999-12 is valid");
	ok(!cn_quota_month_valid("2026-13"), "2026-13 is not");
	ok(!cn_quota_month_valid("2026-00"), "2026-00 is not");
	ok(!cn_quota_month_valid("1969-12"), "1969-12 is not");
	ok(!cn_quota_month_valid("2026-1"), "2026-1 is not");
	ok(!cn_quota_month_valid("2026-011"), "2026-011 is not");
	ok(!cn_quota_month_valid("2026/11"), "2026/11 is not");
	ok(!cn_quota_month_valid(""), "'' is not");
	ok(!cn_quota_month_valid(NULL), "NULL is not");
}

static void
test_names(void)
{
	enum cn_quota_mode m = CN_QUOTA_WARN;

	is_str(cn_quota_kind_name(CN_QUOTA_SPECIFIC), "specific", "kind name");
	is_str(cn_quota_kind_name(CN_QUOTA_NONE), "none", "kind none");
	is_str(cn_quota_mode_name(CN_QUOTA_WARN), "warn", "mode name");
	ok(cn_quota_mode_parse("block", &m) == 0 && m == CN_QUOTA_BLOCK,
	   "'block' parses");
	ok(cn_quota_mode_parse("Block", &m) < 0 && m == CN_QUOTA_BLOCK,
	   "'Block' does not, and leaves out alone");
	is_str(cn_quota_limit_name(CN_QL_MONTH_RECIPIENTS),
	       "per_month_recipients", "limit name");
	ok(cn_quota_has_limits(CN_QUOTA_SPECIFIC, 0) &&
	   !cn_quota_has_limits(CN_QUOTA_DEFAULT, 0) &&
	   cn_quota_has_limits(CN_QUOTA_DEFAULT, 1) &&
	   !cn_quota_has_limits(CN_QUOTA_UNLIMITED, 1),
	   "which rows hold limits");
}

static void
test_rules(void)
{
	struct cn_quota_rule r;
	char buf[300];

	memset(&r, 0, sizeof(r));
	r.kind = CN_QUOTA_DEFAULT;
	r.limit[CN_QL_SEND_SMS] = 200;
	r.limit[CN_QL_SEND_RECIPIENTS] = CN_QUOTA_NOLIMIT;
	r.limit[CN_QL_MONTH_SMS] = 5000;
	r.limit[CN_QL_MONTH_RECIPIENTS] = 1;
	cn_quota_rule_text(&r, buf, sizeof(buf));
	is_str(buf, "per send 200 SMS; per month 5,000 SMS and 1 recipient; "
		    "block", "the text of a default row's limits");
	cn_quota_rule_where(&r, buf, sizeof(buf));
	is_str(buf, "the default quota, common to all folders", "its place");
	snprintf(r.user, sizeof(r.user), "JK");
	snprintf(r.folder, sizeof(r.folder), "F");
	cn_quota_rule_text(&r, buf, sizeof(buf));
	is_str(buf, "the default quota", "a user row of kind default");
	cn_quota_rule_where(&r, buf, sizeof(buf));
	is_str(buf, "the quota of user JK in folder F", "a user's folder row");
	cn_quota_rule_text(&r, buf, 10);
	is_int((long long)strlen(buf), 9, "a short buffer is cut, "
	       "NUL-terminated");
}

static void
test_effective(void)
{
	struct cn_quota_effective e;
	struct cn_err err;

	ok(cn_quota_effective(st, "F", "JK", &e, &err) == 0 &&
	   e.kind == CN_QUOTA_NONE && !e.known_user,
	   "an empty store: no quota, unknown user");
	is_str(e.source, "no quota; user JK is not in the store", "source");
	set(NULL, NULL, CN_QUOTA_NONE, 200, K, 5000, K, -1);
	cn_quota_effective(st, "F", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_DEFAULT && e.common && e.limit[0] == 200,
	   "4. the common default row");
	set("F", NULL, CN_QUOTA_NONE, 10, K, K, K, -1);
	cn_quota_effective(st, "F", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_DEFAULT && !e.common && e.limit[0] == 10 &&
	   e.limit[2] == CN_QUOTA_NOLIMIT, "3. the folder's default row");
	set(NULL, "JK", CN_QUOTA_UNLIMITED, K, K, K, K, -1);
	cn_quota_effective(st, "F", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_UNLIMITED && e.from_user && e.common &&
	   e.known_user, "2. the user's common row beats the defaults");
	set("F", "JK", CN_QUOTA_NONE, 4, 6, 10, 15, CN_QUOTA_WARN);
	cn_quota_effective(st, "F", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_SPECIFIC && !e.common && e.limit[1] == 6 &&
	   e.mode == CN_QUOTA_WARN, "1. the user's folder row beats all");
	is_str(e.source, "user JK in folder F", "its source");
	set("F", "JK", CN_QUOTA_DEFAULT, K, K, K, K, -1);
	cn_quota_effective(st, "F", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_DEFAULT && e.user_default && !e.from_user &&
	   e.limit[0] == 10, "a user row 'default' skips to the defaults, "
	   "past the user's common row");
	is_str(e.source, "default quota of folder F; user JK follows the "
	       "default", "and says so");
	cn_quota_effective(st, "G", "JK", &e, &err);
	ok(e.kind == CN_QUOTA_UNLIMITED, "in another folder, the user's "
	   "common row");
	ok(cn_quota_remove(st, "F", "JK", 0, NULL, &err) == 0 &&
	   cn_quota_remove(st, NULL, "JK", 0, NULL, &err) == 0 &&
	   cn_quota_remove(st, "F", NULL, 0, NULL, &err) == 0,
	   "rows removed");
	ok(cn_quota_remove(st, "F", NULL, 0, NULL, &err) < 0 &&
	   err.code == CN_ENOINPUT, "removing a missing row: CN_ENOINPUT");
	is_str(q("SELECT count(*) FROM quota"), "1", "the common default row "
	       "is left");
}

static void
test_verdicts(void)
{
	struct cn_quota_req r = req("F", "JK", 8, 4);
	struct cn_quota_verdict v;
	struct cn_err err;

	/* the common default row: 200 per send, 5000 per month */
	ok(cn_quota_check(st, &r, &v, &err) == 0 && v.status == CN_QUOTA_OK,
	   "8 SMS fit");
	is_str(v.reason, "", "no reason when ok");
	r.sms = 201;
	ok(cn_quota_check(st, &r, &v, &err) < 0 && err.code == CN_ECHECK &&
	   v.status == CN_QUOTA_OVER && !v.allowed, "201 SMS: CN_ECHECK");
	is_str(err.msg, "over the per-send SMS quota of user JK in folder F: "
	       "201 > 200 (by 1)", "the error is the reason");
	is_int(v.nover, 1, "one limit gone over");
	is_int(v.over[0].by, 1, "by 1");
	r.sms = -1;
	ok(cn_quota_check(st, &r, &v, &err) < 0 && err.code == CN_EUSAGE,
	   "a negative count: CN_EUSAGE");
	r.sms = CN_QUOTA_MAX + 1;
	ok(cn_quota_check(st, &r, &v, &err) < 0 && err.code == CN_EUSAGE,
	   "a count above CN_QUOTA_MAX: CN_EUSAGE");
	r.sms = 8;
	r.month = "2026-13";
	ok(cn_quota_check(st, &r, &v, &err) < 0 && err.code == CN_EUSAGE,
	   "a bad month: CN_EUSAGE");
	is_str(err.msg, "invalid month '2026-13' (expected YYYY-MM)", "msg");
	r.month = NULL;
	r.folder = "";
	ok(cn_quota_check(st, &r, &v, &err) < 0 && err.code == CN_EUSAGE,
	   "an empty folder name: CN_EUSAGE");
	r.folder = "F";

	/* no quota at all, with a threshold */
	set(NULL, NULL, CN_QUOTA_UNLIMITED, K, K, K, K, -1);
	r.sms = 501;
	r.warn_threshold = 500;
	ok(cn_quota_check(st, &r, &v, &err) == 0 &&
	   v.status == CN_QUOTA_WARNED && v.threshold && v.warn &&
	   v.allowed, "unlimited: above the threshold, warned");
	is_str(v.reason, "501 SMS: above the warning threshold of 500 SMS",
	       "the threshold's reason");
	r.sms = 500;
	ok(cn_quota_check(st, &r, &v, &err) == 0 && !v.warn,
	   "at the threshold: no warning");
	r.warn_threshold = 0;
	set(NULL, NULL, CN_QUOTA_NONE, 200, K, 5000, K, -1);
	r.sms = 8;
}

static void
test_reserve(void)
{
	struct cn_quota_req r = req("F", "R", 6, 1);
	struct cn_quota_verdict v;
	struct cn_err err;
	int64_t id;

	set(NULL, "R", CN_QUOTA_NONE, K, K, 10, K, -1);
	ok(cn_quota_reserve(st, &r, &v, &err) == 0 && v.ledger_id > 0,
	   "reserve in its own transaction");
	ok(sqlite3_get_autocommit(db), "and no transaction is left open");
	is_str(q("SELECT month || ':' || sms || ':' || recipients FROM usage "
		 "ORDER BY id DESC LIMIT 1"), "2026-11:6:1", "the ledger row");
	ok(cn_quota_reserve(st, &r, &v, &err) < 0 && err.code == CN_ECHECK &&
	   v.ledger_id == 0, "a second 6 does not fit in 10");
	is_str(err.msg, "over the monthly SMS quota of user R in all "
	       "folders: 6 + 6 > 10 (by 2)", "why");
	is_str(q("SELECT count(*) FROM usage"), "1", "nothing appended");

	/* inside the caller's write transaction, rolled back */
	r.sms = 4;
	exec("BEGIN IMMEDIATE");
	exec("INSERT INTO setting(key, value) VALUES('caller', '1')");
	ok(cn_quota_reserve(st, &r, &v, &err) == 0 && v.ledger_id > 0,
	   "reserve inside the caller's transaction");
	ok(!sqlite3_get_autocommit(db), "the caller's transaction stays "
	   "open");
	is_str(q("SELECT count(*) FROM usage"), "2", "the caller sees the row");
	exec("ROLLBACK");
	is_str(q("SELECT count(*) FROM usage"), "1", "rolled back with the "
	       "caller's transaction");
	is_str(q("SELECT count(*) FROM setting WHERE key = 'caller'"), "0",
	       "together with the caller's own write");

	/* inside, refused: the caller's transaction goes on */
	exec("BEGIN IMMEDIATE");
	exec("INSERT INTO setting(key, value) VALUES('caller', '2')");
	r.sms = 5;
	ok(cn_quota_reserve(st, &r, &v, &err) < 0 && err.code == CN_ECHECK,
	   "refused inside the caller's transaction");
	ok(!sqlite3_get_autocommit(db), "which stays open");
	r.sms = 4;
	ok(cn_quota_reserve(st, &r, &v, &err) == 0, "a smaller send fits");
	exec("COMMIT");
	is_str(q("SELECT group_concat(sms) FROM usage"), "6,4", "committed "
	       "with the caller's: 6 then 4");
	is_str(q("SELECT value FROM setting WHERE key = 'caller'"), "2",
	       "and the caller's write with it");

	/* a caller's transaction without the write lock is refused */
	exec("BEGIN");
	q("SELECT count(*) FROM usage");
	r.sms = 0;
	ok(cn_quota_reserve(st, &r, &v, &err) < 0 &&
	   err.code == CN_EINTERNAL, "inside a read transaction: refused");
	is_str(err.msg, "quota: the caller's transaction has not taken the "
	       "write lock (open it with BEGIN IMMEDIATE)", "and says why");
	ok(cn_quota_append(st, &r, &id, &err) < 0 &&
	   err.code == CN_EINTERNAL, "append too");
	ok(!sqlite3_get_autocommit(db), "the caller's transaction is left "
	   "alone");
	exec("ROLLBACK");

	/* check then append, under the caller's write lock */
	exec("BEGIN IMMEDIATE");
	r.sms = 1;
	ok(cn_quota_check(st, &r, &v, &err) < 0 && v.used_sms == 10,
	   "check inside the caller's transaction: 10 + 1 > 10");
	r.sms = -4;
	r.recipients = -1;
	ok(cn_quota_append(st, &r, &id, &err) == 0 && id > 0,
	   "append a correction of -4");
	r.sms = 1;
	r.recipients = 1;
	ok(cn_quota_check(st, &r, &v, &err) == 0 && v.used_sms == 6,
	   "then 6 + 1 fits");
	exec("COMMIT");

	/* dry runs */
	r.dry_run = 1;
	ok(cn_quota_reserve(st, &r, &v, &err) == 0 && v.ledger_id == 0,
	   "reserve dry run: allowed, no ledger id");
	ok(cn_quota_append(st, &r, &id, &err) == 0 && id == 0,
	   "append dry run: no ledger id");
	is_str(q("SELECT count(*) FROM usage"), "3", "nothing written");
	r.dry_run = 0;

	/* corrections never below zero */
	r.sms = -7;
	r.recipients = 0;
	ok(cn_quota_append(st, &r, &id, &err) < 0 && err.code == CN_EDATA,
	   "a correction below zero: CN_EDATA");
	is_str(err.msg, "the usage of user R in folder F for 2026-11 would "
	       "become negative: 6 SMS recorded, -7 asked", "with numbers");
	r.sms = -1;
	r.recipients = -2;
	ok(cn_quota_append(st, &r, &id, &err) < 0 && err.code == CN_EDATA,
	   "recipients below zero too");
	is_str(err.msg, "the usage of user R in folder F for 2026-11 would "
	       "become negative: 1 recipients recorded, -2 asked",
	       "only the one that goes below zero");
	r.sms = 1;
	r.recipients = 0;
	r.month = "2026-10";
	r.campaign_id = 0;
	ok(cn_quota_append(st, &r, &id, &err) == 0, "append to another month");
	is_str(q("SELECT month FROM usage ORDER BY id DESC LIMIT 1"),
	       "2026-10", "in that month");
}

struct usage_ctx {
	char text[512];
	int rows, stop_after;
};

static int
usage_fn(void *ctx, const struct cn_quota_usage_row *u)
{
	struct usage_ctx *x = ctx;
	size_t n = strlen(x->text);

	snprintf(x->text + n, sizeof(x->text) - n, "%s %s %s %lld %lld;",
		 u->month, u->folder, u->user ? u->user : "-",
		 (long long)u->sms, (long long)u->recipients);
	return ++x->rows == x->stop_after;
}

static void
test_usage(void)
{
	struct usage_ctx x;
	struct cn_err err;

	memset(&x, 0, sizeof(x));
	ok(cn_quota_usage(st, NULL, NULL, "R", usage_fn, &x, &err) == 0,
	   "usage of R, every month");
	is_str(x.text, "2026-10 F R 1 0;2026-11 F R 6 1;", "sums per month");
	memset(&x, 0, sizeof(x));
	x.stop_after = 1;
	ok(cn_quota_usage(st, NULL, NULL, NULL, usage_fn, &x, &err) == 0 &&
	   x.rows == 1, "the callback stops the walk");
	memset(&x, 0, sizeof(x));
	ok(cn_quota_usage(st, "2026-11", "nowhere", NULL, usage_fn, &x,
			  &err) == 0 && x.rows == 0, "an unknown folder: none");
}

static void
test_record(void)
{
	struct cn_quota_req r = req("F", "W", 8, 4);
	struct cn_quota_verdict v;
	struct cn_record rec;
	struct cn_writer *w;
	struct cn_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	set(NULL, "W", CN_QUOTA_NONE, 5, K, K, K, CN_QUOTA_WARN);
	ok(cn_quota_check(st, &r, &v, &err) == 0 &&
	   v.status == CN_QUOTA_WARNED && !v.threshold,
	   "warn mode: allowed, warned");
	cn_record_init(&rec);
	ok(cn_quota_verdict_record(&v, &r, &rec) == 0, "the verdict record");
	fp = open_memstream(&text, &len);
	w = cn_writer_open(fp, CN_FMT_NDJSON, NULL, 0, NULL, &err);
	cn_writer_put(w, &rec, &err);
	cn_writer_close(w, &err);
	fclose(fp);
	is_str(text,
	       "{\"folder\":\"F\",\"user\":\"W\",\"month\":\"2026-11\",\"sms\":8,"
	       "\"recipients\":4,\"status\":\"warn\",\"allowed\":true,"
	       "\"warn\":true,\"threshold\":false,\"kind\":\"specific\","
	       "\"mode\":\"warn\",\"source\":\"user W, common to all folders\","
	       "\"known_user\":true,\"per_send_sms\":5,"
	       "\"per_send_recipients\":null,\"per_month_sms\":null,"
	       "\"per_month_recipients\":null,\"used_sms\":0,"
	       "\"used_recipients\":0,\"reason\":\"over the per-send SMS quota "
	       "of user W in folder F: 8 > 5 (by 3)\",\"over\":[{\"limit\":"
	       "\"per_send_sms\",\"max\":5,\"used\":0,\"asked\":8,\"by\":3}]}\n",
	       "as JSON");
	free(text);
	cn_record_free(&rec);
}

int
main(void)
{
	char dir[] = "/tmp/t-quota.XXXXXX", path[64];
	struct cn_err err;

	setenv("CARNET_NOW", "1795334400", 1);	/* 2026-11-22T08:00:00Z */
	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/carnet.db", dir);
	st = cn_store_open(path, 5000, &err);
	if (!st) {
		printf("Bail out! %s\n", err.msg);
		return 2;
	}
	db = cn_store_db(st);

	test_months();
	test_names();
	test_rules();
	test_effective();
	test_verdicts();
	test_reserve();
	test_usage();
	test_record();

	cn_store_close(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
