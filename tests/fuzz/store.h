/*
 * store.h - a scratch store for the targets that need one: created once
 * per process in a private directory (fuzz_tmpdir(); removed at exit), with
 * the clock fixed.  Each run works inside a transaction it rolls back, so
 * that every input meets the same store.
 */
#ifndef FUZZ_STORE_H
#define FUZZ_STORE_H

#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "fuzz.h"

static char fuzz_dir[256];
static struct cn_store *fuzz_st;

static void
fuzz_store_remove(void)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
	char p[300];

	if (fuzz_st)
		cn_store_close(fuzz_st);
	fuzz_st = NULL;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(p, sizeof(p), "%s/carnet.db%s", fuzz_dir, tails[i]);
		unlink(p);
	}
	rmdir(fuzz_dir);
}

/* Opens the scratch store and runs sql (setup rows) on it. */
static struct cn_store *
fuzz_store(const char *sql)
{
	char path[300];
	struct cn_err err;
	char *msg = NULL;

	setenv("CARNET_NOW", "1795000000", 1);	/* 2026-11-18 */
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/carnet-fuzz.XXXXXX",
		 fuzz_tmpdir());
	if (!mkdtemp(fuzz_dir))
		fuzz_fail("cannot create %s", fuzz_dir);
	atexit(fuzz_store_remove);
	snprintf(path, sizeof(path), "%s/carnet.db", fuzz_dir);
	if (!(fuzz_st = cn_store_open(path, 1000, &err)))
		fuzz_fail("store: %s", err.msg);
	if (sql && sqlite3_exec(cn_store_db(fuzz_st), sql, NULL, NULL, &msg) !=
		    SQLITE_OK)
		fuzz_fail("setup: %s", msg);
	return fuzz_st;
}

#endif
