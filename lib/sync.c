/*
 * sync.c - two-way sync of the store with a CouchDB-compatible server
 * (see carnet-sync.h): the HTTP client (libcurl, one handle kept alive),
 * documents built from the store (SQLite's JSON functions) and applied to
 * it (cJSON), the pull through _changes with a checkpoint per batch, the
 * push through _bulk_docs, conflicts, the mass-delete guard and devices.
 *
 * Every batch of pulled documents is applied in one write transaction
 * together with the checkpoint that follows it, and every batch of pushed
 * items is marked synced in one transaction after the server answered:
 * a run killed at any point leaves the store as it was after its last
 * complete batch, and the next run goes on from there.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define DEFAULT_BATCH 1000
#define MAX_BATCH 10000
#define SCAN_LIMIT 10000	/* changes per request of the guard's scan */
#define RESP_MAX (256u << 20)	/* largest answer read */
#define STMT_CACHE 96		/* statements kept prepared during a run */

/* ------------------------------------------------------------- kinds */

enum kind { K_LIST, K_CONTACT, K_BLACKLIST, K_TEMPLATE, K_CAMPAIGN,
	    K_MESSAGE, K_N };

static const struct kind_info {
	const char *name;	/* document kind, sync_item.kind */
	const char *plural;	/* sync.kinds name, messages */
	unsigned bit;
	const char *table;
	const char *key;	/* the column of the table that is the uuid */
} kinds[K_N] = {
	[K_LIST] = {"list", "lists", CN_SYNC_LISTS, "list", "uuid"},
	[K_CONTACT] = {"contact", "contacts", CN_SYNC_CONTACTS, "contact",
		       "uuid"},
	[K_BLACKLIST] = {"blacklist", "blacklists", CN_SYNC_BLACKLISTS,
			 "blacklist", "uuid"},
	[K_TEMPLATE] = {"template", "templates", CN_SYNC_TEMPLATES,
			"template", "uuid"},
	[K_CAMPAIGN] = {"campaign", "campaigns", CN_SYNC_CAMPAIGNS, "campaign",
			"uuid"},
	[K_MESSAGE] = {"message", "messages", CN_SYNC_CAMPAIGNS, "message",
		       "ref"},
};

static int
kind_find(const char *s, size_t len)
{
	for (int k = 0; k < K_N; k++)
		if (strlen(kinds[k].name) == len &&
		    memcmp(kinds[k].name, s, len) == 0)
			return k;
	return -1;
}

int
cn_sync_kinds_parse(const char *s, unsigned *out)
{
	unsigned m = 0;

	while (s && *s) {
		size_t n = strcspn(s, ",");
		int k, found = 0;

		while (n && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		for (k = 0; k < K_N; k++)
			if (k != K_MESSAGE &&
			    strlen(kinds[k].plural) == n &&
			    strncasecmp(kinds[k].plural, s, n) == 0) {
				m |= kinds[k].bit;
				found = 1;
			}
		if (!found && n)
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	*out = m;
	return 0;
}

static const char *const policy_names[] = {"newest", "local", "remote",
					   "ask"};

int
cn_sync_policy_parse(const char *s, enum cn_sync_policy *out)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, policy_names[i]) == 0) {
			*out = (enum cn_sync_policy)i;
			return 0;
		}
	return -1;
}

const char *
cn_sync_policy_name(enum cn_sync_policy p)
{
	return (unsigned)p < 4 ? policy_names[p] : "?";
}

/* ------------------------------------------------------------ context */

struct item {
	int found;
	char state[16];
	char rev[128];
	int deleted;
	int64_t changed_at;
};

struct sync {
	struct cn_store *st;
	sqlite3 *db;
	const struct cn_sync_opts *o;
	struct cn_sync_stats *stats;
	struct cn_sync_stats dummy;
	CURL *curl;
	struct curl_slist *hdrs;
	char *base;		/* url/db, with credentials if the URL has them */
	char *shown;		/* the URL without credentials, for messages */
	char *remote;		/* checkpoint key: shown/db */
	struct cn_buf resp;
	long code;
	char device[40];
	int64_t now;
	int batch;
	int64_t next_contact;	/* the last contact id given (0: not read) */
	/* the last folder and user named, with their ids: valid until a
	 * rollback (names_ok 0) */
	int names_ok;
	char folder_name[256], user_name[256];
	int64_t folder_id, user_id;
	sqlite3_stmt *get_item, *put_item;
	/* statements of run(), lookup() and cached(), kept for the run */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	int ncache;
	struct cn_buf body;	/* request bodies */
	struct cn_buf tmp;
	struct cn_buf nul_ids;	/* "\nID\n" of rows whose text holds \u0000 */
	/* documents of the last push round the server did not take: an
	 * error other than a conflict (the first one kept), and conflicts
	 * that could not be resolved (not found, or pushed again in vain) */
	int refused_other, unresolved;
	char refused_first[200];
};

static int
prep(struct sync *s, sqlite3_stmt **out, const char *sql, struct cn_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
		return cn_sql_fail(err, s->db, "store");
	return 0;
}

/*
 * A prepared statement for sql, kept for the whole run (reset, bindings
 * cleared): applying a document runs the same few statements, and
 * preparing them each time would cost more than running them.  sql may be
 * a buffer of the caller's: a hit needs the same text too.  Returns NULL
 * with err on failure.  The caller resets it after use, never finalizes.
 */
static sqlite3_stmt *
cached(struct sync *s, const char *sql, struct cn_err *err)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql &&
		    strcmp(sqlite3_sql(s->cache[i].st), sql) == 0) {
			sqlite3_reset(s->cache[i].st);
			sqlite3_clear_bindings(s->cache[i].st);
			return s->cache[i].st;
		}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		cn_sql_fail(err, s->db, "store");
		return NULL;
	}
	i = s->ncache < STMT_CACHE ? s->ncache++ : STMT_CACHE - 1;
	if (s->cache[i].st)
		sqlite3_finalize(s->cache[i].st);
	s->cache[i].sql = sql;
	s->cache[i].st = st;
	return st;
}

static void
logf_(struct sync *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(struct sync *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->o->on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o->on_log(s->o->ctx, line);
}

static void
change(struct sync *s, const char *dir, int k, const char *uuid,
       const char *action, const char *label)
{
	struct cn_sync_change c = {dir, kinds[k].name, uuid, action,
				   label ? label : ""};

	if (s->o->on_change)
		s->o->on_change(s->o->ctx, &c);
}

/* ------------------------------------------------------------- HTTP */

static size_t
on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct cn_buf *b = ctx;

	if (cn_buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

/* Strips "user:password@" from url into a new string. */
static char *
url_shown(const char *url)
{
	const char *p = strstr(url, "://"), *at, *slash;
	struct cn_buf b;

	cn_buf_init(&b, 0);
	if (!p) {
		cn_buf_adds(&b, url);
		return cn_buf_detach(&b);
	}
	p += 3;
	slash = p + strcspn(p, "/");
	at = memchr(p, '@', (size_t)(slash - p));
	cn_buf_add(&b, url, (size_t)(p - url));
	cn_buf_adds(&b, at ? at + 1 : p);
	while (b.len > 0 && b.ptr[b.len - 1] == '/')
		b.ptr[--b.len] = '\0';
	return cn_buf_detach(&b);
}

static int
http_open(struct sync *s, struct cn_err *err)
{
	const struct cn_sync_opts *o = s->o;
	char *db;
	size_t n;

	if (!o->url || !*o->url)
		return cn_err_set(err, CN_ECONFIG, "no server: set sync.url in "
				  "the configuration");
	if (strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0)
		return cn_err_set(err, CN_ECONFIG, "sync.url: not an http or "
				  "https URL");
	if (!o->database || !*o->database)
		return cn_err_set(err, CN_ECONFIG, "no database: set "
				  "sync.database");
	s->curl = curl_easy_init();
	if (!s->curl)
		return cn_err_set(err, CN_EINTERNAL, "cannot start libcurl");
	db = curl_easy_escape(s->curl, o->database, 0);
	s->shown = url_shown(o->url);
	cn_buf_reset(&s->tmp);
	cn_buf_adds(&s->tmp, o->url);
	while (s->tmp.len && s->tmp.ptr[s->tmp.len - 1] == '/')
		s->tmp.ptr[--s->tmp.len] = '\0';
	cn_buf_addf(&s->tmp, "/%s", db ? db : o->database);
	s->base = strdup(s->tmp.ptr);
	cn_buf_reset(&s->tmp);
	cn_buf_addf(&s->tmp, "%s/%s", s->shown, o->database);
	s->remote = strdup(s->tmp.ptr);
	curl_free(db);
	if (!s->base || !s->remote || !s->shown)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	n = (size_t)(o->timeout_s > 0 ? o->timeout_s : 20);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long)n);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, (long)(n < 10 ? n : 10));
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->resp);
	curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "carnet-sync/" CN_VERSION);
	/* no Accept-Encoding: compressing answers costs the server more than
	 * the bytes cost on a LAN */
	if (o->username && *o->username) {
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD,
				 o->password ? o->password : "");
		curl_easy_setopt(s->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	}
	s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	s->hdrs = curl_slist_append(s->hdrs, "Accept: application/json");
	/* no "Expect: 100-continue" round trip before each batch */
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->hdrs);
	return 0;
}

static void
http_close(struct sync *s)
{
	if (s->curl)
		curl_easy_cleanup(s->curl);
	curl_slist_free_all(s->hdrs);
	free(s->base);
	free(s->shown);
	free(s->remote);
}

/* The "reason" (or "error") of a CouchDB error answer, for messages. */
static void
reason_of(struct sync *s, char *out, size_t cap)
{
	cJSON *j = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reason");

	if (!cJSON_IsString(r))
		r = cJSON_GetObjectItemCaseSensitive(j, "error");
	snprintf(out, cap, "%s", cJSON_IsString(r) ? r->valuestring : "");
	cJSON_Delete(j);
}

/*
 * One request: method on base + path (path begins with '/' or '?', or is
 * empty), with body (JSON) or none.  Returns the HTTP status (s->resp
 * holds the answer), or -1 with err: unreachable, timeout and 5xx are
 * CN_ETEMP, 401 and 403 CN_ENOPERM.
 */
