/*
 * contacts.c - contacts and lists: import (field mapping, modes, dedup,
 * rejects, one transaction), export, listing and deletion of lists.
 *
 * An import reads one record at a time and applies it inside a single
 * write transaction, so a killed import leaves the list as it was.  The
 * contacts seen by the current import live in a temporary table, which
 * finds duplicates inside one file and, in replace mode, the members to
 * remove, with memory that does not grow with the input.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define MAX_VALUE (64 * 1024)	/* longest accepted cell */
/* the columns contact_record() reads */
#define CONTACT_COLS                                                         \
	"c.id, c.email, c.phone, c.first_name, c.last_name, c.attrs, c.uuid"
#define MAX_MAP 256		/* pairs in one --map */

enum target {
	T_AUTO = 0,	/* not mapped: decide from the name */
	T_IGNORE,
	T_ID,
	T_EMAIL,
	T_PHONE,
	T_FIRST,
	T_LAST,
	T_ATTR,
	T_NCORE
};

static const char *const core_names[] = {
	[T_ID] = "id",
	[T_EMAIL] = "email",
	[T_PHONE] = "phone",
	[T_FIRST] = "first_name",
	[T_LAST] = "last_name",
};

/* Column names that mean a core field without a --map (ASCII case
 * insensitive). */
static const struct {
	const char *name;
	enum target t;
} aliases[] = {
	{"id", T_ID},		{"uuid", T_ID},
	{"email", T_EMAIL},	{"e-mail", T_EMAIL},	{"mail", T_EMAIL},
	{"courriel", T_EMAIL},	{"email_address", T_EMAIL},
	{"phone", T_PHONE},	{"mobile", T_PHONE},	{"mobile_phone", T_PHONE},
	{"tel", T_PHONE},	{"telephone", T_PHONE},	{"portable", T_PHONE},
	{"msisdn", T_PHONE},	{"gsm", T_PHONE},
	{"first_name", T_FIRST}, {"firstname", T_FIRST},
	{"first name", T_FIRST}, {"prenom", T_FIRST},	{"pr\xc3\xa9nom", T_FIRST},
	{"given_name", T_FIRST},
	{"last_name", T_LAST},	{"lastname", T_LAST},	{"last name", T_LAST},
	{"nom", T_LAST},	{"surname", T_LAST},	{"family_name", T_LAST},
};

struct mapping {
	enum target t;
	const char *attr;	/* attribute name for T_ATTR */
};

struct map_pair {
	char *src;
	char *dst;
	int used;
};

struct import {
	struct cn_store *st;
	sqlite3 *db;
	struct cn_reader *rd;
	const struct cn_import_opts *o;
	struct cn_import_stats *stats;
	const char *name;	/* input name, for messages */

	struct map_pair pairs[MAX_MAP];
	size_t npairs;
	char *mapbuf;		/* storage for pairs */

	/* CSV: one mapping per header column */
	struct mapping *cols;
	size_t ncols;
	int has[T_NCORE];	/* which core fields the header maps */
	enum cn_key key;

	int64_t folder_id, user_id, list_id;
	int64_t max_before;	/* contacts above this id are this import's */
	int64_t next_id;	/* the last id given to a new contact */
	int list_created;
	int64_t now;

	sqlite3_stmt *find_email, *find_phone, *find_rowid, *find_uuid;
	int phone_index;	/* contact_phone exists */
	sqlite3_stmt *seen_add, *seen_line;
	sqlite3_stmt *is_member, *add_member;
	sqlite3_stmt *ins, *ins_new, *upd;
	sqlite3_stmt *sync_mark;	/* marks a contact pending for sync */

	struct cn_buf attrs;	/* JSON object of this row's attributes */
	/* the row being applied: its attributes, record (NULL when
	 * pipelined), line and text as read */
	const struct cn_buf *cur_attrs;
	const struct cn_record *cur_rec;
	long cur_line;
	const char *cur_raw;
	size_t cur_rawlen;
	struct cn_buf fields;	/* JSON array: the list's attribute columns */
	struct cn_buf reason;
	int restore;		/* crash points: restore.*, else import.* */
	int fields_changed;
};

/* The name of an import's crash point (tests/crash/c100, c110) */
#define CRASHPOINT(im, what)                                                 \
	((im)->restore ? "restore." what : "import." what)

static cJSON *contact_record(struct cn_store *st, sqlite3_stmt *s,
			     struct cn_record *rec, const char *const *cols,
			     size_t ncols, int flat);
static int sync_touch(struct import *im, int64_t id, struct cn_err *err);

/* --------------------------------------------------------------- map */

/* Splits "a=b,c=d" (backslash escapes ',' '=' '\') into pairs. */
static int
map_parse(struct import *im, const char *map, struct cn_err *err)
{
	size_t n = strlen(map);
	char *out, *p;
	const char *s;

	im->mapbuf = out = malloc(n + 2);
	if (!out)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	p = out;
	s = map;
	while (*s) {
		char *src = p, *dst = NULL;

		while (*s && *s != ',') {
			if (*s == '\\' && s[1]) {
				*p++ = s[1];
				s += 2;
				continue;
			}
			if (*s == '=' && !dst) {
				*p++ = '\0';
				dst = p;
				s++;
				continue;
			}
			*p++ = *s++;
		}
		*p++ = '\0';
		if (*s == ',')
			s++;
		/* trim spaces around both sides */
		while (*src == ' ')
			src++;
		for (char *e = src + strlen(src); e > src && e[-1] == ' ';)
			*--e = '\0';
		if (!*src && !dst)
			continue;	/* "a=b,,c=d" or a trailing comma */
		if (!dst || !*src)
			return cn_err_set(err, CN_EUSAGE,
					  "--map: expected 'Column=field', "
					  "got '%s'", src);
		while (*dst == ' ')
			dst++;
		for (char *e = dst + strlen(dst); e > dst && e[-1] == ' ';)
			*--e = '\0';
		if (im->npairs == MAX_MAP)
			return cn_err_set(err, CN_EUSAGE,
					  "--map: more than %d pairs", MAX_MAP);
		for (size_t i = 0; i < im->npairs; i++)
			if (strcmp(im->pairs[i].src, src) == 0)
				return cn_err_set(err, CN_EUSAGE,
						  "--map: column '%s' mapped "
						  "twice", src);
		im->pairs[im->npairs].src = src;
		im->pairs[im->npairs].dst = dst;
		im->pairs[im->npairs].used = 0;
		im->npairs++;
	}
	return 0;
}

static int
reserved(const char *name)
{
	for (int t = T_ID; t <= T_LAST; t++)
		if (strcmp(name, core_names[t]) == 0)
			return 1;
	return 0;
}

/* Parses a --map target: a core field, "-" to ignore, or "attr.NAME". */
static int
target_parse(const char *dst, struct mapping *m, struct cn_err *err)
{
	if (strcmp(dst, "-") == 0 || *dst == '\0') {
		m->t = T_IGNORE;
		return 0;
	}
	for (int t = T_ID; t <= T_LAST; t++)
		if (strcmp(dst, core_names[t]) == 0) {
			m->t = (enum target)t;
			return 0;
		}
	if (strncmp(dst, "attr.", 5) == 0 && dst[5] && !reserved(dst + 5)) {
		m->t = T_ATTR;
		m->attr = dst + 5;
		return 0;
	}
	return cn_err_set(err, CN_EUSAGE,
			  "--map: unknown field '%s' (fields: id, email, "
			  "phone, first_name, last_name, attr.NAME, or - to "
			  "ignore the column)", dst);
}

/* The mapping of a column or JSON member named name. */
static int
resolve(struct import *im, const char *name, struct mapping *m,
	struct cn_err *err)
{
	m->t = T_ATTR;
	m->attr = name;
	for (size_t i = 0; i < im->npairs; i++)
		if (strcmp(im->pairs[i].src, name) == 0) {
			im->pairs[i].used = 1;
			return target_parse(im->pairs[i].dst, m, err);
		}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].name) == 0) {
			m->t = aliases[i].t;
			return 0;
		}
	if (*name == '\0')
		m->t = T_IGNORE;
	return 0;
}

static void
list_columns(struct import *im, struct cn_buf *b)
{
	size_t n;
	const char *const *h = cn_reader_header(im->rd, &n);

	for (size_t i = 0; h && i < n && b->len < 300; i++)
		cn_buf_addf(b, "%s%s", i ? ", " : "", h[i]);
}

