/*
 * store.c - the SQLite store: opening (0600, WAL, busy timeout), the
 * schema and its migrations, folders and users.
 *
 * The schema covers every entity of the product, so later tools add
 * behaviour, not tables.  Each migration runs in its own transaction and
 * bumps PRAGMA user_version; a store newer than this library is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

struct cn_store {
	sqlite3 *db;
	char *path;
	char prefix[24];	/* the store's id prefix */
};

/*
 * Migration 1: every entity of DESIGN.md.  Times are Unix seconds (UTC).
 * Text identifiers that travel between machines (sync) are UUIDs; local
 * joins use integer ids.
 */
static const char schema_v1[] =
	"CREATE TABLE folder("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE user("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"

	/*
	 * contacts belong to a folder; lists hold them through member.  A
	 * contact's public id is the store's id prefix and its rowid
	 * (cn_contact_pubid); uuid holds the id of a contact that came from
	 * another store (sync, an import by id), NULL for local ones.
	 * A rowid is never reused, so an old export's id never names another
	 * contact: new contacts are numbered above the high-water mark kept
	 * in setting 'contact_hw' (cn_contacts_import), which costs one write
	 * per import where AUTOINCREMENT would cost one per contact.
	 */
	"CREATE TABLE contact("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT,"
	"  folder_id INTEGER NOT NULL REFERENCES folder(id),"
	"  email TEXT,"
	"  phone TEXT,"
	"  first_name TEXT,"
	"  last_name TEXT,"
	"  attrs TEXT,"		/* JSON object of free attributes, or NULL */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX contact_email ON contact(folder_id, email)"
	"  WHERE email IS NOT NULL;"
	"CREATE UNIQUE INDEX contact_uuid ON contact(uuid)"
	"  WHERE uuid IS NOT NULL;"
	/* contact_phone(folder_id, phone) is created by the first import
	 * that matches on phone (cn_contacts_import): imports by email do
	 * not pay for it */
	"CREATE TABLE list("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  folder_id INTEGER NOT NULL REFERENCES folder(id),"
	"  name TEXT NOT NULL,"
	"  backup INTEGER NOT NULL DEFAULT 1,"	/* per-list backup switch */
	"  fields TEXT,"	/* JSON array: attribute columns, in order */
	"  created_by INTEGER REFERENCES user(id),"
	"  updated_by INTEGER REFERENCES user(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE(folder_id, name));"
	"CREATE TABLE member("
	"  list_id INTEGER NOT NULL REFERENCES list(id) ON DELETE CASCADE,"
	"  contact_id INTEGER NOT NULL REFERENCES contact(id) ON DELETE CASCADE,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY(list_id, contact_id)) WITHOUT ROWID;"
	"CREATE INDEX member_contact ON member(contact_id);"

	/* opt-outs: STOP (lifted only by START), NPAI, manual */
	"CREATE TABLE blacklist("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  address TEXT NOT NULL UNIQUE,"	/* E.164 number or email */
	"  reason TEXT NOT NULL CHECK(reason IN ('STOP','NPAI','manual')),"
	"  source TEXT,"	/* sms-fetch, operator, import, sync */
	"  note TEXT,"
	"  user_id INTEGER REFERENCES user(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"

	"CREATE TABLE template("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  folder_id INTEGER REFERENCES folder(id),"	/* NULL: common */
	"  title TEXT NOT NULL CHECK(length(title) <= 50),"
	"  body TEXT NOT NULL,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  context TEXT,"	/* temp-worker, client, order, contract, ... */
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  scope TEXT NOT NULL DEFAULT 'folder'"
	"    CHECK(scope IN ('common','folder','users')),"
	"  reply_mode TEXT NOT NULL DEFAULT 'none'"
	"    CHECK(reply_mode IN ('none','hours','until')),"
	"  reply_hours INTEGER,"
	"  reply_until INTEGER,"
	"  created_by INTEGER REFERENCES user(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE template_user("	/* scope 'users': who may use it */
	"  template_id INTEGER NOT NULL REFERENCES template(id)"
	"    ON DELETE CASCADE,"
	"  user_id INTEGER NOT NULL REFERENCES user(id),"
	"  PRIMARY KEY(template_id, user_id)) WITHOUT ROWID;"

	"CREATE TABLE campaign("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  folder_id INTEGER NOT NULL REFERENCES folder(id),"
	"  user_id INTEGER REFERENCES user(id),"
	"  name TEXT NOT NULL,"
	"  template_id INTEGER REFERENCES template(id) ON DELETE SET NULL,"
	"  list_id INTEGER REFERENCES list(id) ON DELETE SET NULL,"
	"  sender TEXT,"
	"  status TEXT NOT NULL DEFAULT 'draft'"
	"    CHECK(status IN ('draft','sending','sent','closed')),"
	"  simulated INTEGER NOT NULL DEFAULT 0,"
	"  driver TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  close_at INTEGER,"	/* expected close */
	"  closed_at INTEGER);"
	"CREATE INDEX campaign_status ON campaign(status, close_at);"

	/* one per recipient; ref is carnet's own reference for receipts */
	"CREATE TABLE message("
	"  id INTEGER PRIMARY KEY,"
	"  ref TEXT NOT NULL UNIQUE,"
	"  campaign_id INTEGER NOT NULL REFERENCES campaign(id),"
	"  contact_id INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  folder_id INTEGER NOT NULL REFERENCES folder(id),"
	"  user_id INTEGER REFERENCES user(id),"
	"  template_id INTEGER REFERENCES template(id) ON DELETE SET NULL,"
	"  phone TEXT NOT NULL,"
	"  sender TEXT,"
	"  body TEXT NOT NULL,"	/* the text actually sent */
	"  encoding TEXT NOT NULL CHECK(encoding IN ('gsm7','ucs2')),"
	"  segments INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'preparing' CHECK(status IN"
	"    ('preparing','sent','delivered','failed','expired','rejected',"
	"     'simulated','skipped')),"
	"  provider_id TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  done_at INTEGER);"
	"CREATE INDEX message_campaign ON message(campaign_id, status);"
	"CREATE INDEX message_phone ON message(phone, sent_at);"
	"CREATE INDEX message_sent ON message(sent_at);"
	"CREATE INDEX message_provider ON message(provider_id)"
	"  WHERE provider_id IS NOT NULL;"
	"CREATE TABLE receipt("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER REFERENCES message(id),"	/* NULL: unknown ref */
	"  ref TEXT,"
	"  status TEXT NOT NULL,"
	"  raw_type INTEGER,"	/* e.g. Kannel's dlr type bit mask */
	"  reason TEXT,"
	"  received_at INTEGER NOT NULL);"
	"CREATE INDEX receipt_message ON receipt(message_id);"
	"CREATE TABLE reply("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  message_id INTEGER REFERENCES message(id),"	/* NULL: unsolicited */
	"  campaign_id INTEGER REFERENCES campaign(id),"
	"  phone TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  kind TEXT NOT NULL DEFAULT 'reply'"
	"    CHECK(kind IN ('reply','optout','optin','unsolicited')),"
	"  provider_id TEXT,"
	"  received_at INTEGER NOT NULL);"
	"CREATE INDEX reply_phone ON reply(phone, received_at);"
	"CREATE INDEX reply_campaign ON reply(campaign_id);"

	/* quotas: scope common (folder NULL) or folder; user NULL: default */
	"CREATE TABLE quota("
	"  id INTEGER PRIMARY KEY,"
	"  folder_id INTEGER REFERENCES folder(id),"
	"  user_id INTEGER REFERENCES user(id),"
	"  kind TEXT NOT NULL DEFAULT 'specific'"
	"    CHECK(kind IN ('default','specific','forbidden','unlimited')),"
	"  per_send_sms INTEGER,"
	"  per_send_recipients INTEGER,"
	"  per_month_sms INTEGER,"
	"  per_month_recipients INTEGER,"
	"  mode TEXT NOT NULL DEFAULT 'block' CHECK(mode IN ('block','warn')),"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE(folder_id, user_id));"
	"CREATE TABLE usage("	/* append-only ledger */
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  month TEXT NOT NULL,"	/* YYYY-MM, for the monthly quotas */
	"  folder_id INTEGER NOT NULL REFERENCES folder(id),"
	"  user_id INTEGER REFERENCES user(id),"
	"  campaign_id INTEGER REFERENCES campaign(id),"
	"  message_id INTEGER REFERENCES message(id),"
	"  sms INTEGER NOT NULL,"	/* segments */
	"  recipients INTEGER NOT NULL);"
	"CREATE INDEX usage_month ON usage(month, user_id, folder_id);"
	"CREATE TRIGGER usage_append_only_u BEFORE UPDATE ON usage BEGIN"
	"  SELECT RAISE(ABORT, 'usage ledger is append-only'); END;"
	"CREATE TRIGGER usage_append_only_d BEFORE DELETE ON usage BEGIN"
	"  SELECT RAISE(ABORT, 'usage ledger is append-only'); END;"

	/* backups of lists: the files live in the backup directory */
	"CREATE TABLE backup("
	"  id INTEGER PRIMARY KEY,"
	"  list_id INTEGER REFERENCES list(id) ON DELETE SET NULL,"
	"  folder TEXT NOT NULL,"
	"  list TEXT NOT NULL,"
	"  reason TEXT NOT NULL"
	"    CHECK(reason IN ('import','delete','restore','manual')),"
	"  file TEXT NOT NULL,"
	"  rows INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  schema_version INTEGER NOT NULL,"
	"  user_id INTEGER REFERENCES user(id),"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX backup_list ON backup(folder, list, created_at);"

	/* sync: per-item state, checkpoints, conflicts, devices */
	"CREATE TABLE sync_item("
	"  kind TEXT NOT NULL,"	/* list, contact, blacklist, template, ... */
	"  uuid TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK(state IN ('pending','synced','conflict')),"
	"  rev TEXT,"
	"  deleted INTEGER NOT NULL DEFAULT 0,"
	"  changed_at INTEGER NOT NULL,"
	"  synced_at INTEGER,"
	"  PRIMARY KEY(kind, uuid)) WITHOUT ROWID;"
	"CREATE INDEX sync_item_state ON sync_item(state);"
	"CREATE TABLE sync_checkpoint("
	"  remote TEXT PRIMARY KEY,"	/* url + database */
	"  since TEXT,"	/* opaque sequence id, as given */
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE sync_conflict("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  uuid TEXT NOT NULL,"
	"  local TEXT,"	/* JSON documents, NULL when deleted */
	"  remote TEXT,"
	"  resolution TEXT,"	/* NULL while open: local, remote, both */
	"  created_at INTEGER NOT NULL,"
	"  resolved_at INTEGER);"
	"CREATE TABLE sync_device("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT,"
	"  last_sync INTEGER);"

	/* small key/value settings (store id, driver checkpoints) */
	"CREATE TABLE setting("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT);"
	/* the store's id prefix: the first 23 characters of a UUIDv8 whose
	 * last 12 hex digits are a contact's rowid (74 random bits) */
	"INSERT INTO setting(key, value) VALUES('id_prefix',"
	"  lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) ||"
	"  '-8' || substr(lower(hex(randomblob(2))), 2) || '-' ||"
	"  substr('89ab', 1 + (abs(random()) % 4), 1) ||"
	"  substr(lower(hex(randomblob(2))), 2));";