static long
http(struct sync *s, const char *method, const char *path, const char *body,
     size_t len, struct cn_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char why[200];
	CURLcode rc;

	cn_buf_reset(&s->tmp);
	cn_buf_addf(&s->tmp, "%s%s", s->base, path);
	cn_buf_reset(&s->resp);
	curl_easy_setopt(s->curl, CURLOPT_URL, s->tmp.ptr);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(body ? len : 0));
		curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	s->stats->requests++;
	rc = curl_easy_perform(s->curl);
	if (rc != CURLE_OK && cn_tls_untrusted(rc))
		return cn_err_set(err, CN_ENOPERM, "server %s: TLS: the "
				  "certificate is not trusted (%s); nothing "
				  "was sent", s->shown,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (rc != CURLE_OK) {
		return cn_err_set(err, CN_ETEMP, "server %s: %s; try again "
				  "later", s->shown,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->code);
	if (s->code == 401 || s->code == 403) {
		reason_of(s, why, sizeof(why));
		return cn_err_set(err, CN_ENOPERM, "server %s refused the "
				  "credentials (HTTP %ld%s%s)", s->shown,
				  s->code, why[0] ? ": " : "", why);
	}
	if (s->code >= 500) {
		reason_of(s, why, sizeof(why));
		return cn_err_set(err, CN_ETEMP, "server %s: HTTP %ld%s%s; try "
				  "again later", s->shown, s->code,
				  why[0] ? ": " : "", why);
	}
	return s->code;
}

/*
 * Notes the rows of the answer (_changes, _all_docs) whose text holds an
 * escaped NUL ("\u0000"): cJSON would cut the string there without a
 * word, so such a document is refused (check in pull_one).  A row's "id"
 * comes before its document in both answers.
 */
static void
scan_nul(struct sync *s)
{
	const char *p = s->resp.ptr, *end = p + s->resp.len, *m;

	while ((m = memmem(p, (size_t)(end - p), "\\u0000", 6))) {
		const char *q = m;

		while (q > s->resp.ptr &&
		       !(q[0] == '"' && strncmp(q, "\"id\":\"", 6) == 0))
			q--;
		if (strncmp(q, "\"id\":\"", 6) == 0) {
			const char *id = q + 6, *e = memchr(id, '"',
							    (size_t)(end - id));

			if (e) {
				cn_buf_addc(&s->nul_ids, '\n');
				cn_buf_add(&s->nul_ids, id, (size_t)(e - id));
				cn_buf_addc(&s->nul_ids, '\n');
			}
		}
		p = m + 6;
	}
}

static int
has_nul(struct sync *s, const char *id)
{
	const char *p = s->nul_ids.ptr;
	size_t n = strlen(id);

	while ((p = strstr(p, id))) {
		if (p > s->nul_ids.ptr && p[-1] == '\n' && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* Parses the answer as JSON; NULL with err (CN_EDATA) if it is not. */
static cJSON *
resp_json(struct sync *s, const char *what, struct cn_err *err)
{
	cJSON *j;

	scan_nul(s);
	j = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);

	if (!j)
		cn_err_set(err, CN_EDATA, "server %s: %s: the answer is not "
			   "JSON (HTTP %ld)", s->shown, what, s->code);
	return j;
}

/* Checks that the database exists; creates it when it does not (and not
 * dry).  Returns 0 or -1. */
static int
ensure_db(struct sync *s, struct cn_err *err)
{
	long code = http(s, "GET", "", NULL, 0, err);
	char why[200];

	if (code < 0)
		return -1;
	if (code == 200)
		return 0;
	if (code == 404 && !s->o->dry_run) {
		code = http(s, "PUT", "", NULL, 0, err);
		if (code < 0)
			return -1;
		if (code == 201 || code == 202 || code == 412)
			return 0;
	} else if (code == 404) {
		return 1;	/* dry run: nothing there yet */
	}
	reason_of(s, why, sizeof(why));
	return cn_err_set(err, CN_EUNAVAIL, "server %s: database '%s': HTTP "
			  "%ld%s%s", s->shown, s->o->database, code,
			  why[0] ? ": " : "", why);
}

/* ------------------------------------------------------ store helpers */

static int
begin(struct sync *s, struct cn_err *err)
{
	return cn_sql_exec(s->db, "BEGIN IMMEDIATE", err);
}

static int
commit(struct sync *s, struct cn_err *err)
{
	if (cn_sql_exec(s->db, "COMMIT", err) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void
rollback(struct sync *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads a setting into out (cap); "" when unset.  Returns 0 or -1. */
static int
setting_get(sqlite3 *db, const char *key, char *out, size_t cap,
	    struct cn_err *err)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM setting WHERE key = ?1",
			       -1, &st, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int
setting_put(sqlite3 *db, const char *key, const char *value,
	    struct cn_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO setting(key, value) VALUES("
			       "?1, ?2) ON CONFLICT(key) DO UPDATE SET value "
			       "= excluded.value", -1, &st, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

/* This store's device id (created on first use). */
static int
device_id(sqlite3 *db, char out[40], struct cn_err *err)
{
	if (setting_get(db, "sync_device_id", out, 40, err) < 0)
		return -1;
	if (out[0])
		return 0;
	cn_uuid7(out);
	return setting_put(db, "sync_device_id", out, err);
}

static int
item_get(struct sync *s, int k, const char *uuid, struct item *it,
	 struct cn_err *err)
{
	sqlite3_stmt *st = s->get_item;
	int rc;

	memset(it, 0, sizeof(*it));
	sqlite3_bind_text(st, 1, kinds[k].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		it->found = 1;
		snprintf(it->state, sizeof(it->state), "%s",
			 sqlite3_column_text(st, 0));
		if (sqlite3_column_text(st, 1))
			snprintf(it->rev, sizeof(it->rev), "%s",
				 sqlite3_column_text(st, 1));
		it->deleted = sqlite3_column_int(st, 2);
		it->changed_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, s->db, "store");
	return 0;
}

/* Writes the sync state of an item (insert or replace). */
static int
item_put(struct sync *s, int k, const char *uuid, const char *state,
	 const char *rev, int deleted, int64_t changed_at, int64_t synced_at,
	 struct cn_err *err)
{
	sqlite3_stmt *st = s->put_item;
	int rc;

	sqlite3_bind_text(st, 1, kinds[k].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (rev && *rev)
		sqlite3_bind_text(st, 4, rev, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, deleted);
	sqlite3_bind_int64(st, 6, changed_at);
	if (synced_at)
		sqlite3_bind_int64(st, 7, synced_at);
	else
		sqlite3_bind_null(st, 7);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, s->db, "store");
}

int
cn_sync_mark(struct cn_store *st, const char *kind, const char *uuid,
	     int deleted, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO sync_item(kind, uuid, state, "
			       "changed_at, deleted) VALUES(?1, ?2, 'pending', "
			       "?3, ?4) ON CONFLICT(kind, uuid) DO UPDATE SET "
			       "state = 'pending', changed_at = "
			       "excluded.changed_at, deleted = excluded.deleted",
			       -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, cn_now());
	sqlite3_bind_int(s, 4, deleted != 0);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

/*
 * Marks pending the items of the kinds that have no sync state yet.  New
 * contacts and messages are not marked by the tools that make them: their
 * ids, above the high-water marks 'sync_contact_hw' and 'sync_message_hw'
 * (ids are never reused), say that they are new, and they are marked here
 * with the time of their last change.  Campaigns are looked at every
 * time; the other kinds, which their tools mark, on the first run only
 * (what was made before sync was used).
 */
static int
adopt(sqlite3 *db, const char *prefix, unsigned kmask, int64_t now,
      struct cn_err *err)
{
	static const char *const timecol[K_N] = {
		[K_LIST] = "t.updated_at", [K_CONTACT] = "t.updated_at",
		[K_BLACKLIST] = "t.updated_at", [K_TEMPLATE] = "t.updated_at",
		[K_CAMPAIGN] = "t.created_at", [K_MESSAGE] = "t.created_at",
	};
	char done[8], sql[1024];
	sqlite3_stmt *st;
	int first;

	(void)now;
	if (setting_get(db, "sync_adopted", done, sizeof(done), err) < 0)
		return -1;
	first = done[0] != '1';
	for (int k = 0; k < K_N; k++) {
		const char *uuidexpr = "t.uuid", *hw = NULL;
		char where[256] = "";
		int rc;

		if (!(kmask & kinds[k].bit))
			continue;
		if (k == K_CONTACT) {
			uuidexpr = "coalesce(t.uuid, ?1 || '-' || "
				   "printf('%012x', t.id))";
			hw = "sync_contact_hw";
		} else if (k == K_MESSAGE) {
			uuidexpr = "t.ref";
			hw = "sync_message_hw";
		} else if (!first && k != K_CAMPAIGN) {
			continue;
		}
		if (hw)
			snprintf(where, sizeof(where),
				 "t.id > coalesce((SELECT CAST(value AS "
				 "INTEGER) FROM setting WHERE key = '%s'), 0) "
				 "AND", hw);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO sync_item(kind, uuid, state, changed_at) "
			 "SELECT '%s', %s, 'pending', %s FROM %s t WHERE %s "
			 "NOT EXISTS (SELECT 1 FROM sync_item i WHERE i.kind = "
			 "'%s' AND i.uuid = %s) ON CONFLICT DO NOTHING",
			 kinds[k].name, uuidexpr, timecol[k], kinds[k].table,
			 where, kinds[k].name, uuidexpr);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
			return cn_sql_fail(err, db, "store");
		if (k == K_CONTACT)
			sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return cn_sql_fail(err, db, "store");
		if (hw) {
			snprintf(sql, sizeof(sql),
				 "INSERT INTO setting(key, value) SELECT '%s', "
				 "m FROM (SELECT max(id) AS m FROM %s) WHERE m "
				 "> coalesce((SELECT CAST(value AS INTEGER) "
				 "FROM setting WHERE key = '%s'), 0) ON "
				 "CONFLICT(key) DO UPDATE SET value = "
				 "excluded.value", hw, kinds[k].table, hw);
			if (cn_sql_exec(db, sql, err) < 0)
				return -1;
		}
	}
	if (first && kmask == CN_SYNC_ALL &&
	    setting_put(db, "sync_adopted", "1", err) < 0)
		return -1;
	return 0;
}

/* -------------------------------------------------------- documents */

/* The body of a document, as SQLite's JSON functions write it; ?1 is the
 * uuid, ?2 a contact's rowid (0: look it up by uuid), ?3 the store's id
 * prefix. */
static const char *const doc_sql[K_N] = {
	[K_LIST] =
		"SELECT json_object('folder', f.name, 'name', l.name, 'backup',"
		" l.backup, 'fields', json(l.fields), 'created_at', "
		"l.created_at, 'updated_at', l.updated_at), l.name FROM list l "
		"JOIN folder f ON f.id = l.folder_id WHERE l.uuid = ?1",
	[K_CONTACT] =
		"SELECT json_object('folder', f.name, 'email', c.email, "
		"'phone', c.phone, 'first_name', c.first_name, 'last_name', "
		"c.last_name, 'attrs', json(c.attrs), 'created_at', "
		"c.created_at, 'updated_at', c.updated_at, 'lists', "
		"json((SELECT json_group_array(json_object('uuid', l.uuid, "
		"'name', l.name)) FROM member m JOIN list l ON l.id = "
		"m.list_id WHERE m.contact_id = c.id))), coalesce(c.email, "
		"c.phone) FROM contact c JOIN folder f ON f.id = c.folder_id "
		"WHERE c.id = CASE WHEN ?2 > 0 THEN ?2 ELSE (SELECT id FROM "
		"contact WHERE uuid = ?1) END",
	[K_BLACKLIST] =
		"SELECT json_object('address', b.address, 'reason', b.reason, "
		"'source', b.source, 'note', b.note, 'user', (SELECT name FROM"
		" user WHERE id = b.user_id), 'created_at', b.created_at, "
		"'updated_at', b.updated_at), b.address FROM blacklist b WHERE"
		" b.uuid = ?1",
	[K_TEMPLATE] =
		"SELECT json_object('folder', (SELECT name FROM folder WHERE "
		"id = t.folder_id), 'title', t.title, 'body', t.body, "
		"'active', t.active, 'context', t.context, 'is_default', "
		"t.is_default, 'scope', t.scope, 'reply_mode', t.reply_mode, "
		"'reply_hours', t.reply_hours, 'reply_until', t.reply_until, "
		"'created_by', (SELECT name FROM user WHERE id = "
		"t.created_by), 'created_at', t.created_at, 'updated_at', "
		"t.updated_at, 'users', json((SELECT json_group_array(u.name) "
		"FROM template_user tu JOIN user u ON u.id = tu.user_id WHERE "
		"tu.template_id = t.id))), t.title FROM template t WHERE "
		"t.uuid = ?1",
	[K_CAMPAIGN] =
		"SELECT json_object('folder', (SELECT name FROM folder WHERE "
		"id = c.folder_id), 'user', (SELECT name FROM user WHERE id = "
		"c.user_id), 'name', c.name, 'template', (SELECT uuid FROM "
		"template WHERE id = c.template_id), 'list', (SELECT uuid FROM"
		" list WHERE id = c.list_id), 'sender', c.sender, 'status', "
		"c.status, 'simulated', c.simulated, 'driver', c.driver, "
		"'created_at', c.created_at, 'sent_at', c.sent_at, "
		"'close_at', c.close_at, 'closed_at', c.closed_at, 'body', "
		"c.body), c.name FROM campaign c WHERE c.uuid = ?1",
	[K_MESSAGE] =
		"SELECT json_object('campaign', (SELECT uuid FROM campaign "
		"WHERE id = m.campaign_id), 'contact', (SELECT coalesce(uuid, "
		"?3 || '-' || printf('%012x', id)) FROM contact WHERE id = "
		"m.contact_id), 'folder', (SELECT name FROM folder WHERE id = "
		"m.folder_id), 'user', (SELECT name FROM user WHERE id = "
		"m.user_id), 'template', (SELECT uuid FROM template WHERE id "
		"= m.template_id), 'phone', m.phone, 'sender', m.sender, "
		"'body', m.body, 'encoding', m.encoding, 'segments', "
		"m.segments, 'status', m.status, 'provider_id', "
		"m.provider_id, 'attempts', m.attempts, 'error', m.error, "
		"'created_at', m.created_at, 'sent_at', m.sent_at, 'done_at', "
		"m.done_at), m.phone FROM message m WHERE m.ref = ?1",
};

struct docq {
	sqlite3_stmt *q[K_N];
};

static void
docq_free(struct docq *d)
{
	for (int k = 0; k < K_N; k++)
		sqlite3_finalize(d->q[k]);
	memset(d, 0, sizeof(*d));
}

/*
 * Appends to b the body fields of item (kind k, uuid) without the
 * enclosing braces ("" if the object is empty) and copies a label.
 * Returns 1 when the item exists, 0 when it does not, -1 on error.
 */
static int
doc_body(struct sync *s, struct docq *d, int k, const char *uuid,
	 struct cn_buf *b, char *label, size_t lcap, struct cn_err *err)
{
	sqlite3_stmt *q;
	int rc, n;

	if (!d->q[k] && prep(s, &d->q[k], doc_sql[k], err) < 0)
		return -1;
	q = d->q[k];
	sqlite3_bind_text(q, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, k == K_CONTACT ? cn_contact_rowid(s->st, uuid)
						: 0);
	sqlite3_bind_text(q, 3, cn_store_idprefix(s->st), -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *j = (const char *)sqlite3_column_text(q, 0);

		n = sqlite3_column_bytes(q, 0);
		if (j && n >= 2)
			cn_buf_add(b, j + 1, (size_t)n - 2);
		if (label)
			snprintf(label, lcap, "%s",
				 sqlite3_column_text(q, 1)
					 ? (const char *)sqlite3_column_text(q, 1)
					 : "");
	} else if (label) {
		label[0] = '\0';
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, s->db, "store");
	return rc == SQLITE_ROW;
}

static void
json_strb(struct cn_buf *b, const char *v)
{
	cn_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			cn_buf_addf(b, "\\%c", *p);
		else if (*p < 0x20)
			cn_buf_addf(b, "\\u%04x", *p);
		else
			cn_buf_addc(b, (char)*p);
	}
	cn_buf_addc(b, '"');
}

/*
 * Appends the whole document of an item to b: _id, _rev (if rev),
 * _deleted, kind, edited_at, device, then the body.  Returns 1, 0 when a
 * live item's row is gone (then written as deleted), or -1.
 */
static int
doc_write(struct sync *s, struct docq *d, int k, const char *uuid,
	  const char *rev, int deleted, int64_t edited_at, struct cn_buf *b,
	  char *label, size_t lcap, struct cn_err *err)
{
	size_t mark;
	int rc = 1;

	cn_buf_adds(b, "{\"_id\":");
	cn_buf_reset(&s->tmp);
	cn_buf_addf(&s->tmp, "%s:%s", kinds[k].name, uuid);
	json_strb(b, s->tmp.ptr);
	if (rev && *rev) {
		cn_buf_adds(b, ",\"_rev\":");
		json_strb(b, rev);
	}
	mark = b->len;
	cn_buf_addf(b, ",\"kind\":\"%s\",\"edited_at\":%lld,\"device\":\"%s\"",
		    kinds[k].name, (long long)edited_at, s->device);
	if (label)
		label[0] = '\0';
	if (!deleted) {
		size_t before;

		cn_buf_addc(b, ',');
		before = b->len;
		rc = doc_body(s, d, k, uuid, b, label, lcap, err);
		if (rc < 0)
			return -1;
		if (rc == 0 || b->len == before) {
			/* gone without a deletion mark: a deletion */
			b->len = mark;
			b->ptr[b->len] = '\0';
			cn_buf_addf(b, ",\"kind\":\"%s\",\"edited_at\":%lld,"
				    "\"device\":\"%s\"", kinds[k].name,
				    (long long)edited_at, s->device);
			deleted = 1;
		}
	}
	if (deleted)
		cn_buf_adds(b, ",\"_deleted\":true");
	cn_buf_addc(b, '}');
	return rc;
}

/* A document as text (for sync_conflict), malloc'ed; NULL if deleted. */
static char *
local_doc(struct sync *s, int k, const char *uuid, const struct item *it,
	  struct cn_err *err)
{
	struct docq d = {0};
	struct cn_buf b;
	int rc;

	if (it->deleted)
		return NULL;
	cn_buf_init(&b, 0);
	rc = doc_write(s, &d, k, uuid, it->rev, 0, it->changed_at, &b, NULL, 0,
		       err);
	docq_free(&d);
	if (rc <= 0) {
		cn_buf_free(&b);
		return NULL;
	}
	return cn_buf_detach(&b);
}

/* --------------------------------------------------------- applying */

static const char *
jstr(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
jhas(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	return v && cJSON_IsNumber(v);
}

static int64_t
jint(const cJSON *doc, const char *name, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	/* a number beyond int64_t (1e308 in a document) is none */
	if (cJSON_IsNumber(v))
		return v->valuedouble >= -9e18 && v->valuedouble <= 9e18
			       ? (int64_t)v->valuedouble
			       : def;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	return def;
}

static void
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_int(sqlite3_stmt *st, int i, const cJSON *doc, const char *name)
{
	if (jhas(doc, name) ||
	    cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(doc, name)))
		sqlite3_bind_int64(st, i, jint(doc, name, 0));
	else
		sqlite3_bind_null(st, i);
}

/* Runs a statement: fmt gives the parameters ('s' text, 'i' int64,
 * 'n' null).  Returns 0, 1 on a constraint failure, -1 on error. */
static int
run(struct sync *s, const char *sql, struct cn_err *err, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, i = 1;

	if (!(st = cached(s, sql, err)))
		return -1;
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		if (*f == 's')
			bind_str(st, i, va_arg(ap, const char *));
		else if (*f == 'i')
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		else
			sqlite3_bind_null(st, i);
	}
	va_end(ap);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = sqlite3_reset(st);	/* the error, kept for errmsg */
	else
		sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		cn_err_set(err, CN_EDATA, "%s", sqlite3_errmsg(s->db));
		return 1;
	}
	return cn_sql_fail(err, s->db, "store");
}

/* Steps and resets st (a cached() statement), an update of kind:uuid.  Returns 0, 1
 * when the store refused it (a constraint: err says which), -1. */
static int
step_update(struct sync *s, sqlite3_stmt *st, const char *kind,
	   const char *uuid, struct cn_err *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		rc = sqlite3_reset(st);	/* the error, kept for errmsg */
	else
		sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		cn_err_set(err, CN_EDATA, "%s:%s: %s", kind, uuid,
			   sqlite3_errmsg(s->db));
		return 1;
	}
	return cn_sql_fail(err, s->db, "store");
}

/* The integer of a one-value query with one text parameter (0 if none). */
static int64_t
lookup(struct sync *s, const char *sql, const char *v, struct cn_err *err)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (!v)
		return 0;
	if (!(st = cached(s, sql, err)))
		return -1;
	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, s->db, "store");
	return id;
}

static int64_t
folder_of(struct sync *s, const char *name, struct cn_err *err)
{
	if (!name || !*name)
		name = "default";
	if (!(s->names_ok & 1) || strcmp(s->folder_name, name) != 0) {
		if (!(s->folder_id = cn_folder_id(s->st, name, 1, err)))
			return -1;
		snprintf(s->folder_name, sizeof(s->folder_name), "%s", name);
		s->names_ok |= 1;
	}
	return s->folder_id;
}

static int64_t
user_of(struct sync *s, const char *name, struct cn_err *err)
{
	if (!name || !*name)
		return 0;
	if (!(s->names_ok & 2) || strcmp(s->user_name, name) != 0) {
		if (!(s->user_id = cn_user_id(s->st, name, err)))
			return -1;
		snprintf(s->user_name, sizeof(s->user_name), "%s", name);
		s->names_ok |= 2;
	}
	return s->user_id;
}

/* Whether the item was ever on the server (a known _rev). */
static int
ever_synced(struct sync *s, int k, const char *uuid, struct cn_err *err)
{
	struct item it;

	if (item_get(s, k, uuid, &it, err) < 0)
		return -1;
	return it.found && it.rev[0];
}

/* The server's item and a local one are the same thing made twice (same
 * list name, email, address) and the local one was never synced: it
 * takes the server's uuid.  Returns 0 or -1. */
static int
rekey(struct sync *s, int k, const char *olduuid, const char *uuid,
      int64_t id, struct cn_err *err)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "UPDATE %s SET uuid = ?1 WHERE id = ?2",
		 kinds[k].table);
	if (run(s, sql, err, "si", uuid, id) != 0 ||
	    run(s, "DELETE FROM sync_item WHERE kind = ?1 AND uuid = ?2", err,
		"ss", kinds[k].name, olduuid) != 0)
		return -1;
	logf_(s, "%s '%s' made here too: it takes the server's id %s",
	      kinds[k].name, olduuid, uuid);
	return 0;
}

