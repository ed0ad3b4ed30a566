/*
 * gen-messages.c - fills a carnet store with SMS history for the
 * carnet-stats benchmark (issue 7): N messages over the 12 months from
 * 2025-11-01 to 2026-10-31 (UTC), 50 users, 20 templates, 5 folders, one
 * campaign per 500 messages, statuses as a real history has them (mostly
 * delivered; some failed, expired, rejected, pending, skipped, simulated),
 * 1 to 3 segments, replies to 8% of the delivered messages and opt-outs
 * from 1%.  Deterministic for a seed.
 *
 *   gen-messages STORE N [SEED]
 *
 * The store must exist with carnet's schema (run any carnet tool on it
 * first); the generator writes with plain SQLite, in one transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define USERS 50
#define TEMPLATES 20
#define FOLDERS 5
#define PER_CAMPAIGN 500
#define T0 INT64_C(1761955200)	/* 2025-11-01T00:00:00Z */
#define T1 INT64_C(1793491200)	/* 2026-11-01T00:00:00Z */

static uint64_t rng_state;

/* xorshift64*: small, fast, the same on every machine */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int64_t
below(int64_t n)
{
	return (int64_t)(rnd() % (uint64_t)n);
}

static void
die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "gen-messages: %s: %s\n", what,
		db ? sqlite3_errmsg(db) : "error");
	exit(1);
}

static void
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(db, sql);
	return s;
}

static void
done(sqlite3 *db, sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die(db, "insert");
	sqlite3_reset(s);
}

/* A status, by the shares of a real history. */
static const char *
status_pick(void)
{
	int64_t r = below(1000);

	if (r < 800) return "delivered";
	if (r < 850) return "failed";
	if (r < 870) return "expired";
	if (r < 880) return "rejected";
	if (r < 950) return "sent";
	if (r < 980) return "skipped";
	return "simulated";
}

