/*
 * backup.c - backups of lists: gzip-compressed NDJSON files written
 * atomically beside the store, recorded with their SHA-256; listing,
 * verification, export, reading for restores, retention.
 *
 * The file is written through a stdio stream (fopencookie) that deflates
 * and hashes what cn_contacts_export() writes, so a backup holds exactly
 * what `carnet-contacts export --format ndjson` prints, after a header.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <zlib.h>

#include "carnet.h"
#include "internal.h"

#define CHUNK (256 * 1024)
#define SUFFIX ".ndjson.gz"

const char *
cn_backup_reason_name(enum cn_backup_reason r)
{
	static const char *const names[] = {"import", "delete", "restore",
					    "manual"};

	return (unsigned)r < 4 ? names[r] : "manual";
}

static int
reason_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, cn_backup_reason_name(i)) == 0)
			return i;
	return CN_BACKUP_MANUAL;
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ------------------------------------------------ gzip+sha256 writer */

/*
 * The writer compresses in a thread of its own, so that reading the list
 * out of SQLite and deflating it use two cores, as `sqlite3 | gzip` does.
 * stdio hands it full buffers through a queue of NBUF; memory stays at
 * (NBUF + 2) * CHUNK whatever the list's size.
 */
#define NBUF 4

struct gzw {
	int fd;
	z_stream z;
	EVP_MD_CTX *md;
	unsigned char *out;
	uint64_t size;
	int err;	/* errno of the first failure (thread-owned until join) */

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[NBUF];	/* the buffers; queue slots below */
	size_t len[NBUF];
	int head, count;	/* full buffers waiting: [head, head+count) */
	int fill;		/* the buffer stdio writes into */
	size_t used;		/* bytes in buf[fill] */
	int done;		/* no more input */
	int failed;		/* the thread stopped on an error */
};

static int
gzw_flush_out(struct gzw *g, size_t n)
{
	size_t off = 0;

	EVP_DigestUpdate(g->md, g->out, n);
	while (off < n) {
		ssize_t w = write(g->fd, g->out + off, n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			g->err = errno;
			return -1;
		}
		off += (size_t)w;
	}
	g->size += n;
	return 0;
}

static int
gzw_deflate(struct gzw *g, const void *buf, size_t len, int flush)
{
	g->z.next_in = (unsigned char *)buf;
	g->z.avail_in = (uInt)len;
	do {
		int r;

		g->z.next_out = g->out;
		g->z.avail_out = CHUNK;
		r = deflate(&g->z, flush);
		if (r == Z_STREAM_ERROR) {
			g->err = EIO;
			return -1;
		}
		if (gzw_flush_out(g, CHUNK - g->z.avail_out) < 0)
			return -1;
	} while (g->z.avail_out == 0 ||
		 (flush == Z_FINISH && g->z.avail_in));
	return 0;
}