static int64_t
apply_list_doc(struct sync *s, const char *uuid, const cJSON *doc,
	       int deleted, struct cn_err *err)
{
	int64_t id, fid, other;
	const char *name = jstr(doc, "name");
	char nm[300], *fields = NULL;
	int rc;

	id = lookup(s, "SELECT id FROM list WHERE uuid = ?1", uuid, err);
	if (id < 0)
		return -1;
	if (deleted) {
		if (id && run(s, "DELETE FROM list WHERE id = ?1", err, "i",
			      id) != 0)
			return -1;
		return 0;
	}
	if ((fid = folder_of(s, jstr(doc, "folder"), err)) < 0)
		return -1;
	snprintf(nm, sizeof(nm), "%s", name && *name ? name : uuid);
	{
		sqlite3_stmt *st;

		if (!(st = cached(s, "SELECT id, uuid FROM list WHERE "
				  "folder_id = ?1 AND name = ?2 AND uuid <> ?3",
				  err)))
			return -1;
		sqlite3_bind_int64(st, 1, fid);
		sqlite3_bind_text(st, 2, nm, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, uuid, -1, SQLITE_STATIC);
		other = 0;
		if (sqlite3_step(st) == SQLITE_ROW) {
			other = sqlite3_column_int64(st, 0);
		}
		if (other) {
			char ou[64];
			int ev;

			snprintf(ou, sizeof(ou), "%s",
				 sqlite3_column_text(st, 1));
			sqlite3_reset(st);
			ev = ever_synced(s, K_LIST, ou, err);
			if (ev < 0)
				return -1;
			if (!id && !ev) {
				if (rekey(s, K_LIST, ou, uuid, other, err) < 0)
					return -1;
				id = other;
			} else {
				/* two lists of one name: keep both */
				snprintf(nm, sizeof(nm), "%s (%.8s)",
					 name ? name : "", uuid);
			}
		} else {
			sqlite3_reset(st);
		}
	}
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fields");

		if (cJSON_IsArray(f))
			fields = cJSON_PrintUnformatted(f);
	}
	rc = 0;
	if (id)
		rc = run(s, "UPDATE list SET folder_id = ?2, name = ?3, fields = "
			 "?4, backup = ?5, updated_at = ?6 WHERE id = ?1", err,
			 "iissii", id, fid, nm, fields, jint(doc, "backup", 1),
			 jint(doc, "updated_at", s->now));
	if (rc == 0 && !id) {
		rc = run(s, "INSERT INTO list(uuid, folder_id, name, backup, "
			 "fields, created_at, updated_at) VALUES(?1, ?2, ?3, "
			 "?4, ?5, ?6, ?7)", err, "sisisii", uuid, fid, nm,
			 jint(doc, "backup", 1), fields,
			 jint(doc, "created_at", s->now),
			 jint(doc, "updated_at", s->now));
		if (rc == 0)
			id = sqlite3_last_insert_rowid(s->db);
	}
	cJSON_free(fields);
	if (rc != 0)
		return -1;
	return id;
}

/* The id of the list uuid, created from the contact's reference (name,
 * folder) when this store does not have it yet. */
static int64_t
list_for_contact(struct sync *s, const char *uuid, const char *name,
		 const char *folder, struct cn_err *err)
{
	int64_t id = lookup(s, "SELECT id FROM list WHERE uuid = ?1", uuid,
			    err);
	cJSON *stub;

	if (id)
		return id;
	stub = cJSON_CreateObject();
	cJSON_AddStringToObject(stub, "name", name ? name : uuid);
	if (folder)
		cJSON_AddStringToObject(stub, "folder", folder);
	id = apply_list_doc(s, uuid, stub, 0, err);
	cJSON_Delete(stub);
	return id;
}

/* The rowid of a contact by its sync uuid, 0 if none. */
static int64_t
contact_find(struct sync *s, const char *uuid, struct cn_err *err)
{
	int64_t rowid = cn_contact_rowid(s->st, uuid);
	char buf[32];

	if (rowid) {
		snprintf(buf, sizeof(buf), "%lld", (long long)rowid);
		return lookup(s, "SELECT id FROM contact WHERE id = ?1 AND "
			      "uuid IS NULL", buf, err);
	}
	return lookup(s, "SELECT id FROM contact WHERE uuid = ?1", uuid, err);
}

static int
next_contact_id(struct sync *s, int64_t *out, struct cn_err *err)
{
	if (!s->next_contact) {
		sqlite3_stmt *st;

		if (prep(s, &st, "SELECT max(coalesce((SELECT CAST(value AS "
			 "INTEGER) FROM setting WHERE key = 'contact_hw'), 0),"
			 " coalesce((SELECT max(id) FROM contact), 0))", err))
			return -1;
		if (sqlite3_step(st) == SQLITE_ROW)
			s->next_contact = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	*out = ++s->next_contact;
	return 0;
}

static int
save_contact_hw(struct sync *s, struct cn_err *err)
{
	char v[32];

	if (!s->next_contact)
		return 0;
	snprintf(v, sizeof(v), "%lld", (long long)s->next_contact);
	s->next_contact = 0;
	return run(s, "INSERT INTO setting(key, value) VALUES('contact_hw', "
		   "?1) ON CONFLICT(key) DO UPDATE SET value = max(CAST(value "
		   "AS INTEGER), CAST(excluded.value AS INTEGER))", err, "s",
		   v) ? -1 : 0;
}

/* The local contact that holds doc's email or phone in its folder, with
 * its sync uuid in ou (0 if none). */
static int64_t
contact_twin(struct sync *s, int64_t fid, const char *email,
	     char ou[64], struct cn_err *err)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (!email)
		return 0;
	if (!(st = cached(s, "SELECT id, coalesce(uuid, ?3 || '-' || "
			  "printf('%012x', id)) FROM contact WHERE folder_id "
			  "= ?1 AND email = ?2", err)))
		return -1;
	sqlite3_bind_int64(st, 1, fid);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cn_store_idprefix(s->st), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		snprintf(ou, 64, "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return id;
}

/* Returns 0 applied, 1 refused (a duplicate: err says why), -1 error. */
static int
apply_contact(struct sync *s, const char *uuid, const cJSON *doc,
	      int deleted, struct cn_err *err)
{
	int64_t id, fid;
	const char *email = jstr(doc, "email");
	const cJSON *lists, *attrs;
	char *attrtxt = NULL;
	struct cn_buf keep;
	int rc;

	id = contact_find(s, uuid, err);
	if (id < 0)
		return -1;
	if (deleted) {
		if (id && run(s, "DELETE FROM contact WHERE id = ?1", err, "i",
			      id) != 0)
			return -1;
		return 0;
	}
	if ((fid = folder_of(s, jstr(doc, "folder"), err)) < 0)
		return -1;
	if (!id && email) {
		char ou[64];
		int64_t tw = contact_twin(s, fid, email, ou, err);

		if (tw < 0)
			return -1;
		if (tw) {
			int ev = ever_synced(s, K_CONTACT, ou, err);

			if (ev < 0)
				return -1;
			if (ev) {
				cn_err_set(err, CN_EDATA, "email '%s' belongs "
					   "to contact %s here", email, ou);
				return 1;
			}
			if (rekey(s, K_CONTACT, ou, uuid, tw, err) < 0)
				return -1;
			id = tw;
		}
	}
	attrs = cJSON_GetObjectItemCaseSensitive(doc, "attrs");
	if (cJSON_IsObject(attrs) && attrs->child)
		attrtxt = cJSON_PrintUnformatted(attrs);
	if (id) {
		rc = run(s, "UPDATE contact SET folder_id = ?2, email = ?3, "
			 "phone = ?4, first_name = ?5, last_name = ?6, attrs = "
			 "?7, updated_at = ?8 WHERE id = ?1", err, "iisssssi",
			 id, fid, email, jstr(doc, "phone"),
			 jstr(doc, "first_name"), jstr(doc, "last_name"),
			 attrtxt, jint(doc, "updated_at", s->now));
	} else {
		int64_t rowid = cn_contact_rowid(s->st, uuid), nid;

		if (rowid) {
			nid = rowid;	/* one of ours, back from the server */
		} else if (next_contact_id(s, &nid, err) < 0) {
			cJSON_free(attrtxt);
			return -1;
		}
		rc = run(s, "INSERT INTO contact(id, uuid, folder_id, email, "
			 "phone, first_name, last_name, attrs, created_at, "
			 "updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			 "?9, ?10)", err, "isisssssii", nid,
			 rowid ? NULL : uuid, fid, email, jstr(doc, "phone"),
			 jstr(doc, "first_name"), jstr(doc, "last_name"),
			 attrtxt, jint(doc, "created_at", s->now),
			 jint(doc, "updated_at", s->now));
		id = nid;
	}
	cJSON_free(attrtxt);
	if (rc != 0)
		return rc;
	/* memberships: exactly the document's lists */
	lists = cJSON_GetObjectItemCaseSensitive(doc, "lists");
	cn_buf_init(&keep, 0);
	cn_buf_addc(&keep, '[');
	if (cJSON_IsArray(lists)) {
		const cJSON *l;

		cJSON_ArrayForEach(l, lists)
		{
			const char *lu = jstr(l, "uuid");
			int64_t lid;

			if (!lu)
				continue;
			lid = list_for_contact(s, lu, jstr(l, "name"),
					       jstr(doc, "folder"), err);
			if (lid < 0) {
				cn_buf_free(&keep);
				return -1;
			}
			if (run(s, "INSERT INTO member(list_id, contact_id, "
				"added_at) VALUES(?1, ?2, ?3) ON CONFLICT DO "
				"NOTHING", err, "iii", lid, id, s->now) != 0) {
				cn_buf_free(&keep);
				return -1;
			}
			cn_buf_addf(&keep, "%s%lld", keep.len > 1 ? "," : "",
				    (long long)lid);
		}
	}
	cn_buf_addc(&keep, ']');
	rc = run(s, "DELETE FROM member WHERE contact_id = ?1 AND list_id NOT "
		 "IN (SELECT value FROM json_each(?2))", err, "is", id,
		 keep.ptr);
	cn_buf_free(&keep);
	return rc ? -1 : 0;
}

static int
apply_blacklist(struct sync *s, const char *uuid, const cJSON *doc,
		int deleted, struct cn_err *err)
{
	const char *addr = jstr(doc, "address");
	int64_t id, uid;
	int rc;

	id = lookup(s, "SELECT id FROM blacklist WHERE uuid = ?1", uuid, err);
	if (id < 0)
		return -1;
	if (deleted)
		return id ? (run(s, "DELETE FROM blacklist WHERE id = ?1", err,
				 "i", id) ? -1 : 0)
			  : 0;
	if (!addr)
		return cn_err_set(err, CN_EDATA, "blacklist:%s: no address",
				  uuid), 1;
	if (!id) {
		sqlite3_stmt *st;
		int64_t tw = 0;
		char ou[64] = "";

		if (!(st = cached(s, "SELECT id, uuid FROM blacklist WHERE "
				  "address = ?1", err)))
			return -1;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			tw = sqlite3_column_int64(st, 0);
			snprintf(ou, sizeof(ou), "%s",
				 sqlite3_column_text(st, 1));
		}
		sqlite3_reset(st);
		if (tw) {
			int ev = ever_synced(s, K_BLACKLIST, ou, err);

			if (ev < 0)
				return -1;
			if (ev) {
				cn_err_set(err, CN_EDATA, "address '%s' is "
					   "blacklisted here as %s", addr, ou);
				return 1;
			}
			if (rekey(s, K_BLACKLIST, ou, uuid, tw, err) < 0)
				return -1;
			id = tw;
		}
	}
	if ((uid = user_of(s, jstr(doc, "user"), err)) < 0)
		return -1;
	if (id)
		rc = run(s, "UPDATE blacklist SET address = ?2, reason = ?3, "
			 "source = ?4, note = ?5, user_id = nullif(?6, 0), "
			 "updated_at = ?7 WHERE id = ?1", err, "issssii",
			 id, addr, jstr(doc, "reason"), jstr(doc, "source"),
			 jstr(doc, "note"), uid,
			 jint(doc, "updated_at", s->now));
	else
		rc = run(s, "INSERT INTO blacklist(uuid, address, reason, "
			 "source, note, user_id, created_at, updated_at) "
			 "VALUES(?1, ?2, ?3, ?4, ?5, nullif(?6, 0), ?7, ?8)",
			 err, "sssssiii", uuid, addr, jstr(doc, "reason"),
			 jstr(doc, "source"), jstr(doc, "note"), uid,
			 jint(doc, "created_at", s->now),
			 jint(doc, "updated_at", s->now));
	return rc;
}