int
main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s, *msg, *rep;
	int64_t n, ncamp, id;
	char buf[128];

	if (argc < 3 || (n = strtoll(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: gen-messages STORE N [SEED]\n");
		return 64;
	}
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	rng_state = rng_state * 0x9E3779B97F4A7C15ULL + 1;
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL))
		die(db, argv[1]);
	exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
		 "PRAGMA foreign_keys=OFF; BEGIN");

	s = prep(db, "INSERT INTO folder(id, name, created_at) VALUES(?1, ?2,"
		 " 0)");
	for (int i = 1; i <= FOLDERS; i++) {
		snprintf(buf, sizeof(buf), "agence-%d", i);
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_text(s, 2, buf, -1, SQLITE_TRANSIENT);
		done(db, s);
	}
	sqlite3_finalize(s);
	s = prep(db, "INSERT INTO user(id, name, created_at) VALUES(?1, ?2, 0)");
	for (int i = 1; i <= USERS; i++) {
		snprintf(buf, sizeof(buf), "user%02d", i);
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_text(s, 2, buf, -1, SQLITE_TRANSIENT);
		done(db, s);
	}
	sqlite3_finalize(s);
	s = prep(db, "INSERT INTO template(id, uuid, folder_id, title, body, "
		 "scope, created_at, updated_at) VALUES(?1, ?2, NULL, ?3, "
		 "'Bonjour {{first_name}}', 'common', 0, 0)");
	for (int i = 1; i <= TEMPLATES; i++) {
		snprintf(buf, sizeof(buf), "tpl-%d", i);
		sqlite3_bind_int(s, 1, i);
		sqlite3_bind_text(s, 2, buf, -1, SQLITE_TRANSIENT);
		snprintf(buf, sizeof(buf), "Modèle %02d", i);
		sqlite3_bind_text(s, 3, buf, -1, SQLITE_TRANSIENT);
		done(db, s);
	}
	sqlite3_finalize(s);

	/* campaigns in time order, each sent at one moment; its messages
	 * follow within the hour */
	ncamp = (n + PER_CAMPAIGN - 1) / PER_CAMPAIGN;
	s = prep(db, "INSERT INTO campaign(id, uuid, folder_id, user_id, name,"
		 " template_id, status, created_at, sent_at) VALUES(?1, ?2, ?3,"
		 " ?4, ?5, ?6, 'closed', ?7, ?7)");
	msg = prep(db, "INSERT INTO message(id, ref, campaign_id, folder_id, "
		   "user_id, template_id, phone, body, encoding, segments, "
		   "status, created_at, sent_at, done_at) VALUES(?1, ?2, ?3, "
		   "?4, ?5, ?6, ?7, ?8, 'gsm7', ?9, ?10, ?11, ?11, ?12)");
	rep = prep(db, "INSERT INTO reply(uuid, message_id, campaign_id, "
		   "phone, body, kind, received_at) VALUES(?1, ?2, ?3, ?4, "
		   "?5, ?6, ?7)");
	id = 0;
	for (int64_t c = 1; c <= ncamp; c++) {
		int64_t at = T0 + (T1 - T0 - 7200) * (c - 1) / ncamp;
		int64_t user = 1 + below(USERS);
		int64_t folder = 1 + (user - 1) % FOLDERS;
		int64_t tpl = 1 + below(TEMPLATES) * below(TEMPLATES) /
				      TEMPLATES;	/* some more used */
		int64_t k = n - id < PER_CAMPAIGN ? n - id : PER_CAMPAIGN;

		snprintf(buf, sizeof(buf), "camp-%" PRId64, c);
		sqlite3_bind_int64(s, 1, c);
		sqlite3_bind_text(s, 2, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, folder);
		sqlite3_bind_int64(s, 4, user);
		sqlite3_bind_text(s, 5, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 6, tpl);
		sqlite3_bind_int64(s, 7, at);
		done(db, s);
		for (int64_t j = 0; j < k; j++) {
			const char *st = status_pick();
			char phone[16], ref[32];
			int64_t t = at + j * 7;

			id++;
			snprintf(phone, sizeof(phone), "+336%08" PRId64,
				 below(100000000));
			snprintf(ref, sizeof(ref), "m%" PRId64, id);
			sqlite3_bind_int64(msg, 1, id);
			sqlite3_bind_text(msg, 2, ref, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(msg, 3, c);
			sqlite3_bind_int64(msg, 4, folder);
			sqlite3_bind_int64(msg, 5, user);
			sqlite3_bind_int64(msg, 6, tpl);
			sqlite3_bind_text(msg, 7, phone, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(msg, 8, "Bonjour Marie, une mission "
					  "vous attend demain a 8h. Repondez "
					  "OUI ou NON.", -1, SQLITE_STATIC);
			sqlite3_bind_int64(msg, 9, 1 + below(3));
			sqlite3_bind_text(msg, 10, st, -1, SQLITE_STATIC);
			sqlite3_bind_int64(msg, 11, t);
			if (strcmp(st, "sent") && strcmp(st, "skipped") &&
			    strcmp(st, "simulated"))
				sqlite3_bind_int64(msg, 12, t + 30);
			else
				sqlite3_bind_null(msg, 12);
			done(db, msg);
			if (strcmp(st, "delivered") == 0) {
				int64_t r = below(100);
				const char *kind = r < 8   ? "reply"
						   : r < 9 ? "optout"
							   : NULL;

				if (kind) {
					snprintf(ref, sizeof(ref), "r%" PRId64,
						 id);
					sqlite3_bind_text(rep, 1, ref, -1,
							  SQLITE_TRANSIENT);
					sqlite3_bind_int64(rep, 2, id);
					sqlite3_bind_int64(rep, 3, c);
					sqlite3_bind_text(rep, 4, phone, -1,
							  SQLITE_TRANSIENT);
					sqlite3_bind_text(rep, 5,
							  r < 8 ? "OUI" : "STOP",
							  -1, SQLITE_STATIC);
					sqlite3_bind_text(rep, 6, kind, -1,
							  SQLITE_STATIC);
					sqlite3_bind_int64(rep, 7, t + 600);
					done(db, rep);
				}
			}
		}
	}
	sqlite3_finalize(s);
	sqlite3_finalize(msg);
	sqlite3_finalize(rep);
	exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
	printf("%" PRId64 " messages, %" PRId64 " campaigns\n", n, ncamp);
	return 0;
}
