/*
 * t-fetch.c - unit tests of lib/fetch.c and lib/fetch-kannel.c: the STOP
 * and START keywords, URL decoding, event records, Kannel callbacks
 * (bit masks, %p, charsets), the transaction and event queue (events
 * only after a commit, none after a rollback).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "tap.h"

static struct cn_store *st;
static sqlite3 *db;
static char events[4096];

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
on_event(void *ctx, const struct cn_event *ev)
{
	size_t n = strlen(events);

	(void)ctx;
	snprintf(events + n, sizeof(events) - n, "%s:%s:%s;",
		 cn_event_kind_name(ev->kind), ev->number ? ev->number : "-",
		 ev->status ? ev->status : "-");
	return 0;
}

static void
test_keywords(void)
{
	static const char *const stops[] = {
		"STOP", "stop", "Stop.", "  STOP  ", "STOP SMS", "stop-sms",
		"Stop sms !", "ARRET", "Arrêt", "ARRÊT", "arret!!", "STOPSMS",
		"\"Stop\"",
	};
	static const char *const others[] = {
		"Stop appeler", "stopper", "non", "", "STOP STOP STOP",
		"je veux arrêter", "ARRETEZ",
	};

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		is_int(cn_sms_keyword(stops[i]), 1, "'%s' is STOP", stops[i]);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		is_int(cn_sms_keyword(others[i]), 0, "'%s' is not a keyword",
		       others[i]);
	is_int(cn_sms_keyword("Start"), 2, "'Start' is START");
	is_int(cn_sms_keyword("START SMS."), 2, "'START SMS.' is START");
	is_int(cn_sms_keyword(NULL), 0, "NULL is nothing");
}

static void
test_decode(void)
{
	char out[32];

	ok(cn_url_decode("a+b%20c%2B%C3%A0", 16, out, sizeof(out)) == 0,
	   "decodes");
	is_str(out, "a b c+\xc3\xa0", "'+' is a space, %%XX a byte");
	ok(cn_url_decode("100%", 4, out, sizeof(out)) < 0,
	   "a lone '%%' fails");
	memset(out, 'x', sizeof(out));
	ok(cn_url_decode("ab%zz", 5, out, sizeof(out)) < 0 &&
	   strcmp(out, "ab") == 0,
	   "a '%%' without two hex digits fails (out still terminated)");
	ok(cn_url_decode("a%00b", 5, out, sizeof(out)) < 0, "a NUL fails");
	ok(cn_url_decode("abcdef", 6, out, 4) < 0, "too long fails");
}

static void
test_record(void)
{
	struct cn_event ev = {
		.kind = CN_EV_REPLY, .time = 1795334400, .campaign = 7,
		.message = "ref", .number = "+33600000001", .status = "reply",
		.text = "oui",
	};
	struct cn_record r;

	cn_record_init(&r);
	ok(cn_event_to_record(&ev, &r) == 0, "an event becomes a record");
	is_int((long)r.nfields, (long)cn_event_ncolumns, "with every column");
	is_str(cn_record_get(&r, "time")->value, "2026-11-22T08:00:00Z",
	       "time in ISO 8601 UTC");
	is_str(cn_record_get(&r, "campaign")->value, "7", "campaign id");
	ok(cn_record_get(&r, "campaign")->type == CN_V_NUM, "as a number");
	cn_record_free(&r);
}

static void
test_kannel(struct cn_fetch *f)
{
	struct cn_err err;

	sqlite3_exec(db,
		     "INSERT INTO folder(name, created_at) VALUES('d', 0);"
		     "INSERT INTO campaign(uuid, folder_id, name, status,"
		     " created_at, sent_at) VALUES('c', 1, 'c', 'sent', 0, 0);"
		     "INSERT INTO message(ref, campaign_id, folder_id, phone,"
		     " body, encoding, segments, status, created_at, sent_at)"
		     " VALUES('r1', 1, 1, '+33600000001', 'x', 'gsm7', 1,"
		     " 'sent', 0, 0), ('r2', 1, 1, '+33600000002', 'x', 'gsm7',"
		     " 1, 'preparing', 0, NULL);",
		     NULL, NULL, NULL);
	events[0] = '\0';
	ok(cn_fetch_kannel(f, "ref=r1&type=4&p=%2B33600000001", 30, &err) == 0,
	   "a buffered report");
	is_str(q("SELECT status FROM message WHERE ref = 'r1'"), "sent",
	       "does not move a sent message");
	is_str(events, "", "and gives no event");
	ok(cn_fetch_kannel(f, "ref=r2&type=8&p=0600000002", 26, &err) == 0,
	   "an SMSC-accepted report for a message in doubt");
	is_str(q("SELECT status FROM message WHERE ref = 'r2'"), "sent",
	       "marks it sent");
	is_str(events, "receipt:+33600000002:sent;",
	       "the event names the handset in E.164");
	ok(cn_fetch_kannel(f, "ref=r1&type=18", 14, &err) == 0,
	   "type 18 (16 + 2)");
	is_str(q("SELECT status FROM message WHERE ref = 'r1'"), "rejected",
	       "is rejected: bits, not equality");
	ok(cn_fetch_kannel(f, "ref=r1", 6, &err) < 0 && err.code == CN_EDATA,
	   "a report without type is bad data");
	ok(cn_fetch_kannel(f, "x=1", 3, &err) < 0 && err.code == CN_EDATA,
	   "neither a report nor an MO is bad data");
	ok(cn_fetch_kannel(f, "from=%2B33600000009&text=%E9t%E9&charset=ISO-8859-1",
			   51, &err) == 0, "an MO in ISO-8859-1");
	is_str(q("SELECT body FROM reply WHERE phone = '+33600000009'"),
	       "\xc3\xa9t\xc3\xa9", "is stored in UTF-8");
	ok(cn_fetch_kannel(f, "from=%2B33600000009&text=%FF&charset=UTF-8", 42,
			   &err) < 0 && err.code == CN_EDATA,
	   "invalid UTF-8 is bad data");

	/* the queue: events after commit only */
	events[0] = '\0';
	ok(cn_fetch_begin(f, &err) == 0, "begin");
	ok(cn_fetch_kannel(f, "from=%2B33600000001&text=STOP", 29, &err) == 0,
	   "a STOP inside a transaction");
	is_str(events, "", "no event before the commit");
	cn_fetch_rollback(f);
	is_str(events, "", "none after a rollback");
	is_str(q("SELECT count(*) FROM blacklist"), "0",
	       "and the STOP is rolled back");
	ok(cn_fetch_kannel(f, "from=%2B33600000001&text=STOP", 29, &err) == 0,
	   "the same STOP on its own");
	is_str(events, "optout:+33600000001:STOP;", "one event after it");
}

int
main(void)
{
	char dir[] = "/tmp/t-fetch.XXXXXX", path[300];
	struct cn_phone_rules fr;
	struct cn_fetch_opts o = {0};
	struct cn_fetch *f;
	struct cn_err err;

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/carnet.db", dir);
	setenv("CARNET_NOW", "1795334400", 1);
	st = cn_store_open(path, 5000, &err);
	if (!st || cn_phone_rules_init(&fr, "FR", &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 2;
	}
	db = cn_store_db(st);
	o.phone = &fr;
	o.on_event = on_event;
	f = cn_fetch_open(st, &o, &err);
	ok(f != NULL, "cn_fetch_open");
	test_keywords();
	test_decode();
	test_record();
	test_kannel(f);
	cn_fetch_close(f);
	cn_phone_rules_free(&fr);
	cn_store_close(st);
	unlink(path);
	{
		char p2[320];

		snprintf(p2, sizeof(p2), "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s-shm", path);
		unlink(p2);
	}
	rmdir(dir);
	return done_testing();
}