static int
apply_template(struct sync *s, const char *uuid, const cJSON *doc,
	       int deleted, struct cn_err *err)
{
	int64_t id, fid = 0, uid;
	const char *folder = jstr(doc, "folder");
	const cJSON *users, *u;
	sqlite3_stmt *st;
	int rc;

	id = lookup(s, "SELECT id FROM template WHERE uuid = ?1", uuid, err);
	if (id < 0)
		return -1;
	if (deleted)
		return id ? (run(s, "DELETE FROM template WHERE id = ?1", err,
				 "i", id) ? -1 : 0)
			  : 0;
	if (folder && (fid = folder_of(s, folder, err)) < 0)
		return -1;
	if ((uid = user_of(s, jstr(doc, "created_by"), err)) < 0)
		return -1;
	if (!id) {
		if (run(s, "INSERT INTO template(uuid, title, body, "
			"created_at, updated_at) VALUES(?1, '', '', 0, 0)",
			err, "s", uuid) != 0)
			return -1;
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (!(st = cached(s, "UPDATE template SET folder_id = nullif(?2, 0), "
		 "title = ?3, body = ?4, active = coalesce(?5, 1), context = "
		 "?6, is_default = coalesce(?7, 0), scope = coalesce(?8, "
		 "'folder'), reply_mode = coalesce(?9, 'none'), reply_hours = "
		 "?10, reply_until = ?11, created_by = nullif(?12, 0), "
		 "created_at = coalesce(?13, created_at), updated_at = "
		 "coalesce(?14, updated_at) WHERE id = ?1", err)))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, fid);
	bind_str(st, 3, jstr(doc, "title") ? jstr(doc, "title") : "");
	bind_str(st, 4, jstr(doc, "body") ? jstr(doc, "body") : "");
	bind_int(st, 5, doc, "active");
	bind_str(st, 6, jstr(doc, "context"));
	bind_int(st, 7, doc, "is_default");
	bind_str(st, 8, jstr(doc, "scope"));
	bind_str(st, 9, jstr(doc, "reply_mode"));
	bind_int(st, 10, doc, "reply_hours");
	bind_int(st, 11, doc, "reply_until");
	sqlite3_bind_int64(st, 12, uid);
	bind_int(st, 13, doc, "created_at");
	bind_int(st, 14, doc, "updated_at");
	if ((rc = step_update(s, st, "template", uuid, err)) != 0)
		return rc;
	if (jint(doc, "is_default", 0) &&
	    run(s, "UPDATE template SET is_default = 0 WHERE id <> ?1 AND "
		"is_default AND folder_id IS nullif(?2, 0) AND context IS ?3",
		err, "iis", id, fid, jstr(doc, "context")) != 0)
		return -1;
	if (run(s, "DELETE FROM template_user WHERE template_id = ?1", err,
		"i", id) != 0)
		return -1;
	users = cJSON_GetObjectItemCaseSensitive(doc, "users");
	cJSON_ArrayForEach(u, users)
	{
		int64_t x;

		if (!cJSON_IsString(u))
			continue;
		if ((x = user_of(s, u->valuestring, err)) < 0 ||
		    run(s, "INSERT INTO template_user(template_id, user_id) "
			"VALUES(?1, ?2) ON CONFLICT DO NOTHING", err, "ii", id,
			x) != 0)
			return -1;
	}
	return 0;
}

static int64_t
campaign_stub(struct sync *s, const char *uuid, const cJSON *doc,
	      struct cn_err *err)
{
	int64_t id = lookup(s, "SELECT id FROM campaign WHERE uuid = ?1", uuid,
			    err), fid;

	if (id)
		return id;
	if ((fid = folder_of(s, jstr(doc, "folder"), err)) < 0)
		return -1;
	if (run(s, "INSERT INTO campaign(uuid, folder_id, name, created_at) "
		"VALUES(?1, ?2, ?1, ?3)", err, "sii", uuid, fid, s->now) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

static int
apply_campaign(struct sync *s, const char *uuid, const cJSON *doc,
	       int deleted, struct cn_err *err)
{
	int64_t id, fid, uid, tid, lid;
	sqlite3_stmt *st;
	int rc;

	id = lookup(s, "SELECT id FROM campaign WHERE uuid = ?1", uuid, err);
	if (id < 0)
		return -1;
	if (deleted) {
		if (!id)
			return 0;
		rc = run(s, "DELETE FROM campaign WHERE id = ?1", err, "i", id);
		return rc < 0 ? -1 : rc;	/* messages left: refused */
	}
	if ((id = campaign_stub(s, uuid, doc, err)) < 0 ||
	    (fid = folder_of(s, jstr(doc, "folder"), err)) < 0 ||
	    (uid = user_of(s, jstr(doc, "user"), err)) < 0 ||
	    (tid = lookup(s, "SELECT id FROM template WHERE uuid = ?1",
			  jstr(doc, "template"), err)) < 0 ||
	    (lid = lookup(s, "SELECT id FROM list WHERE uuid = ?1",
			  jstr(doc, "list"), err)) < 0)
		return -1;
	if (!(st = cached(s, "UPDATE campaign SET folder_id = ?2, user_id = "
		 "nullif(?3, 0), name = coalesce(?4, name), template_id = "
		 "nullif(?5, 0), list_id = nullif(?6, 0), sender = ?7, status "
		 "= coalesce(?8, status), simulated = coalesce(?9, 0), driver "
		 "= ?10, created_at = coalesce(?11, created_at), sent_at = "
		 "?12, close_at = ?13, closed_at = ?14, body = ?15 WHERE id = "
		 "?1",
		 err)))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, fid);
	sqlite3_bind_int64(st, 3, uid);
	bind_str(st, 4, jstr(doc, "name"));
	sqlite3_bind_int64(st, 5, tid);
	sqlite3_bind_int64(st, 6, lid);
	bind_str(st, 7, jstr(doc, "sender"));
	bind_str(st, 8, jstr(doc, "status"));
	bind_int(st, 9, doc, "simulated");
	bind_str(st, 10, jstr(doc, "driver"));
	bind_int(st, 11, doc, "created_at");
	bind_int(st, 12, doc, "sent_at");
	bind_int(st, 13, doc, "close_at");
	bind_int(st, 14, doc, "closed_at");
	bind_str(st, 15, jstr(doc, "body"));
	return step_update(s, st, "campaign", uuid, err);
}

static int
apply_message(struct sync *s, const char *ref, const cJSON *doc,
	      int deleted, struct cn_err *err)
{
	int64_t id, cid, fid, uid, tid, kid = 0;
	const char *cu = jstr(doc, "campaign"), *ku = jstr(doc, "contact");
	sqlite3_stmt *st;
	int rc;

	id = lookup(s, "SELECT id FROM message WHERE ref = ?1", ref, err);
	if (id < 0)
		return -1;
	if (deleted) {
		if (!id)
			return 0;
		rc = run(s, "DELETE FROM message WHERE id = ?1", err, "i", id);
		return rc < 0 ? -1 : rc;
	}
	if (!cu)
		return cn_err_set(err, CN_EDATA, "message:%s: no campaign",
				  ref), 1;
	if ((cid = campaign_stub(s, cu, doc, err)) < 0 ||
	    (fid = folder_of(s, jstr(doc, "folder"), err)) < 0 ||
	    (uid = user_of(s, jstr(doc, "user"), err)) < 0 ||
	    (tid = lookup(s, "SELECT id FROM template WHERE uuid = ?1",
			  jstr(doc, "template"), err)) < 0 ||
	    (ku && (kid = contact_find(s, ku, err)) < 0))
		return -1;
	if (!id) {
		if (run(s, "INSERT INTO message(ref, campaign_id, folder_id, "
			"phone, body, encoding, segments, created_at) VALUES("
			"?1, ?2, ?3, '', '', 'gsm7', 0, ?4)", err, "siii", ref,
			cid, fid, s->now) != 0)
			return -1;
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (!(st = cached(s, "UPDATE message SET campaign_id = ?2, contact_id = "
		 "nullif(?3, 0), folder_id = ?4, user_id = nullif(?5, 0), "
		 "template_id = nullif(?6, 0), phone = coalesce(?7, ''), "
		 "sender = ?8, body = coalesce(?9, ''), encoding = "
		 "coalesce(?10, 'gsm7'), segments = coalesce(?11, 0), status = "
		 "coalesce(?12, status), provider_id = ?13, attempts = "
		 "coalesce(?14, 0), error = ?15, created_at = coalesce(?16, "
		 "created_at), sent_at = ?17, done_at = ?18 WHERE id = ?1",
		 err)))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, cid);
	sqlite3_bind_int64(st, 3, kid);
	sqlite3_bind_int64(st, 4, fid);
	sqlite3_bind_int64(st, 5, uid);
	sqlite3_bind_int64(st, 6, tid);
	bind_str(st, 7, jstr(doc, "phone"));
	bind_str(st, 8, jstr(doc, "sender"));
	bind_str(st, 9, jstr(doc, "body"));
	bind_str(st, 10, jstr(doc, "encoding"));
	bind_int(st, 11, doc, "segments");
	bind_str(st, 12, jstr(doc, "status"));
	bind_str(st, 13, jstr(doc, "provider_id"));
	bind_int(st, 14, doc, "attempts");
	bind_str(st, 15, jstr(doc, "error"));
	bind_int(st, 16, doc, "created_at");
	bind_int(st, 17, doc, "sent_at");
	bind_int(st, 18, doc, "done_at");
	return step_update(s, st, "message", ref, err);
}

#define MAX_TEXT (64 * 1024)	/* longest text field, as an import takes */

/* Checks field name of doc: absent, null or a string of at most max
 * bytes (non-empty when need).  Returns 0, or 1 with err. */
static int
check_str(const cJSON *doc, const char *name, size_t max, int need,
	  struct cn_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	size_t bad;

	if (!v || cJSON_IsNull(v)) {
		if (need)
			return cn_err_set(err, CN_EDATA, "no %s", name), 1;
		return 0;
	}
	if (!cJSON_IsString(v))
		return cn_err_set(err, CN_EDATA, "%s is not a string", name), 1;
	if (strlen(v->valuestring) > max)
		return cn_err_set(err, CN_EDATA, "%s is longer than %zu bytes",
				  name, max), 1;
	if (need && !*v->valuestring)
		return cn_err_set(err, CN_EDATA, "empty %s", name), 1;
	if (!cn_utf8_valid(v->valuestring, strlen(v->valuestring), &bad))
		return cn_err_set(err, CN_EDATA, "%s is not valid UTF-8", name),
		       1;
	return 0;
}

/* An E.164 number: '+' and 8 to 15 digits, the first not 0. */
static int
e164(const char *p)
{
	size_t n = 0;

	if (*p++ != '+' || *p == '0')
		return 0;
	for (; *p; p++, n++)
		if (*p < '0' || *p > '9')
			return 0;
	return n >= 8 && n <= 15;
}

/* An email in the form carnet stores (cn_email_normalize gives it back
 * unchanged). */
static int
email_ok(const char *e)
{
	char out[CN_ADDRESS_MAX];
	struct cn_err err;

	return cn_email_normalize(e, out, sizeof(out), &err) == 0 &&
	       strcmp(out, e) == 0;
}

/*
 * The checks an import or a tool makes, on a document from the server
 * (which any client can write): types, lengths, UTF-8, emails and phone
 * numbers in the stored form, a known reason, a template that compiles.
 * Returns 0, or 1 with err ("why", without the document's id).
 */
static int
check_doc(int k, const cJSON *doc, struct cn_err *err)
{
	const char *v;

	if (check_str(doc, "folder", 255, 0, err))
		return 1;
	switch (k) {
	case K_LIST:
		return check_str(doc, "name", 255, 1, err);
	case K_CONTACT: {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "attrs");

		if (check_str(doc, "email", 254, 0, err) ||
		    check_str(doc, "phone", 16, 0, err) ||
		    check_str(doc, "first_name", MAX_TEXT, 0, err) ||
		    check_str(doc, "last_name", MAX_TEXT, 0, err))
			return 1;
		if ((v = jstr(doc, "email")) && !email_ok(v))
			return cn_err_set(err, CN_EDATA, "invalid email '%.80s'",
					  v), 1;
		if ((v = jstr(doc, "phone")) && !e164(v))
			return cn_err_set(err, CN_EDATA, "invalid phone '%.40s' "
					  "(not E.164)", v), 1;
		if (a && !cJSON_IsNull(a) && !cJSON_IsObject(a))
			return cn_err_set(err, CN_EDATA, "attrs is not an "
					  "object"), 1;
		return 0;
	}
	case K_BLACKLIST:
		if (check_str(doc, "address", 254, 1, err) ||
		    check_str(doc, "note", 1024, 0, err) ||
		    check_str(doc, "source", 255, 0, err))
			return 1;
		v = jstr(doc, "address");
		if (!e164(v) && !email_ok(v))
			return cn_err_set(err, CN_EDATA, "invalid address "
					  "'%.80s'", v), 1;
		v = jstr(doc, "reason");
		if (!v || (strcmp(v, "STOP") && strcmp(v, "NPAI") &&
			   strcmp(v, "manual")))
			return cn_err_set(err, CN_EDATA, "unknown reason '%.20s'",
					  v ? v : ""), 1;
		return 0;
	case K_TEMPLATE: {
		struct cn_tpl t;
		struct cn_err e2;

		if (check_str(doc, "title", 200, 1, err) ||
		    check_str(doc, "body", MAX_TEXT, 1, err))
			return 1;
		v = jstr(doc, "body");
		if (cn_tpl_parse(&t, v, strlen(v), &e2) < 0) {
			cn_tpl_free(&t);
			return cn_err_set(err, CN_EDATA, "body: %s", e2.msg), 1;
		}
		cn_tpl_free(&t);
		return 0;
	}
	default:
		return check_str(doc, "name", MAX_TEXT, 0, err) ||
		       check_str(doc, "body", MAX_TEXT, 0, err) ||
		       check_str(doc, "phone", 16, 0, err);
	}
}

/*
 * Applies a server document to the store, in a savepoint: 0 applied,
 * 1 refused (err says why; nothing changed), -1 on a store error.
 */
static int
apply_doc(struct sync *s, int k, const char *uuid, const cJSON *doc,
	  int deleted, struct cn_err *err)
{
	int rc;

	if (run(s, "SAVEPOINT cn_doc", err, "") != 0)
		return -1;
	switch (k) {
	case K_LIST:
		rc = apply_list_doc(s, uuid, doc, deleted, err) < 0 ? -1 : 0;
		break;
	case K_CONTACT: rc = apply_contact(s, uuid, doc, deleted, err); break;
	case K_BLACKLIST: rc = apply_blacklist(s, uuid, doc, deleted, err); break;
	case K_TEMPLATE: rc = apply_template(s, uuid, doc, deleted, err); break;
	case K_CAMPAIGN: rc = apply_campaign(s, uuid, doc, deleted, err); break;
	default: rc = apply_message(s, uuid, doc, deleted, err); break;
	}
	if (rc != 0) {
		struct cn_err ignored;

		run(s, "ROLLBACK TO cn_doc", &ignored, "");
		run(s, "RELEASE cn_doc", &ignored, "");
		s->names_ok = 0;
		return rc;
	}
	return run(s, "RELEASE cn_doc", err, "") != 0 ? -1 : 0;
}

/* -------------------------------------------------------- conflicts */

/* Who wins: 0 this store, 1 the server, 2 nobody yet (ask). */
static int
decide(struct sync *s, const struct item *it, const cJSON *doc)
{
	int64_t rt;

	switch (s->o->policy) {
	case CN_SYNC_LOCAL: return 0;
	case CN_SYNC_REMOTE: return 1;
	case CN_SYNC_ASK: return 2;
	case CN_SYNC_NEWEST: break;
	}
	rt = jint(doc, "edited_at", 0);
	if (it->changed_at > rt)
		return 0;
	return 1;	/* later on the server, or a tie: the server's _rev */
}

static int
conflict_log(struct sync *s, int k, const char *uuid, const struct item *it,
	     const char *remote, const char *resolution, struct cn_err *err)
{
	char *local = local_doc(s, k, uuid, it, err);
	int rc;

	/* an open conflict of this item is updated, not repeated */
	if (!resolution &&
	    lookup(s, "SELECT id FROM sync_conflict WHERE resolution IS NULL "
		   "AND kind || ':' || uuid = ?1", s->tmp.ptr, err) > 0) {
		rc = run(s, "UPDATE sync_conflict SET local = ?3, remote = ?4 "
			 "WHERE resolution IS NULL AND kind = ?1 AND uuid = "
			 "?2", err, "ssss", kinds[k].name, uuid, local, remote);
		free(local);
		return rc ? -1 : 0;
	}
	rc = run(s, "INSERT INTO sync_conflict(kind, uuid, local, remote, "
		 "resolution, created_at, resolved_at) VALUES(?1, ?2, ?3, ?4, "
		 "?5, ?6, ?7)", err, resolution ? "sssssii" : "sssssin",
		 kinds[k].name, uuid, local, remote, resolution, s->now,
		 s->now);
	free(local);
	return rc ? -1 : 0;
}