/* The compressing thread: deflates queued buffers until done. */
static void *
gzw_thread(void *arg)
{
	struct gzw *g = arg;

	for (;;) {
		int slot, rc;

		pthread_mutex_lock(&g->mu);
		while (!g->count && !g->done)
			pthread_cond_wait(&g->cv, &g->mu);
		if (!g->count) {
			pthread_mutex_unlock(&g->mu);
			break;
		}
		slot = g->head;
		pthread_mutex_unlock(&g->mu);

		rc = g->failed ? 0 : gzw_deflate(g, g->buf[slot], g->len[slot],
						 Z_NO_FLUSH);

		pthread_mutex_lock(&g->mu);
		if (rc < 0)
			g->failed = 1;
		g->head = (g->head + 1) % NBUF;
		g->count--;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	if (!g->failed && gzw_deflate(g, "", 0, Z_FINISH) < 0)
		g->failed = 1;
	return NULL;
}

/* Queues buf[fill] for the thread and takes a free buffer.  Returns 0,
 * or -1 if the thread failed. */
static int
gzw_hand_over(struct gzw *g)
{
	int rc;

	pthread_mutex_lock(&g->mu);
	/* one buffer is always ours (fill): at most NBUF - 1 queued */
	while (g->count == NBUF - 1 && !g->failed)
		pthread_cond_wait(&g->cv, &g->mu);
	rc = g->failed ? -1 : 0;
	if (!rc) {
		g->len[g->fill] = g->used;
		g->count++;
		g->fill = (g->head + g->count) % NBUF;
		g->used = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

static ssize_t
gzw_write(void *cookie, const char *buf, size_t len)
{
	struct gzw *g = cookie;
	size_t off = 0;

	while (off < len) {
		size_t n = CHUNK - g->used;

		if (n > len - off)
			n = len - off;
		memcpy(g->buf[g->fill] + g->used, buf + off, n);
		g->used += n;
		off += n;
		if (g->used == CHUNK && gzw_hand_over(g) < 0) {
			errno = g->err ? g->err : EIO;
			return -1;
		}
	}
	return (ssize_t)len;
}

static void
gzw_free(struct gzw *g)
{
	for (int i = 0; i < NBUF; i++)
		free(g->buf[i]);
	free(g->out);
	EVP_MD_CTX_free(g->md);
	memset(g->buf, 0, sizeof(g->buf));
	g->out = NULL;
	g->md = NULL;
}

/* Opens a writer on fd: returns a FILE whose bytes are deflated (gzip,
 * level 1) and hashed on their way to fd by a thread of its own. */
static FILE *
gzw_open(struct gzw *g, int fd)
{
	cookie_io_functions_t io = {NULL, gzw_write, NULL, NULL};
	FILE *fp;
	int ok = 1;

	memset(g, 0, sizeof(*g));
	g->fd = fd;
	g->out = malloc(CHUNK);
	g->md = EVP_MD_CTX_new();
	for (int i = 0; i < NBUF; i++)
		ok &= (g->buf[i] = malloc(CHUNK)) != NULL;
	if (!ok || !g->out || !g->md ||
	    deflateInit2(&g->z, 1, Z_DEFLATED, 15 + 16, 9,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		gzw_free(g);
		return NULL;
	}
	if (!EVP_DigestInit_ex(g->md, EVP_sha256(), NULL)) {
		deflateEnd(&g->z);
		gzw_free(g);
		return NULL;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->thread, NULL, gzw_thread, g) != 0) {
		deflateEnd(&g->z);
		gzw_free(g);
		return NULL;
	}
	fp = fopencookie(g, "w", io);
	if (fp)
		setvbuf(fp, NULL, _IOFBF, CHUNK);
	return fp;
}

/* Flushes stdio, lets the thread finish the gzip stream and the digest.
 * Returns 0 or -1 (errno). */
static int
gzw_close(struct gzw *g, FILE *fp, char sha[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	int rc = fclose(fp) != 0 ? -1 : 0;

	if (!rc && g->used && gzw_hand_over(g) < 0)
		rc = -1;
	pthread_mutex_lock(&g->mu);
	g->done = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	if (g->failed)
		rc = -1;
	deflateEnd(&g->z);
	if (!rc) {
		EVP_DigestFinal_ex(g->md, d, &dl);
		hex(d, dl, sha);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	gzw_free(g);
	if (rc && !g->err)
		g->err = EIO;
	errno = g->err;
	return rc;
}

/* ------------------------------------------------------- gzip reader */

struct gzr {
	int fd;
	z_stream z;
	unsigned char *in;
	int done;	/* Z_STREAM_END seen */
	int bad;	/* 1 truncated, 2 corrupt, 3 read error */
};

static ssize_t
gzr_read(void *cookie, char *buf, size_t len)
{
	struct gzr *g = cookie;

	if (g->done || g->bad)
		return 0;
	g->z.next_out = (unsigned char *)buf;
	g->z.avail_out = (uInt)len;
	while (g->z.avail_out == len) {
		int r;

		if (g->z.avail_in == 0) {
			ssize_t n = read(g->fd, g->in, CHUNK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				g->bad = 3;
				break;
			}
			if (n == 0) {
				g->bad = 1;	/* ended before the stream */
				break;
			}
			g->z.next_in = g->in;
			g->z.avail_in = (uInt)n;
		}
		r = inflate(&g->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			g->done = 1;
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			g->bad = 2;
			break;
		}
	}
	return (ssize_t)(len - g->z.avail_out);
}

static FILE *
gzr_open(struct gzr *g, int fd)
{
	cookie_io_functions_t io = {gzr_read, NULL, NULL, NULL};

	memset(g, 0, sizeof(*g));
	g->fd = fd;
	g->in = malloc(CHUNK);
	if (!g->in || inflateInit2(&g->z, 15 + 16) != Z_OK) {
		free(g->in);
		g->in = NULL;
		return NULL;
	}
	return fopencookie(g, "r", io);
}

static void
gzr_close(struct gzr *g, FILE *fp)
{
	if (fp)
		fclose(fp);
	inflateEnd(&g->z);
	free(g->in);
	g->in = NULL;
}

static const char *
gzr_problem(const struct gzr *g)
{
	switch (g->bad) {
	case 1: return "truncated";
	case 2: return "corrupt compressed data";
	case 3: return "read error";
	}
	return g->done ? NULL : "truncated";
}

/* -------------------------------------------------------------- files */

/* Creates dir and its parents, 0700. */
static int
mkdirs(const char *dir, struct cn_err *err)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return cn_err_set(err, CN_ECONFIG, "bad backup directory '%s'",
				  dir);
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return cn_err_set(err, CN_ECANTCREAT,
						  "%s: cannot create directory:"
						  " %s", p, strerror(errno));
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* Appends name to b with every character but [A-Za-z0-9._-] as '_'. */
static void
add_safe(struct cn_buf *b, const char *name)
{
	for (const char *s = name; *s && s - name < 60; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '-' ||
			 c == '_';

		cn_buf_addc(b, ok && !(s == name && c == '.') ? c : '_');
	}
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

struct list_row {
	int64_t id;
	char uuid[40];
	char folder[128];
	char name[256];
	int backup;
	char *fields;	/* JSON array text or NULL */
};

/* Reads a list's row (by id, or by folder and name).  Returns 1 if
 * found, 0 if not, -1 on error. */
static int
list_read(sqlite3 *db, int64_t id, const char *folder, const char *name,
	  struct list_row *l, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	memset(l, 0, sizeof(*l));
	if (sqlite3_prepare_v2(db,
			       "SELECT l.id, l.uuid, f.name, l.name, l.backup, "
			       "l.fields FROM list l JOIN folder f ON f.id = "
			       "l.folder_id WHERE (?1 IS NOT NULL AND l.id = "
			       "?1) OR (?1 IS NULL AND f.name = ?2 AND l.name "
			       "= ?3)", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (id)
		sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		l->id = sqlite3_column_int64(s, 0);
		snprintf(l->uuid, sizeof(l->uuid), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		snprintf(l->folder, sizeof(l->folder), "%s",
			 (const char *)sqlite3_column_text(s, 2));
		snprintf(l->name, sizeof(l->name), "%s",
			 (const char *)sqlite3_column_text(s, 3));
		l->backup = sqlite3_column_int(s, 4);
		if (sqlite3_column_type(s, 5) == SQLITE_TEXT)
			l->fields = strdup((const char *)sqlite3_column_text(s,
									   5));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = cn_sql_fail(err, db, "store");
	}
	sqlite3_finalize(s);
	return rc;
}

static int64_t
count_members(sqlite3 *db, int64_t list_id)
{
	sqlite3_stmt *s;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM member WHERE list_id "
			       "= ?1", -1, &s, NULL))
		return -1;
	sqlite3_bind_int64(s, 1, list_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

struct written {
	char path[PATH_MAX];
	char sha[65];
	int64_t rows;
	int64_t size;
	int64_t at;
};

/*
 * Writes the backup file of list l (read through the store's connection,
 * in whatever transaction it is in) into dir.  Fills w.  Returns 0, or
 * -1 with err and no file left behind.
 */
static int
write_file(struct cn_store *st, const char *dir, const struct list_row *l,
	   enum cn_backup_reason why, const char *user, struct written *w,
	   struct cn_err *err)
{
	struct cn_buf name, tmp;
	struct gzw g;
	FILE *fp = NULL;
	cJSON *h = NULL;
	char *htxt = NULL, when[32], rnd[7];
	unsigned char rb[3] = {0};
	struct tm tm;
	time_t t;
	int fd = -1, rc = -1;
	int64_t n;

	cn_buf_init(&name, 0);
	cn_buf_init(&tmp, 0);
	w->at = cn_now();
	t = (time_t)w->at;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	if (getrandom(rb, sizeof(rb), 0) != sizeof(rb))
		rb[0] = (unsigned char)getpid();
	hex(rb, 3, rnd);
	if (mkdirs(dir, err) < 0)
		goto out;
	cn_buf_addf(&name, "%s/%.8s--", dir, cn_store_idprefix(st));
	add_safe(&name, l->folder);
	cn_buf_adds(&name, "--");
	add_safe(&name, l->name);
	cn_buf_addf(&name, "--%s-%s-%s" SUFFIX, when, cn_backup_reason_name(why),
		    rnd);
	cn_buf_addf(&tmp, "%s.tmp.XXXXXX", name.ptr);
	if (name.len >= sizeof(w->path)) {
		cn_err_set(err, CN_ECANTCREAT, "%s: path too long", dir);
		goto out;
	}
	fd = mkstemp(tmp.ptr);
	if (fd < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot create: %s", tmp.ptr,
			   strerror(errno));
		goto out;
	}
	fchmod(fd, 0600);
	fp = gzw_open(&g, fd);
	if (!fp) {
		cn_err_set(err, CN_EINTERNAL, "cannot start compression");
		goto out;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	w->rows = count_members(cn_store_db(st), l->id);
	h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "carnet_backup", 1);
	cJSON_AddNumberToObject(h, "schema_version", CN_SCHEMA_VERSION);
	cJSON_AddStringToObject(h, "folder", l->folder);
	cJSON_AddStringToObject(h, "list", l->name);
	cJSON_AddStringToObject(h, "list_id", l->uuid);
	cJSON_AddItemToObject(h, "fields", l->fields ? cJSON_Parse(l->fields)
						     : cJSON_CreateArray());
	cJSON_AddStringToObject(h, "reason", cn_backup_reason_name(why));
	cJSON_AddNumberToObject(h, "rows", (double)w->rows);
	cJSON_AddStringToObject(h, "created_at", when);
	cJSON_AddStringToObject(h, "user", user ? user : "");
	htxt = cJSON_PrintUnformatted(h);
	if (!htxt || fprintf(fp, "%s\n", htxt) < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: write error: %s", tmp.ptr,
			   strerror(g.err ? g.err : EIO));
		goto out;
	}
	n = cn_contacts_export_cp(st, l->folder, l->name, fp, CN_FMT_NDJSON,
				  NULL, "backup.row", err);
	if (n < 0)
		goto out;
	if (n != w->rows) {
		cn_err_set(err, CN_EINTERNAL, "backup of '%s': %lld rows "
			   "written, %lld members", l->name, (long long)n,
			   (long long)w->rows);
		goto out;
	}
	rc = gzw_close(&g, fp, w->sha);
	fp = NULL;
	if (rc < 0 || fsync(fd) < 0) {
		rc = -1;
		cn_err_set(err, CN_ECANTCREAT, "%s: write error: %s", tmp.ptr,
			   strerror(errno ? errno : EIO));
		goto out;
	}
	w->size = (int64_t)g.size;
	close(fd);
	fd = -1;
	cn_crashpoint("backup.written");
	if (rename(tmp.ptr, name.ptr) < 0) {
		rc = -1;
		cn_err_set(err, CN_ECANTCREAT, "%s: cannot rename: %s",
			   name.ptr, strerror(errno));
		goto out;
	}
	fsync_dir(dir);
	cn_crashpoint("backup.renamed");
	memcpy(w->path, name.ptr, name.len + 1);
	rc = 0;
out:
	if (fp) {
		gzw_close(&g, fp, w->sha);
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.len)
		unlink(tmp.ptr);
	cJSON_Delete(h);
	free(htxt);
	cn_buf_free(&name);
	cn_buf_free(&tmp);
	return rc;
}

static int64_t
record(struct cn_store *st, const struct list_row *l,
       enum cn_backup_reason why, const char *user, const struct written *w,
       struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t uid = 0;
	int rc;

	if (user && *user && !(uid = cn_user_id(st, user, err)))
		return -1;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO backup(list_id, folder, list, "
			       "reason, file, rows, size, sha256, "
			       "schema_version, user_id, created_at) VALUES(?1,"
			       " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1,
			       &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, l->id);
	sqlite3_bind_text(s, 2, l->folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, cn_backup_reason_name(why), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, w->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, w->rows);
	sqlite3_bind_int64(s, 7, w->size);
	sqlite3_bind_text(s, 8, w->sha, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 9, CN_SCHEMA_VERSION);
	if (uid)
		sqlite3_bind_int64(s, 10, uid);
	sqlite3_bind_int64(s, 11, w->at);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return sqlite3_last_insert_rowid(db);
}

int64_t
cn_backup_list(struct cn_store *st, const struct cn_backup_policy *p,
	       int64_t list_id, enum cn_backup_reason why, struct cn_err *err)
{
	struct list_row l;
	struct written w;
	int64_t id;
	int r;

	if (!p || (!p->enabled && why != CN_BACKUP_MANUAL))
		return 0;
	r = list_read(cn_store_db(st), list_id, NULL, NULL, &l, err);
	if (r <= 0)
		return r;
	if (!l.backup && why != CN_BACKUP_MANUAL) {
		free(l.fields);
		return 0;
	}
	if (write_file(st, p->dir, &l, why, p->user, &w, err) < 0) {
		free(l.fields);
		return -1;
	}
	id = record(st, &l, why, p->user, &w, err);
	if (id < 0)
		unlink(w.path);
	free(l.fields);
	return id;
}

void
cn_backup_discard(struct cn_store *st, int64_t id)
{
	struct cn_backup_info b;

	/* called before the rollback, while the record is still visible */
	if (id > 0 && cn_backup_get(st, id, &b, NULL) == 0)
		unlink(b.file);
}

int64_t
cn_backup_create(struct cn_store *st, const struct cn_backup_policy *p,
		 const char *folder, const char *list, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct list_row l;
	struct written w;
	int64_t id = -1;
	int r;

	/* read in a read transaction: writers are not blocked meanwhile */
	if (cn_sql_exec(db, "BEGIN", err) < 0)
		return -1;
	r = list_read(db, 0, folder, list, &l, err);
	if (r == 0)
		cn_err_set(err, CN_ENOINPUT, "no list '%s' in folder '%s'",
			   list, folder);
	if (r <= 0 || write_file(st, p->dir, &l, CN_BACKUP_MANUAL, p->user, &w,
				 err) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		free(l.fields);
		return -1;
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (cn_sql_exec(db, "BEGIN IMMEDIATE", err) == 0) {
		id = record(st, &l, CN_BACKUP_MANUAL, p->user, &w, err);
		cn_crashpoint("backup.commit");
		if (id < 0 || cn_sql_exec(db, "COMMIT", err) < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			id = -1;
		}
	}
	if (id < 0)
		unlink(w.path);
	free(l.fields);
	return id;
}

/* ------------------------------------------------------------ listing */

#define INFO_COLS                                                            \
	"SELECT b.id, b.folder, b.list, b.reason, b.created_at, b.rows, "     \
	"b.size, b.sha256, b.file, b.schema_version, coalesce(u.name, '') "  \
	"FROM backup b LEFT JOIN user u ON u.id = b.user_id "

static void
info_fill(sqlite3_stmt *s, struct cn_backup_info *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	snprintf(b->folder, sizeof(b->folder), "%s",
		 (const char *)sqlite3_column_text(s, 1));
	snprintf(b->list, sizeof(b->list), "%s",
		 (const char *)sqlite3_column_text(s, 2));
	b->reason = reason_parse((const char *)sqlite3_column_text(s, 3));
	b->created_at = sqlite3_column_int64(s, 4);
	b->rows = sqlite3_column_int64(s, 5);
	b->size = sqlite3_column_int64(s, 6);
	snprintf(b->sha256, sizeof(b->sha256), "%s",
		 (const char *)sqlite3_column_text(s, 7));
	snprintf(b->file, sizeof(b->file), "%s",
		 (const char *)sqlite3_column_text(s, 8));
	b->schema_version = sqlite3_column_int(s, 9);
	snprintf(b->user, sizeof(b->user), "%s",
		 (const char *)sqlite3_column_text(s, 10));
}

int
cn_backups_each(struct cn_store *st, const char *folder, const char *list,
		cn_backup_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, INFO_COLS
			       "WHERE (?1 IS NULL OR b.folder = ?1) AND (?2 IS "
			       "NULL OR b.list = ?2) ORDER BY b.folder, b.list,"
			       " b.created_at, b.id", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (folder)
		sqlite3_bind_text(s, 1, folder, -1, SQLITE_STATIC);
	if (list)
		sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_backup_info b;

		info_fill(s, &b);
		if (fn(ctx, &b)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

int
cn_backup_get(struct cn_store *st, int64_t id, struct cn_backup_info *b,
	      struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, INFO_COLS "WHERE b.id = ?1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		info_fill(s, b);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return cn_err_set(err, CN_ENOINPUT, "no backup %lld",
				  (long long)id);
	return cn_sql_fail(err, db, "store");
}

/* ------------------------------------------------------ verification */

/* Hashes the file; fills sha and size.  Returns 0, or -1 with errno. */
static int
file_sha(const char *path, char sha[65], int64_t *size)
{
	unsigned char d[EVP_MAX_MD_SIZE], *buf = malloc(CHUNK);
	unsigned int dl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	ssize_t n;

	*size = 0;
	if (fd < 0 || !buf || !md ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	while ((n = read(fd, buf, CHUNK)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += n;
	}
	if (n == 0) {
		EVP_DigestFinal_ex(md, d, &dl);
		hex(d, dl, sha);
		rc = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

/* Checks size and checksum.  Returns 0 if they match, 1 (problem set) if
 * not. */
static int
check_sum(const struct cn_backup_info *b, char *problem, size_t cap)
{
	char sha[65];
	int64_t size;

	if (file_sha(b->file, sha, &size) < 0) {
		snprintf(problem, cap, "%s: %s", errno == ENOENT ? "missing file"
								 : "unreadable",
			 b->file);
		return 1;
	}
	if (size != b->size) {
		snprintf(problem, cap, "size %lld, recorded %lld%s",
			 (long long)size, (long long)b->size,
			 size < b->size ? " (truncated)" : "");
		return 1;
	}
	if (strcmp(sha, b->sha256) != 0) {
		snprintf(problem, cap, "checksum mismatch (sha256 %.12s…, "
			 "recorded %.12s…)", sha, b->sha256);
		return 1;
	}
	return 0;
}

struct cn_backup_reader {
	struct gzr g;
	FILE *fp;
	int fd;
	struct cn_reader *rd;
	char *fields;
	cJSON *fa;	/* fields, parsed */
	const char **cols;
	size_t ncols;
	int64_t rows;	/* from the header */
	const struct cn_backup_info *b;
};

/*
 * Opens the decompressed stream and reads the header.  Returns NULL with
 * problem set (damaged: *damaged = 1) or err.
 */
static struct cn_backup_reader *
open_stream(const struct cn_backup_info *b, char *problem, size_t cap,
	    int *damaged, struct cn_err *err)
{
	struct cn_backup_reader *br = calloc(1, sizeof(*br));
	struct cn_record *rec;
	const struct cn_field *f;
	struct cn_err e;

	*damaged = 0;
	if (!br) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	br->b = b;
	br->fd = open(b->file, O_RDONLY | O_CLOEXEC);
	if (br->fd < 0 || !(br->fp = gzr_open(&br->g, br->fd))) {
		snprintf(problem, cap, "cannot open %s: %s", b->file,
			 strerror(errno));
		*damaged = 1;
		goto fail;
	}
	br->rd = cn_reader_open(br->fp, b->file, CN_FMT_JSON, NULL, &e);
	if (!br->rd || cn_reader_next(br->rd, &rec, &e) != 1) {
		snprintf(problem, cap, "%s",
			 gzr_problem(&br->g) ? gzr_problem(&br->g)
					     : "no header");
		*damaged = 1;
		goto fail;
	}
	f = cn_record_get(rec, "carnet_backup");
	if (!f || f->type != CN_V_NUM) {
		snprintf(problem, cap, "not a carnet backup (no header)");
		*damaged = 1;
		goto fail;
	}
	f = cn_record_get(rec, "schema_version");
	/* the rows are a list's export, unchanged since version 1: any
	 * version up to ours reads */
	if (!f || strtol(f->value, NULL, 10) < 1 ||
	    strtol(f->value, NULL, 10) > CN_SCHEMA_VERSION) {
		snprintf(problem, cap, "schema version %s, this carnet reads "
			 "1 to %d", f ? f->value : "?", CN_SCHEMA_VERSION);
		*damaged = 1;
		goto fail;
	}
	f = cn_record_get(rec, "rows");
	br->rows = f && f->type == CN_V_NUM ? strtoll(f->value, NULL, 10) : -1;
	f = cn_record_get(rec, "fields");
	if (f && f->type == CN_V_RAW)
		br->fields = strdup(f->value);
	f = cn_record_get(rec, "list");
	if (!f || !f->value || strcmp(f->value, b->list) != 0) {
		snprintf(problem, cap, "header names list '%s', recorded '%s'",
			 f && f->value ? f->value : "", b->list);
		*damaged = 1;
		goto fail;
	}
	return br;
fail:
	cn_backup_reader_close(br, NULL);
	return NULL;
}

int
cn_backup_verify(struct cn_store *st, const struct cn_backup_info *b,
		 char *problem, size_t cap, struct cn_err *err)
{
	struct cn_backup_reader *br;
	struct cn_record *rec;
	struct cn_err e;
	int64_t n = 0;
	int damaged, r;

	problem[0] = '\0';
	if (check_sum(b, problem, cap))
		return 1;
	br = open_stream(b, problem, cap, &damaged, err);
	if (!br)
		return damaged ? 1 : -1;
	while ((r = cn_reader_next(br->rd, &rec, &e)) == 1)
		n++;
	if (r < 0)
		snprintf(problem, cap, "%s", gzr_problem(&br->g)
						     ? gzr_problem(&br->g)
						     : e.msg);
	else if (gzr_problem(&br->g))
		snprintf(problem, cap, "%s", gzr_problem(&br->g));
	else if (n != br->rows || n != b->rows)
		snprintf(problem, cap, "%lld rows, header says %lld, recorded "
			 "%lld", (long long)n, (long long)br->rows,
			 (long long)b->rows);
	cn_backup_reader_close(br, NULL);
	return problem[0] ? 1 : 0;
}

struct cn_backup_reader *
cn_backup_reader_open(struct cn_store *st, const struct cn_backup_info *b,
		      struct cn_reader **rd, struct cn_err *err)
{
	char problem[512];
	struct cn_backup_reader *br;
	int damaged;

	if (check_sum(b, problem, sizeof(problem))) {
		cn_err_set(err, CN_EDATA, "backup %lld is damaged: %s",
			   (long long)b->id, problem);
		return NULL;
	}
	br = open_stream(b, problem, sizeof(problem), &damaged, err);
	if (!br) {
		if (damaged)
			cn_err_set(err, CN_EDATA, "backup %lld is damaged: %s",
				   (long long)b->id, problem);
		return NULL;
	}
	*rd = br->rd;
	return br;
}

const char *
cn_backup_reader_fields(struct cn_backup_reader *br)
{
	return br->fields;
}

const char *const *
cn_backup_reader_columns(struct cn_backup_reader *br, size_t *n)
{
	static const char *const fixed[] = {"id", "email", "phone",
					    "first_name", "last_name"};

	if (!br->cols) {
		br->fa = br->fields ? cJSON_Parse(br->fields) : NULL;
		br->cols = calloc(5 + (size_t)cJSON_GetArraySize(br->fa),
				  sizeof(*br->cols));
		if (!br->cols) {
			*n = 0;
			return NULL;
		}
		memcpy(br->cols, fixed, sizeof(fixed));
		br->ncols = 5;
		for (const cJSON *it = br->fa ? br->fa->child : NULL; it;
		     it = it->next)
			if (cJSON_IsString(it))
				br->cols[br->ncols++] = it->valuestring;
	}
	*n = br->ncols;
	return br->cols;
}

int
cn_backup_reader_close(struct cn_backup_reader *br, struct cn_err *err)
{
	int rc = 0;

	if (!br)
		return 0;
	if (br->fp && err && gzr_problem(&br->g)) {
		/* read to the end? a reader stopped early is fine */
		if (br->g.bad)
			rc = cn_err_set(err, CN_EDATA, "backup %lld: %s",
					(long long)br->b->id,
					gzr_problem(&br->g));
	}
	cn_reader_close(br->rd);
	if (br->fp)
		gzr_close(&br->g, br->fp);
	if (br->fd >= 0)
		close(br->fd);
	free(br->fields);
	free(br->cols);
	cJSON_Delete(br->fa);
	free(br);
	return rc;
}

/* ------------------------------------------------------------- export */

int64_t
cn_backup_export(struct cn_store *st, const struct cn_backup_info *b,
		 FILE *out, enum cn_format fmt, const struct cn_csv_opts *csv,
		 struct cn_err *err)
{
	static const char *const fixed[] = {"id", "email", "phone",
					    "first_name", "last_name"};
	struct cn_backup_reader *br;
	struct cn_reader *rd;
	struct cn_record *rec, row;
	struct cn_writer *w = NULL;
	const char **cols = NULL;
	size_t ncols = 5;
	cJSON *fa = NULL;
	int64_t n = 0;
	int r, flat = fmt == CN_FMT_CSV || fmt == CN_FMT_TABLE;

	br = cn_backup_reader_open(st, b, &rd, err);
	if (!br)
		return -1;
	cn_record_init(&row);
	if (br->fields)
		fa = cJSON_Parse(br->fields);
	cols = calloc(5 + (size_t)cJSON_GetArraySize(fa), sizeof(*cols));
	if (!cols) {
		n = cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(cols, fixed, sizeof(fixed));
	for (const cJSON *it = fa ? fa->child : NULL; it; it = it->next)
		if (cJSON_IsString(it))
			cols[ncols++] = it->valuestring;
	w = cn_writer_open(out, fmt, cols, ncols, csv, err);
	if (!w) {
		n = -1;
		goto out;
	}
	while ((r = cn_reader_next(rd, &rec, err)) == 1) {
		const struct cn_record *put = rec;

		if (flat) {
			/* the columns of the list, in order, NULL if absent */
			cn_record_reset(&row);
			for (size_t i = 0; i < ncols; i++) {
				const struct cn_field *f =
					cn_record_get(rec, cols[i]);

				cn_record_add(&row, cols[i],
					      f ? f->value : NULL,
					      f ? f->len : 0,
					      f ? f->type : CN_V_NULL);
			}
			put = &row;
		}
		if (cn_writer_put(w, put, err) < 0) {
			n = -1;
			goto out;
		}
		n++;
	}
	if (r < 0)
		n = -1;
out:
	if (w && cn_writer_close(w, n >= 0 ? err : NULL) < 0)
		n = -1;
	if (cn_backup_reader_close(br, n >= 0 ? err : NULL) < 0)
		n = -1;
	cn_record_free(&row);
	cJSON_Delete(fa);
	free(cols);
	return n;
}

/* -------------------------------------------------------------- prune */

static int
remove_one(struct cn_store *st, const struct cn_backup_info *b,
	   struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "DELETE FROM backup WHERE id = ?1", -1, &s,
			       NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, b->id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

/*
 * Removes the files of dir that belong to this store (their name starts
 * with its id), end in SUFFIX, are more than a day old, and no record
 * names: left by an import killed between writing its backup and
 * committing.  The day leaves running imports alone; the id leaves alone
 * the backups of another store sharing the directory.
 */
static int64_t
prune_orphans(struct cn_store *st, const char *dir, int dry_run,
	      cn_backup_fn fn, void *ctx)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t n = 0;

	if (!d)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM backup WHERE file = ?1", -1,
			       &s, NULL)) {
		closedir(d);
		return 0;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct cn_backup_info b;
		int known;

		struct stat sb;

		/* NAME.ndjson.gz, or NAME.ndjson.gz.tmp.XXXXXX left by a
		 * backup killed while writing */
		int backup_file = l > strlen(SUFFIX) &&
				  strcmp(de->d_name + l - strlen(SUFFIX),
					 SUFFIX) == 0;

		if (strncmp(de->d_name, cn_store_idprefix(st), 8) != 0 ||
		    (!backup_file && !strstr(de->d_name, SUFFIX ".tmp.")))
			continue;
		memset(&b, 0, sizeof(b));
		if (snprintf(b.file, sizeof(b.file), "%s/%s", dir,
			     de->d_name) >= (int)sizeof(b.file))
			continue;
		if (stat(b.file, &sb) < 0 || sb.st_mtime > time(NULL) - 86400)
			continue;
		sqlite3_bind_text(s, 1, b.file, -1, SQLITE_STATIC);
		known = sqlite3_step(s) == SQLITE_ROW;
		sqlite3_reset(s);
		if (known)
			continue;
		snprintf(b.list, sizeof(b.list), "(orphan file)");
		cn_crashpoint("prune.orphan");
		if (!dry_run)
			unlink(b.file);
		if (fn)
			fn(ctx, &b);
		n++;
	}
	sqlite3_finalize(s);
	closedir(d);
	return n;
}

int64_t
cn_backup_prune(struct cn_store *st, const struct cn_backup_policy *p,
		const struct cn_prune_opts *o, cn_backup_fn fn, void *ctx,
		struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t now = cn_now();
	/* days < 0: no age limit (retention 0 means forever): nothing is
	 * old, and keep_last is a minimum, never a reason to remove */
	int64_t cutoff = o->days >= 0 ? now - (int64_t)o->days * 86400
				      : INT64_MIN;
	int64_t n = 0;
	struct cn_buf files;	/* paths to unlink, NUL-separated */
	int rc;

	cn_buf_init(&files, 0);
	if (cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/*
	 * Candidates: older than the cutoff and beyond the newest keep_last
	 * of their list; without force, never a list's newest backup when it
	 * is less than 24 hours old, so a list changed today keeps a way
	 * back whatever the retention says.
	 */
	if (sqlite3_prepare_v2(db, INFO_COLS
			       "WHERE b.created_at < ?1 AND (SELECT count(*) "
			       "FROM backup n WHERE n.folder = b.folder AND "
			       "n.list = b.list AND (n.created_at > "
			       "b.created_at OR (n.created_at = b.created_at "
			       "AND n.id > b.id))) >= ?2 AND (?3 OR "
			       "b.created_at < ?4 OR EXISTS (SELECT 1 FROM "
			       "backup r WHERE r.folder = b.folder AND r.list ="
			       " b.list AND (r.created_at > b.created_at OR "
			       "(r.created_at = b.created_at AND r.id > b.id))))"
			       " ORDER BY b.id", -1, &s, NULL)) {
		cn_sql_fail(err, db, "store");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int64(s, 2, o->keep_last > 0 ? o->keep_last : 0);
	sqlite3_bind_int(s, 3, o->force);
	sqlite3_bind_int64(s, 4, now - 86400);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_backup_info b;

		info_fill(s, &b);
		cn_crashpoint("prune.row");
		if (fn)
			fn(ctx, &b);
		if (!o->dry_run && (remove_one(st, &b, err) < 0 ||
				    cn_buf_add(&files, b.file,
					       strlen(b.file) + 1) < 0)) {
			sqlite3_finalize(s);
			goto fail;
		}
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		cn_sql_fail(err, db, "store");
		goto fail;
	}
	if (o->dry_run) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		/* the records go first: a crash leaves orphan files, which
		 * the next prune removes, never records without files */
		cn_crashpoint("prune.commit");
		if (cn_sql_exec(db, "COMMIT", err) < 0)
			goto fail;
		cn_crashpoint("prune.committed");
	}
	/* now the files of the records removed */
	for (size_t off = 0; off < files.len;
	     off += strlen(files.ptr + off) + 1) {
		cn_crashpoint("prune.item");
		unlink(files.ptr + off);
	}
	cn_buf_free(&files);
	n += prune_orphans(st, p->dir, o->dry_run, fn, ctx);
	return n;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	cn_buf_free(&files);
	return -1;
}

int
cn_list_set_backup(struct cn_store *st, const char *folder, const char *list,
		   int on, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "UPDATE list SET backup = ?3 WHERE name = ?2 AND "
			       "folder_id = (SELECT id FROM folder WHERE name = "
			       "?1)", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, on ? 1 : 0);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	if (sqlite3_changes(db) == 0)
		return cn_err_set(err, CN_ENOINPUT,
				  "no list '%s' in folder '%s'", list, folder);
	return 0;
}