/* v2 (sending): when a message's gateway call started, so that a
 * message interrupted in flight is known to be in doubt, never resent
 * blindly; the campaign's text when no template is used. */
static const char schema_v2[] =
	"ALTER TABLE message ADD COLUMN inflight_at INTEGER;"
	"ALTER TABLE message ADD COLUMN retryable INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE campaign ADD COLUMN body TEXT;"
	"CREATE INDEX message_pending ON message(campaign_id, id)"
	"  WHERE status = 'preparing';";

/* v3 (statistics): a covering index, so that a period's figures are
 * read from the index alone, in time order, without the message rows
 * (their bodies); and replies by message, for the reply rate. */
static const char schema_v3[] =
	"CREATE INDEX message_stats ON message(sent_at, status, segments,"
	"  folder_id, user_id, template_id, campaign_id);"
	"CREATE INDEX reply_message ON reply(message_id, kind);";

/* v4 (fetch): receipts and replies that reached a closed campaign are
 * held (stored, not applied) until a fetch for that campaign; the
 * handset a receipt named; replies by provider id (pulls repeat). */
static const char schema_v4[] =
	"ALTER TABLE receipt ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE receipt ADD COLUMN phone TEXT;"
	"ALTER TABLE reply ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX receipt_held ON receipt(message_id) WHERE held = 1;"
	"CREATE INDEX reply_held ON reply(campaign_id) WHERE held = 1;"
	"CREATE INDEX reply_provider ON reply(provider_id)"
	"  WHERE provider_id IS NOT NULL;";

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
cn_sql_fail(struct cn_err *err, sqlite3 *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db);
	enum cn_code code = CN_EINTERNAL;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = CN_ETEMP;
	else if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ||
		 (rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN)
		code = CN_ECANTCREAT;
	else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		code = CN_EDATA;
	if ((rc & 0xff) == SQLITE_BUSY)
		return cn_err_set(err, code,
				  "%s: the store is busy (another carnet "
				  "holds it); try again later", what);
	return cn_err_set(err, code, "%s: %s", what, sqlite3_errmsg(db));
}