/* Maps the CSV header once; checks the map and the key column. */
static int
map_header(struct import *im, struct cn_err *err)
{
	size_t n;
	const char *const *h = cn_reader_header(im->rd, &n);
	static const char *const keyname[] = {"", "email", "phone", "id"};

	if (h) {
		im->cols = calloc(n ? n : 1, sizeof(*im->cols));
		if (!im->cols)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		im->ncols = n;
		for (size_t i = 0; i < n; i++) {
			if (resolve(im, h[i], &im->cols[i], err) < 0)
				return -1;
			if (im->cols[i].t == T_ATTR || im->cols[i].t == T_IGNORE)
				continue;
			if (im->has[im->cols[i].t]) {
				return cn_err_set(err, CN_EUSAGE,
						  "%s:1: two columns map to "
						  "'%s' (the second is '%s')",
						  im->name,
						  core_names[im->cols[i].t],
						  h[i]);
			}
			im->has[im->cols[i].t] = 1;
		}
		for (size_t i = 0; i < im->npairs; i++) {
			struct cn_buf cols;

			if (im->pairs[i].used)
				continue;
			cn_buf_init(&cols, 0);
			list_columns(im, &cols);
			cn_err_set(err, CN_EUSAGE,
				   "--map: no column '%s' in %s (columns: %s)",
				   im->pairs[i].src, im->name, cols.ptr);
			cn_buf_free(&cols);
			return -1;
		}
	} else {
		/* JSON: targets are checked now, columns per record */
		for (size_t i = 0; i < im->npairs; i++) {
			struct mapping m;

			if (target_parse(im->pairs[i].dst, &m, err) < 0)
				return -1;
		}
	}

	im->key = im->o->key;
	if (im->key == CN_KEY_AUTO) {
		if (!h || im->has[T_EMAIL])
			im->key = CN_KEY_EMAIL;
		else if (im->has[T_PHONE])
			im->key = CN_KEY_PHONE;
		else if (im->has[T_ID])
			im->key = CN_KEY_ID;
		else {
			struct cn_buf cols;

			cn_buf_init(&cols, 0);
			list_columns(im, &cols);
			cn_err_set(err, CN_EDATA,
				   "%s:1: no email, phone or id column to "
				   "match contacts on (columns: %s); use --map",
				   im->name, cols.ptr);
			cn_buf_free(&cols);
			return -1;
		}
	} else if (h && im->key != CN_KEY_RESTORE) {
		static const enum target kt[] = {T_AUTO, T_EMAIL, T_PHONE,
						 T_ID};

		if (!im->has[kt[im->key]]) {
			struct cn_buf cols;

			cn_buf_init(&cols, 0);
			list_columns(im, &cols);
			cn_err_set(err, CN_EDATA,
				   "%s:1: no column for the key '%s' "
				   "(columns: %s); use --map",
				   im->name, keyname[im->key], cols.ptr);
			cn_buf_free(&cols);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- json */

static int
json_str(struct cn_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	if (cn_buf_addc(b, '"') < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t el = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (cn_buf_add(b, s + start, i - start) < 0)
			return -1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		if (cn_buf_add(b, esc, el) < 0)
			return -1;
		start = i + 1;
	}
	if (cn_buf_add(b, s + start, len - start) < 0)
		return -1;
	return cn_buf_addc(b, '"');
}

/* Adds name to the list's attribute columns if it is new. */
static void
note_field(struct import *im, const char *name)
{
	struct cn_buf probe;

	cn_buf_init(&probe, 0);
	json_str(&probe, name, strlen(name));
	/* the array is small: a substring search of the quoted name */
	if (!strstr(im->fields.ptr, probe.ptr)) {
		if (im->fields.len == 0)
			cn_buf_addc(&im->fields, '[');
		else
			im->fields.ptr[--im->fields.len] = '\0'; /* drop ']' */
		if (im->fields.len > 1)
			cn_buf_addc(&im->fields, ',');
		cn_buf_add(&im->fields, probe.ptr, probe.len);
		cn_buf_addc(&im->fields, ']');
		im->fields_changed = 1;
	}
	cn_buf_free(&probe);
}

/* ------------------------------------------------------------- rows */

struct row {
	const char *v[T_NCORE];	/* core values (trimmed), NULL if absent */
	size_t len[T_NCORE];
	int present[T_NCORE];	/* the input has this field */
	char email[330];
	char phone[24];
	int nattrs;
};

static void
trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int
valid_uuid(const char *s, size_t len)
{
	if (len != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/*
 * Fills row from rec: core values, normalised, and the attributes as a
 * JSON object in attrs.  Returns 0, or -1 with the reason in reason (the
 * row is rejected).  Runs in the reading thread of a pipelined import: it
 * touches nothing of im but the column mapping and, for JSON input, the
 * list's attribute columns.
 */
static int
row_build(struct import *im, const struct cn_record *rec, struct row *r,
	  struct cn_buf *attrs, struct cn_buf *reason)
{
	struct cn_err e;

	memset(r->present, 0, sizeof(r->present));
	memset(r->v, 0, sizeof(r->v));
	r->nattrs = 0;
	cn_buf_reset(attrs);
	cn_buf_reset(reason);
	cn_buf_addc(attrs, '{');

	for (size_t i = 0; i < rec->nfields; i++) {
		const struct cn_field *f = &rec->fields[i];
		struct mapping m;
		const char *v = f->value ? f->value : "";
		size_t len = f->value ? f->len : 0;
		size_t bad;
		const char *bom;

		if (im->cols) {
			m = im->cols[i < im->ncols ? i : 0];
		} else if (resolve(im, f->name, &m, &e) < 0) {
			cn_buf_adds(reason, e.msg);
			return -1;
		}
		if (m.t == T_IGNORE)
			continue;
		if (len > MAX_VALUE) {
			cn_buf_addf(reason,
				    "field '%s' too long (%zu bytes, at most "
				    "%d)", f->name, len, MAX_VALUE);
			return -1;
		}
		if (!cn_utf8_valid(v, len, &bad)) {
			cn_buf_addf(reason,
				    "invalid UTF-8 in field '%s' at byte %zu",
				    f->name, bad + 1);
			return -1;
		}
		/* a byte order mark inside the data: files joined together
		 * (cat a.csv b.csv), never meant as text */
		if (len >= 3 && (bom = memmem(v, len, "\xef\xbb\xbf", 3))) {
			cn_buf_addf(reason,
				    "byte order mark in field '%s' at byte %zu "
				    "(files joined together?)", f->name,
				    (size_t)(bom - v) + 1);
			return -1;
		}
		if (m.t != T_ATTR) {
			if ((f->type == CN_V_RAW) ||
			    (f->type == CN_V_BOOL && m.t != T_ATTR)) {
				cn_buf_addf(reason,
					    "field '%s' must be a string",
					    f->name);
				return -1;
			}
			trim(&v, &len);
			r->present[m.t] = 1;
			r->v[m.t] = len ? v : NULL;
			r->len[m.t] = len;
			continue;
		}
		/* an attribute */
		if (reserved(m.attr))
			continue;
		if (f->type == CN_V_STR) {
			trim(&v, &len);
			if (!len && (!im->o->clear_empty || im->o->exact))
				continue;
		} else if (f->type == CN_V_NULL &&
			   (!im->o->clear_empty || im->o->exact)) {
			continue;	/* exact: an absent attribute is cleared */
		}
		if (attrs->len > 1)
			cn_buf_addc(attrs, ',');
		json_str(attrs, m.attr, strlen(m.attr));
		cn_buf_addc(attrs, ':');
		if (f->type == CN_V_STR && len)
			json_str(attrs, v, len);
		else if (f->type == CN_V_STR || f->type == CN_V_NULL)
			cn_buf_adds(attrs, "null");
		else
			cn_buf_add(attrs, v, len);
		r->nattrs++;
		if (!im->cols)
			note_field(im, m.attr);	/* JSON: columns per record */
	}
	cn_buf_addc(attrs, '}');

	if (r->v[T_EMAIL]) {
		char tmp[330];

		if (r->len[T_EMAIL] >= sizeof(tmp)) {
			cn_buf_adds(reason, "invalid email: too long");
			return -1;
		}
		memcpy(tmp, r->v[T_EMAIL], r->len[T_EMAIL]);
		tmp[r->len[T_EMAIL]] = '\0';
		if (cn_email_normalize(tmp, r->email, sizeof(r->email), &e)) {
			cn_buf_adds(reason, e.msg);
			return -1;
		}
		r->v[T_EMAIL] = r->email;
		r->len[T_EMAIL] = strlen(r->email);
	}
	if (r->v[T_PHONE]) {
		char tmp[128];

		if (r->len[T_PHONE] >= sizeof(tmp)) {
			cn_buf_adds(reason, "invalid phone: too long");
			return -1;
		}
		memcpy(tmp, r->v[T_PHONE], r->len[T_PHONE]);
		tmp[r->len[T_PHONE]] = '\0';
		if (cn_phone_normalize(im->o->phone, tmp, r->phone,
				       sizeof(r->phone), &e)) {
			cn_buf_adds(reason, e.msg);
			return -1;
		}
		r->v[T_PHONE] = r->phone;
		r->len[T_PHONE] = strlen(r->phone);
	}
	if (r->v[T_ID] && !valid_uuid(r->v[T_ID], r->len[T_ID])) {
		cn_buf_addf(reason, "invalid id '%.*s' (expected a UUID)",
			    (int)(r->len[T_ID] > 60 ? 60 : r->len[T_ID]),
			    r->v[T_ID]);
		return -1;
	}
	return 0;
}

static void
bind_opt(sqlite3_stmt *s, int i, const char *v, size_t len)
{
	if (v)
		sqlite3_bind_text(s, i, v, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Creates the index that lookups by phone need, on first use. */
static int
need_phone_index(struct import *im, struct cn_err *err)
{
	if (im->phone_index)
		return 0;
	if (cn_sql_exec(im->db, "CREATE INDEX IF NOT EXISTS contact_phone ON "
				"contact(folder_id, phone) WHERE phone IS NOT "
				"NULL", err) < 0)
		return -1;
	im->phone_index = 1;
	return 0;
}

/* Finds the contact of the row's key.  Returns its id, 0 if none, -1 on
 * error. */
static int64_t
find_contact(struct import *im, enum cn_key key, const struct row *r,
	     struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	switch (key) {
	case CN_KEY_PHONE:
		if (need_phone_index(im, err) < 0)
			return -1;
		s = im->find_phone;
		bind_opt(s, 2, r->v[T_PHONE], r->len[T_PHONE]);
		break;
	case CN_KEY_ID: {
		char id36[37];
		int64_t rowid;

		memcpy(id36, r->v[T_ID], 36);
		id36[36] = '\0';
		rowid = cn_contact_rowid(im->st, id36);
		if (rowid) {
			s = im->find_rowid;
			sqlite3_bind_int64(s, 2, rowid);
		} else {
			s = im->find_uuid;
			bind_opt(s, 2, r->v[T_ID], r->len[T_ID]);
		}
		break;
	}
	default:
		s = im->find_email;
		bind_opt(s, 2, r->v[T_EMAIL], r->len[T_EMAIL]);
	}
	sqlite3_bind_int64(s, 1, im->folder_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		id = cn_sql_fail(err, im->db, cn_store_path(im->st));
	sqlite3_reset(s);
	return id;
}

/* Records that this import saw contact id at line.  Returns 1 if new,
 * 0 if the import already saw it (*first: its line), -1 on error. */
static int
mark_seen(struct import *im, int64_t id, long line, long *first,
	  struct cn_err *err)
{
	int rc;

	sqlite3_bind_int64(im->seen_add, 1, id);
	sqlite3_bind_int64(im->seen_add, 2, line);
	rc = sqlite3_step(im->seen_add);
	sqlite3_reset(im->seen_add);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	if (sqlite3_changes(im->db) == 1)
		return 1;
	sqlite3_bind_int64(im->seen_line, 1, id);
	*first = sqlite3_step(im->seen_line) == SQLITE_ROW
			 ? (long)sqlite3_column_int64(im->seen_line, 0)
			 : 0;
	sqlite3_reset(im->seen_line);
	return 0;
}

static int
step_done(struct import *im, sqlite3_stmt *s, struct cn_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return 1;
	return cn_sql_fail(err, im->db, cn_store_path(im->st));
}

static int
is_member(struct import *im, int64_t id)
{
	int rc;

	sqlite3_bind_int64(im->is_member, 1, im->list_id);
	sqlite3_bind_int64(im->is_member, 2, id);
	rc = sqlite3_step(im->is_member);
	sqlite3_reset(im->is_member);
	return rc == SQLITE_ROW;
}

static int
add_member(struct import *im, int64_t id, struct cn_err *err)
{
	sqlite3_bind_int64(im->add_member, 1, im->list_id);
	sqlite3_bind_int64(im->add_member, 2, id);
	sqlite3_bind_int64(im->add_member, 3, im->now);
	return step_done(im, im->add_member, err) ? -1 : 0;
}

/* Which field a unique-constraint failure is about, for the message. */
static void
constraint_reason(struct import *im, const struct row *r)
{
	const char *m = sqlite3_errmsg(im->db);

	if (strstr(m, "contact.email"))
		cn_buf_addf(&im->reason,
			    "email '%s' belongs to another contact",
			    r->v[T_EMAIL] ? r->v[T_EMAIL] : "");
	else if (strstr(m, "contact.uuid") || strstr(m, "contact.id"))
		cn_buf_addf(&im->reason,
			    "id '%.*s' belongs to a contact of another folder",
			    (int)r->len[T_ID], r->v[T_ID] ? r->v[T_ID] : "");
	else
		cn_buf_addf(&im->reason, "rejected by the store: %s", m);
}

/* Updates contact id from the row.  Returns 1 if its data changed, 0 if
 * not, 2 if the row is rejected (reason set), -1 on error. */
static int
update_contact(struct import *im, int64_t id, const struct row *r,
	       struct cn_err *err)
{
	sqlite3_stmt *s = im->upd;
	int clear = im->o->clear_empty;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	for (int t = T_EMAIL, i = 2; t <= T_LAST; t++, i += 2) {
		int set = im->o->exact ||
			  (r->present[t] && (r->v[t] || clear));

		sqlite3_bind_int(s, i, set);
		bind_opt(s, i + 1, r->v[t], r->len[t]);
	}
	if (r->nattrs)
		sqlite3_bind_text(s, 10, im->cur_attrs->ptr,
				  (int)im->cur_attrs->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 10);
	sqlite3_bind_int64(s, 11, im->now);
	sqlite3_bind_int(s, 12, im->o->exact);
	rc = step_done(im, s, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		constraint_reason(im, r);
		return 2;
	}
	return sqlite3_changes(im->db) > 0;
}

/*
 * Inserts a new contact.  With only_new, a contact that already has the
 * row's (unique) key is left alone and 0 is returned without a reason, so
 * that the caller looks it up.  Returns the new id, 0 if not inserted
 * (a reason is set when the row is rejected), -1 on error.
 */
static int64_t
insert_contact(struct import *im, const struct row *r, int only_new,
	       struct cn_err *err)
{
	sqlite3_stmt *s = only_new ? im->ins_new : im->ins;
	char uuid[37];
	int rc;

	/* a new contact is numbered above the high-water mark */
	sqlite3_bind_int64(s, 1, im->next_id + 1);
	sqlite3_bind_null(s, 2);
	if (r->v[T_ID]) {
		int64_t rowid;

		memcpy(uuid, r->v[T_ID], 36);
		uuid[36] = '\0';
		for (int i = 0; i < 36; i++)
			uuid[i] = (char)tolower((unsigned char)uuid[i]);
		/* one of ours keeps its rowid; another store's its uuid */
		rowid = cn_contact_rowid(im->st, uuid);
		if (rowid && rowid <= im->max_before)
			sqlite3_bind_int64(s, 1, rowid);
		else if (!rowid)
			sqlite3_bind_text(s, 2, uuid, 36, SQLITE_STATIC);
		/* else an id this store never gave: a new number */
	}
	sqlite3_bind_int64(s, 3, im->folder_id);
	for (int t = T_EMAIL; t <= T_LAST; t++)
		bind_opt(s, 4 + t - T_EMAIL, r->v[t], r->len[t]);
	if (r->nattrs)
		sqlite3_bind_text(s, 8, im->cur_attrs->ptr,
				  (int)im->cur_attrs->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_int64(s, 9, im->now);
	rc = step_done(im, s, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		constraint_reason(im, r);
		return 0;
	}
	if (sqlite3_changes(im->db) == 0)
		return 0;	/* only_new: the key exists */
	if (sqlite3_last_insert_rowid(im->db) == im->next_id + 1)
		im->next_id++;
	return sqlite3_last_insert_rowid(im->db);
}

static void
reject(struct import *im)
{
	im->stats->rejected++;
	if (im->o->on_reject)
		im->o->on_reject(im->o->ctx, im->cur_rec, im->cur_raw,
				 im->cur_rawlen, im->cur_line, im->reason.ptr);
}

static const char *const key_field[] = {"email", "email", "phone", "id",
					"id"};

static void
diff(struct import *im, const char *change)
{
	if (im->o->on_diff && im->cur_rec)
		im->o->on_diff(im->o->ctx, change, im->cur_rec);
}

/* Applies one record.  Returns 0 (applied, skipped or rejected) or -1. */
static int
apply_row(struct import *im, struct row *rp, struct cn_err *err)
{
	enum cn_import_mode mode = im->o->mode;
	static const enum target kt[] = {T_EMAIL, T_EMAIL, T_PHONE, T_ID,
					 T_ID};
	enum cn_key key;
	int64_t id;
	long first = 0;
	int seen, member, changed;

	key = im->key;
	if (key == CN_KEY_RESTORE) {
		/* a restore: the contact of this id, else of this email,
		 * else of this phone */
		id = 0;
		key = CN_KEY_ID;
		if (rp->v[T_ID] && (id = find_contact(im, key, rp, err)) < 0)
			return -1;
		if (!id && rp->v[T_EMAIL]) {
			key = CN_KEY_EMAIL;
			if ((id = find_contact(im, key, rp, err)) < 0)
				return -1;
		}
		if (!id && rp->v[T_PHONE]) {
			key = CN_KEY_PHONE;
			if ((id = find_contact(im, key, rp, err)) < 0)
				return -1;
		}
		if (!id && !rp->v[T_ID] && !rp->v[T_EMAIL] && !rp->v[T_PHONE]) {
			cn_buf_adds(&im->reason, "no id, email or phone to "
				    "match a contact on");
			reject(im);
			return 0;
		}
		goto found;
	}
	if (im->o->key == CN_KEY_AUTO && !rp->v[kt[key]]) {
		/* auto: email, else phone, else id, row by row */
		if (rp->v[T_EMAIL])
			key = CN_KEY_EMAIL;
		else if (rp->v[T_PHONE])
			key = CN_KEY_PHONE;
		else if (rp->v[T_ID])
			key = CN_KEY_ID;
	}
	if (!rp->v[kt[key]]) {
		if (im->o->key == CN_KEY_AUTO)
			cn_buf_adds(&im->reason, "no email, phone or id to "
				    "match a contact on");
		else
			cn_buf_addf(&im->reason, "no %s (the key to match "
				    "contacts on)", key_field[key]);
		reject(im);
		return 0;
	}
	/*
	 * With a unique key (email), try the insert first: a new contact
	 * costs one statement, and only an existing one a lookup.
	 */
	if (key == CN_KEY_EMAIL && mode != CN_MODE_UPDATE) {
		id = insert_contact(im, rp, 1, err);
		if (id < 0)
			return -1;
		if (id > 0)
			goto inserted;
		if (im->reason.len) {
			reject(im);
			return 0;
		}
	}
	id = find_contact(im, key, rp, err);
found:
	if (id < 0)
		return -1;
	if (id == 0) {
		if (mode == CN_MODE_UPDATE) {
			im->stats->skipped++;
			return 0;
		}
		id = insert_contact(im, rp, 0, err);
		if (id < 0)
			return -1;
		if (id == 0) {
			reject(im);
			return 0;
		}
inserted:
		/* a new contact needs no "seen" mark, its id says it; and its
		 * membership is written with the others at the end
		 * (add_new_members).  A contact brought back with its old
		 * id (a restore) is below that line: mark it now. */
		if (id <= im->max_before &&
		    (mark_seen(im, id, im->cur_line, &first, err) < 0 ||
		     add_member(im, id, err) < 0 || sync_touch(im, id, err) < 0))
			return -1;
		im->stats->inserted++;
		diff(im, "add");
		return 0;
	}
	if (id > im->max_before) {
		cn_buf_addf(&im->reason, "duplicate %s '%.*s' (earlier in this "
			    "file)", key_field[key], (int)rp->len[kt[key]],
			    rp->v[kt[key]]);
		reject(im);
		return 0;
	}

	seen = mark_seen(im, id, im->cur_line, &first, err);
	if (seen < 0)
		return -1;
	if (seen == 0) {
		cn_buf_addf(&im->reason, "duplicate %s '%.*s' (first on line "
			    "%ld)", key_field[key], (int)rp->len[kt[key]],
			    rp->v[kt[key]], first);
		reject(im);
		return 0;
	}
	member = is_member(im, id);
	if (mode == CN_MODE_ADD) {
		if (member) {
			im->stats->skipped++;
			return 0;
		}
		if (add_member(im, id, err) < 0 || sync_touch(im, id, err) < 0)
			return -1;
		im->stats->inserted++;
		diff(im, "add");
		return 0;
	}
	if (mode == CN_MODE_UPDATE && !member) {
		im->stats->skipped++;
		return 0;
	}
	changed = update_contact(im, id, rp, err);
	if (changed < 0)
		return -1;
	if (changed == 2) {
		reject(im);
		return 0;
	}
	if ((changed || !member) && sync_touch(im, id, err) < 0)
		return -1;
	if (!member) {
		if (add_member(im, id, err) < 0)
			return -1;
		im->stats->inserted++;
		diff(im, "add");
	} else if (changed) {
		im->stats->updated++;
		diff(im, "update");
	} else {
		im->stats->unchanged++;
	}
	return 0;
}

/* Applies one record read by this thread.  Returns 0 or -1. */
static int
apply(struct import *im, const struct cn_record *rec, struct cn_err *err)
{
	struct row r;
	size_t rawlen = 0;

	im->cur_rec = rec;
	im->cur_line = rec->line;
	im->cur_raw = cn_reader_raw(im->rd, &rawlen);
	im->cur_rawlen = rawlen;
	im->cur_attrs = &im->attrs;
	if (row_build(im, rec, &r, &im->attrs, &im->reason) < 0) {
		reject(im);
		return 0;
	}
	return apply_row(im, &r, err);
}

/* ------------------------------------------------------------ setup */

static int
prep(struct import *im, sqlite3_stmt **s, const char *sql, struct cn_err *err)
{
	if (sqlite3_prepare_v3(im->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
			       NULL) != SQLITE_OK)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	return 0;
}

#define INSERT_CONTACT                                                       \
	"INSERT INTO contact(id, uuid, folder_id, email, phone, first_name, " \
	"last_name, attrs, created_at, updated_at) VALUES(?1, ?2, ?3, ?4, "   \
	"?5, ?6, ?7, "
#define ATTRS_PLAIN "?8, ?9, ?9)"
#define ATTRS_CLEAN "nullif(json_patch('{}', ?8), '{}'), ?9, ?9)"

/* [only_new][clear_empty]: with clear_empty, null attributes are dropped */
static const char *const ins_sql[2][2] = {
	{INSERT_CONTACT ATTRS_PLAIN, INSERT_CONTACT ATTRS_CLEAN},
	{INSERT_CONTACT ATTRS_PLAIN " ON CONFLICT DO NOTHING",
	 INSERT_CONTACT ATTRS_CLEAN " ON CONFLICT DO NOTHING"},
};

/*
 * Sync marks (sync_item, see carnet-sync.h), written in the transaction
 * of the change: the contacts selected by the WHERE that follows (?1, ?3
 * as the caller binds them; ?2 the store's id prefix) become pending, and
 * deleted when they no longer exist after the change (?4: 1).
 */
#define SYNC_MARK_CONTACTS                                                   \
	"INSERT INTO sync_item(kind, uuid, state, changed_at, deleted) "     \
	"SELECT 'contact', coalesce(uuid, ?2 || '-' || printf('%012x', id)),"\
	" 'pending', ?3, ?4 FROM contact "
#define SYNC_MARK_UPSERT                                                     \
	"ON CONFLICT(kind, uuid) DO UPDATE SET state = 'pending', "          \
	"changed_at = excluded.changed_at, deleted = excluded.deleted"

/* Marks contact id pending for sync.  Returns 0 or -1. */
static int
sync_touch(struct import *im, int64_t id, struct cn_err *err)
{
	sqlite3_bind_int64(im->sync_mark, 1, id);
	sqlite3_bind_text(im->sync_mark, 2, cn_store_idprefix(im->st), 23,
			  SQLITE_STATIC);
	sqlite3_bind_int64(im->sync_mark, 3, im->now);
	sqlite3_bind_int(im->sync_mark, 4, 0);
	return step_done(im, im->sync_mark, err) ? -1 : 0;
}

static int
prepare_all(struct import *im, struct cn_err *err)
{
	if (prep(im, &im->find_email,
		 "SELECT id FROM contact WHERE folder_id = ?1 AND email = ?2",
		 err) ||
	    prep(im, &im->find_phone,
		 "SELECT id FROM contact WHERE folder_id = ?1 AND phone = ?2 "
		 "ORDER BY id LIMIT 1", err) ||
	    prep(im, &im->find_rowid,
		 "SELECT id FROM contact WHERE folder_id = ?1 AND id = ?2 AND "
		 "uuid IS NULL", err) ||
	    prep(im, &im->find_uuid,
		 "SELECT id FROM contact WHERE folder_id = ?1 AND uuid = "
		 "lower(?2)", err) ||
	    prep(im, &im->seen_add,
		 "INSERT INTO temp.cn_seen(contact_id, line) VALUES(?1, ?2) "
		 "ON CONFLICT DO NOTHING", err) ||
	    prep(im, &im->seen_line,
		 "SELECT line FROM temp.cn_seen WHERE contact_id = ?1", err) ||
	    prep(im, &im->is_member,
		 "SELECT 1 FROM member WHERE list_id = ?1 AND contact_id = ?2",
		 err) ||
	    prep(im, &im->add_member,
		 "INSERT INTO member(list_id, contact_id, added_at) "
		 "VALUES(?1, ?2, ?3)", err) ||
	    prep(im, &im->sync_mark, SYNC_MARK_CONTACTS "WHERE id = ?1 "
		 SYNC_MARK_UPSERT, err) ||
	    prep(im, &im->ins, ins_sql[0][im->o->clear_empty], err) ||
	    prep(im, &im->ins_new, ins_sql[1][im->o->clear_empty], err) ||
	    prep(im, &im->upd,
		 "UPDATE contact SET"
		 " email = CASE WHEN ?2 THEN ?3 ELSE email END,"
		 " phone = CASE WHEN ?4 THEN ?5 ELSE phone END,"
		 " first_name = CASE WHEN ?6 THEN ?7 ELSE first_name END,"
		 " last_name = CASE WHEN ?8 THEN ?9 ELSE last_name END,"
		 " attrs = CASE WHEN ?12 THEN ?10 WHEN ?10 IS NULL THEN attrs"
		 "   ELSE nullif(json_patch(coalesce(attrs, '{}'), ?10), '{}')"
		 "   END,"
		 " updated_at = ?11 "
		 "WHERE id = ?1 AND ("
		 " (?2 AND email IS NOT ?3) OR (?4 AND phone IS NOT ?5) OR"
		 " (?6 AND first_name IS NOT ?7) OR"
		 " (?8 AND last_name IS NOT ?9) OR"
		 " (?12 AND attrs IS NOT ?10) OR"
		 " (NOT ?12 AND ?10 IS NOT NULL AND attrs IS NOT"
		 "   nullif(json_patch(coalesce(attrs, '{}'), ?10), '{}')))",
		 err))
		return -1;
	return 0;
}

static void
finalize_all(struct import *im)
{
	sqlite3_stmt **all[] = {&im->find_email, &im->find_phone,
				&im->find_rowid, &im->find_uuid,
				&im->seen_add,	 &im->seen_line,
				&im->is_member,	 &im->add_member,
				&im->ins,	 &im->ins_new,
				&im->upd,	 &im->sync_mark};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

/* Finds or creates the list; loads its attribute columns. */
static int
open_list(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(im, &s, "SELECT id, fields FROM list WHERE folder_id = ?1 "
			 "AND name = ?2", err))
		return -1;
	sqlite3_bind_int64(s, 1, im->folder_id);
	sqlite3_bind_text(s, 2, im->o->list, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		im->list_id = sqlite3_column_int64(s, 0);
		if (sqlite3_column_type(s, 1) == SQLITE_TEXT)
			cn_buf_adds(&im->fields,
				    (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	if (im->list_id)
		return 0;
	if (im->o->mode == CN_MODE_UPDATE)
		return cn_err_set(err, CN_ENOINPUT,
				  "no list '%s' in folder '%s' (mode update "
				  "changes existing members only)",
				  im->o->list, im->o->folder);
	if (prep(im, &s, "INSERT INTO list(uuid, folder_id, name, created_by, "
			 "updated_by, created_at, updated_at) "
			 "VALUES(?1, ?2, ?3, ?4, ?4, ?5, ?5)", err))
		return -1;
	{
		char uuid[37];

		cn_uuid7(uuid);
		sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(s, 2, im->folder_id);
	sqlite3_bind_text(s, 3, im->o->list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, im->user_id);
	sqlite3_bind_int64(s, 5, im->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	im->list_id = sqlite3_last_insert_rowid(im->db);
	im->list_created = 1;
	return 0;
}

/* The highest contact id ever given (the high-water mark, or a higher
 * id put there by some other way): any contact above it is this
 * import's, and new ones are numbered from it. */
static int
max_contact(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;

	if (prep(im, &s, "SELECT max(coalesce((SELECT CAST(value AS INTEGER) "
			 "FROM setting WHERE key = 'contact_hw'), 0), "
			 "coalesce((SELECT max(id) FROM contact), 0))", err))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		im->max_before = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	im->next_id = im->max_before;
	return 0;
}

/* Records the high-water mark of the ids this import gave. */
static int
save_max_contact(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (im->next_id <= im->max_before)
		return 0;
	if (prep(im, &s, "INSERT INTO setting(key, value) VALUES('contact_hw',"
			 " ?1) ON CONFLICT(key) DO UPDATE SET value = "
			 "excluded.value", err))
		return -1;
	sqlite3_bind_int64(s, 1, im->next_id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0
				 : cn_sql_fail(err, im->db,
					       cn_store_path(im->st));
}

/* Makes every contact this import created a member of the list, in one
 * statement: they are all above max_before, in file order. */
static int
add_new_members(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(im, &s, "INSERT INTO member(list_id, contact_id, added_at) "
			 "SELECT ?1, id, ?2 FROM contact WHERE id > ?3 ORDER "
			 "BY id", err))
		return -1;
	sqlite3_bind_int64(s, 1, im->list_id);
	sqlite3_bind_int64(s, 2, im->now);
	sqlite3_bind_int64(s, 3, im->max_before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0
				 : cn_sql_fail(err, im->db,
					       cn_store_path(im->st));
}

static int
diff_removed(struct import *im, struct cn_err *err)
{
	struct cn_record rec;
	sqlite3_stmt *s;
	int rc;

	if (prep(im, &s, "SELECT " CONTACT_COLS " FROM temp.cn_gone g JOIN "
			 "contact c ON c.id = g.contact_id ORDER BY c.id", err))
		return -1;
	cn_record_init(&rec);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *names = contact_record(im->st, s, &rec, NULL, 0, 0);

		im->o->on_diff(im->o->ctx, "remove", &rec);
		cJSON_Delete(names);
	}
	sqlite3_finalize(s);
	cn_record_free(&rec);
	return rc == SQLITE_DONE ? 0
				 : cn_sql_fail(err, im->db,
					       cn_store_path(im->st));
}

/* Marks for sync the contacts that the clause where selects (?1 is
 * bound to arg), deleted or not; in one statement.  Returns 0 or -1. */
static int
sync_mark_set(struct import *im, const char *where, int64_t arg, int deleted,
	      struct cn_err *err)
{
	char sql[512];
	sqlite3_stmt *s;
	int rc;

	snprintf(sql, sizeof(sql), "%s%s%s", SYNC_MARK_CONTACTS, where,
		 SYNC_MARK_UPSERT);
	if (prep(im, &s, sql, err))
		return -1;
	sqlite3_bind_int64(s, 1, arg);
	sqlite3_bind_text(s, 2, cn_store_idprefix(im->st), 23, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, im->now);
	sqlite3_bind_int(s, 4, deleted);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0
				 : cn_sql_fail(err, im->db,
					       cn_store_path(im->st));
}

/* Marks the list for sync (when the import changed it). */
static int
sync_mark_list(sqlite3 *db, int64_t list_id, int64_t now, int deleted,
	       struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO sync_item(kind, uuid, state, "
			       "changed_at, deleted) SELECT 'list', uuid, "
			       "'pending', ?2, ?3 FROM list WHERE id = ?1 "
			       "ON CONFLICT(kind, uuid) DO UPDATE SET state = "
			       "'pending', changed_at = excluded.changed_at, "
			       "deleted = excluded.deleted", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, list_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, deleted);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

/* Replace mode: removes the members this import did not see, and the
 * contacts that belong to no list any more. */
static int
remove_unseen(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (cn_sql_exec(im->db,
			"CREATE TEMP TABLE IF NOT EXISTS cn_gone("
			"contact_id INTEGER PRIMARY KEY);"
			"DELETE FROM temp.cn_gone;", err))
		return -1;
	if (prep(im, &s, "INSERT INTO temp.cn_gone SELECT contact_id FROM "
			 "member WHERE list_id = ?1 AND contact_id <= ?2 AND "
			 "contact_id NOT IN (SELECT contact_id FROM "
			 "temp.cn_seen)", err))
		return -1;
	sqlite3_bind_int64(s, 1, im->list_id);
	sqlite3_bind_int64(s, 2, im->max_before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	if (prep(im, &s, "DELETE FROM member WHERE list_id = ?1 AND "
			 "contact_id IN (SELECT contact_id FROM temp.cn_gone)",
		 err))
		return -1;
	sqlite3_bind_int64(s, 1, im->list_id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, im->db, cn_store_path(im->st));
	im->stats->removed = (uint64_t)sqlite3_changes(im->db);
	if (im->o->on_diff && diff_removed(im, err) < 0)
		return -1;
	/* sync: the removed members changed (their lists), and those that
	 * are in no list any more are deleted */
	if (sync_mark_set(im, "WHERE id IN (SELECT contact_id FROM "
			  "temp.cn_gone) ", 0, 0, err) < 0 ||
	    cn_sql_exec(im->db,
			"DELETE FROM temp.cn_gone WHERE contact_id IN (SELECT "
			"contact_id FROM member);", err) < 0 ||
	    sync_mark_set(im, "WHERE id IN (SELECT contact_id FROM "
			  "temp.cn_gone) ", 0, 1, err) < 0)
		return -1;
	/* foreign keys are off during an import: do their work here */
	if (cn_sql_exec(im->db,
			"UPDATE message SET contact_id = NULL WHERE contact_id "
			"IN (SELECT contact_id FROM temp.cn_gone);"
			"DELETE FROM contact WHERE id IN (SELECT contact_id "
			"FROM temp.cn_gone);", err) < 0)
		return -1;
	return 0;
}

static int
touch_list(struct import *im, struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(im, &s, "UPDATE list SET updated_at = ?2, updated_by = ?3, "
			 "fields = coalesce(?4, fields) WHERE id = ?1", err))
		return -1;
	sqlite3_bind_int64(s, 1, im->list_id);
	sqlite3_bind_int64(s, 2, im->now);
	sqlite3_bind_int64(s, 3, im->user_id);
	if (im->fields_changed)
		sqlite3_bind_text(s, 4, im->fields.ptr, (int)im->fields.len,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0
				 : cn_sql_fail(err, im->db,
					       cn_store_path(im->st));
}

/* --------------------------------------------------------- reading */

static void
progress(struct import *im, uint64_t offset)
{
	cn_crashpoint(CRASHPOINT(im, "row"));
	if (im->o->on_progress && (im->stats->rows & 8191) == 0)
		im->o->on_progress(im->o->ctx, offset, im->stats->rows);
}

/* The reason of a malformed row: its error less "name:line: ". */
static const char *
row_error(const struct cn_err *e)
{
	const char *m = strstr(e->msg, ": ");

	return m ? m + 2 : e->msg;
}

/* Reads and applies every record in this thread.  Returns 0 or -1. */
static int
run_sequential(struct import *im, struct cn_err *err)
{
	struct cn_record *rec = NULL;
	struct cn_err rowerr;

	for (;;) {
		int r = cn_reader_next(im->rd, &rec, &rowerr);

		if (r == 0)
			return 0;
		if (r == -1) {
			*err = rowerr;
			return -1;
		}
		im->stats->rows++;
		if (r == -2) {
			size_t rawlen = 0;

			im->cur_rec = rec;
			im->cur_line = rec ? rec->line : 0;
			im->cur_raw = cn_reader_raw(im->rd, &rawlen);
			im->cur_rawlen = rawlen;
			cn_buf_reset(&im->reason);
			cn_buf_adds(&im->reason, row_error(&rowerr));
			reject(im);
			continue;
		}
		if (apply(im, rec, err) < 0)
			return -1;
		progress(im, cn_reader_offset(im->rd));
	}
}

/*
 * A pipelined import: a reading thread parses, validates and normalises
 * the records (row_build) into a ring of slots while this thread applies
 * them to the store, so the two halves of the work use two cores.  The
 * ring bounds memory; slots are handed over in batches to keep the
 * locking rare.
 */
#define NSLOT 512
#define BATCH 32

enum slot_kind { S_ROW, S_REJECT, S_END, S_ERROR };

struct slot {
	enum slot_kind kind;
	long line;
	uint64_t offset;
	struct row r;
	struct cn_buf vals;	/* the values of r.v[] not held in r */
	struct cn_buf attrs;
	struct cn_buf reason;
	struct cn_buf raw;
	struct cn_err err;
};

struct pipeline {
	struct import *im;
	struct slot *slots;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t published;	/* slots filled and handed over */
	uint64_t consumed;	/* slots applied and handed back */
	int stop;		/* the applier gave up */
};

/* Reads one record into sl (in the reading thread). */
static void
fill_slot(struct import *im, struct slot *sl)
{
	struct cn_record *rec = NULL;
	const char *raw;
	size_t rawlen = 0, off[T_NCORE];
	int r = cn_reader_next(im->rd, &rec, &sl->err);

	if (r == 0 || r == -1) {
		sl->kind = r ? S_ERROR : S_END;
		return;
	}
	sl->line = rec ? rec->line : 0;
	sl->offset = cn_reader_offset(im->rd);
	raw = cn_reader_raw(im->rd, &rawlen);
	cn_buf_reset(&sl->raw);
	cn_buf_reset(&sl->reason);
	if (cn_buf_add(&sl->raw, raw ? raw : "", raw ? rawlen : 0) < 0)
		goto oom;
	if (r == -2) {
		sl->kind = S_REJECT;
		cn_buf_adds(&sl->reason, row_error(&sl->err));
		return;
	}
	if (row_build(im, rec, &sl->r, &sl->attrs, &sl->reason) < 0) {
		sl->kind = S_REJECT;
		return;
	}
	/* values still pointing into the record move into the slot */
	cn_buf_reset(&sl->vals);
	for (int t = 0; t < T_NCORE; t++) {
		const char *v = sl->r.v[t];

		off[t] = (size_t)-1;
		if (!v || v == sl->r.email || v == sl->r.phone)
			continue;
		off[t] = sl->vals.len;
		if (cn_buf_add(&sl->vals, v, sl->r.len[t]) < 0 ||
		    cn_buf_addc(&sl->vals, '\0') < 0)
			goto oom;
	}
	for (int t = 0; t < T_NCORE; t++)
		if (off[t] != (size_t)-1)
			sl->r.v[t] = sl->vals.ptr + off[t];
	sl->kind = S_ROW;
	return;
oom:
	sl->kind = S_ERROR;
	cn_err_set(&sl->err, CN_EINTERNAL, "out of memory");
}

static void *
reading_thread(void *arg)
{
	struct pipeline *p = arg;
	uint64_t filled = 0, room = NSLOT;	/* slots free, as last seen */

	for (;;) {
		struct slot *sl;
		int last;

		if (room == 0) {
			pthread_mutex_lock(&p->mu);
			p->published = filled;
			pthread_cond_broadcast(&p->cv);
			while (filled - p->consumed == NSLOT && !p->stop)
				pthread_cond_wait(&p->cv, &p->mu);
			room = NSLOT - (filled - p->consumed);
			last = p->stop;
			pthread_mutex_unlock(&p->mu);
			if (last)
				break;
		}
		sl = &p->slots[filled % NSLOT];
		fill_slot(p->im, sl);
		filled++;
		room--;
		last = sl->kind == S_END || sl->kind == S_ERROR;
		if (last || filled % BATCH == 0) {
			pthread_mutex_lock(&p->mu);
			p->published = filled;
			pthread_cond_broadcast(&p->cv);
			room = NSLOT - (filled - p->consumed);
			if (p->stop)
				last = 1;
			pthread_mutex_unlock(&p->mu);
		}
		if (last)
			break;
	}
	return NULL;
}

/* Applies one slot (in this thread).  Returns 1 at the end, 0 to go on,
 * -1 on error. */
static int
apply_slot(struct import *im, struct slot *sl, struct cn_err *err)
{
	switch (sl->kind) {
	case S_END:
		return 1;
	case S_ERROR:
		*err = sl->err;
		return -1;
	default:
		break;
	}
	im->stats->rows++;
	im->cur_rec = NULL;
	im->cur_line = sl->line;
	im->cur_raw = sl->raw.ptr;
	im->cur_rawlen = sl->raw.len;
	im->cur_attrs = &sl->attrs;
	cn_buf_reset(&im->reason);
	if (sl->kind == S_REJECT) {
		cn_buf_add(&im->reason, sl->reason.ptr, sl->reason.len);
		reject(im);
	} else if (apply_row(im, &sl->r, err) < 0) {
		return -1;
	}
	progress(im, sl->offset);
	return 0;
}

static int
run_pipelined(struct import *im, struct cn_err *err)
{
	struct pipeline p;
	pthread_t thread;
	uint64_t next = 0, avail = 0;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.im = im;
	p.slots = calloc(NSLOT, sizeof(*p.slots));
	if (!p.slots)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	for (int i = 0; i < NSLOT; i++) {
		cn_buf_init(&p.slots[i].vals, 0);
		cn_buf_init(&p.slots[i].attrs, 0);
		cn_buf_init(&p.slots[i].reason, 0);
		cn_buf_init(&p.slots[i].raw, 0);
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (pthread_create(&thread, NULL, reading_thread, &p) != 0) {
		rc = cn_err_set(err, CN_EINTERNAL, "cannot start a thread");
		goto out;
	}
	while (rc == 0) {
		if (next == avail) {
			pthread_mutex_lock(&p.mu);
			p.consumed = next;
			pthread_cond_broadcast(&p.cv);
			while (p.published == next)
				pthread_cond_wait(&p.cv, &p.mu);
			avail = p.published;
			pthread_mutex_unlock(&p.mu);
		}
		rc = apply_slot(im, &p.slots[next % NSLOT], err);
		next++;
		if (rc == 0 && next % BATCH == 0) {
			pthread_mutex_lock(&p.mu);
			p.consumed = next;
			pthread_cond_broadcast(&p.cv);
			pthread_mutex_unlock(&p.mu);
		}
	}
	/* at the end, or on an error: let the reader stop, and wait for it */
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	p.consumed = next;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	pthread_join(thread, NULL);
	rc = rc < 0 ? -1 : 0;
out:
	for (int i = 0; i < NSLOT; i++) {
		cn_buf_free(&p.slots[i].vals);
		cn_buf_free(&p.slots[i].attrs);
		cn_buf_free(&p.slots[i].reason);
		cn_buf_free(&p.slots[i].raw);
	}
	free(p.slots);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return rc;
}

int
cn_contacts_import(struct cn_store *st, struct cn_reader *rd,
		   const struct cn_import_opts *o,
		   struct cn_import_stats *stats, struct cn_err *err)
{
	struct import im;
	int rc = -1, in_tx = 0, fk_off = 0, all_or_nothing, changed;

	memset(stats, 0, sizeof(*stats));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.db = cn_store_db(st);
	im.rd = rd;
	im.o = o;
	im.stats = stats;
	im.name = cn_reader_name(rd);
	im.now = cn_now();
	im.restore = o->backup_reason == CN_BACKUP_RESTORE;
	cn_buf_init(&im.attrs, 0);
	cn_buf_init(&im.fields, 0);
	cn_buf_init(&im.reason, 0);

	if (!o->list || !*o->list) {
		cn_err_set(err, CN_EUSAGE, "no list named (use --list)");
		goto out;
	}
	if (o->map && map_parse(&im, o->map, err) < 0)
		goto out;
	if (map_header(&im, err) < 0)
		goto out;
	/*
	 * Foreign keys are not checked during an import: every reference it
	 * writes comes from a lookup or an insert in the same transaction,
	 * and its one deletion does the cascade itself (remove_unseen).  The
	 * checks would cost an eighth of the import.
	 */
	if (cn_sql_exec(im.db, "PRAGMA foreign_keys=OFF", err) < 0)
		goto out;
	fk_off = 1;
	if (cn_sql_exec(im.db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	in_tx = 1;
	if (max_contact(&im, err) < 0)
		goto out;
	if (cn_sql_exec(im.db,
			"CREATE TEMP TABLE IF NOT EXISTS cn_seen("
			"contact_id INTEGER PRIMARY KEY, line INTEGER);"
			"DELETE FROM temp.cn_seen;", err) < 0)
		goto out;
	im.folder_id = cn_folder_id(st, o->folder, 1, err);
	if (!im.folder_id)
		goto out;
	im.user_id = cn_user_id(st, o->user, err);
	if (!im.user_id)
		goto out;
	if (open_list(&im, err) < 0 || prepare_all(&im, err) < 0)
		goto out;
	for (size_t i = 0; i < im.ncols; i++)	/* CSV: columns from the header */
		if (im.cols[i].t == T_ATTR && !reserved(im.cols[i].attr))
			note_field(&im, im.cols[i].attr);
	if (o->exact && o->fields && strcmp(o->fields, im.fields.ptr) != 0) {
		/* a restore: the list's columns become the backup's */
		cn_buf_reset(&im.fields);
		cn_buf_adds(&im.fields, o->fields);
		im.fields_changed = 1;
	}
	/* an existing list is backed up before it changes, in this
	 * transaction: the backup and the change commit together */
	if (!im.list_created && !o->dry_run && o->backup) {
		stats->backup_id = cn_backup_list(st, o->backup, im.list_id,
						  o->backup_reason, err);
		if (stats->backup_id < 0) {
			stats->backup_id = 0;
			goto out;
		}
	}
	cn_crashpoint(CRASHPOINT(&im, "backed_up"));

	/* the reading runs in a thread of its own, but for --diff, which
	 * needs every record as read */
	if ((o->on_diff ? run_sequential(&im, err) : run_pipelined(&im, err)) < 0)
		goto out;
	if (o->expect_rows > 0 && stats->rows != (uint64_t)o->expect_rows) {
		cn_err_set(err, CN_EDATA, "%s: %llu rows read, %lld expected",
			   im.name, (unsigned long long)stats->rows,
			   (long long)o->expect_rows);
		goto out;
	}
	if (o->mode == CN_MODE_REPLACE && stats->rejected == 0 &&
	    remove_unseen(&im, err) < 0)
		goto out;
	if (add_new_members(&im, err) < 0)
		goto out;
	if (touch_list(&im, err) < 0 || save_max_contact(&im, err) < 0)
		goto out;
	all_or_nothing = o->atomic || o->mode == CN_MODE_REPLACE;
	if (stats->rejected && all_or_nothing) {
		/* nothing is (or, dry, would be) applied: the counts say so */
		stats->inserted = stats->updated = 0;
		stats->unchanged = stats->removed = 0;
		stats->skipped = 0;
	}
	/* rows were read and every one was rejected: the header's new
	 * columns are not kept either (bad input changes nothing) */
	if (stats->rejected && !stats->inserted && !stats->updated &&
	    !stats->removed && !im.list_created)
		im.fields_changed = 0;
	changed = stats->inserted || stats->updated || stats->removed ||
		  im.fields_changed || im.list_created;
	/* sync: the list is marked when it is new or its columns changed
	 * (its members travel with the contacts); the new contacts need no
	 * mark, their ids above the sync's own high-water mark say that
	 * they are new (carnet-sync.h), which costs this import nothing */
	if ((im.list_created || im.fields_changed) && !o->dry_run &&
	    sync_mark_list(im.db, im.list_id, im.now, 0, err) < 0)
		goto out;
	if (o->dry_run || (stats->rejected && all_or_nothing) || !changed) {
		/* nothing to keep: no change, no backup of it either */
		finalize_all(&im);
		cn_backup_discard(st, stats->backup_id);
		stats->backup_id = 0;
		cn_sql_exec(im.db, "ROLLBACK", NULL);
		in_tx = 0;
	} else {
		finalize_all(&im);
		cn_crashpoint(CRASHPOINT(&im, "commit"));
		if (cn_sql_exec(im.db, "COMMIT", err) < 0)
			goto out;
		cn_crashpoint(CRASHPOINT(&im, "committed"));
		in_tx = 0;
		stats->committed = 1;
	}
	rc = 0;
out:
	finalize_all(&im);
	if (in_tx) {
		cn_backup_discard(st, stats->backup_id);
		stats->backup_id = 0;
		sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (fk_off)
		sqlite3_exec(im.db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	if (rc < 0)
		stats->committed = 0;
	free(im.cols);
	free(im.mapbuf);
	cn_buf_free(&im.attrs);
	cn_buf_free(&im.fields);
	cn_buf_free(&im.reason);
	return rc;
}

/* ----------------------------------------------------------- export */

/* Looks up a list; returns its id (0 + CN_ENOINPUT if none, -1 on error)
 * and, if fields is not NULL, its attribute columns. */
static int64_t
list_lookup(sqlite3 *db, const char *folder, const char *list,
	    struct cn_buf *fields, struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT l.id, l.fields FROM list l JOIN folder f"
			       " ON f.id = l.folder_id WHERE f.name = ?1 AND "
			       "l.name = ?2", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		if (fields && sqlite3_column_type(s, 1) == SQLITE_TEXT)
			cn_buf_adds(fields,
				    (const char *)sqlite3_column_text(s, 1));
	} else if (rc == SQLITE_DONE) {
		cn_err_set(err, CN_ENOINPUT, "no list '%s' in folder '%s'",
			   list, folder);
	} else {
		id = cn_sql_fail(err, db, "store");
	}
	sqlite3_finalize(s);
	return id;
}

/* Adds one attribute value (a cJSON item) to rec under name. */
static int
add_json_value(struct cn_record *rec, const char *name, const cJSON *it)
{
	if (!it || cJSON_IsNull(it))
		return cn_record_add(rec, name, NULL, 0, CN_V_NULL);
	if (cJSON_IsString(it))
		return cn_record_add(rec, name, it->valuestring,
				     strlen(it->valuestring), CN_V_STR);
	if (cJSON_IsBool(it))
		return cn_record_add(rec, name, cJSON_IsTrue(it) ? "true"
								 : "false",
				     cJSON_IsTrue(it) ? 4 : 5, CN_V_BOOL);
	{
		char *txt = cJSON_PrintUnformatted(it);
		int r;

		if (!txt)
			return -1;
		r = cn_record_add(rec, name, txt, strlen(txt),
				  cJSON_IsNumber(it) ? CN_V_NUM : CN_V_RAW);
		cJSON_free(txt);
		return r;
	}
}

static const char *const fixed_cols[] = {"id", "email", "phone",
					 "first_name", "last_name"};

/*
 * Fills rec from a row of CONTACT_COLS: the public id, the core fields,
 * then the attributes: the columns cols[5..ncols) when flat (CSV, table),
 * else every attribute in stored order.  The record borrows the names of
 * the attributes from the parsed object returned: the caller deletes it
 * (cJSON_Delete) once done with the record.
 */
static cJSON *
contact_record(struct cn_store *st, sqlite3_stmt *s, struct cn_record *rec,
	       const char *const *cols, size_t ncols, int flat)
{
	cJSON *attrs = NULL;

	cn_record_reset(rec);
	if (sqlite3_column_type(s, 6) == SQLITE_TEXT) {
		cn_record_add(rec, fixed_cols[0],
			      (const char *)sqlite3_column_text(s, 6),
			      (size_t)sqlite3_column_bytes(s, 6), CN_V_STR);
	} else {
		char pub[37];

		cn_contact_pubid(st, sqlite3_column_int64(s, 0), pub);
		cn_record_add(rec, fixed_cols[0], pub, 36, CN_V_STR);
	}
	for (int i = 1; i < 5; i++) {
		const char *v = (const char *)sqlite3_column_text(s, i);

		cn_record_add(rec, fixed_cols[i], v,
			      v ? (size_t)sqlite3_column_bytes(s, i) : 0,
			      v ? CN_V_STR : CN_V_NULL);
	}
	if (sqlite3_column_type(s, 5) == SQLITE_TEXT)
		attrs = cJSON_ParseWithLength(
			(const char *)sqlite3_column_text(s, 5),
			(size_t)sqlite3_column_bytes(s, 5));
	if (flat) {
		for (size_t i = 5; i < ncols; i++)
			add_json_value(rec, cols[i],
				       cJSON_GetObjectItemCaseSensitive(
					       attrs, cols[i]));
	} else if (attrs) {
		for (const cJSON *it = attrs->child; it; it = it->next)
			add_json_value(rec, it->string, it);
	}
	return attrs;
}

int64_t
cn_contacts_export(struct cn_store *st, const char *folder, const char *list,
		   FILE *out, enum cn_format fmt, const struct cn_csv_opts *csv,
		   struct cn_err *err)
{
	return cn_contacts_export_cp(st, folder, list, out, fmt, csv, NULL,
				     err);
}

int64_t
cn_contacts_export_cp(struct cn_store *st, const char *folder,
		      const char *list, FILE *out, enum cn_format fmt,
		      const struct cn_csv_opts *csv, const char *crashpoint,
		      struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_buf fields;
	const char **cols = NULL;
	size_t ncols = 5, nattr = 0;
	cJSON *fa = NULL;
	struct cn_writer *w = NULL;
	struct cn_record rec;
	sqlite3_stmt *s = NULL;
	int64_t id, n = -1;
	int flat = fmt == CN_FMT_CSV || fmt == CN_FMT_TABLE;
	int rc;

	cn_buf_init(&fields, 0);
	cn_record_init(&rec);
	id = list_lookup(db, folder, list, &fields, err);
	if (id <= 0)
		goto out;
	if (fields.len) {
		fa = cJSON_Parse(fields.ptr);
		nattr = (size_t)cJSON_GetArraySize(fa);
	}
	cols = calloc(5 + nattr, sizeof(*cols));
	if (!cols) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(cols, fixed_cols, sizeof(fixed_cols));
	for (size_t i = 0; i < nattr; i++) {
		const cJSON *it = cJSON_GetArrayItem(fa, (int)i);

		if (cJSON_IsString(it))
			cols[ncols++] = it->valuestring;
	}
	w = cn_writer_open(out, fmt, cols, ncols, csv, err);
	if (!w)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "SELECT " CONTACT_COLS " FROM member m JOIN "
			       "contact c ON c.id = m.contact_id WHERE "
			       "m.list_id = ?1 ORDER BY m.contact_id", -1, &s,
			       NULL)) {
		cn_sql_fail(err, db, "store");
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *names = contact_record(st, s, &rec, cols, ncols, flat);

		rc = cn_writer_put(w, &rec, err);
		cJSON_Delete(names);
		if (rc < 0) {
			n = -1;
			goto out;
		}
		n++;
		if (crashpoint)
			cn_crashpoint(crashpoint);
	}
	if (rc != SQLITE_DONE) {
		n = cn_sql_fail(err, db, "store");
		goto out;
	}
out:
	sqlite3_finalize(s);
	if (w && cn_writer_close(w, n >= 0 ? err : NULL) < 0)
		n = -1;
	cn_record_free(&rec);
	cJSON_Delete(fa);
	free(cols);
	cn_buf_free(&fields);
	return n;
}

/* ------------------------------------------------------------ lists */

int
cn_lists_each(struct cn_store *st, const char *folder, cn_list_fn fn,
	      void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT l.id, f.name, l.name, (SELECT count(*) "
			       "FROM member m WHERE m.list_id = l.id), "
			       "l.backup, l.created_at, l.updated_at FROM list "
			       "l JOIN folder f ON f.id = l.folder_id WHERE "
			       "?1 IS NULL OR f.name = ?1 ORDER BY f.name, "
			       "l.name", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (folder)
		sqlite3_bind_text(s, 1, folder, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_list_info li;

		memset(&li, 0, sizeof(li));
		li.id = sqlite3_column_int64(s, 0);
		snprintf(li.folder, sizeof(li.folder), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		snprintf(li.name, sizeof(li.name), "%s",
			 (const char *)sqlite3_column_text(s, 2));
		li.members = sqlite3_column_int64(s, 3);
		li.backup = sqlite3_column_int(s, 4);
		li.created_at = sqlite3_column_int64(s, 5);
		li.updated_at = sqlite3_column_int64(s, 6);
		if (fn(ctx, &li)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

static int
exec_count(sqlite3 *db, const char *sql, int64_t id, int64_t *out,
	   struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && out)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE && out)
		*out = sqlite3_changes(db);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

/* Marks for sync the contacts of temp.cn_gone: deleted when they are in
 * no list any more (the list's members are gone), changed if not. */
static int
sync_mark_gone(struct cn_store *st, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO sync_item(kind, uuid, state, "
			       "changed_at, deleted) SELECT 'contact', "
			       "coalesce(uuid, ?1 || '-' || printf('%012x', "
			       "id)), 'pending', ?2, NOT EXISTS (SELECT 1 FROM "
			       "member WHERE member.contact_id = contact.id) "
			       "FROM contact WHERE id IN (SELECT contact_id "
			       "FROM temp.cn_gone) " SYNC_MARK_UPSERT, -1, &s,
			       NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, cn_store_idprefix(st), 23, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cn_now());
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

int
cn_list_delete(struct cn_store *st, const char *folder, const char *list,
	       int dry_run, const struct cn_backup_policy *bp,
	       int64_t *backup_id, int64_t *members, int64_t *contacts,
	       struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int64_t id, nm = 0, nc = 0, bid = 0;

	if (backup_id)
		*backup_id = 0;
	if (cn_sql_exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	id = list_lookup(db, folder, list, NULL, err);
	if (id <= 0)
		goto fail;
	if (!dry_run && bp &&
	    (bid = cn_backup_list(st, bp, id, CN_BACKUP_DELETE, err)) < 0) {
		bid = 0;
		goto fail;
	}
	if (exec_count(db, "SELECT count(*) FROM member WHERE list_id = ?1",
		       id, &nm, err) ||
	    exec_count(db, "SELECT count(*) FROM member m WHERE m.list_id = ?1"
			   " AND NOT EXISTS (SELECT 1 FROM member o WHERE "
			   "o.contact_id = m.contact_id AND o.list_id <> ?1)",
		       id, &nc, err))
		goto fail;
	if (!dry_run) {
		if (cn_sql_exec(db,
				"CREATE TEMP TABLE IF NOT EXISTS cn_gone("
				"contact_id INTEGER PRIMARY KEY);"
				"DELETE FROM temp.cn_gone;", err) ||
		    exec_count(db, "INSERT INTO temp.cn_gone SELECT contact_id"
				   " FROM member WHERE list_id = ?1", id, NULL,
			       err) ||
		    sync_mark_list(db, id, cn_now(), 1, err) ||
		    exec_count(db, "DELETE FROM list WHERE id = ?1", id, NULL,
			       err) ||
		    sync_mark_gone(st, err) ||
		    cn_sql_exec(db, "DELETE FROM contact WHERE id IN (SELECT "
				    "contact_id FROM temp.cn_gone) AND NOT "
				    "EXISTS (SELECT 1 FROM member WHERE "
				    "member.contact_id = contact.id)", err) ||
		    cn_sql_exec(db, "COMMIT", err))
			goto fail;
	} else {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (members)
		*members = nm;
	if (contacts)
		*contacts = nc;
	if (backup_id)
		*backup_id = bid;
	return 0;
fail:
	cn_backup_discard(st, bid);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