/* Whether the local item holds the same data as the server's document
 * (all but _id, _rev, edit time, device and the items' own times). */
static int
same_data(struct sync *s, int k, const char *uuid, const struct item *it,
	  const cJSON *doc)
{
	static const char *const meta[] = {"_id", "_rev", "edited_at",
					   "device", "created_at",
					   "updated_at", NULL};
	struct cn_err e;
	char *txt = local_doc(s, k, uuid, it, &e);
	cJSON *a = txt ? cJSON_Parse(txt) : NULL, *b = cJSON_Duplicate(doc, 1);
	int same;

	free(txt);
	for (int i = 0; meta[i]; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(a, meta[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(b, meta[i]);
	}
	same = a && b && cJSON_Compare(a, b, 1);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return same;
}

/*
 * An item changed here (it, pending) and on the server (doc, rev;
 * deleted).  Applies the policy; logs it.  Returns 0 or -1.
 */
static int
resolve(struct sync *s, int k, const char *uuid, const struct item *it,
	const cJSON *doc, const char *rev, int deleted, const char *label,
	struct cn_err *err)
{
	char *remote = NULL;
	int w;

	/* our own write, acknowledged but not recorded (a killed run) */
	if (jstr(doc, "device") && strcmp(jstr(doc, "device"), s->device) == 0
	    && jint(doc, "edited_at", -1) == it->changed_at &&
	    !deleted == !it->deleted)
		return item_put(s, k, uuid, "synced", rev, deleted,
				it->changed_at, s->now, err);
	if (deleted && it->deleted)
		return item_put(s, k, uuid, "synced", rev, 1, it->changed_at,
				s->now, err);
	/* the same change made on both sides (the same file imported on
	 * two machines): nothing to decide */
	if (!deleted && !it->deleted && same_data(s, k, uuid, it, doc))
		return item_put(s, k, uuid, "synced", rev, 0,
				jint(doc, "edited_at", it->changed_at), s->now,
				err);
	w = decide(s, it, doc);
	if (!deleted)
		remote = cJSON_PrintUnformatted(doc);
	cn_buf_reset(&s->tmp);
	cn_buf_addf(&s->tmp, "%s:%s", kinds[k].name, uuid);
	if (conflict_log(s, k, uuid, it, remote,
			 w == 2 ? NULL : w ? "remote" : "local", err) < 0) {
		cJSON_free(remote);
		return -1;
	}
	cJSON_free(remote);
	change(s, "pull", k, uuid, w == 2 ? "conflict" : "resolved", label);
	if (w == 2) {
		s->stats->conflicts_open++;
		logf_(s, "conflict: %s:%s changed here and on the server; see "
		      "carnet-sync conflicts", kinds[k].name, uuid);
		return item_put(s, k, uuid, "conflict", rev, it->deleted,
				it->changed_at, 0, err);
	}
	s->stats->conflicts++;
	if (w == 0)	/* ours wins: pushed over the server's revision */
		return item_put(s, k, uuid, "pending", deleted ? NULL : rev,
				it->deleted, it->changed_at, 0, err);
	if (apply_doc(s, k, uuid, doc, deleted, err) < 0)
		return -1;
	s->stats->pulled++;
	if (deleted)
		s->stats->pulled_deleted++;
	return item_put(s, k, uuid, "synced", rev, deleted,
			jint(doc, "edited_at", s->now), s->now, err);
}

/* ------------------------------------------------------------- pull */

/* Splits "kind:uuid"; returns the kind or -1. */
static int
split_id(const char *id, const char **uuid)
{
	const char *c = strchr(id, ':');
	int k;

	if (!c || !c[1])
		return -1;
	k = kind_find(id, (size_t)(c - id));
	*uuid = c + 1;
	return k;
}

/* Appends to b "since" as given, URL-encoded. */
static void
add_since(struct sync *s, struct cn_buf *b, const char *since)
{
	char *e = curl_easy_escape(s->curl, since, 0);

	cn_buf_adds(b, e ? e : since);
	curl_free(e);
}

/* The checkpoint's text for last_seq (a number or a string). */
static void
seq_text(const cJSON *seq, char *out, size_t cap)
{
	if (cJSON_IsString(seq))
		snprintf(out, cap, "%s", seq->valuestring);
	else if (cJSON_IsNumber(seq))
		snprintf(out, cap, "%.0f", seq->valuedouble);
	else {
		char *t = cJSON_PrintUnformatted(seq);

		snprintf(out, cap, "%s", t ? t : "0");
		cJSON_free(t);
	}
}

static int
since_get(struct sync *s, char *out, size_t cap, struct cn_err *err)
{
	sqlite3_stmt *st;

	snprintf(out, cap, "0");
	if (prep(s, &st, "SELECT since FROM sync_checkpoint WHERE remote = "
		 "?1", err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, s->remote, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* The live items of kind k here (for the guard's share). */
static int64_t
kind_count(struct sync *s, int k, struct cn_err *err)
{
	char sql[128];
	sqlite3_stmt *st;
	int64_t n = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", kinds[k].table);
	if (prep(s, &st, sql, err) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Whether n deletions out of total trip the guard. */
static int
guard_trips(struct sync *s, int64_t n, int64_t total)
{
	if (n <= 0 || s->o->force_delete)
		return 0;
	if (s->o->delete_max > 0 && n > s->o->delete_max)
		return 1;
	return total > 0 && n * 100 > (int64_t)s->o->delete_max_percent * total;
}

static void
refused_msg(struct sync *s, const char *dir, int k, int64_t n, int64_t total)
{
	size_t len = strlen(s->stats->refused_msg);

	snprintf(s->stats->refused_msg + len,
		 sizeof(s->stats->refused_msg) - len,
		 "%srefused to %s %lld deletions of %s (of %lld; limits %ld%% "
		 "or %ld)", len ? "; " : "", dir, (long long)n,
		 kinds[k].plural, (long long)total, s->o->delete_max_percent,
		 s->o->delete_max);
	s->stats->refused += (uint64_t)n;
}

/* Adds to n[] the deletions in results (rows of _changes) of items that
 * live here.  Returns 0 or -1. */
static int
guard_count(struct sync *s, const cJSON *res, int64_t n[K_N],
	    struct cn_err *err)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, res)
	{
		const char *id = jstr(r, "id"), *uuid;
		struct item it;
		int k;

		if (!id || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				   r, "deleted")))
			continue;
		k = split_id(id, &uuid);
		if (k < 0 || !(s->o->kinds & kinds[k].bit))
			continue;
		if (item_get(s, k, uuid, &it, err) < 0)
			return -1;
		if (it.found && !it.deleted)
			n[k]++;
	}
	return 0;
}

/* GETs a page of _changes (ids and revisions, no documents) after since,
 * limit rows.  Returns the parsed answer (caller frees) and its last_seq
 * in next, or NULL with err. */
static cJSON *
changes_page(struct sync *s, const char *since, int limit, int docs,
	     char *next, size_t ncap, struct cn_err *err)
{
	cJSON *j;
	long code;

	cn_buf_reset(&s->body);
	cn_buf_addf(&s->body, "/_changes?%slimit=%d&since=",
		    docs ? "include_docs=true&" : "", limit);
	add_since(s, &s->body, since);
	if ((code = http(s, "GET", s->body.ptr, NULL, 0, err)) < 0)
		return NULL;
	if (code == 404) {
		cn_err_set(err, CN_EUNAVAIL, "server %s: the database '%s' is "
			   "gone (deleted on the server?)", s->shown,
			   s->o->database);
		return NULL;
	}
	if (code != 200) {
		cn_err_set(err, CN_EUNAVAIL, "server %s: _changes: HTTP %ld",
			   s->shown, code);
		return NULL;
	}
	if (!(j = resp_json(s, "_changes", err)))
		return NULL;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "results"))) {
		cJSON_Delete(j);
		cn_err_set(err, CN_EDATA, "server %s: _changes: no results",
			   s->shown);
		return NULL;
	}
	seq_text(cJSON_GetObjectItemCaseSensitive(j, "last_seq"), next, ncap);
	return j;
}

/*
 * The guard on pulled deletions: counts the server's deletions since the
 * checkpoint of items that live here; first (the first page, already
 * read) is all there is when it holds fewer than limit rows, else the
 * rest is scanned too.  Returns 1 when it trips (the run pulls nothing),
 * 0 when not, -1 on error.
 */
static int
pull_guard(struct sync *s, const cJSON *first, int limit, const char *next0,
	   struct cn_err *err)
{
	int64_t n[K_N] = {0};
	char since[512], next[512];
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(first, "results");
	int more, rc, trips = 0;

	if (s->o->force_delete)
		return 0;
	if (guard_count(s, res, n, err) < 0)
		return -1;
	more = cJSON_GetArraySize(res) >= limit;
	/* a store of which nothing ever reached a server (a first pull into
	 * it) has nothing the server could delete: no scan */
	if (more && lookup(s, "SELECT EXISTS(SELECT 1 FROM sync_item WHERE "
			   "rev IS NOT NULL AND ?1 = ?1)", "", err) == 0)
		more = 0;
	snprintf(since, sizeof(since), "%s", next0);
	while (more) {
		cJSON *j = changes_page(s, since, SCAN_LIMIT, 0, next,
					sizeof(next), err);

		if (!j)
			return -1;
		res = cJSON_GetObjectItemCaseSensitive(j, "results");
		more = cJSON_GetArraySize(res) >= SCAN_LIMIT;
		rc = guard_count(s, res, n, err);
		cJSON_Delete(j);
		if (rc < 0)
			return -1;
		snprintf(since, sizeof(since), "%s", next);
	}
	for (int k = 0; k < K_N; k++) {
		int64_t total;

		if (!n[k])
			continue;
		if ((total = kind_count(s, k, err)) < 0)
			return -1;
		if (guard_trips(s, n[k], total)) {
			refused_msg(s, "apply", k, n[k], total);
			trips = 1;
		}
	}
	return trips;
}

/* Applies (or, dry, reports) one row of _changes.  Returns 0 or -1. */
static int
pull_one(struct sync *s, const cJSON *r, struct cn_err *err)
{
	const char *id = jstr(r, "id"), *uuid, *rev;
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(r, "doc");
	int deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
								    "deleted"));
	struct item it;
	char label[128] = "";
	int k, rc;

	if (!id)
		return 0;
	if (strncmp(id, "device:", 7) == 0 && cJSON_IsObject(doc)) {
		if (!s->o->dry_run && !deleted &&
		    run(s, "INSERT INTO sync_device(id, name, last_sync) "
			"VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET name "
			"= excluded.name, last_sync = excluded.last_sync", err,
			"ssi", id + 7, jstr(doc, "name"),
			jint(doc, "last_sync", 0)) != 0)
			return -1;
		return 0;
	}
	k = split_id(id, &uuid);
	if (k < 0 || !(s->o->kinds & kinds[k].bit))
		return 0;
	s->stats->docs_received++;
	if (!cJSON_IsObject(doc))
		return cn_err_set(err, CN_EDATA, "server %s: _changes: %s "
				  "without its document", s->shown, id);
	rev = jstr(doc, "_rev");
	if (!rev)
		return cn_err_set(err, CN_EDATA, "server %s: %s: no _rev",
				  s->shown, id);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "_deleted")))
		deleted = 1;
	if (item_get(s, k, uuid, &it, err) < 0)
		return -1;
	if (it.found && strcmp(it.rev, rev) == 0)
		return 0;	/* what we have (our own push, seen again) */
	if (!deleted) {
		snprintf(label, sizeof(label), "%s",
			 jstr(doc, "name")	  ? jstr(doc, "name")
			 : jstr(doc, "email")	  ? jstr(doc, "email")
			 : jstr(doc, "phone")	  ? jstr(doc, "phone")
			 : jstr(doc, "address") ? jstr(doc, "address")
			 : jstr(doc, "title")	  ? jstr(doc, "title")
						  : "");
	}
	if (!deleted && ((s->nul_ids.len && has_nul(s, id) &&
			  cn_err_set(err, CN_EDATA, "a text holds a NUL "
				     "character")) ||
			 check_doc(k, doc, err))) {
		/* not applied, not recorded: the next change to it on the
		 * server is looked at again; the run reports it (exit 65) */
		s->stats->rejected++;
		if (!s->stats->rejected_msg[0])
			snprintf(s->stats->rejected_msg,
				 sizeof(s->stats->rejected_msg), "%.120s: %.250s",
				 id, err->msg);
		logf_(s, "%s: refused: %s", id, err->msg);
		cn_err_clear(err);
		change(s, "pull", k, uuid, "refused", label);
		return 0;
	}
	if (s->o->dry_run) {
		if (it.found && strcmp(it.state, "synced") != 0)
			change(s, "pull", k, uuid, "conflict", label);
		else if (deleted && (!it.found || it.deleted))
			return 0;
		else
			change(s, "pull", k, uuid,
			       deleted ? "delete" : it.found ? "update" : "add",
			       label);
		s->stats->pulled++;
		if (deleted)
			s->stats->pulled_deleted++;
		return 0;
	}
	if (it.found && strcmp(it.state, "pending") == 0)
		return resolve(s, k, uuid, &it, doc, rev, deleted, label, err);
	if (it.found && strcmp(it.state, "conflict") == 0) {
		/* still open: the server's newer version replaces the one
		 * the conflict holds */
		char *remote = deleted ? NULL : cJSON_PrintUnformatted(doc);

		cn_buf_reset(&s->tmp);
		cn_buf_addf(&s->tmp, "%s:%s", kinds[k].name, uuid);
		rc = conflict_log(s, k, uuid, &it, remote, NULL, err);
		cJSON_free(remote);
		if (rc < 0)
			return -1;
		return item_put(s, k, uuid, "conflict", rev, it.deleted,
				it.changed_at, 0, err);
	}
	if (deleted && (!it.found || it.deleted))
		return item_put(s, k, uuid, "synced", rev, 1,
				jint(doc, "edited_at", s->now), s->now, err);
	rc = apply_doc(s, k, uuid, doc, deleted, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* refused here (a duplicate): kept as an open conflict */
		char *remote = cJSON_PrintUnformatted(doc);

		logf_(s, "%s: not applied: %s", id, err->msg);
		cn_buf_reset(&s->tmp);
		cn_buf_addf(&s->tmp, "%s:%s", kinds[k].name, uuid);
		it.deleted = 1;	/* nothing here under that uuid */
		rc = conflict_log(s, k, uuid, &it, remote, NULL, err);
		cJSON_free(remote);
		cn_err_clear(err);
		s->stats->conflicts_open++;
		change(s, "pull", k, uuid, "conflict", label);
		return rc < 0 ? -1
			      : item_put(s, k, uuid, "conflict", rev, 1,
					 jint(doc, "edited_at", s->now), 0,
					 err);
	}
	change(s, "pull", k, uuid,
	       deleted ? "delete" : it.found && !it.deleted ? "update" : "add",
	       label);
	s->stats->pulled++;
	if (deleted)
		s->stats->pulled_deleted++;
	return item_put(s, k, uuid, "synced", rev, deleted,
			jint(doc, "edited_at", s->now), s->now, err);
}

/* The order in which one batch is applied: lists before contacts,
 * campaigns before messages. */
static int
row_rank(const cJSON *r)
{
	const char *id = jstr(r, "id"), *u;
	int k = id ? split_id(id, &u) : -1;

	return k < 0 ? K_N : k;
}

/* Applies the rows of one _changes answer (results), lists before
 * contacts, campaigns before messages.  Returns 0 or -1. */