int
cn_sql_exec(sqlite3 *db, const char *sql, struct cn_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = cn_sql_fail(err, db, "store");

		if (msg && err && strcmp(msg, sqlite3_errmsg(db)) != 0)
			cn_err_set(err, err->code, "store: %s", msg);
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int64_t
cn_now(void)
{
	const char *fake = getenv("CARNET_NOW");	/* tests: a fixed clock */

	if (fake && *fake) {
		char *end;
		long long v = strtoll(fake, &end, 10);

		if (*end == '\0')
			return v;
	}
	return (int64_t)time(NULL);
}

/* Creates the parent directories of path (0700).  Returns 0 or -1. */
static int
mkparents(const char *path, struct cn_err *err)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return cn_err_set(err, CN_ECANTCREAT, "%s: path too long",
				  path);
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return cn_err_set(err, CN_ECANTCREAT,
					  "%s: cannot create directory: %s",
					  dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int
migrate(struct cn_store *st, struct cn_err *err)
{
	sqlite3_stmt *s;
	int version;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL))
		return cn_sql_fail(err, st->db, st->path);
	version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (version > NMIGRATIONS)
		return cn_err_set(err, CN_ECONFIG,
				  "%s: store schema version %d is newer than "
				  "this carnet (%d); upgrade carnet",
				  st->path, version, NMIGRATIONS);
	while (version < NMIGRATIONS) {
		char pragma[64];

		if (cn_sql_exec(st->db, "BEGIN IMMEDIATE", err) < 0)
			return -1;
		/* re-read under the write lock: another process may have
		 * migrated meanwhile */
		if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
				       NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW)
				version = sqlite3_column_int(s, 0);
			sqlite3_finalize(s);
		}
		if (version >= NMIGRATIONS) {
			cn_sql_exec(st->db, "COMMIT", err);
			break;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d",
			 version + 1);
		if (cn_sql_exec(st->db, migrations[version], err) < 0 ||
		    cn_sql_exec(st->db, pragma, err) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (cn_sql_exec(st->db, "COMMIT", err) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		version++;
	}
	return 0;
}

