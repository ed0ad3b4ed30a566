/*
 * t-snapshot.c - unit tests of cn_snapshot_write() and
 * cn_snapshot_restore(): the archive's members as tar(1) sees them,
 * sha256sum -c, the list exports, the redacted configuration, the CSV of
 * the tables, a restore that gives back the same tables, and every
 * refusal (non-empty target, truncated or damaged archive, a member that
 * does not match its checksum, a newer schema, unsafe paths), with
 * nothing written; and a consistent copy while another connection holds
 * uncommitted rows.  Runs in its own temporary directory, which is also
 * $TMPDIR, and uses tar(1) and sha256sum(1).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "tap.h"

/* the schema version as a string, for the messages that quote it */
#define STR_(x) #x
#define XSTR(x) STR_(x)

#define TOP "carnet-snapshot-20261121T101010Z"

static char tmp[256];	/* the test's directory */

static const char *
P(const char *rel)
{
	static char bufs[8][1024];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp, rel);
	return b;
}

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/* Runs a shell command in the test's directory; returns its exit code. */
static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The output of a shell command (malloc'ed). */
static char *
run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	char buf[4096];
	size_t n;

	if (!p || !m)
		die(cmd);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	pclose(p);
	fclose(m);
	return out;
}

/* The contents of a file (malloc'ed), or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *out = NULL;
	size_t len = 0;
	FILE *m;
	char buf[4096];
	size_t n;

	if (!fp)
		return NULL;
	m = open_memstream(&out, &len);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, m);
	fclose(fp);
	fclose(m);
	return out;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		die(path);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

static char *
sha_of(const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
	return run(cmd);
}

/* Number of entries of a directory (not . and ..), -1 if none. */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
import(struct cn_store *st, const struct cn_phone_rules *ph,
       const char *folder, const char *list, const char *csv)
{
	FILE *fp = fmemopen((void *)csv, strlen(csv), "r");
	struct cn_import_opts o;
	struct cn_import_stats stats;
	struct cn_reader *rd;
	struct cn_err err;

	rd = cn_reader_open(fp, "mem.csv", CN_FMT_CSV, NULL, &err);
	memset(&o, 0, sizeof(o));
	o.folder = folder;
	o.user = "tester";
	o.list = list;
	o.mode = CN_MODE_UPSERT;
	o.key = CN_KEY_AUTO;
	o.phone = ph;
	if (!rd || cn_contacts_import(st, rd, &o, &stats, &err) < 0) {
		fprintf(stderr, "import: %s\n", err.msg);
		exit(2);
	}
	cn_reader_close(rd);
	fclose(fp);
}

/* What cn_contacts_export writes for a list (malloc'ed). */
static char *
export(struct cn_store *st, const char *folder, const char *list)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	struct cn_err err;

	if (cn_contacts_export(st, folder, list, m, CN_FMT_CSV, NULL,
			       &err) < 0)
		fprintf(stderr, "export: %s\n", err.msg);
	fclose(m);
	return out;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every table of the store at path, each table's rows sorted, as text. */
static char *
dump(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *t, *q;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL))
		die(path);
	sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = "
			   "'table' ORDER BY name", -1, &t, NULL);
	while (sqlite3_step(t) == SQLITE_ROW) {
		char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"",
					    sqlite3_column_text(t, 0));
		char **rows = NULL;
		size_t n = 0;

		fprintf(m, "== %s\n", sqlite3_column_text(t, 0));
		sqlite3_prepare_v2(db, sql, -1, &q, NULL);
		while (sqlite3_step(q) == SQLITE_ROW) {
			char *row = NULL;
			size_t rl = 0;
			FILE *r = open_memstream(&row, &rl);

			for (int i = 0; i < sqlite3_column_count(q); i++)
				fprintf(r, "%d:%s|", sqlite3_column_type(q, i),
					sqlite3_column_text(q, i)
						? (const char *)
							  sqlite3_column_text(q,
									      i)
						: "");
			fclose(r);
			rows = realloc(rows, (n + 1) * sizeof(*rows));
			rows[n++] = row;
		}
		sqlite3_finalize(q);
		sqlite3_free(sql);
		if (n)
			qsort(rows, n, sizeof(*rows), cmp_str);
		for (size_t i = 0; i < n; i++) {
			fprintf(m, "%s\n", rows[i]);
			free(rows[i]);
		}
		free(rows);
	}
	sqlite3_finalize(t);
	sqlite3_close(db);
	fclose(m);
	return out;
}