static int
pull_rows(struct sync *s, const cJSON *res, struct cn_err *err)
{
	const cJSON *r;

	for (int pass = 0; pass <= K_N; pass++)
		cJSON_ArrayForEach(r, res)
		{
			if (row_rank(r) == pass && pull_one(s, r, err) < 0)
				return -1;
		}
	return 0;
}

/* A tombstone row for results: {"id", "deleted": true, "doc"}; doc is
 * the server's tombstone with its body when want_body (a conflict needs
 * its edit time), else {_id, _rev, _deleted}.  Returns 0 or -1. */
static int
add_tombstone(struct sync *s, cJSON *rows, const char *id, const char *rev,
	      int want_body, struct cn_err *err)
{
	cJSON *row = cJSON_CreateObject(), *doc = NULL;

	if (want_body) {
		char *eid = curl_easy_escape(s->curl, id, 0);
		char *erev = curl_easy_escape(s->curl, rev, 0);
		struct cn_buf path;
		long code;

		cn_buf_init(&path, 0);
		cn_buf_addf(&path, "/%s?rev=%s", eid ? eid : id,
			    erev ? erev : rev);
		curl_free(eid);
		curl_free(erev);
		code = http(s, "GET", path.ptr, NULL, 0, err);
		cn_buf_free(&path);
		if (code < 0) {
			cJSON_Delete(row);
			return -1;
		}
		if (code == 200)
			doc = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "_id", id);
		cJSON_AddStringToObject(doc, "_rev", rev);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "_deleted");
	cJSON_AddTrueToObject(doc, "_deleted");
	cJSON_AddStringToObject(row, "id", id);
	cJSON_AddTrueToObject(row, "deleted");
	cJSON_AddItemToObject(row, "doc", doc);
	cJSON_AddItemToArray(rows, row);
	return 0;
}

/*
 * The rows of one page of _changes (ids and revisions) that this store
 * needs, each with its document, in a new array (caller frees): a
 * revision it already has (its own push, seen again) is left out without
 * reading the document; the others are read in one POST to _all_docs.
 * Returns NULL with err on failure.
 */
static cJSON *
fetch_docs(struct sync *s, const cJSON *res, struct cn_err *err)
{
	cJSON *rows = cJSON_CreateArray(), *j = NULL, *want, *got;
	const cJSON *r;
	int nkeys = 0;

	want = cJSON_CreateArray();	/* the rows whose document is read */
	cn_buf_reset(&s->body);
	cn_buf_adds(&s->body, "{\"keys\":[");
	cJSON_ArrayForEach(r, res)
	{
		const char *id = jstr(r, "id"), *uuid, *rev;
		const cJSON *ch = cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(r, "changes"), 0);
		int deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			r, "deleted"));
		struct item it;
		int k;

		if (!id || !(rev = jstr(ch, "rev")))
			continue;
		if (strncmp(id, "device:", 7) == 0) {
			if (deleted || strcmp(id + 7, s->device) == 0)
				continue;
		} else {
			k = split_id(id, &uuid);
			if (k < 0 || !(s->o->kinds & kinds[k].bit))
				continue;
			if (item_get(s, k, uuid, &it, err) < 0)
				goto fail;
			if (it.found && strcmp(it.rev, rev) == 0)
				continue;	/* what we have */
			if (deleted) {
				if (!it.found)
					continue;	/* never here */
				if (add_tombstone(s, rows, id, rev,
						  strcmp(it.state, "synced") != 0,
						  err) < 0)
					goto fail;
				continue;
			}
		}
		cJSON_AddItemToArray(want, cJSON_CreateString(id));
		if (nkeys++)
			cn_buf_addc(&s->body, ',');
		json_strb(&s->body, id);
	}
	cn_buf_adds(&s->body, "]}");
	if (!nkeys) {
		cJSON_Delete(want);
		return rows;
	}
	{
		long code = http(s, "POST", "/_all_docs?include_docs=true",
				 s->body.ptr, s->body.len, err);

		if (code < 0)
			goto fail;
		if (code != 200) {
			cn_err_set(err, CN_EUNAVAIL, "server %s: _all_docs: "
				   "HTTP %ld", s->shown, code);
			goto fail;
		}
	}
	if (!(j = resp_json(s, "_all_docs", err)))
		goto fail;
	cJSON_ArrayForEach(got, cJSON_GetObjectItemCaseSensitive(j, "rows"))
	{
		const char *id = jstr(got, "id");
		cJSON *doc = cJSON_GetObjectItemCaseSensitive(got, "doc");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(got, "value");
		cJSON *row;

		if (!id)
			continue;	/* not found (purged): nothing to do */
		if (!cJSON_IsObject(doc)) {
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				    val, "deleted")) && jstr(val, "rev") &&
			    add_tombstone(s, rows, id, jstr(val, "rev"), 0,
					  err) < 0)
				goto fail;
			continue;
		}
		row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "id", id);
		cJSON_AddItemToObject(row, "doc",
				      cJSON_DetachItemViaPointer(got, doc));
		cJSON_AddItemToArray(rows, row);
	}
	cJSON_Delete(j);
	cJSON_Delete(want);
	return rows;
fail:
	cJSON_Delete(j);
	cJSON_Delete(want);
	cJSON_Delete(rows);
	return NULL;
}

/*
 * The pull: pages of _changes since the checkpoint (ids only), the
 * documents this store needs read with _all_docs, each page applied in
 * one transaction with the checkpoint that follows it.  Returns 0, 1
 * when the guard refused the server's deletions (nothing pulled), or -1.
 */
static int
pull(struct sync *s, struct cn_err *err)
{
	char since[512], next[512];
	cJSON *page;
	int rc, docs;

	if (since_get(s, since, sizeof(since), err) < 0)
		return -1;
	/* a first pull needs every document: they come with the changes */
	docs = strcmp(since, "0") == 0;
	page = changes_page(s, since, s->batch, docs, next, sizeof(next), err);
	if (!page)
		return -1;
	rc = pull_guard(s, page, s->batch, next, err);
	if (rc != 0) {
		cJSON_Delete(page);
		return rc;
	}
	for (;;) {
		cJSON *res = cJSON_GetObjectItemCaseSensitive(page, "results");
		int count = cJSON_GetArraySize(res);
		uint64_t before = s->stats->docs_received;
		cJSON *rows;

		if (docs) {
			rows = cJSON_DetachItemViaPointer(page, res);
		} else {
			rows = fetch_docs(s, res, err);
		}
		cJSON_Delete(page);
		if (!rows)
			return -1;
		if (!s->o->dry_run && begin(s, err) < 0) {
			cJSON_Delete(rows);
			return -1;
		}
		rc = pull_rows(s, rows, err);
		cJSON_Delete(rows);
		if (rc < 0) {
			if (!s->o->dry_run)
				rollback(s);
			return -1;
		}
		if (!s->o->dry_run) {
			cn_crashpoint("sync.pull.applied");
			if (save_contact_hw(s, err) < 0 ||
			    run(s, "INSERT INTO sync_checkpoint(remote, since, "
				"updated_at) VALUES(?1, ?2, ?3) ON "
				"CONFLICT(remote) DO UPDATE SET since = "
				"excluded.since, updated_at = "
				"excluded.updated_at", err, "ssi", s->remote,
				next, s->now) != 0 ||
			    commit(s, err) < 0) {
				rollback(s);
				return -1;
			}
			cn_crashpoint("sync.pull.committed");
		}
		s->names_ok = 0;
		if (count)
			logf_(s, "pulled %d changes (since %s)", count, next);
		snprintf(since, sizeof(since), "%s", next);
		if (count < s->batch)
			break;
		if (s->o->stop && *s->o->stop) {
			s->stats->stopped = 1;
			return 0;
		}
		/* the next page with its documents when most of this one's
		 * were needed; else ids first (its own pushes seen again) */
		docs = (s->stats->docs_received - before) * 2 > (uint64_t)count;
		page = changes_page(s, since, s->batch, docs, next,
				    sizeof(next), err);
		if (!page)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- push */

struct sent {
	int k;
	char uuid[64];
	int64_t changed_at;
	int deleted;
	int had_rev;	/* on the server before: an update, not an add */
	char label[64];
};

/* Fetches the server's version of the items that got a conflict and
 * applies the policy.  Returns the number resolved in favour of this
 * store (to push again), or -1. */
static int
push_conflicts(struct sync *s, struct sent *c, int n, struct cn_err *err)
{
	cJSON *j, *rows, *row;
	long code;
	int again = 0;

	cn_buf_reset(&s->body);
	cn_buf_adds(&s->body, "{\"keys\":[");
	for (int i = 0; i < n; i++) {
		cn_buf_reset(&s->tmp);
		cn_buf_addf(&s->tmp, "%s:%s", kinds[c[i].k].name, c[i].uuid);
		if (i)
			cn_buf_addc(&s->body, ',');
		json_strb(&s->body, s->tmp.ptr);
	}
	cn_buf_adds(&s->body, "]}");
	code = http(s, "POST", "/_all_docs?include_docs=true", s->body.ptr,
		    s->body.len, err);
	if (code < 0)
		return -1;
	if (code != 200 || !(j = resp_json(s, "_all_docs", err)))
		return code != 200 ? cn_err_set(err, CN_EUNAVAIL, "server %s: "
						"_all_docs: HTTP %ld",
						s->shown, code)
				   : -1;
	rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
	if (begin(s, err) < 0) {
		cJSON_Delete(j);
		return -1;
	}
	/* a row with a revision is handled; any other (not_found: the
	 * conflict was not the server's own) leaves its item pending */
	s->unresolved += n;
	cJSON_ArrayForEach(row, rows)
	{
		const char *id = jstr(row, "id"), *uuid;
		const cJSON *doc = cJSON_GetObjectItemCaseSensitive(row, "doc");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(row, "value");
		cJSON *tomb = NULL;
		struct item it;
		int k, deleted;
		const char *rev;

		if (!id || (k = split_id(id, &uuid)) < 0)
			continue;
		deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			val, "deleted"));
		rev = jstr(val, "rev");
		if (!rev)
			continue;
		s->unresolved--;
		if (!cJSON_IsObject(doc)) {
			tomb = cJSON_CreateObject();
			doc = tomb;
			deleted = 1;
		}
		if (item_get(s, k, uuid, &it, err) < 0 ||
		    (it.found && strcmp(it.state, "pending") == 0 &&
		     resolve(s, k, uuid, &it, doc, rev, deleted, "", err) < 0)) {
			cJSON_Delete(tomb);
			cJSON_Delete(j);
			rollback(s);
			return -1;
		}
		cJSON_Delete(tomb);
		if (item_get(s, k, uuid, &it, err) < 0) {
			cJSON_Delete(j);
			rollback(s);
			return -1;
		}
		if (strcmp(it.state, "pending") == 0)
			again++;
	}
	cJSON_Delete(j);
	if (save_contact_hw(s, err) < 0 || commit(s, err) < 0)
		return -1;
	return again;
}

/* Sends one batch (s->body holds the documents, c the items).  Returns
 * the number of items to push again, or -1. */
static int
push_batch(struct sync *s, struct sent *c, int n, struct cn_err *err)
{
	cJSON *j, *e;
	long code;
	sqlite3_stmt *ok = NULL;
	struct sent *conf;
	int nconf = 0, failed = 0, again = 0;
	char first_fail[200] = "";

	code = http(s, "POST", "/_bulk_docs", s->body.ptr, s->body.len, err);
	if (code < 0)
		return -1;
	s->stats->docs_sent += (uint64_t)n;
	if (code != 201 && code != 202)
		return cn_err_set(err, CN_EUNAVAIL, "server %s: _bulk_docs: "
				  "HTTP %ld", s->shown, code);
	if (!(j = resp_json(s, "_bulk_docs", err)))
		return -1;
	cn_crashpoint("sync.push.sent");
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return cn_err_set(err, CN_EDATA, "server %s: _bulk_docs: not "
				  "an array", s->shown);
	}
	conf = calloc((size_t)n, sizeof(*conf));
	if (!conf || begin(s, err) < 0 ||
	    prep(s, &ok, "UPDATE sync_item SET rev = ?3, state = CASE WHEN "
		 "changed_at = ?4 AND state = 'pending' THEN 'synced' ELSE "
		 "state END, synced_at = ?5 WHERE kind = ?1 AND uuid = ?2",
		 err) < 0) {
		if (ok || conf)
			rollback(s);
		free(conf);
		cJSON_Delete(j);
		return -1;
	}
	/* CouchDB lists every document (PouchDB too); match by id */
	cJSON_ArrayForEach(e, j)
	{
		const char *id = jstr(e, "id"), *uuid;
		const char *error = jstr(e, "error");
		int k, i;

		if (!id || (k = split_id(id, &uuid)) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (c[i].k == k && strcmp(c[i].uuid, uuid) == 0)
				break;
		if (i == n)
			continue;
		if (error && strcmp(error, "conflict") == 0) {
			conf[nconf++] = c[i];
			continue;
		}
		if (error || !jstr(e, "rev")) {
			s->refused_other++;
			if (!s->refused_first[0])
				snprintf(s->refused_first,
					 sizeof(s->refused_first), "%s: %s%s%s",
					 id, error ? error : "?",
					 jstr(e, "reason") ? ": " : "",
					 jstr(e, "reason") ? jstr(e, "reason")
							   : "");
			if (!first_fail[0])
				snprintf(first_fail, sizeof(first_fail),
					 "%s: %s%s%s", id, error ? error : "?",
					 jstr(e, "reason") ? ": " : "",
					 jstr(e, "reason") ? jstr(e, "reason")
							   : "");
			failed++;
			continue;
		}
		sqlite3_bind_text(ok, 1, kinds[k].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ok, 2, uuid, -1, SQLITE_STATIC);
		sqlite3_bind_text(ok, 3, jstr(e, "rev"), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ok, 4, c[i].changed_at);
		sqlite3_bind_int64(ok, 5, s->now);
		if (sqlite3_step(ok) != SQLITE_DONE) {
			cn_sql_fail(err, s->db, "store");
			sqlite3_finalize(ok);
			rollback(s);
			free(conf);
			cJSON_Delete(j);
			return -1;
		}
		sqlite3_reset(ok);
		s->stats->pushed++;
		if (c[i].deleted)
			s->stats->pushed_deleted++;
		change(s, "push", k, uuid,
		       c[i].deleted ? "delete" : c[i].had_rev ? "update" : "add",
		       c[i].label);
	}
	sqlite3_finalize(ok);
	cJSON_Delete(j);
	if (commit(s, err) < 0) {
		free(conf);
		return -1;
	}
	cn_crashpoint("sync.push.committed");
	if (failed)
		logf_(s, "%d documents refused by the server (first: %s)",
		      failed, first_fail);
	if (nconf) {
		logf_(s, "%d conflicts on push", nconf);
		again = push_conflicts(s, conf, nconf, err);
	}
	free(conf);
	return again;
}

/*
 * The guard on pushed deletions: for each kind whose pending deletions
 * trip it, sets its bit in *held.  Returns 0 or -1.
 */