static int
load_prefix(struct cn_store *st, struct cn_err *err)
{
	sqlite3_stmt *s;
	int ok = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM setting WHERE key "
			       "= 'id_prefix'", -1, &s, NULL))
		return cn_sql_fail(err, st->db, st->path);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 0) == 23) {
		memcpy(st->prefix, sqlite3_column_text(s, 0), 23);
		st->prefix[23] = '\0';
		ok = 1;
	}
	sqlite3_finalize(s);
	if (!ok)
		return cn_err_set(err, CN_EDATA, "%s: the store has no valid "
				  "id prefix", st->path);
	return 0;
}

const char *
cn_store_idprefix(struct cn_store *st)
{
	return st->prefix;
}

void
cn_contact_pubid(struct cn_store *st, int64_t rowid, char out[37])
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, st->prefix, 23);
	out[23] = '-';
	for (int i = 0; i < 12; i++)
		out[24 + i] = hex[(rowid >> (4 * (11 - i))) & 15];
	out[36] = '\0';
}

int64_t
cn_contact_rowid(struct cn_store *st, const char *id)
{
	int64_t v = 0;

	if (strncasecmp(id, st->prefix, 23) != 0 || id[23] != '-')
		return 0;
	for (int i = 24; i < 36; i++) {
		int c = id[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		v = v * 16 + d;
	}
	return id[36] == '\0' && v > 0 ? v : 0;
}

struct cn_store *
cn_store_open(const char *path, long busy_timeout_ms, struct cn_err *err)
{
	struct cn_store *st;
	int fd;

	if (!path || !*path) {
		cn_err_set(err, CN_ECONFIG, "no store path");
		return NULL;
	}
	/* no memory statistics: they take a global mutex on every malloc;
	 * fails harmlessly if the application initialised SQLite already */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (mkparents(path, err) < 0)
		return NULL;
	/* create the file ourselves so that it is 0600 whatever the umask */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cn_err_set(err, errno == ENOENT ? CN_ENOINPUT : CN_ECANTCREAT,
			   "%s: cannot open store: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		cn_sql_fail(err, st->db, path);
		cn_store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, busy_timeout_ms > 0 ? (int)busy_timeout_ms
							 : 60000);
	/*
	 * WAL with synchronous=NORMAL: a commit is durable against a process
	 * crash and atomic against power loss.  A 16 MiB page cache is full
	 * by 100,000 contacts, so memory stays the same whatever the input
	 * size; no mmap, whose mapped pages would count as resident.
	 */
	if (cn_sql_exec(st->db,
			"PRAGMA journal_mode=WAL;"
			"PRAGMA synchronous=NORMAL;"
			"PRAGMA foreign_keys=ON;"
			"PRAGMA cache_size=-16384;"
			"PRAGMA mmap_size=0;"
			"PRAGMA temp_store=FILE;",
			err) < 0 ||
	    migrate(st, err) < 0) {
		if (err && err->code == CN_EDATA) {
			char why[sizeof(err->msg)];

			/* err->msg is both the source and the target */
			snprintf(why, sizeof(why), "%s", err->msg);
			cn_err_set(err, CN_EDATA, "%s: not a carnet store "
				   "(%s)", path, why);
		}
		cn_store_close(st);
		return NULL;
	}
	if (load_prefix(st, err) < 0) {
		cn_store_close(st);
		return NULL;
	}
	/* WAL and SHM files follow the database's mode; keep them private */
	chmod(path, 0600);
	return st;
}

void
cn_store_close(struct cn_store *st)
{
	if (!st)
		return;
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

int
cn_store_version(struct cn_store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

struct sqlite3 *
cn_store_db(struct cn_store *st)
{
	return st->db;
}

const char *
cn_store_path(struct cn_store *st)
{
	return st->path;
}

/* Looks up (and with create, inserts) a row of a name table. */
static int64_t
name_id(struct cn_store *st, const char *table, const char *name, int create,
	struct cn_err *err)
{
	char sql[128];
	sqlite3_stmt *s;
	int64_t id = 0;

	if (!name || !*name) {
		cn_err_set(err, CN_EUSAGE, "empty %s name", table);
		return 0;
	}
	if (create) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s(name, created_at) VALUES(?1, ?2) "
			 "ON CONFLICT(name) DO NOTHING", table);
		if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) {
			cn_sql_fail(err, st->db, st->path);
			return 0;
		}
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, cn_now());
		if (sqlite3_step(s) != SQLITE_DONE) {
			cn_sql_fail(err, st->db, st->path);
			sqlite3_finalize(s);
			return 0;
		}
		sqlite3_finalize(s);
	}
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1", table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) {
		cn_sql_fail(err, st->db, st->path);
		return 0;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		cn_err_set(err, CN_ENOINPUT, "no such %s '%s'", table, name);
	sqlite3_finalize(s);
	return id;
}

int64_t
cn_folder_id(struct cn_store *st, const char *name, int create,
	     struct cn_err *err)
{
	return name_id(st, "folder", name, create, err);
}

int64_t
cn_user_id(struct cn_store *st, const char *name, struct cn_err *err)
{
	return name_id(st, "user", name, 1, err);
}