/* The line of a listing that ends with suffix (in place), or NULL. */
static char *
line_of(char *listing, const char *suffix)
{
	size_t n = strlen(suffix);

	for (char *l = listing; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (len >= n && memcmp(l + len - n, suffix, n) == 0) {
			if (nl)
				*nl = '\0';
			return l;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static int
has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static int
count_tmp_leftovers(void)
{
	return entries(P("tmp"));
}

/* Re-archives directory rel/TOP with GNU tar into rel.tar.gz. */
static int
retar(const char *rel)
{
	return sh("tar -C '%s' -czf '%s.tar.gz' " TOP, P(rel), P(rel));
}

int
main(void)
{
	static const char *const members[] = {
		"README.txt", "carnet.db", "tables/contact.csv",
		"tables/blacklist.csv", "tables/template.csv",
		"tables/setting.csv", "tables/member.csv",
		"lists/agence/clients.csv", "lists/agence/candidats%2F2026.csv",
		"config.yaml", "SHA256SUMS",
	};
	char longlist[200], rel[512];
	struct cn_phone_rules ph;
	struct cn_store *st, *st2;
	struct cn_err err;
	sqlite3 *other;
	char *s, *t, *before, *after, *listing;
	FILE *fp;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s/t-snapshot.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
						       : "/tmp");
	if (!mkdtemp(tmp))
		die("mkdtemp");
	mkdir(P("tmp"), 0700);
	setenv("TMPDIR", P("tmp"), 1);
	setenv("CARNET_NOW", "1795255810", 1);	/* 2026-11-21T10:10:10Z */
	memset(longlist, 'x', 150);
	longlist[150] = '\0';

	/* a store with three lists, a blacklist entry, a template, a BLOB */
	if (cn_phone_rules_init(&ph, "FR", &err) < 0)
		die("phone rules");
	st = cn_store_open(P("store/carnet.db"), 2000, &err);
	if (!st) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	import(st, &ph, "agence", "clients",
	       "email,phone,first_name,last_name,ville\n"
	       "ann@example.org,0612345678,Ann,Lee,Paris\n"
	       "bob@example.org,,Bob,\"O'Neil, Jr\",\"Lyon\n2e\"\n");
	import(st, &ph, "agence", "candidats/2026",
	       "email,first_name\ncat@example.org,Cat\n");
	import(st, &ph, "autre", longlist,
	       "phone,last_name\n0698765432,Dupont\n");
	rc = sqlite3_exec(cn_store_db(st),
		"INSERT INTO blacklist(uuid, address, reason, source, "
		"created_at, updated_at) VALUES('u1', '+33600000001', 'STOP', "
		"'test', 1, 1);"
		"INSERT INTO template(uuid, title, body, created_at, "
		"updated_at) VALUES('t1', 'Relance', "
		"'Bonjour {first_name}, \"ça\" va?\nSTOP', 1, 1);"
		"INSERT INTO setting(key, value) VALUES('blob', x'00ff10');",
		NULL, NULL, NULL);
	if (rc)
		die("insert");
	put(P("config.yaml"),
	    "# secrets below\n"
	    "folder: agence\n"
	    "sync:\n"
	    "  url: https://alice:hunter2@couch.example.org/db\n"
	    "  username: alice\n"
	    "  password: s3cret\n"
	    "sms:\n"
	    "  twilio:\n"
	    "    auth_token: tok123\n"
	    "  http:\n"
	    "    headers:\n"
	    "      Authorization: Bearer abc999\n"
	    "      X-Trace: keep-me\n", 0600);

	/* ---- writing */
	fp = fopen(P("snap.tar.gz"), "wb");
	rc = cn_snapshot_write(st, P("config.yaml"), fp, &err);
	fclose(fp);
	if (!ok(rc == 0, "snapshot written"))
		printf("# %s\n", err.msg);
	is_int(count_tmp_leftovers(), 0, "no temporary file left in $TMPDIR");

	snprintf(rel, sizeof(rel), "tar tzf '%s'", P("snap.tar.gz"));
	listing = run(rel);
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		char want[300];

		snprintf(want, sizeof(want), TOP "/%s\n", members[i]);
		ok(has(listing, want), "tar tzf lists %s", members[i]);
	}
	snprintf(rel, sizeof(rel), TOP "/lists/autre/%s.csv\n", longlist);
	ok(has(listing, rel), "a path longer than ustar's fields (pax)");
	ok(!has(listing, "sqlite_sequence"), "SQLite's own tables left out");
	free(listing);

	snprintf(rel, sizeof(rel), "tar tvzf '%s'", P("snap.tar.gz"));
	listing = run(rel);
	/* line_of() ends the listing after the line it finds: the last
	 * member first */
	s = line_of(listing, "/tables/contact.csv");
	ok(s && strncmp(s, "-rw------- ", 11) == 0,
	   "the tables' CSV (contact data) are mode 0600 in the archive");
	s = line_of(listing, "/carnet.db");
	ok(s && strncmp(s, "-rw------- ", 11) == 0,
	   "carnet.db is mode 0600 in the archive");
	s = line_of(listing, "/README.txt");
	ok(s && strncmp(s, "-rw------- ", 11) == 0 && has(s, "2026-11-21"),
	   "other members are 0600 too, dated from the snapshot");
	free(listing);

	mkdir(P("x"), 0700);
	is_int(sh("tar -C '%s' -xzf '%s'", P("x"), P("snap.tar.gz")), 0,
	       "tar xzf reads the archive");
	is_int(sh("cd '%s' && sha256sum --quiet -c SHA256SUMS",
		  P("x/" TOP)), 0, "sha256sum -c SHA256SUMS passes");

	s = slurp(P("x/" TOP "/lists/agence/clients.csv"));
	t = export(st, "agence", "clients");
	ok(s && t && strcmp(s, t) == 0 && has(s, "\"O'Neil, Jr\""),
	   "lists/agence/clients.csv is cn_contacts_export's CSV");
	free(s);
	free(t);
	s = slurp(P("x/" TOP "/lists/agence/candidats%2F2026.csv"));
	t = export(st, "agence", "candidats/2026");
	ok(s && t && strcmp(s, t) == 0, "a '/' in a list name is %%2F");
	free(s);
	free(t);
	snprintf(rel, sizeof(rel), "x/" TOP "/lists/autre/%s.csv", longlist);
	s = slurp(P(rel));
	t = export(st, "autre", longlist);
	ok(s && t && strcmp(s, t) == 0 && has(s, "Dupont"),
	   "the list with a long name is exported too");
	free(s);
	free(t);

	s = slurp(P("x/" TOP "/config.yaml"));
	ok(s && !has(s, "s3cret"), "config.yaml: no sync password");
	ok(s && !has(s, "hunter2") && has(s, "couch.example.org"),
	   "config.yaml: the URL keeps its host, not its password");
	ok(s && !has(s, "tok123") && !has(s, "abc999"),
	   "config.yaml: no token, no credential header");
	ok(has(s, "password: <redacted>") || has(s, "password: '<redacted>'"),
	   "config.yaml: the password is <redacted>");
	ok(has(s, "keep-me") && has(s, "folder: agence") &&
		   has(s, "username: alice"),
	   "config.yaml: the other values are kept");
	free(s);

	s = slurp(P("x/" TOP "/tables/blacklist.csv"));
	ok(has(s, "id,uuid,address,reason,") &&
		   has(s, "u1,+33600000001,STOP,test,"),
	   "tables/blacklist.csv: header and row");
	free(s);
	s = slurp(P("x/" TOP "/tables/template.csv"));
	ok(has(s, ",\"Bonjour {first_name}, \"\"ça\"\" va?\nSTOP\","),
	   "tables/template.csv: RFC 4180 quoting");
	free(s);
	s = slurp(P("x/" TOP "/tables/setting.csv"));
	ok(has(s, "key,value\n") && has(s, "\nblob,00ff10\n"),
	   "tables/setting.csv: a BLOB in hexadecimal");
	free(s);
	s = slurp(P("x/" TOP "/tables/contact.csv"));
	ok(has(s, "ann@example.org,+33612345678,Ann,Lee,"),
	   "tables/contact.csv: the contacts");
	free(s);
	s = slurp(P("x/" TOP "/README.txt"));
	ok(has(s, CN_VERSION) && has(s, "Schema version: " XSTR(CN_SCHEMA_VERSION)) &&
		   has(s, "2026-11-21T10:10:10Z"),
	   "README.txt: carnet version, schema version, UTC time");
	ok(has(s, "tables/TABLE.csv") && has(s, "SHA256SUMS") &&
		   has(s, "config.yaml"),
	   "README.txt: says what each file is");
	free(s);

	/* ---- restoring */
	rc = cn_snapshot_restore(P("snap.tar.gz"), P("new/sub/carnet.db"),
				 &err);
	if (!ok(rc == 0, "restore into a new path (directories created)"))
		printf("# %s\n", err.msg);
	{
		struct stat sb;

		ok(stat(P("new/sub/carnet.db"), &sb) == 0 &&
			   (sb.st_mode & 0777) == 0600,
		   "the restored store is mode 0600");
	}
	before = dump(P("store/carnet.db"));
	after = dump(P("new/sub/carnet.db"));
	ok(strlen(before) > 200 && strcmp(before, after) == 0,
	   "the restored store has the same tables and rows");
	free(before);
	free(after);
	st2 = cn_store_open(P("new/sub/carnet.db"), 2000, &err);
	s = st2 ? export(st2, "agence", "clients") : NULL;
	t = export(st, "agence", "clients");
	ok(s && strcmp(s, t) == 0, "the restored store exports the same list");
	free(s);
	free(t);
	cn_store_close(st2);

	before = sha_of(P("new/sub/carnet.db"));
	rc = cn_snapshot_restore(P("snap.tar.gz"), P("new/sub/carnet.db"),
				 &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_EDATA,
	       "restore into a non-empty store is refused");
	ok(has(err.msg, "not empty"), "... saying it is not empty (%s)",
	   err.msg);
	after = sha_of(P("new/sub/carnet.db"));
	is_str(after, before, "... and the target is unchanged");
	is_int(entries(P("new/sub")), 1, "... with no file left beside it");
	free(before);
	free(after);

	st2 = cn_store_open(P("empty/carnet.db"), 2000, &err);
	cn_store_close(st2);
	rc = cn_snapshot_restore(P("snap.tar.gz"), P("empty/carnet.db"),
				 &err);
	if (!ok(rc == 0, "restore into an empty store"))
		printf("# %s\n", err.msg);
	put(P("zero.db"), "", 0600);
	rc = cn_snapshot_restore(P("snap.tar.gz"), P("zero.db"), &err);
	if (!ok(rc == 0, "restore over an empty file"))
		printf("# %s\n", err.msg);

	{	/* from stdin */
		int fd = open(P("snap.tar.gz"), O_RDONLY), save = dup(0);

		dup2(fd, 0);
		close(fd);
		clearerr(stdin);
		rc = cn_snapshot_restore("-", P("stdin.db"), &err);
		dup2(save, 0);
		close(save);
		clearerr(stdin);
		if (!ok(rc == 0, "restore from stdin ('-')"))
			printf("# %s\n", err.msg);
	}

	rc = cn_snapshot_restore(P("nope.tar.gz"), P("r1/carnet.db"), &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_ENOINPUT,
	       "a missing archive is CN_ENOINPUT");
	ok(!exists(P("r1")), "... and nothing is created");

	/* truncated at half */
	is_int(sh("head -c $(( $(stat -c %%s '%s') / 2 )) '%s' > '%s'",
		  P("snap.tar.gz"), P("snap.tar.gz"), P("half.tar.gz")), 0,
	       "(a truncated copy)");
	rc = cn_snapshot_restore(P("half.tar.gz"), P("r2/sub/carnet.db"),
				 &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_EDATA,
	       "a truncated archive is CN_EDATA");
	ok(has(err.msg, "half.tar.gz") && has(err.msg, "truncated"),
	   "... with a message naming the archive (%s)", err.msg);
	ok(!exists(P("r2")), "... and nothing is written");

	/* a flipped byte in the compressed stream */
	is_int(sh("cp '%s' '%s' && printf '\\377' | dd of='%s' bs=1 "
		  "seek=3000 conv=notrunc status=none", P("snap.tar.gz"),
		  P("flip.tar.gz"), P("flip.tar.gz")), 0, "(a damaged copy)");
	rc = cn_snapshot_restore(P("flip.tar.gz"), P("r3/carnet.db"), &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_EDATA,
	       "a damaged archive is CN_EDATA (%s)", err.msg);
	ok(!exists(P("r3")), "... and nothing is written");

	/* GNU tar's own archive of the same files restores */
	is_int(sh("cp -r '%s' '%s'", P("x"), P("g")), 0, "(a copy)");
	retar("g");
	rc = cn_snapshot_restore(P("g.tar.gz"), P("r4/carnet.db"), &err);
	if (!ok(rc == 0, "an archive re-made by GNU tar restores"))
		printf("# %s\n", err.msg);

	/* a flipped byte in carnet.db, with the old SHA256SUMS */
	sh("cp -r '%s' '%s'", P("x"), P("b"));
	sh("printf 'Z' | dd of='%s' bs=1 seek=5000 conv=notrunc status=none",
	   P("b/" TOP "/carnet.db"));
	retar("b");
	rc = cn_snapshot_restore(P("b.tar.gz"), P("r5/carnet.db"), &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_EDATA,
	       "a member that does not match SHA256SUMS is CN_EDATA");
	ok(has(err.msg, "carnet.db") && has(err.msg, "checksum"),
	   "... saying which and why (%s)", err.msg);
	ok(!exists(P("r5")), "... and nothing is written");

	/* a newer schema, with checksums that match */
	sh("cp -r '%s' '%s'", P("x"), P("v"));
	if (sqlite3_open(P("v/" TOP "/carnet.db"), &other) ||
	    sqlite3_exec(other, "PRAGMA user_version=99", NULL, NULL, NULL))
		die("user_version");
	sqlite3_close(other);
	sh("cd '%s' && cut -c67- SHA256SUMS | tr '\\n' '\\0' | "
	   "xargs -0 sha256sum > S && mv S SHA256SUMS", P("v/" TOP));
	retar("v");
	rc = cn_snapshot_restore(P("v.tar.gz"), P("r6/carnet.db"), &err);
	is_int(rc == -1 ? (int)err.code : -1, CN_ECONFIG,
	       "a newer schema version is CN_ECONFIG");
	ok(has(err.msg, "schema version 99 is newer than this carnet (" XSTR(CN_SCHEMA_VERSION) ")"),
	   "... with the versions (%s)", err.msg);

	/* unsafe and foreign archives */
	mkdir(P("e"), 0700);
	mkdir(P("e/a"), 0700);
	put(P("e/b.txt"), "b\n", 0644);
	sh("tar -C '%s' -P -czf '%s' ../b.txt", P("e/a"), P("evil.tar.gz"));
	rc = cn_snapshot_restore(P("evil.tar.gz"), P("r7/carnet.db"), &err);
	ok(rc == -1 && err.code == CN_EDATA && has(err.msg, ".."),
	   "a member path with '..' is refused (%s)", err.msg);
	rc = cn_snapshot_restore(P("x/" TOP "/README.txt"),
				 P("r7/carnet.db"), &err);
	ok(rc == -1 && err.code == CN_EDATA && has(err.msg, "gzip"),
	   "a file that is not gzip is refused (%s)", err.msg);
	sh("tar -C '%s' -czf '%s' " TOP "/README.txt " TOP "/SHA256SUMS",
	   P("x"), P("nodb.tar.gz"));
	rc = cn_snapshot_restore(P("nodb.tar.gz"), P("r7/carnet.db"), &err);
	ok(rc == -1 && err.code == CN_EDATA && has(err.msg, "no carnet.db"),
	   "an archive without carnet.db is refused (%s)", err.msg);
	ok(!exists(P("r7")), "... and nothing is written");

	/* a consistent copy while another connection holds a write
	 * transaction with uncommitted rows */
	if (sqlite3_open(P("store/carnet.db"), &other) ||
	    sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO blacklist("
			 "uuid, address, reason, created_at, updated_at) "
			 "VALUES('u2', 'UNCOMMITTED', 'manual', 2, 2)",
			 NULL, NULL, NULL))
		die("open transaction");
	fp = fopen(P("snap2.tar.gz"), "wb");
	rc = cn_snapshot_write(st, NULL, fp, &err);
	fclose(fp);
	if (!ok(rc == 0, "snapshot while another connection writes"))
		printf("# %s\n", err.msg);
	sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(other);
	mkdir(P("y"), 0700);
	sh("tar -C '%s' -xzf '%s'", P("y"), P("snap2.tar.gz"));
	s = slurp(P("y/" TOP "/tables/blacklist.csv"));
	ok(has(s, "+33600000001") && !has(s, "UNCOMMITTED"),
	   "the uncommitted row is not in the snapshot");
	free(s);
	rc = cn_snapshot_restore(P("snap2.tar.gz"), P("r8/carnet.db"), &err);
	s = rc == 0 ? dump(P("r8/carnet.db")) : NULL;
	ok(s && !has(s, "UNCOMMITTED") && has(s, "+33600000001"),
	   "... nor in its store copy");
	free(s);
	ok(!exists(P("y/" TOP "/config.yaml")),
	   "without a configuration file there is no config.yaml");
	is_int(sh("cd '%s' && sha256sum --quiet -c SHA256SUMS",
		  P("y/" TOP)), 0, "... and SHA256SUMS still checks");

	/* a write error */
	fp = fopen("/dev/full", "wb");
	if (fp) {
		rc = cn_snapshot_write(st, NULL, fp, &err);
		fclose(fp);
		is_int(rc == -1 ? (int)err.code : -1, CN_ECANTCREAT,
		       "a write error is CN_ECANTCREAT");
	} else {
		ok(1, "# skip no /dev/full");
	}
	is_int(count_tmp_leftovers(), 0, "no temporary file left after it");

	/* a configuration that is not YAML: nothing written */
	put(P("bad.yaml"), "a: [1, 2\n", 0600);
	fp = fopen(P("snap3.tar.gz"), "wb");
	rc = cn_snapshot_write(st, P("bad.yaml"), fp, &err);
	fclose(fp);
	{
		struct stat sb;

		ok(rc == -1 && err.code == CN_ECONFIG &&
			   stat(P("snap3.tar.gz"), &sb) == 0 && sb.st_size == 0,
		   "a bad config fails before any output (%s)", err.msg);
	}

	cn_store_close(st);
	cn_phone_rules_free(&ph);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