static int
push_guard(struct sync *s, unsigned *held, struct cn_err *err)
{
	sqlite3_stmt *st;

	*held = 0;
	if (prep(s, &st, "SELECT kind, count(*) FROM sync_item WHERE state = "
		 "'pending' AND deleted AND rev IS NOT NULL GROUP BY kind",
		 err) < 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kn = (const char *)sqlite3_column_text(st, 0);
		int64_t n = sqlite3_column_int64(st, 1), total;
		int k = kind_find(kn, strlen(kn));

		if (k < 0 || !(s->o->kinds & kinds[k].bit))
			continue;
		if ((total = kind_count(s, k, err)) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		if (guard_trips(s, n, total + n)) {
			refused_msg(s, "push", k, n, total + n);
			*held |= 1u << k;
			change(s, "push", k, "", "refused", "");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int
push(struct sync *s, struct cn_err *err)
{
	struct docq d = {0};
	struct sent *c;
	unsigned held;
	int rc = 0;

	if (push_guard(s, &held, err) < 0)
		return -1;
	c = calloc((size_t)s->batch, sizeof(*c));
	if (!c)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	for (int round = 0; round < 3; round++) {
		char lastk[16] = "", lastu[64] = "";
		int again = 0;

		s->refused_other = s->unresolved = 0;
		s->refused_first[0] = '\0';

		for (;;) {
			sqlite3_stmt *q;
			int n = 0, step;

			if (s->o->stop && *s->o->stop) {
				s->stats->stopped = 1;
				goto out;
			}
			if (prep(s, &q, "SELECT kind, uuid, rev, deleted, "
				 "changed_at FROM sync_item WHERE state = "
				 "'pending' AND (kind, uuid) > (?1, ?2) ORDER BY "
				 "kind, uuid LIMIT ?3", err) < 0) {
				rc = -1;
				goto out;
			}
			/* copies: the loop below rewrites lastk and lastu
			 * while q still runs (bound in place, "list" over
			 * "contact" kept the old length: the second list of
			 * a batch that began among the contacts was never
			 * read, and never pushed) */
			sqlite3_bind_text(q, 1, lastk, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(q, 2, lastu, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(q, 3, s->batch);
			cn_buf_reset(&s->body);
			cn_buf_adds(&s->body, "{\"docs\":[");
			/* the read transaction ends before the request */
			while ((step = sqlite3_step(q)) == SQLITE_ROW) {
				const char *kn = (const char *)
					sqlite3_column_text(q, 0);
				const char *uuid = (const char *)
					sqlite3_column_text(q, 1);
				const char *rev = (const char *)
					sqlite3_column_text(q, 2);
				int deleted = sqlite3_column_int(q, 3);
				int k = kind_find(kn, strlen(kn));

				snprintf(lastk, sizeof(lastk), "%s", kn);
				snprintf(lastu, sizeof(lastu), "%s", uuid);
				if (k < 0 || !(s->o->kinds & kinds[k].bit))
					continue;
				if (deleted && (held & (1u << k)))
					continue;
				if (deleted && !rev) {
					/* never reached the server */
					if (!s->o->dry_run &&
					    run(s, "UPDATE sync_item SET state "
						"= 'synced', synced_at = ?3 "
						"WHERE kind = ?1 AND uuid = ?2 "
						"AND deleted", err, "ssi", kn,
						uuid, s->now) != 0) {
						sqlite3_finalize(q);
						rc = -1;
						goto out;
					}
					continue;
				}
				c[n].k = k;
				snprintf(c[n].uuid, sizeof(c[n].uuid), "%s",
					 uuid);
				c[n].changed_at = sqlite3_column_int64(q, 4);
				c[n].deleted = deleted;
				c[n].had_rev = rev != NULL;
				if (n)
					cn_buf_addc(&s->body, ',');
				if (doc_write(s, &d, k, uuid, rev, deleted,
					      c[n].changed_at, &s->body,
					      c[n].label, sizeof(c[n].label),
					      err) < 0) {
					sqlite3_finalize(q);
					rc = -1;
					goto out;
				}
				if (strstr(s->body.ptr + s->body.len - 20,
					   "\"_deleted\":true}"))
					c[n].deleted = 1;
				if (s->o->dry_run) {
					change(s, "push", k, uuid,
					       c[n].deleted ? "delete"
					       : rev	    ? "update"
							    : "add",
					       c[n].label);
					s->stats->pushed++;
					if (c[n].deleted)
						s->stats->pushed_deleted++;
				}
				n++;
			}
			sqlite3_finalize(q);
			if (step != SQLITE_DONE) {
				rc = cn_sql_fail(err, s->db, "store");
				goto out;
			}
			if (!lastk[0] || (n == 0 && step == SQLITE_DONE &&
					  !*lastk))
				break;
			cn_buf_adds(&s->body, "]}");
			if (n && !s->o->dry_run) {
				int a = push_batch(s, c, n, err);

				if (a < 0) {
					rc = -1;
					goto out;
				}
				again += a;
				logf_(s, "pushed %d documents (%llu in all)", n,
				      (unsigned long long)s->stats->docs_sent);
			}
			{
				/* the last key read tells whether the query
				 * ran out of rows */
				sqlite3_stmt *more;
				int m;

				if (prep(s, &more, "SELECT 1 FROM sync_item "
					 "WHERE state = 'pending' AND (kind, "
					 "uuid) > (?1, ?2) LIMIT 1", err) < 0) {
					rc = -1;
					goto out;
				}
				sqlite3_bind_text(more, 1, lastk, -1,
						  SQLITE_STATIC);
				sqlite3_bind_text(more, 2, lastu, -1,
						  SQLITE_STATIC);
				m = sqlite3_step(more) == SQLITE_ROW;
				sqlite3_finalize(more);
				if (!m)
					break;
			}
		}
		if (!again || s->o->dry_run)
			break;
		if (round == 2)		/* pushed again three times in vain */
			s->unresolved += again;
	}
	/* what the server would not take stays pending, and the run says
	 * so: a cron job must not take it for done */
	if (s->refused_other)
		rc = cn_err_set(err, CN_EUNAVAIL, "server %s refused %d "
				"documents (first: %s); they stay pending",
				s->shown, s->refused_other, s->refused_first);
	else if (s->unresolved)
		rc = cn_err_set(err, CN_ETEMP, "server %s: %d documents "
				"refused as conflicts that could not be "
				"resolved; they stay pending: try again later",
				s->shown, s->unresolved);
out:
	docq_free(&d);
	free(c);
	return rc;
}

/* ---------------------------------------------------------- devices */

static int
publish_device(struct sync *s, struct cn_err *err)
{
	char rev[128];
	long code;

	if (setting_get(s->db, "sync_device_rev", rev, sizeof(rev), err) < 0)
		return -1;
	for (int tries = 0; tries < 2; tries++) {
		cJSON *j;

		cn_buf_reset(&s->body);
		cn_buf_addf(&s->body, "{\"kind\":\"device\",\"name\":");
		json_strb(&s->body, s->o->device_name ? s->o->device_name : "");
		cn_buf_addf(&s->body, ",\"last_sync\":%lld", (long long)s->now);
		if (rev[0]) {
			cn_buf_adds(&s->body, ",\"_rev\":");
			json_strb(&s->body, rev);
		}
		cn_buf_addc(&s->body, '}');
		{
			char path[80];

			snprintf(path, sizeof(path), "/device:%s", s->device);
			code = http(s, "PUT", path, s->body.ptr, s->body.len,
				    err);
			if (code < 0)
				return -1;
			if (code == 409) {
				code = http(s, "GET", path, NULL, 0, err);
				if (code < 0)
					return -1;
				j = cJSON_ParseWithLength(s->resp.ptr,
							  s->resp.len);
				snprintf(rev, sizeof(rev), "%s",
					 jstr(j, "_rev") ? jstr(j, "_rev") : "");
				cJSON_Delete(j);
				continue;
			}
		}
		if (code != 201 && code != 202)
			return cn_err_set(err, CN_EUNAVAIL, "server %s: device "
					  "document: HTTP %ld", s->shown, code);
		j = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);
		snprintf(rev, sizeof(rev), "%s",
			 jstr(j, "rev") ? jstr(j, "rev") : "");
		cJSON_Delete(j);
		break;
	}
	if (begin(s, err) < 0)
		return -1;
	if (setting_put(s->db, "sync_device_rev", rev, err) < 0 ||
	    run(s, "INSERT INTO sync_device(id, name, last_sync) VALUES(?1, "
		"?2, ?3) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
		"last_sync = excluded.last_sync", err, "ssi", s->device,
		s->o->device_name, s->now) != 0 ||
	    setting_put(s->db, "sync_last", "", err) < 0) {
		rollback(s);
		return -1;
	}
	{
		char v[32];

		snprintf(v, sizeof(v), "%lld", (long long)s->now);
		if (setting_put(s->db, "sync_last", v, err) < 0) {
			rollback(s);
			return -1;
		}
	}
	return commit(s, err);
}

/* Whether this run publishes the device document: when it pushed or
 * pulled something, or the last one is DEVICE_EVERY seconds old (a run
 * with nothing to do then costs the server no write). */
#define DEVICE_EVERY 600
static int
device_due(struct sync *s, struct cn_err *err)
{
	char last[32];

	if (s->stats->pushed || s->stats->pulled || s->stats->conflicts)
		return 1;
	if (setting_get(s->db, "sync_last", last, sizeof(last), err) < 0)
		return 1;
	return !last[0] || s->now - strtoll(last, NULL, 10) >= DEVICE_EVERY ||
	       s->now < strtoll(last, NULL, 10);
}

/* ------------------------------------------------------------- runs */

static int
sync_init(struct sync *s, struct cn_store *st, const struct cn_sync_opts *o,
	  struct cn_sync_stats *stats, struct cn_err *err)
{
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->db = cn_store_db(st);
	s->o = o;
	s->stats = stats ? stats : &s->dummy;
	memset(s->stats, 0, sizeof(*s->stats));
	s->now = cn_now();
	s->batch = o && o->batch > 0 ? (o->batch > MAX_BATCH ? MAX_BATCH
							      : o->batch)
				     : DEFAULT_BATCH;
	cn_buf_init(&s->resp, RESP_MAX);
	cn_buf_init(&s->body, 0);
	cn_buf_init(&s->tmp, 0);
	cn_buf_init(&s->nul_ids, 0);
	if (prep(s, &s->get_item, "SELECT state, rev, deleted, changed_at "
		 "FROM sync_item WHERE kind = ?1 AND uuid = ?2", err) < 0 ||
	    prep(s, &s->put_item, "INSERT INTO sync_item(kind, uuid, state, "
		 "rev, deleted, changed_at, synced_at) VALUES(?1, ?2, ?3, ?4, "
		 "?5, ?6, ?7) ON CONFLICT(kind, uuid) DO UPDATE SET state = "
		 "excluded.state, rev = excluded.rev, deleted = "
		 "excluded.deleted, changed_at = excluded.changed_at, "
		 "synced_at = coalesce(excluded.synced_at, synced_at)",
		 err) < 0)
		return -1;
	return 0;
}

static void
sync_free(struct sync *s)
{
	sqlite3_finalize(s->get_item);
	sqlite3_finalize(s->put_item);
	for (int i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	s->ncache = 0;
	http_close(s);
	cn_buf_free(&s->resp);
	cn_buf_free(&s->body);
	cn_buf_free(&s->tmp);
	cn_buf_free(&s->nul_ids);
}

/* Marks untracked items pending, in a transaction of its own. */
static int
adopt_tx(struct sync *s, unsigned kmask, struct cn_err *err)
{
	if (begin(s, err) < 0)
		return -1;
	if (adopt(s->db, cn_store_idprefix(s->st), kmask, s->now, err) < 0) {
		rollback(s);
		return -1;
	}
	return commit(s, err);
}

/*
 * The database's identity: the document _local/carnet-epoch, which the
 * first carnet to find none writes with a new id (a _local document is
 * never replicated and goes with its database), and which each store
 * records under "sync_epoch:" and the remote.  A store that recorded
 * another epoch, or none is there although the store recorded one or has
 * a checkpoint on a database now empty or missing, talks to a database
 * that was emptied or made anew since (a server restarted without its
 * data, a database deleted): everything it knew of the server (the
 * checkpoint, the revisions) is forgotten and every item is pending
 * again, to be pushed as new and matched with what the server has.
 * A store without an epoch on a database with one (a first sync, or
 * the first run of a carnet that knows epochs) takes it as it is.
 * A dry run writes no epoch: it only reads, and forgets inside its own
 * transaction (rolled back at its end), so that it shows what the run
 * would push.  Returns 0 or -1.
 */
static int
epoch_check(struct sync *s, struct cn_err *err)
{
	char key[600], mine[64], since[512], made[37], theirs[64] = "";
	long code;
	int lost = 0, dry = s->o->dry_run;

	snprintf(key, sizeof(key), "sync_epoch:%s", s->remote);
	if (setting_get(s->db, key, mine, sizeof(mine), err) < 0 ||
	    since_get(s, since, sizeof(since), err) < 0)
		return -1;
	for (int tries = 0; tries < 2 && !theirs[0]; tries++) {
		cJSON *j;

		if ((code = http(s, "GET", "/_local/carnet-epoch", NULL, 0,
				 err)) < 0)
			return -1;
		if (code == 200) {
			j = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);
			snprintf(theirs, sizeof(theirs), "%s",
				 jstr(j, "epoch") ? jstr(j, "epoch") : "");
			cJSON_Delete(j);
			if (theirs[0])
				break;
		} else if (code != 404) {
			return cn_err_set(err, CN_EUNAVAIL, "server %s: "
					  "_local/carnet-epoch: HTTP %ld",
					  s->shown, code);
		}
		if (tries)
			return cn_err_set(err, CN_EUNAVAIL, "server %s: "
					  "_local/carnet-epoch: no epoch after "
					  "writing it", s->shown);
		/* none: is the database there, and empty? */
		if ((code = http(s, "GET", "", NULL, 0, err)) < 0)
			return -1;
		if (code == 200) {
			j = cJSON_ParseWithLength(s->resp.ptr, s->resp.len);
			if (mine[0] || (strcmp(since, "0") != 0 &&
					jint(j, "doc_count", 1) == 0 &&
					jint(j, "doc_del_count", 0) == 0))
				lost = 1;
			cJSON_Delete(j);
		} else {
			if (mine[0] || strcmp(since, "0") != 0)
				lost = 1;
			if (!dry && ensure_db(s, err) < 0)
				return -1;
		}
		if (dry)
			break;
		cn_uuid7(made);
		cn_buf_reset(&s->body);
		cn_buf_addf(&s->body, "{\"epoch\":\"%s\"}", made);
		if ((code = http(s, "PUT", "/_local/carnet-epoch", s->body.ptr,
				 s->body.len, err)) < 0)
			/* an account that may not write it (403): no epoch,
			 * the run goes on as before */
			return err->code == CN_ENOPERM && !lost ? 0 : -1;
		if (code == 201 || code == 202 || code == 200)
			snprintf(theirs, sizeof(theirs), "%s", made);
		else if (code != 409)	/* 409: another store just wrote it */
			return cn_err_set(err, CN_EUNAVAIL, "server %s: "
					  "_local/carnet-epoch: HTTP %ld",
					  s->shown, code);
	}
	if (strcmp(theirs, mine) == 0)
		return 0;
	if (mine[0])
		lost = 1;
	if (dry && !lost)
		return 0;
	if (!dry && begin(s, err) < 0)
		return -1;
	if (lost) {
		int64_t n = 0;
		sqlite3_stmt *st;

		if (prep(s, &st, "SELECT count(*) FROM sync_item WHERE state "
			 "= 'synced' AND NOT deleted", err) < 0) {
			rollback(s);
			return -1;
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (run(s, "DELETE FROM sync_checkpoint WHERE remote = ?1", err,
			"s", s->remote) != 0 ||
		    run(s, "UPDATE sync_item SET rev = NULL, state = CASE WHEN "
			"state = 'synced' THEN 'pending' ELSE state END", err,
			"") != 0 ||
		    setting_put(s->db, "sync_device_rev", "", err) < 0) {
			rollback(s);
			return -1;
		}
		s->stats->server_reset = n;
		logf_(s, "the database was emptied or made anew since the "
		      "last sync: %lld items to push again", (long long)n);
	}
	if (dry)
		return 0;
	if (setting_put(s->db, key, theirs, err) < 0) {
		rollback(s);
		return -1;
	}
	return commit(s, err);
}

/* Takes the store's sync lock (a file beside it, flock): two runs on one
 * store never overlap.  Returns the descriptor, or -1 with err
 * (CN_ETEMP when another run holds it). */
static int
sync_lock(struct cn_store *st, struct cn_err *err)
{
	struct cn_buf path;
	int fd;

	cn_buf_init(&path, 0);
	cn_buf_addf(&path, "%s.sync-lock", cn_store_path(st));
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cn_err_set(err, CN_ECANTCREAT, "%s: %s", path.ptr,
			   strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		cn_err_set(err, CN_ETEMP, "another carnet-sync is running on "
			   "this store; try again later");
		close(fd);
		fd = -1;
	}
	cn_buf_free(&path);
	return fd;
}

int
cn_sync_run(struct cn_store *st, const struct cn_sync_opts *o,
	    struct cn_sync_stats *stats, struct cn_err *err)
{
	struct sync s;
	int rc = -1, g, dry_tx = 0, lock = -1;

	if (sync_init(&s, st, o, stats, err) < 0)
		goto out;
	if (!o->dry_run && (lock = sync_lock(st, err)) < 0)
		goto out;
	/* the server first: when it cannot be reached, nothing is written
	 * here, not even bookkeeping; a store that pulled from this server
	 * before knows the database is there (the pull's first request
	 * says when it is not), which saves a round trip */
	if (http_open(&s, err) < 0)
		goto out;
	if (!o->dry_run && epoch_check(&s, err) < 0)
		goto out;
	{
		char since[512];

		if (since_get(&s, since, sizeof(since), err) < 0)
			goto out;
		g = o->pull && !o->dry_run && strcmp(since, "0") != 0
			    ? 0
			    : ensure_db(&s, err);
	}
	if (g < 0)
		goto out;
	if (o->dry_run) {
		/* nothing written: a store that never synced gets an id for
		 * this run only */
		if (setting_get(s.db, "sync_device_id", s.device,
				sizeof(s.device), err) < 0)
			goto out;
		if (!s.device[0])
			cn_uuid7(s.device);
	} else {
		if (begin(&s, err) < 0)
			goto out;
		if (device_id(s.db, s.device, err) < 0) {
			rollback(&s);
			goto out;
		}
		if (commit(&s, err) < 0)
			goto out;
	}
	if (!o->dry_run && adopt_tx(&s, o->kinds, err) < 0)
		goto out;
	/* a dry run sees the new items too, in a transaction that is
	 * rolled back at the end */
	if (o->dry_run) {
		if (begin(&s, err) < 0)
			goto out;
		dry_tx = 1;
		if (adopt(s.db, cn_store_idprefix(st), o->kinds, s.now, err) < 0)
			goto out;
		if (epoch_check(&s, err) < 0)
			goto out;
	}
	if (g == 1) {	/* dry run, no database yet: everything is pushed */
		if (o->push && push(&s, err) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (o->pull) {
		g = pull(&s, err);
		if (g < 0)
			goto out;
		if (g == 1) {	/* the guard: nothing pulled, nothing pushed */
			rc = 0;
			goto out;
		}
	}
	if (o->push && !s.stats->stopped && push(&s, err) < 0)
		goto out;
	if (!o->dry_run && !s.stats->stopped && device_due(&s, err) &&
	    publish_device(&s, err) < 0)
		goto out;
	rc = 0;
out:
	if (dry_tx)
		rollback(&s);
	sync_free(&s);
	if (lock >= 0)
		close(lock);
	return rc;
}

/*
 * Applies one _changes answer as a pull batch does, with no server: for
 * tests and the fuzz target of the CouchDB parser (see internal.h).
 */
int
cn_sync_apply_changes(struct cn_store *st, const struct cn_sync_opts *o,
		      const char *body, size_t len,
		      struct cn_sync_stats *stats, struct cn_err *err)
{
	struct cn_sync_apply *a = cn_sync_apply_open(st, o, err);
	int rc;

	if (!a)
		return -1;
	rc = cn_sync_apply_run(a, body, len, stats, err);
	cn_sync_apply_close(a);
	return rc;
}

/* The context of cn_sync_apply_changes(), kept for several answers: a
 * pull run's, whose prepared statements outlive each batch. */
struct cn_sync_apply {
	struct sync s;
};

struct cn_sync_apply *
cn_sync_apply_open(struct cn_store *st, const struct cn_sync_opts *o,
		   struct cn_err *err)
{
	struct cn_sync_apply *a = malloc(sizeof(*a));

	if (!a) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	if (sync_init(&a->s, st, o, NULL, err) < 0)
		goto fail;
	a->s.shown = strdup("<input>");
	a->s.remote = strdup("<input>");
	if (!a->s.shown || !a->s.remote) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto fail;
	}
	if (setting_get(a->s.db, "sync_device_id", a->s.device,
			sizeof(a->s.device), err) < 0)
		goto fail;
	if (!a->s.device[0])
		cn_uuid7(a->s.device);
	return a;
fail:
	cn_sync_apply_close(a);
	return NULL;
}

int
cn_sync_apply_run(struct cn_sync_apply *a, const char *body, size_t len,
		  struct cn_sync_stats *stats, struct cn_err *err)
{
	struct sync *s = &a->s;
	cJSON *j;
	const cJSON *res;
	int rc = -1;

	/* what a batch learns of the store may have been rolled back
	 * since: read again, as after a pull batch */
	s->stats = stats ? stats : &s->dummy;
	memset(s->stats, 0, sizeof(*s->stats));
	s->names_ok = 0;
	s->next_contact = 0;
	s->refused_other = s->unresolved = 0;
	cn_buf_reset(&s->nul_ids);
	if (!(j = cJSON_ParseWithLength(body, len))) {
		cn_err_set(err, CN_EDATA, "_changes: the answer is not JSON");
		return -1;
	}
	res = cJSON_GetObjectItemCaseSensitive(j, "results");
	if (!cJSON_IsArray(res))
		cn_err_set(err, CN_EDATA, "_changes: no results");
	else
		rc = pull_rows(s, res, err);
	cJSON_Delete(j);
	return rc;
}

void
cn_sync_apply_close(struct cn_sync_apply *a)
{
	if (!a)
		return;
	sync_free(&a->s);
	free(a);
}

/* ------------------------------------------------------------ status */

int
cn_sync_status(struct cn_store *st, unsigned kmask, int pending_only,
	       cn_sync_item_fn fn, void *ctx, struct cn_err *err)
{
	struct sync s;
	sqlite3_stmt *q = NULL;
	struct docq d = {0};
	int rc = -1, step;

	if (sync_init(&s, st, NULL, NULL, err) < 0)
		goto out;
	if (adopt_tx(&s, kmask, err) < 0)
		goto out;
	if (prep(&s, &q, pending_only
			 ? "SELECT kind, uuid, state, deleted, rev, changed_at,"
			   " synced_at FROM sync_item WHERE state <> 'synced' "
			   "ORDER BY kind, uuid"
			 : "SELECT kind, uuid, state, deleted, rev, changed_at,"
			   " synced_at FROM sync_item ORDER BY kind, uuid",
		 err) < 0)
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *kn = (const char *)sqlite3_column_text(q, 0);
		int k = kind_find(kn, strlen(kn));
		struct cn_sync_item it;
		char label[128] = "";

		if (k < 0 || !(kmask & kinds[k].bit))
			continue;
		it.kind = kn;
		it.uuid = (const char *)sqlite3_column_text(q, 1);
		it.state = (const char *)sqlite3_column_text(q, 2);
		it.deleted = sqlite3_column_int(q, 3);
		it.rev = (const char *)sqlite3_column_text(q, 4);
		it.changed_at = sqlite3_column_int64(q, 5);
		it.synced_at = sqlite3_column_int64(q, 6);
		if (it.state && strcmp(it.state, "synced") == 0 && it.deleted &&
		    pending_only)
			continue;
		if (!it.deleted) {
			cn_buf_reset(&s.tmp);
			if (doc_body(&s, &d, k, it.uuid, &s.tmp, label,
				     sizeof(label), err) < 0)
				goto out;
		}
		it.label = label;
		if (fn(ctx, &it))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		cn_sql_fail(err, s.db, "store");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	docq_free(&d);
	sync_free(&s);
	return rc;
}

int
cn_sync_summary(struct cn_store *st, unsigned kmask,
		struct cn_sync_summary *out, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *q;
	char last[32];

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, "SELECT kind, state, deleted, count(*) "
			       "FROM sync_item GROUP BY kind, state, deleted",
			       -1, &q, NULL))
		return cn_sql_fail(err, db, "store");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *kn = (const char *)sqlite3_column_text(q, 0);
		const char *state = (const char *)sqlite3_column_text(q, 1);
		int k = kind_find(kn, strlen(kn));
		int del = sqlite3_column_int(q, 2);
		int64_t n = sqlite3_column_int64(q, 3);

		if (k < 0 || !(kmask & kinds[k].bit))
			continue;
		if (strcmp(state, "pending") == 0) {
			out->pending += n;
			if (del)
				out->deleted_pending += n;
		} else if (strcmp(state, "conflict") == 0) {
			out->conflict += n;
		} else if (!del) {
			out->synced += n;
		}
	}
	sqlite3_finalize(q);
	if (setting_get(db, "sync_last", last, sizeof(last), err) < 0)
		return -1;
	out->last_sync = strtoll(last, NULL, 10);
	return 0;
}

/* --------------------------------------------------------- conflicts */

int
cn_sync_conflicts(struct cn_store *st, int resolved, cn_sync_conflict_fn fn,
		  void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *q;
	int step;

	if (sqlite3_prepare_v2(db, resolved
				   ? "SELECT id, kind, uuid, local, remote, "
				     "resolution, created_at, resolved_at FROM "
				     "sync_conflict WHERE resolution IS NOT "
				     "NULL ORDER BY id"
				   : "SELECT id, kind, uuid, local, remote, "
				     "resolution, created_at, resolved_at FROM "
				     "sync_conflict WHERE resolution IS NULL "
				     "ORDER BY id",
			       -1, &q, NULL))
		return cn_sql_fail(err, db, "store");
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		struct cn_sync_conflict c;

		c.id = sqlite3_column_int64(q, 0);
		c.kind = (const char *)sqlite3_column_text(q, 1);
		c.uuid = (const char *)sqlite3_column_text(q, 2);
		c.local = (const char *)sqlite3_column_text(q, 3);
		c.remote = (const char *)sqlite3_column_text(q, 4);
		c.resolution = (const char *)sqlite3_column_text(q, 5);
		c.how = NULL;
		c.created_at = sqlite3_column_int64(q, 6);
		c.resolved_at = sqlite3_column_int64(q, 7);
		if (fn(ctx, &c))
			break;
	}
	sqlite3_finalize(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

int
cn_sync_take(struct cn_store *st, int64_t id, int take_remote,
	     struct cn_err *err)
{
	struct sync s;
	sqlite3_stmt *q = NULL;
	char kn[16] = "", uuid[64] = "";
	char *remote = NULL;
	struct item it;
	int rc = -1, k;

	if (sync_init(&s, st, NULL, NULL, err) < 0)
		goto out;
	if (begin(&s, err) < 0)
		goto out;
	if (prep(&s, &q, "SELECT kind, uuid, remote FROM sync_conflict WHERE "
		 "id = ?1 AND resolution IS NULL", err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(kn, sizeof(kn), "%s", sqlite3_column_text(q, 0));
		snprintf(uuid, sizeof(uuid), "%s", sqlite3_column_text(q, 1));
		if (sqlite3_column_text(q, 2))
			remote = strdup((const char *)sqlite3_column_text(q, 2));
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!kn[0]) {
		cn_err_set(err, CN_ENOINPUT, "no open conflict %lld (see "
			   "carnet-sync conflicts)", (long long)id);
		goto fail;
	}
	k = kind_find(kn, strlen(kn));
	if (k < 0 || item_get(&s, k, uuid, &it, err) < 0)
		goto fail;
	if (take_remote) {
		cJSON *doc = remote ? cJSON_Parse(remote) : cJSON_CreateObject();
		int deleted = remote == NULL, a;

		a = apply_doc(&s, k, uuid, doc, deleted, err);
		cJSON_Delete(doc);
		if (a != 0) {
			if (a == 1)
				err->code = CN_EDATA;
			goto fail;
		}
		if (save_contact_hw(&s, err) < 0 ||
		    item_put(&s, k, uuid, "synced", it.rev, deleted,
			     it.changed_at, s.now, err) < 0)
			goto fail;
	} else if (item_put(&s, k, uuid, "pending", it.rev, it.deleted,
			    s.now, 0, err) < 0) {
		goto fail;
	}
	if (run(&s, "UPDATE sync_conflict SET resolution = ?2, resolved_at = "
		"?3 WHERE id = ?1", err, "isi", id,
		take_remote ? "remote" : "local", s.now) != 0)
		goto fail;
	if (commit(&s, err) < 0)
		goto out;
	rc = 0;
	goto out;
fail:
	rollback(&s);
out:
	free(remote);
	sync_free(&s);
	return rc;
}

/* ---------------------------------------------------------- devices */

static int
devices_local(struct sync *s, cn_sync_device_fn fn, void *ctx,
	      struct cn_err *err)
{
	sqlite3_stmt *q;

	if (prep(s, &q, "SELECT id, name, last_sync FROM sync_device ORDER BY "
		 "name, id", err) < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct cn_sync_device d;

		d.id = (const char *)sqlite3_column_text(q, 0);
		d.name = (const char *)sqlite3_column_text(q, 1);
		d.last_sync = sqlite3_column_int64(q, 2);
		d.self = d.id && strcmp(d.id, s->device) == 0;
		if (fn(ctx, &d))
			break;
	}
	sqlite3_finalize(q);
	return 0;
}

int
cn_sync_devices(struct cn_store *st, const struct cn_sync_opts *o,
		cn_sync_device_fn fn, void *ctx, int *offline,
		struct cn_err *err)
{
	struct sync s;
	int rc = -1;
	cJSON *j = NULL, *rows, *row;
	long code;

	*offline = 0;
	if (sync_init(&s, st, o, NULL, err) < 0)
		goto out;
	if (device_id(s.db, s.device, err) < 0)
		goto out;
	if (!o) {
		*offline = 1;
		rc = devices_local(&s, fn, ctx, err);
		goto out;
	}
	if (http_open(&s, err) < 0)
		goto out;
	code = http(&s, "GET", "/_all_docs?include_docs=true&startkey="
		    "%22device%3A%22&endkey=%22device%3A%EF%BF%B0%22", NULL, 0,
		    err);
	if (code < 0 && err->code == CN_ENOPERM)
		goto out;
	if (code != 200 || !(j = resp_json(&s, "_all_docs", err))) {
		/* unreachable or no database: what this store remembers */
		*offline = 1;
		rc = devices_local(&s, fn, ctx, err);
		goto out;
	}
	rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
	if (begin(&s, err) < 0)
		goto out;
	cJSON_ArrayForEach(row, rows)
	{
		const cJSON *doc = cJSON_GetObjectItemCaseSensitive(row, "doc");
		const char *id = jstr(row, "id");

		if (!id || strncmp(id, "device:", 7) != 0 || !cJSON_IsObject(doc))
			continue;
		if (run(&s, "INSERT INTO sync_device(id, name, last_sync) "
			"VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET name "
			"= excluded.name, last_sync = excluded.last_sync", err,
			"ssi", id + 7, jstr(doc, "name"),
			jint(doc, "last_sync", 0)) != 0) {
			rollback(&s);
			goto out;
		}
	}
	if (commit(&s, err) < 0)
		goto out;
	rc = devices_local(&s, fn, ctx, err);
out:
	cJSON_Delete(j);
	sync_free(&s);
	return rc;
}
