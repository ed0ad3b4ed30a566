/*
 * stream.c - records, and the readers and writers that stream them:
 * CSV (parsed by libcsv), JSON arrays and NDJSON (parsed by cJSON), and
 * aligned tables (output only).
 *
 * A reader works on a sliding window over its input.  A small scanner
 * first finds where the next record ends (a CSV row, or one top-level
 * JSON object), tracking quotes, escapes and nesting and counting lines;
 * only that span is then handed to libcsv or cJSON.  The window holds the
 * record being scanned plus one read chunk, so memory stays bounded
 * whatever the input size (a single record may grow to RECORD_MAX), and
 * cn_reader_raw() gives the exact input bytes of each record.
 *
 * CSV rows holding a quote character go through libcsv (strict mode);
 * rows without one are split directly, which gives the same fields (a
 * unit test compares both on random input) at a fraction of the cost.
 * JSON numbers keep their source text ("1.50", 20-digit ids), and nested
 * objects and arrays come back as their source text without whitespace.
 * cJSON decodes strings: one holding "\u0000" is cut at that character.
 *
 * A writer formats into one large buffer and hands it to fwrite() in big
 * chunks: no stdio call and no printf per field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <csv.h>

#include "carnet.h"

/* the fuzz targets build with a tiny window (see Makefile, make fuzz) */
#ifndef CHUNK
#define CHUNK		((size_t)64 << 10)	/* least free space per read */
#endif
#ifndef READ_MAX
#define READ_MAX	((size_t)256 << 10)	/* most bytes per fread() */
#endif
#ifndef RECORD_MAX
#define RECORD_MAX	((size_t)128 << 20)	/* largest record accepted */
#endif
#define FLUSH_AT	((size_t)256 << 10)	/* writer buffer high mark */
#define TABLE_ROWS	1000			/* rows sized before output */

/* Rows without quotes skip libcsv (same result, see csv_split_plain). */
#ifndef CSV_FAST_PATH
#define CSV_FAST_PATH	1
#endif

/* ------------------------------------------------------------ records */

/*
 * Every record's field array is preceded, in the same allocation, by a
 * struct rec_store: an arena holding the fields' values one after the
 * other, each NUL-terminated, in field order.  A reused record thus
 * allocates nothing once it has grown to its widest row.  When the arena
 * moves, the value pointers are recomputed from the lengths (rec_rebase).
 * The invariant value == NULL <=> type == CN_V_NULL always holds.
 */
struct rec_store {
	struct cn_buf arena;
};

#define REC_ALIGN	_Alignof(max_align_t)
#define REC_HDR \
	((sizeof(struct rec_store) + REC_ALIGN - 1) & ~(REC_ALIGN - 1))

static struct rec_store *
rec_store(const struct cn_record *r)
{
	return (struct rec_store *)(void *)((char *)r->fields - REC_HDR);
}

/* Doubles the field array (and creates the arena on first use).
 * Returns 0, or -1 out of memory with r unchanged. */
static int
rec_grow(struct cn_record *r)
{
	size_t n = r->alloc ? r->alloc * 2 : 16;
	char *old = r->alloc ? (char *)r->fields - REC_HDR : NULL;
	char *blk;

	if (n > (SIZE_MAX - REC_HDR) / sizeof(struct cn_field))
		return -1;
	blk = realloc(old, REC_HDR + n * sizeof(struct cn_field));
	if (!blk)
		return -1;
	if (!old)
		cn_buf_init(&((struct rec_store *)(void *)blk)->arena, 0);
	r->fields = (struct cn_field *)(void *)(blk + REC_HDR);
	r->alloc = n;
	return 0;
}

/* Points every non-NULL value at its place in the arena starting at base,
 * walking the lengths; used after the arena was reallocated. */
static void
rec_rebase(struct cn_record *r, char *base)
{
	for (size_t i = 0; i < r->nfields; i++) {
		struct cn_field *f = &r->fields[i];

		if (f->type == CN_V_NULL)
			continue;
		f->value = base;
		base += f->len + 1;
	}
}

void
cn_record_init(struct cn_record *r)
{
	r->fields = NULL;
	r->nfields = 0;
	r->alloc = 0;
	r->line = 0;
}

void
cn_record_free(struct cn_record *r)
{
	if (r->alloc) {
		cn_buf_free(&rec_store(r)->arena);
		free((char *)r->fields - REC_HDR);
	}
	cn_record_init(r);
}

void
cn_record_reset(struct cn_record *r)
{
	r->nfields = 0;
	r->line = 0;
	if (r->alloc)
		cn_buf_reset(&rec_store(r)->arena);
}

int
cn_record_add(struct cn_record *r, const char *name, const char *value,
	      size_t len, enum cn_vtype type)
{
	struct rec_store *rs;
	struct cn_field *f;
	struct cn_buf *a;
	char *copy = NULL;
	size_t at, cap;
	int rc = -1;

	if (r->nfields == r->alloc && rec_grow(r) < 0)
		return -1;
	rs = rec_store(r);
	a = &rs->arena;
	f = &r->fields[r->nfields];
	if (!value || type == CN_V_NULL) {
		f->name = name;
		f->value = NULL;
		f->len = 0;
		f->type = CN_V_NULL;
		r->nfields++;
		return 0;
	}
	/* a value taken from this very record would move with the arena */
	if (a->cap && (uintptr_t)value >= (uintptr_t)a->ptr &&
	    (uintptr_t)value < (uintptr_t)a->ptr + a->cap) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -1;
		memcpy(copy, value, len);
		value = copy;
	}
	at = a->len;
	cap = a->cap;
	if (len + 1 < cap - at) {	/* fast path: room for value + NUL */
		memcpy(a->ptr + at, value, len);
		a->ptr[at + len] = '\0';
		a->len = at + len + 1;
		a->ptr[a->len] = '\0';
		rc = 0;
	} else if (cn_buf_add(a, value, len) == 0) {
		if (cn_buf_addc(a, '\0') == 0)
			rc = 0;
		else
			a->ptr[a->len = at] = '\0';
	}
	if (a->cap != cap)
		rec_rebase(r, a->ptr);
	free(copy);
	if (rc < 0)
		return -1;
	f->name = name;
	f->value = a->ptr + at;
	f->len = len;
	f->type = type;
	r->nfields++;
	return 0;
}

const struct cn_field *
cn_record_get(const struct cn_record *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].name && strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}

/* ------------------------------------------------------------ reader */

/* Byte classes for the scanners (one table per reader). */
enum {
	C_DELIM = 1,	/* CSV: the delimiter */
	C_QUOTE = 2,	/* CSV: the quote character */
	C_TERM = 4,	/* CR or LF */
	C_SPACE = 8,	/* CSV: blank skipped around fields (not delim) */
	J_STR = 16,	/* JSON: ends a run inside a string */
	J_OUT = 32,	/* JSON: ends a run outside strings */
};

/* CSV scanner states; they mirror libcsv's so both agree on row ends. */
enum {
	S_ROW,		/* no field seen on this row yet */
	S_FSTART,	/* after a delimiter */
	S_UNQ,		/* in an unquoted field */
	S_Q,		/* in a quoted field */
	S_QQ,		/* a quote in a quoted field: end or escaped quote */
	S_QQS,		/* blanks after a closing quote */
};

/* What the JSON top level expects next. */
enum {
	W_ANY,		/* an object, '[' or ']' */
	W_VALUE,	/* an object (after ',') */
	W_SEP,		/* ',' or ']' in an array; anything at the top */
};

struct cn_reader {
	FILE *fp;
	char *name;
	enum cn_format fmt;
	char delim;
	char quote;
	int failed;		/* a fatal error: next() repeats dead */
	struct cn_err dead;

	/* the input window: buf[0, len) read, buf[len] == '\0' */
	char *buf;
	size_t cap;
	size_t len;
	size_t start;		/* first byte of the record being scanned */
	size_t pos;		/* scanner position */
	size_t end;		/* end of the record found (no terminator) */
	uint64_t base;		/* input offset of buf[0] */
	int eof;
	long line;		/* line number at pos */
	int cr;			/* the byte before pos was a CR */
	long rec_line;		/* line where the record starts */
	long qline;		/* CSV: line where the open quote was */
	int inq;		/* CSV: the scanner is in a quoted field */
	unsigned char cls[256];

	/* CSV */
	struct csv_parser csv;
	int csv_ready;
	struct cn_buf hnames;	/* header names, NUL-separated */
	size_t hbad;		/* first header name with a NUL byte or
				   invalid UTF-8 (1-based), 0 if none */
	const char **hdr;
	size_t nhdr;
	int in_header;
	size_t nseen;		/* fields of the current row */
	int oom;
	int quoted;		/* the row found holds a quote character */

	/* JSON */
	int jarr;		/* inside the top-level array */
	int jwant;
	struct cn_buf names;	/* member names of the current object */
	struct cn_buf tmp;
	size_t *vpos;		/* start and end of each member's value */
	size_t nvpos;
	const char **keys;
	size_t nkeys;

	/* duplicate name detection */
	uint32_t *hset;
	size_t hcap;
	unsigned char *dup;
	size_t ndup;

	struct cn_record rec;
	const char *raw;
	size_t rawlen;
};

/* Makes the reader's error err sticky (next() returns it again) and
 * copies it to err.  Returns -1. */
static int __attribute__((format(printf, 4, 5)))
reader_fail(struct cn_reader *rd, struct cn_err *err, enum cn_code code,
	    const char *fmt, ...)
{
	char msg[sizeof(rd->dead.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cn_err_set(&rd->dead, code, "%s", msg);
	rd->failed = 1;
	if (err)
		*err = rd->dead;
	return -1;
}

static int
reader_oom(struct cn_reader *rd, struct cn_err *err)
{
	return reader_fail(rd, err, CN_EINTERNAL, "%s: out of memory",
			   rd->name);
}

/* Counts a line break: CR, LF and CRLF each end one line. */
static inline void
count_nl(struct cn_reader *rd, unsigned char c)
{
	if (c == '\n') {
		if (!rd->cr)
			rd->line++;
		rd->cr = 0;
	} else {
		rd->line++;
		rd->cr = 1;
	}
}

/* The number of line breaks in s[0, n), counted as count_nl() does. */
static long
count_lines(const char *s, size_t n)
{
	long lines = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' ? i == 0 || s[i - 1] != '\r' : s[i] == '\r')
			lines++;
	return lines;
}

/*
 * Reads more input after rd->len.  Keeps the bytes of the record being
 * scanned, [rd->start, rd->len), moving them to the front of the window
 * (rd->pos follows) and growing the window when they nearly fill it.
 * Returns 1 when bytes were added, 0 at end of input, -1 on a read error
 * or when the record would exceed RECORD_MAX (err set, reader dead).
 */
static int
fill(struct cn_reader *rd, struct cn_err *err)
{
	size_t keep, want, n;
	char *p;

	if (rd->eof)
		return 0;
	if (rd->start > 0) {
		keep = rd->len - rd->start;
		memmove(rd->buf, rd->buf + rd->start, keep);
		rd->base += rd->start;
		rd->pos -= rd->start;
		rd->len = keep;
		rd->start = 0;
		/* give back the room a huge record needed */
		if (keep < CHUNK && rd->cap > 8 * CHUNK + 1) {
			p = realloc(rd->buf, 2 * CHUNK + 1);
			if (p) {
				rd->buf = p;
				rd->cap = 2 * CHUNK + 1;
			}
		}
	}
	if (rd->cap - 1 - rd->len < CHUNK) {
		size_t ncap = (rd->cap - 1) * 2 + 1;

		if (rd->len >= RECORD_MAX && rd->inq)
			return reader_fail(rd, err, CN_EDATA,
					   "%s:%ld: unterminated quoted field "
					   "(or a record over %zu MiB)",
					   rd->name, rd->qline,
					   RECORD_MAX >> 20);
		if (rd->len >= RECORD_MAX)
			return reader_fail(rd, err, CN_EDATA,
					   "%s:%ld: record too large (over "
					   "%zu MiB)", rd->name, rd->rec_line,
					   RECORD_MAX >> 20);
		if (ncap > RECORD_MAX + CHUNK + 1)
			ncap = RECORD_MAX + CHUNK + 1;
		p = realloc(rd->buf, ncap);
		if (!p)
			return reader_oom(rd, err);
		rd->buf = p;
		rd->cap = ncap;
	}
	want = rd->cap - 1 - rd->len;
	if (want > READ_MAX)
		want = READ_MAX;
	errno = 0;
	n = fread(rd->buf + rd->len, 1, want, rd->fp);
	rd->len += n;
	rd->buf[rd->len] = '\0';
	if (n > 0)
		return 1;
	if (ferror(rd->fp))
		return reader_fail(rd, err, CN_ENOINPUT, "%s: read error: %s",
				   rd->name, strerror(errno ? errno : EIO));
	rd->eof = 1;
	return 0;
}

/*
 * Marks in rd->dup[i] each name v[i] equal to an earlier one.  Small sets
 * are compared pairwise, larger ones through an open-addressing hash set.
 * Returns the number of duplicates, or -1 out of memory.
 */
static long
dup_mark(struct cn_reader *rd, const char *const *v, size_t n)
{
	size_t mask, ndups = 0;

	if (n == 0)
		return 0;
	if (n > rd->ndup) {
		unsigned char *d = realloc(rd->dup, n);

		if (!d)
			return -1;
		rd->dup = d;
		rd->ndup = n;
	}
	memset(rd->dup, 0, n);
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (strcmp(v[i], v[j]) == 0) {
					rd->dup[i] = 1;
					ndups++;
					break;
				}
		return (long)ndups;
	}
	if (n > UINT32_MAX / 4)
		return -1;
	if (rd->hcap < 2 * n) {
		size_t c = 64;
		uint32_t *h;

		while (c < 2 * n)
			c *= 2;
		h = realloc(rd->hset, c * sizeof(*h));
		if (!h)
			return -1;
		rd->hset = h;
		rd->hcap = c;
	}
	memset(rd->hset, 0, rd->hcap * sizeof(*rd->hset));
	mask = rd->hcap - 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t h = 2166136261u;
		size_t k;

		for (const unsigned char *s = (const void *)v[i]; *s; s++)
			h = (h ^ *s) * 16777619u;
		for (k = h & mask; rd->hset[k]; k = (k + 1) & mask)
			if (strcmp(v[rd->hset[k] - 1], v[i]) == 0)
				break;
		if (rd->hset[k]) {
			rd->dup[i] = 1;
			ndups++;
		} else {
			rd->hset[k] = (uint32_t)i + 1;
		}
	}
	return (long)ndups;
}

/* -------------------------------------------------------- CSV reader */

/*
 * Picks the delimiter of a CSV input: the most frequent of ',' ';' and
 * tab outside quotes on the first non-blank line, ',' when there is none
 * (ties go to ',' then ';').  Reads more input as needed, consumes
 * nothing.  Returns the delimiter, or -1 (err set).
 */
static int
csv_sniff_delim(struct cn_reader *rd, struct cn_err *err)
{
	size_t cnt[3] = {0, 0, 0};
	int inq = 0, content = 0, r;
	unsigned char c;

	rd->pos = rd->start;
	for (;;) {
		if (rd->pos == rd->len) {
			r = fill(rd, err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
		c = (unsigned char)rd->buf[rd->pos++];
		if (c == (unsigned char)rd->quote) {
			inq = !inq;
			content = 1;
		} else if (inq) {
			continue;
		} else if (c == '\r' || c == '\n') {
			if (content)
				break;
			cnt[0] = cnt[1] = cnt[2] = 0;
		} else if (c == ',') {
			cnt[0]++;
			content = 1;
		} else if (c == ';') {
			cnt[1]++;
			content = 1;
		} else if (c == '\t') {
			cnt[2]++;
		} else if (c != ' ') {
			content = 1;
		}
	}
	rd->pos = rd->start;
	if (cnt[2] > cnt[0] && cnt[2] > cnt[1])
		return '\t';
	if (cnt[1] > cnt[0])
		return ';';
	return ',';
}

/*
 * Finds the next CSV row from rd->start, reading more input as needed.
 * Blank rows (only spaces or tabs) are skipped and counted.  On 1, the
 * row is [rd->start, rd->end) without its terminator, rd->rec_line is its
 * first line and rd->pos is past the terminator.  Returns 0 at end of
 * input, -1 on error (unterminated quoted field, read error, too large).
 */
static int
csv_scan(struct cn_reader *rd, struct cn_err *err)
{
	const unsigned char *b;
	const unsigned char *cls = rd->cls;
	int st = S_ROW, r;
	size_t p, q, len;
	unsigned char c, k;

	rd->pos = rd->start;
	rd->quoted = 0;
	for (;;) {
		if (rd->pos == rd->len) {
			rd->inq = st == S_Q;
			r = fill(rd, err);
			if (r < 0)
				return -1;
			if (r == 0) {
				if (st == S_ROW) {
					rd->start = rd->pos = rd->len;
					return 0;
				}
				if (st == S_Q)
					return reader_fail(rd, err, CN_EDATA,
						"%s:%ld: unterminated quoted "
						"field", rd->name, rd->qline);
				rd->end = rd->len;
				return 1;
			}
		}
		b = (const unsigned char *)rd->buf;
		len = rd->len;
		p = rd->pos;
		while (p < len) {
			c = b[p];
			k = cls[c];
			switch (st) {
			case S_ROW:
			case S_FSTART:
				p++;
				if (k & C_TERM) {
					count_nl(rd, c);
					if (st == S_FSTART)
						goto row_end;
					rd->start = p;	/* a blank row */
					continue;
				}
				rd->cr = 0;
				if (k & C_SPACE)
					continue;
				if (st == S_ROW)
					rd->rec_line = rd->line;
				if (k & C_DELIM) {
					st = S_FSTART;
				} else if (k & C_QUOTE) {
					st = S_Q;
					rd->qline = rd->line;
					rd->quoted = 1;
				} else {
					st = S_UNQ;
				}
				continue;
			case S_UNQ:
				while (p < len && !(cls[b[p]] & (C_DELIM | C_TERM |
								 C_QUOTE)))
					p++;
				if (p == len)
					continue;
				c = b[p++];
				if (cls[c] & C_QUOTE) {
					/* libcsv's error to report */
					rd->quoted = 1;
					continue;
				}
				if (cls[c] & C_DELIM) {
					st = S_FSTART;
					continue;
				}
				count_nl(rd, c);
				goto row_end;
			case S_Q:
				q = p;
				while (p < len && !(cls[b[p]] & (C_QUOTE | C_TERM)))
					p++;
				if (p > q)
					rd->cr = 0;
				if (p == len)
					continue;
				c = b[p++];
				if (cls[c] & C_QUOTE) {
					rd->cr = 0;
					st = S_QQ;
				} else {
					count_nl(rd, c);
				}
				continue;
			case S_QQ:
			case S_QQS:
				p++;
				if (k & C_TERM) {
					count_nl(rd, c);
					goto row_end;
				}
				rd->cr = 0;
				if (k & C_DELIM)
					st = S_FSTART;
				else if ((k & C_QUOTE) && st == S_QQ)
					st = S_Q;
				else if (k & C_SPACE)
					st = S_QQS;
				else	/* malformed: libcsv says where */
					st = S_UNQ;
				continue;
			}
		}
		rd->pos = p;
	}
row_end:
	rd->end = p - 1;
	rd->pos = p;
	return 1;
}

/* libcsv's field callback: appends one field to the row being built (or
 * to the header names). */
static void
csv_on_field(void *s, size_t len, void *data)
{
	struct cn_reader *rd = data;
	const char *v = s ? s : "";

	if (rd->oom)
		return;
	if (rd->in_header) {
		size_t bad;

		/* a NUL byte (a UTF-16 file?) or invalid UTF-8 in a name is
		 * an error of the header (csv_read_header) */
		if (!rd->hbad && !cn_utf8_valid(v, len, &bad))
			rd->hbad = rd->nseen + 1;
		while (len && (*v == ' ' || *v == '\t')) {
			v++;
			len--;
		}
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (cn_buf_add(&rd->hnames, v, len) < 0 ||
		    cn_buf_addc(&rd->hnames, '\0') < 0)
			rd->oom = 1;
	} else if (rd->nseen < rd->nhdr &&
		   cn_record_add(&rd->rec, rd->hdr[rd->nseen], v, len,
				 CN_V_STR) < 0) {
		rd->oom = 1;
	}
	rd->nseen++;
}

/*
 * Splits a row that holds no quote character: fields are the pieces
 * between delimiters, without the blanks around them.  That is exactly
 * what libcsv makes of such a row (t-stream checks it against libcsv on
 * random input), at a fraction of its per-byte cost.
 */
static void
csv_split_plain(struct cn_reader *rd, const char *s, size_t n)
{
	const unsigned char *cls = rd->cls;
	size_t i = 0, a, z;

	for (;;) {
		while (i < n && (cls[(unsigned char)s[i]] & C_SPACE))
			i++;
		a = i;
		while (i < n && !(cls[(unsigned char)s[i]] & C_DELIM))
			i++;
		z = i;
		while (z > a && (cls[(unsigned char)s[z - 1]] & C_SPACE))
			z--;
		csv_on_field((void *)(s + a), z - a, rd);
		if (i == n)
			break;
		i++;
	}
}

/*
 * Parses the row [rd->start, rd->end) through csv_on_field: with libcsv
 * when it holds a quote character, else with csv_split_plain().  The span
 * holds exactly one row, so csv_fini() ends it.  Returns 0, or -1
 * (malformed quoting, out of memory; err set, reader dead).
 */
static int
csv_parse_span(struct cn_reader *rd, struct cn_err *err)
{
	const char *s = rd->buf + rd->start;
	size_t n = rd->end - rd->start, got;

	rd->raw = s;
	rd->rawlen = n;
	if (!rd->quoted && CSV_FAST_PATH) {
		rd->nseen = 0;
		csv_split_plain(rd, s, n);
		if (rd->oom)
			return reader_oom(rd, err);
		return 0;
	}
	/* libcsv grows its field buffer by blk_size: make that one step */
	if (n + 1 > csv_get_buffer_size(&rd->csv))
		csv_set_blk_size(&rd->csv, n + 1 < 4096 ? 4096 : n + 1);
	rd->nseen = 0;
	got = csv_parse(&rd->csv, s, n, csv_on_field, NULL, rd);
	if (got != n || csv_fini(&rd->csv, csv_on_field, NULL, rd) != 0) {
		if (csv_error(&rd->csv) == CSV_EPARSE)
			return reader_fail(rd, err, CN_EDATA,
				"%s:%ld: malformed quoted field", rd->name,
				rd->rec_line + count_lines(s, got));
		return reader_oom(rd, err);
	}
	if (rd->oom)
		return reader_oom(rd, err);
	return 0;
}

/* Reads the header row: field names, none empty, none repeated.
 * Returns 0, or -1 with err. */
static int
csv_read_header(struct cn_reader *rd, struct cn_err *err)
{
	const char *p;
	long d;
	int r;

	r = csv_scan(rd, err);
	if (r == 0)
		return reader_fail(rd, err, CN_ENOINPUT, "%s: empty input",
				   rd->name);
	if (r < 0)
		return -1;
	rd->in_header = 1;
	if (csv_parse_span(rd, err) < 0)
		return -1;
	rd->in_header = 0;
	if (rd->hbad)
		return reader_fail(rd, err, CN_EDATA,
			"%s:%ld: invalid UTF-8 or NUL byte in the name of "
			"column %zu (the file must be UTF-8)", rd->name,
			rd->rec_line, rd->hbad);
	rd->hdr = calloc(rd->nseen ? rd->nseen : 1, sizeof(*rd->hdr));
	if (!rd->hdr)
		return reader_oom(rd, err);
	p = rd->hnames.ptr;
	for (size_t i = 0; i < rd->nseen; i++) {
		if (!*p)
			return reader_fail(rd, err, CN_EDATA,
				"%s:%ld: empty name for column %zu", rd->name,
				rd->rec_line, i + 1);
		rd->hdr[i] = p;
		p += strlen(p) + 1;
	}
	rd->nhdr = rd->nseen;
	d = dup_mark(rd, rd->hdr, rd->nhdr);
	if (d < 0)
		return reader_oom(rd, err);
	for (size_t i = 0; d && i < rd->nhdr; i++)
		if (rd->dup[i])
			return reader_fail(rd, err, CN_EDATA,
				"%s:%ld: duplicate column '%s'", rd->name,
				rd->rec_line, rd->hdr[i]);
	rd->start = rd->pos;
	return 0;
}

/* Reads the next CSV row into rd->rec, padded to the header.  Returns 1,
 * 0 at the end, -2 for a row with too many fields (rd->rec holds the
 * first ones), -1 on a fatal error. */
static int
csv_next(struct cn_reader *rd, struct cn_err *err)
{
	int r = csv_scan(rd, err);

	if (r <= 0)
		return r;
	rd->rec.line = rd->rec_line;
	if (csv_parse_span(rd, err) < 0)
		return -1;
	rd->start = rd->pos;
	for (size_t i = rd->nseen; i < rd->nhdr; i++)
		if (cn_record_add(&rd->rec, rd->hdr[i], "", 0, CN_V_STR) < 0)
			return reader_oom(rd, err);
	if (rd->nseen > rd->nhdr) {
		cn_err_set(err, CN_EDATA, "%s:%ld: %zu fields, header has %zu",
			   rd->name, rd->rec_line, rd->nseen, rd->nhdr);
		return -2;
	}
	return 1;
}

/* ------------------------------------------------------- JSON reader */

/*
 * Finds the next top-level object, skipping whitespace and the '[' ','
 * ']' of an enclosing array (whose syntax is checked).  Tracks strings,
 * escapes and nesting to find the object's end, reading more input as
 * needed.  On 1, the object is [rd->start, rd->end) and starts on
 * rd->rec_line.  Returns 0 at end of input, -1 on error.
 */
static int
json_scan(struct cn_reader *rd, struct cn_err *err)
{
	const unsigned char *b;
	const unsigned char *cls = rd->cls;
	int in_obj = 0, instr = 0, esc = 0, r;
	size_t depth = 0, p, q, len;
	unsigned char c;

	rd->pos = rd->start;
	for (;;) {
		if (rd->pos == rd->len) {
			r = fill(rd, err);
			if (r < 0)
				return -1;
			if (r == 0) {
				if (in_obj)
					return reader_fail(rd, err, CN_EDATA,
						"%s:%ld: invalid JSON "
						"(unexpected end of input)",
						rd->name, rd->rec_line);
				if (rd->jarr || rd->jwant == W_VALUE)
					return reader_fail(rd, err, CN_EDATA,
						"%s:%ld: invalid JSON "
						"(unexpected end of input)",
						rd->name, rd->line);
				rd->start = rd->pos = rd->len;
				return 0;
			}
		}
		b = (const unsigned char *)rd->buf;
		len = rd->len;
		p = rd->pos;
		while (!in_obj && p < len) {
			c = b[p++];
			switch (c) {
			case ' ':
			case '\t':
				rd->cr = 0;
				break;
			case '\r':
			case '\n':
				count_nl(rd, c);
				break;
			case '{':
				if (rd->jarr && rd->jwant == W_SEP)
					goto syntax;
				rd->cr = 0;
				in_obj = 1;
				depth = 1;
				rd->rec_line = rd->line;
				p--;	/* the object starts here */
				break;
			case '[':
				if (rd->jarr || rd->jwant == W_VALUE)
					goto not_object;
				rd->cr = 0;
				rd->jarr = 1;
				rd->jwant = W_ANY;
				break;
			case ']':
				if (!rd->jarr || rd->jwant == W_VALUE)
					goto syntax;
				rd->cr = 0;
				rd->jarr = 0;
				rd->jwant = W_ANY;
				break;
			case ',':
				if (rd->jwant != W_SEP)
					goto syntax;
				rd->cr = 0;
				rd->jwant = W_VALUE;
				break;
			default:
				goto not_object;
			}
			rd->start = p;
			if (in_obj)
				p++;
		}
		while (in_obj && p < len) {
			if (esc) {
				c = b[p++];
				esc = 0;
				if (cls[c] & C_TERM)
					count_nl(rd, c);
				else
					rd->cr = 0;
				continue;
			}
			q = p;
			while (p < len && !(cls[b[p]] & (instr ? J_STR : J_OUT)))
				p++;
			if (p > q)
				rd->cr = 0;
			if (p == len)
				break;
			c = b[p++];
			if (cls[c] & C_TERM) {
				count_nl(rd, c);
				continue;
			}
			rd->cr = 0;
			if (c == '"')
				instr = !instr;
			else if (c == '\\')
				esc = 1;	/* only J_STR stops on it */
			else if (c == '{' || c == '[')
				depth++;
			else if (--depth == 0)	/* '}' or ']' */
				goto found;
		}
		rd->pos = p;
	}
found:
	rd->end = rd->pos = p;
	rd->jwant = W_SEP;
	return 1;
syntax:
	return reader_fail(rd, err, CN_EDATA, "%s:%ld: invalid JSON", rd->name,
			   rd->line);
not_object:
	return reader_fail(rd, err, CN_EDATA, "%s:%ld: expected an object",
			   rd->name, rd->line);
}

/* The offset of the first control character outside strings in s[0, n),
 * or n if none: cJSON takes any byte below ' ' for white space, JSON
 * (and json_members) only space, tab, CR and LF. */
static size_t
json_bad_space(const char *s, size_t n)
{
	int instr = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
		} else if (c == '"') {
			instr = 1;
		} else if (c < ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i;
		}
	}
	return n;
}

static size_t
json_skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			 s[i] == '\r'))
		i++;
	return i;
}

/* s[i] opens a string: returns the index past its closing quote. */
static size_t
json_skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* Returns the index past the value that starts at s[i]. */
static size_t
json_skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (i < n && s[i] == '"')
		return json_skip_string(s, i, n);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			if (s[i] == '"') {
				i = json_skip_string(s, i, n);
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
	       s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
		i++;
	return i;
}

/*
 * Finds where each member value of the object s[0, n) starts and ends,
 * storing pairs in rd->vpos.  s must be valid JSON (cJSON accepted it),
 * so this only skips.  Returns the number of members, or -1 out of
 * memory.
 */
static long
json_members(struct cn_reader *rd, const char *s, size_t n)
{
	size_t i = 1, k = 0, vs;

	for (;;) {
		i = json_skip_ws(s, i, n);
		if (i >= n || s[i] == '}')
			break;
		if (s[i] == ',') {
			i++;
			continue;
		}
		i = json_skip_string(s, i, n);		/* the name */
		i = json_skip_ws(s, i, n);
		i = json_skip_ws(s, i + 1, n);		/* ':' */
		vs = i;
		i = json_skip_value(s, i, n);
		if (2 * k + 2 > rd->nvpos) {
			size_t nn = rd->nvpos ? rd->nvpos * 2 : 64;
			size_t *v = realloc(rd->vpos, nn * sizeof(*v));

			if (!v)
				return -1;
			rd->vpos = v;
			rd->nvpos = nn;
		}
		rd->vpos[2 * k] = vs;
		rd->vpos[2 * k + 1] = i;
		k++;
	}
	return (long)k;
}

/* Appends s[0, n), valid JSON, to dst without the whitespace outside
 * strings.  Returns 0 or -1. */
static int
json_compact(struct cn_buf *dst, const char *s, size_t n)
{
	size_t i = 0, run;

	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
		    s[i] == '\r') {
			i++;
			continue;
		}
		run = i;
		if (s[i] == '"') {
			i = json_skip_string(s, i, n);
		} else {
			while (i < n && s[i] != '"' && s[i] != ' ' &&
			       s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
				i++;
		}
		if (cn_buf_add(dst, s + run, i - run) < 0)
			return -1;
	}
	return 0;
}

/* Whether the JSON string s[0, n) (quotes included) holds a NUL byte,
 * raw or written \u0000: cJSON's C string would end there. */
static int
json_has_nul(const char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return 1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
			return 1;
		i++;	/* the escaped character */
	}
	return 0;
}

/*
 * Turns the object [rd->start, rd->end) into rd->rec: cJSON decodes it,
 * and json_members() finds the source text of numbers (kept as written)
 * and nested values (kept compact).  Returns 1, -2 for a duplicate key
 * (the first one is kept), -1 on invalid JSON or out of memory.
 */
static int
json_record(struct cn_reader *rd, struct cn_err *err)
{
	const char *s = rd->buf + rd->start, *ep = NULL, *dupkey = NULL;
	const char *nulkey = NULL;
	size_t n = rd->end - rd->start, nm = 0, off;
	const cJSON *c;
	cJSON *root;
	long k, d;
	int rc = -1;

	rd->raw = s;
	rd->rawlen = n;
	rd->rec.line = rd->rec_line;
	root = cJSON_ParseWithLengthOpts(s, n, &ep, 0);
	if (root && ep == s + n)
		ep = s + json_bad_space(s, n);
	if (!root || ep != s + n || !cJSON_IsObject(root)) {
		size_t at = ep && ep >= s && ep <= s + n ? (size_t)(ep - s) : 0;

		cJSON_Delete(root);
		return reader_fail(rd, err, CN_EDATA, "%s:%ld: invalid JSON",
				   rd->name, rd->rec_line + count_lines(s, at));
	}
	for (c = root->child; c; c = c->next)
		nm++;
	k = json_members(rd, s, n);
	if (k < 0)
		goto oom;
	if ((size_t)k != nm) {
		cJSON_Delete(root);
		return reader_fail(rd, err, CN_EDATA, "%s:%ld: invalid JSON",
				   rd->name, rd->rec_line);
	}
	cn_buf_reset(&rd->names);
	if (nm > rd->nkeys) {
		const char **kp = realloc(rd->keys, nm * sizeof(*kp));

		if (!kp)
			goto oom;
		rd->keys = kp;
		rd->nkeys = nm;
	}
	for (c = root->child; c; c = c->next)
		if (cn_buf_add(&rd->names, c->string ? c->string : "",
			       c->string ? strlen(c->string) + 1 : 1) < 0)
			goto oom;
	off = 0;
	for (size_t i = 0; i < nm; i++) {
		rd->keys[i] = rd->names.ptr + off;
		off += strlen(rd->keys[i]) + 1;
	}
	d = dup_mark(rd, rd->keys, nm);
	if (d < 0)
		goto oom;
	c = root->child;
	for (size_t i = 0; i < nm; i++, c = c->next) {
		const char *name = rd->keys[i];
		const char *v = s + rd->vpos[2 * i];
		size_t vlen = rd->vpos[2 * i + 1] - rd->vpos[2 * i];
		int r;

		if (rd->dup[i]) {
			if (!dupkey)
				dupkey = name;
			continue;
		}
		switch (c->type & 0xff) {
		case cJSON_String:
			if (json_has_nul(v, vlen) && !nulkey)
				nulkey = name;
			r = cn_record_add(&rd->rec, name, c->valuestring,
					  strlen(c->valuestring), CN_V_STR);
			break;
		case cJSON_Number:
			r = cn_record_add(&rd->rec, name, v, vlen, CN_V_NUM);
			break;
		case cJSON_True:
			r = cn_record_add(&rd->rec, name, "true", 4, CN_V_BOOL);
			break;
		case cJSON_False:
			r = cn_record_add(&rd->rec, name, "false", 5, CN_V_BOOL);
			break;
		case cJSON_Object:
		case cJSON_Array:
			cn_buf_reset(&rd->tmp);
			r = json_compact(&rd->tmp, v, vlen);
			if (r == 0)
				r = cn_record_add(&rd->rec, name, rd->tmp.ptr,
						  rd->tmp.len, CN_V_RAW);
			break;
		default:
			r = cn_record_add(&rd->rec, name, NULL, 0, CN_V_NULL);
			break;
		}
		if (r < 0)
			goto oom;
	}
	rc = 1;
	if (nulkey) {
		/* the string would end at the NUL: the rest would be lost */
		cn_err_set(err, CN_EDATA, "%s:%ld: NUL character in field '%s'",
			   rd->name, rd->rec_line, nulkey);
		rc = -2;
	} else if (dupkey) {
		cn_err_set(err, CN_EDATA, "%s:%ld: duplicate key '%s'",
			   rd->name, rd->rec_line, dupkey);
		rc = -2;
	}
	cJSON_Delete(root);
	return rc;
oom:
	cJSON_Delete(root);
	return reader_oom(rd, err);
}

/* Reads the next JSON object into rd->rec.  Returns as json_record(), or
 * 0 at the end. */
static int
json_next(struct cn_reader *rd, struct cn_err *err)
{
	int r = json_scan(rd, err);

	if (r <= 0)
		return r;
	r = json_record(rd, err);
	rd->start = rd->pos;
	return r;
}

/* ------------------------------------------------- reader interface */

/* Fills the byte classes the scanners use. */
static void
reader_classes(struct cn_reader *rd)
{
	unsigned char *k = rd->cls;

	memset(k, 0, sizeof(rd->cls));
	k['\r'] = k['\n'] = C_TERM | J_STR | J_OUT;
	if (rd->fmt == CN_FMT_CSV) {
		k[' '] |= C_SPACE;
		k['\t'] |= C_SPACE;
		k[(unsigned char)rd->delim] = C_DELIM;
		k[(unsigned char)rd->quote] = C_QUOTE;
	} else {
		k['"'] = J_STR | J_OUT;
		k['\\'] = J_STR;
		k['{'] = k['}'] = k['['] = k[']'] = J_OUT;
	}
}

/*
 * Skips a UTF-8 BOM and finds the first byte that is not whitespace,
 * reading as needed; consumes nothing else.  Returns that byte, -2 if
 * the input holds none, -1 on a read error.
 */
static int
reader_first_byte(struct cn_reader *rd, struct cn_err *err)
{
	int r;

	for (;;) {
		if (rd->len - rd->pos < 3 && !rd->eof) {
			r = fill(rd, err);
			if (r < 0)
				return -1;
			if (r > 0)
				continue;
		}
		break;
	}
	if (rd->len >= 3 && memcmp(rd->buf, "\xef\xbb\xbf", 3) == 0)
		rd->start = rd->pos = 3;
	for (;;) {
		while (rd->pos < rd->len) {
			unsigned char c = (unsigned char)rd->buf[rd->pos];

			if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
				rd->pos = rd->start;
				return c;
			}
			rd->pos++;
		}
		r = fill(rd, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return -2;
	}
}

struct cn_reader *
cn_reader_open(FILE *fp, const char *name, enum cn_format fmt,
	       const struct cn_csv_opts *opts, struct cn_err *err)
{
	struct cn_reader *rd;
	char delim = opts ? opts->delimiter : 0;
	char quote = opts && opts->quote ? opts->quote : '"';
	int c;

	if (!name)
		name = "<input>";
	if (fmt == CN_FMT_TABLE) {
		cn_err_set(err, CN_EUSAGE, "%s: cannot read the table format",
			   name);
		return NULL;
	}
	if (delim == '\r' || delim == '\n' || delim == quote ||
	    quote == '\r' || quote == '\n') {
		cn_err_set(err, CN_EUSAGE, "invalid CSV delimiter or quote");
		return NULL;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd || !(rd->name = strdup(name)) ||
	    !(rd->buf = malloc(2 * CHUNK + 1))) {
		if (rd)
			free(rd->name);
		free(rd);
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	rd->fp = fp;
	rd->cap = 2 * CHUNK + 1;
	rd->buf[0] = '\0';
	rd->line = 1;
	rd->quote = quote;
	rd->fmt = fmt;
	cn_buf_init(&rd->hnames, 0);
	cn_buf_init(&rd->names, 0);
	cn_buf_init(&rd->tmp, 0);
	cn_record_init(&rd->rec);

	c = reader_first_byte(rd, err);
	if (c == -2)
		reader_fail(rd, err, CN_ENOINPUT, "%s: empty input", name);
	if (c < 0)
		goto fail;
	if (fmt == CN_FMT_AUTO)
		fmt = c == '{' || c == '[' ? CN_FMT_JSON : CN_FMT_CSV;
	if (fmt == CN_FMT_NDJSON)
		fmt = CN_FMT_JSON;
	rd->fmt = fmt;
	if (fmt == CN_FMT_CSV) {
		if (!delim && (c = csv_sniff_delim(rd, err)) < 0)
			goto fail;
		rd->delim = delim ? delim : (char)c;
		reader_classes(rd);
		csv_init(&rd->csv, CSV_STRICT | CSV_STRICT_FINI |
			 CSV_REPALL_NL | CSV_APPEND_NULL);
		csv_set_delim(&rd->csv, (unsigned char)rd->delim);
		csv_set_quote(&rd->csv, (unsigned char)rd->quote);
		rd->csv_ready = 1;
		if (csv_read_header(rd, err) < 0)
			goto fail;
	} else {
		reader_classes(rd);
	}
	return rd;
fail:
	cn_reader_close(rd);
	return NULL;
}

int
cn_reader_next(struct cn_reader *rd, struct cn_record **out,
	       struct cn_err *err)
{
	int r;

	if (out)
		*out = NULL;
	if (rd->failed) {
		if (err)
			*err = rd->dead;
		return -1;
	}
	cn_record_reset(&rd->rec);
	rd->raw = NULL;
	rd->rawlen = 0;
	r = rd->fmt == CN_FMT_CSV ? csv_next(rd, err) : json_next(rd, err);
	if ((r == 1 || r == -2) && out)
		*out = &rd->rec;
	return r;
}

const char *const *
cn_reader_header(struct cn_reader *rd, size_t *n)
{
	if (rd->fmt != CN_FMT_CSV) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = rd->nhdr;
	return rd->hdr;
}

enum cn_format
cn_reader_format(struct cn_reader *rd)
{
	return rd->fmt;
}

const char *
cn_reader_name(struct cn_reader *rd)
{
	return rd->name;
}

char
cn_reader_delimiter(struct cn_reader *rd)
{
	return rd->fmt == CN_FMT_CSV ? rd->delim : 0;
}

uint64_t
cn_reader_offset(struct cn_reader *rd)
{
	return rd->base + rd->start;
}

const char *
cn_reader_raw(struct cn_reader *rd, size_t *len)
{
	if (len)
		*len = rd->raw ? rd->rawlen : 0;
	return rd->raw;
}

void
cn_reader_close(struct cn_reader *rd)
{
	if (!rd)
		return;
	if (rd->csv_ready)
		csv_free(&rd->csv);
	cn_record_free(&rd->rec);
	cn_buf_free(&rd->hnames);
	cn_buf_free(&rd->names);
	cn_buf_free(&rd->tmp);
	free(rd->hdr);
	free(rd->vpos);
	free(rd->keys);
	free(rd->hset);
	free(rd->dup);
	free(rd->buf);
	free(rd->name);
	free(rd);
}

/* ------------------------------------------------------------ writer */

struct tcell {
	size_t off;		/* text in cells */
	size_t len;
	size_t width;		/* in code points */
};

struct cn_writer {
	FILE *fp;
	enum cn_format fmt;
	char delim;
	char quote;
	int safe;		/* CSV: neutralise formulas (cn_csv_opts) */
	const char *const *cols;
	size_t ncols;
	size_t nhead;		/* CSV: fields in the header row */
	int started;		/* header (or "[") written or buffered */
	uint64_t nrec;
	int failed;
	struct cn_err dead;
	unsigned char special[256];	/* CSV: bytes that need quoting */
	struct cn_buf out;

	/* TABLE: rows buffered until TABLE_ROWS (row 0 is the header) */
	struct cn_buf cells;
	struct tcell *tc;
	size_t ntc, tccap;
	size_t *rcells;		/* number of cells of each buffered row */
	size_t nrows, rcap;
	size_t *width;
	size_t nwidth;
	int streaming;		/* widths fixed, rows written directly */
};

static const char spaces[64] =
	"                                                                ";

/* Appends to the output buffer; the fast path is one memcpy. */
static inline int
out_add(struct cn_buf *b, const char *s, size_t n)
{
	if (n < b->cap - b->len) {
		memcpy(b->ptr + b->len, s, n);
		b->len += n;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return cn_buf_add(b, s, n);
}

static inline int
out_addc(struct cn_buf *b, char c)
{
	if (b->cap - b->len > 1) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return cn_buf_addc(b, c);
}

/* Makes room for n more bytes (and the NUL) without adding any, so that
 * they can be stored through b->ptr.  Returns 0, or -1 with b unchanged. */
static int
out_reserve(struct cn_buf *b, size_t n)
{
	static const char zero[4096];
	size_t len = b->len;

	if (n < b->cap - len)
		return 0;
	while (b->len - len < n) {
		size_t k = n - (b->len - len);

		if (cn_buf_add(b, zero, k < sizeof(zero) ? k : sizeof(zero)))
			break;
	}
	b->len = len;
	if (b->cap)
		b->ptr[len] = '\0';
	return n < b->cap - len ? 0 : -1;
}

static int
out_pad(struct cn_buf *b, size_t n)
{
	while (n) {
		size_t k = n < sizeof(spaces) ? n : sizeof(spaces);

		if (out_add(b, spaces, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Copies the writer's sticky error to err.  Returns -1. */
static int
writer_dead(struct cn_writer *w, struct cn_err *err)
{
	if (err)
		*err = w->dead;
	return -1;
}

/* Records the writer's first error, which every later call repeats, and
 * copies it to err.  Returns -1. */
static int
writer_fail(struct cn_writer *w, struct cn_err *err, enum cn_code code,
	    const char *what)
{
	if (!w->failed) {
		cn_err_set(&w->dead, code, "%s", what);
		w->failed = 1;
	}
	return writer_dead(w, err);
}

static int
writer_oom(struct cn_writer *w, struct cn_err *err)
{
	return writer_fail(w, err, CN_EINTERNAL, "out of memory");
}

/* Writes the output buffer with one fwrite().  Returns 0 or -1 (err). */
static int
writer_flush(struct cn_writer *w, struct cn_err *err)
{
	char msg[256];

	if (w->out.len == 0)
		return 0;
	errno = 0;
	if (fwrite(w->out.ptr, 1, w->out.len, w->fp) != w->out.len) {
		snprintf(msg, sizeof(msg), "write error: %s",
			 strerror(errno ? errno : EIO));
		return writer_fail(w, err, CN_ECANTCREAT, msg);
	}
	cn_buf_reset(&w->out);
	return 0;
}

int
cn_csv_formula_cell(const char *s, size_t n)
{
	size_t i;

	if (!n || !s[0] || !strchr("=+-@\t\r", s[0]))
		return 0;
	/* "+33612345678" stays a phone number */
	if (s[0] == '+' && n >= 8 && n <= 16 && s[1] >= '1' && s[1] <= '9') {
		for (i = 2; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == n)
			return 0;
	}
	return 1;
}

/*
 * Appends one CSV field, preceded by the delimiter when sep, quoted only
 * when it holds the delimiter, the quote, CR or LF, starts or ends with
 * a blank (which readers trim), or starts with U+FEFF (first in a file,
 * a reader would drop it as a BOM).  Room for the worst case is made
 * first, then the bytes are stored directly.  With w->safe, a formula
 * (cn_csv_formula_cell) is quoted after a "'".  Returns 0 or -1.
 */
static int
csv_put_field(struct cn_writer *w, int sep, const char *s, size_t n)
{
	struct cn_buf *b = &w->out;
	const unsigned char *u = (const unsigned char *)s;
	char *o;
	size_t i = 0;
	int neuter = w->safe && cn_csv_formula_cell(s, n);

	if (n > (SIZE_MAX - 5) / 2 || out_reserve(b, 2 * n + 5) < 0)
		return -1;
	o = b->ptr + b->len;
	if (sep)
		*o++ = w->delim;
	if (n && u[0] != ' ' && u[0] != '\t' && u[n - 1] != ' ' &&
	    u[n - 1] != '\t' && !neuter &&
	    !(n >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf))
		while (i < n && !w->special[u[i]])
			i++;
	if (i == n) {
		memcpy(o, s, n);
		o += n;
	} else {
		/* a neutralised formula is quoted, after a "'" that a
		 * spreadsheet reads as "this cell is text" */
		*o++ = w->quote;
		if (neuter)
			*o++ = '\'';
		for (i = 0; i < n; i++) {
			if (s[i] == w->quote)
				*o++ = w->quote;	/* doubled */
			*o++ = s[i];
		}
		*o++ = w->quote;
	}
	*o = '\0';
	b->len = (size_t)(o - b->ptr);
	return 0;
}

/* Appends one CSV row of n fields (names when v is NULL); a lone empty
 * field is written "" so that the row does not read back as blank. */
static int
csv_put_row(struct cn_writer *w, const struct cn_field *f,
	    const char *const *names, size_t n)
{
	size_t i, total = n > w->nhead ? n : w->nhead;
	int r = 0;

	if (total == 1 && (n == 0 || (f ? f[0].len == 0
				      : !names[0] || !names[0][0]))) {
		char q[3] = {w->quote, w->quote, '\n'};

		return out_add(&w->out, q, 3);
	}
	for (i = 0; i < total && r == 0; i++) {
		if (i >= n || (f ? !f[i].value : !names[i]))
			r = i ? out_addc(&w->out, w->delim) : 0;
		else if (f)
			r = csv_put_field(w, i > 0, f[i].value, f[i].len);
		else
			r = csv_put_field(w, i > 0, names[i], strlen(names[i]));
	}
	if (r < 0)
		return -1;
	return out_addc(&w->out, '\n');
}

/* Appends s[0, n) as a JSON string: '"', '\\' and control characters
 * escaped, other bytes (UTF-8) as they are. */
static int
json_put_string(struct cn_buf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char e[6];
	size_t elen;

	if (out_addc(o, '"') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		e[0] = '\\';
		elen = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			elen = 6;
		}
		if (out_add(o, s + run, i - run) < 0 || out_add(o, e, elen) < 0)
			return -1;
		run = i + 1;
	}
	if (out_add(o, s + run, n - run) < 0 || out_addc(o, '"') < 0)
		return -1;
	return 0;
}

/* Appends a record as one compact JSON object. */
static int
json_put_object(struct cn_writer *w, const struct cn_record *r)
{
	struct cn_buf *o = &w->out;

	if (out_addc(o, '{') < 0)
		return -1;
	for (size_t i = 0; i < r->nfields; i++) {
		const struct cn_field *f = &r->fields[i];
		const char *name = f->name;
		int rc;

		if (!name)
			name = i < w->ncols && w->cols[i] ? w->cols[i] : "";
		if ((i && out_addc(o, ',') < 0) ||
		    json_put_string(o, name, strlen(name)) < 0 ||
		    out_addc(o, ':') < 0)
			return -1;
		if (f->type == CN_V_STR && f->value)
			rc = json_put_string(o, f->value, f->len);
		else if (f->type == CN_V_NULL || !f->value || !f->len)
			rc = out_add(o, "null", 4);
		else	/* number, boolean or JSON text: as it is */
			rc = out_add(o, f->value, f->len);
		if (rc < 0)
			return -1;
	}
	return out_addc(o, '}');
}

/* Appends s[0, n) for a terminal: control characters become a space
 * (CR, LF, tab) or '?'.  Returns the width in code points, or -1. */
static long
table_text(struct cn_buf *o, const char *s, size_t n)
{
	size_t i, run = 0, width = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) != 0x80)
			width++;
		if (c >= 0x20 && c != 0x7f)
			continue;
		if (out_add(o, s + run, i - run) < 0 ||
		    out_addc(o, c == '\n' || c == '\r' || c == '\t' ? ' '
							       : '?') < 0)
			return -1;
		run = i + 1;
	}
	if (out_add(o, s + run, n - run) < 0)
		return -1;
	return (long)width;
}

/* Ends a table line begun at offset row0 of the output, dropping the
 * blanks that padding left at its end. */
static int
table_end_line(struct cn_buf *o, size_t row0)
{
	while (o->len > row0 && o->ptr[o->len - 1] == ' ')
		o->len--;
	if (o->cap)
		o->ptr[o->len] = '\0';
	return out_addc(o, '\n');
}

/* Buffers one table row (a record, or names when f is NULL). */
static int
table_buffer_row(struct cn_writer *w, const struct cn_field *f,
		 const char *const *names, size_t n)
{
	if (w->nrows == w->rcap) {
		size_t nc = w->rcap ? w->rcap * 2 : 64;
		size_t *p = realloc(w->rcells, nc * sizeof(*p));

		if (!p)
			return -1;
		w->rcells = p;
		w->rcap = nc;
	}
	if (w->ntc + n > w->tccap) {
		size_t nc = w->tccap ? w->tccap * 2 : 256;
		struct tcell *p;

		while (nc < w->ntc + n)
			nc *= 2;
		p = realloc(w->tc, nc * sizeof(*p));
		if (!p)
			return -1;
		w->tc = p;
		w->tccap = nc;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = f ? f[i].value : names[i];
		size_t len = f ? f[i].len : s ? strlen(s) : 0;
		struct tcell *c = &w->tc[w->ntc + i];
		long wd;

		c->off = w->cells.len;
		wd = table_text(&w->cells, s ? s : "", s ? len : 0);
		if (wd < 0)
			return -1;
		c->len = w->cells.len - c->off;
		c->width = (size_t)wd;
	}
	w->ntc += n;
	w->rcells[w->nrows++] = n;
	return 0;
}

/* Sizes the columns on the buffered rows, writes them, and switches the
 * writer to streaming with those widths. */
static int
table_flush(struct cn_writer *w)
{
	size_t r, j, k = 0;

	for (r = 0; r < w->nrows; r++)
		if (w->rcells[r] > w->nwidth)
			w->nwidth = w->rcells[r];
	w->width = calloc(w->nwidth ? w->nwidth : 1, sizeof(*w->width));
	if (!w->width)
		return -1;
	for (r = 0, k = 0; r < w->nrows; r++)
		for (j = 0; j < w->rcells[r]; j++, k++)
			if (w->tc[k].width > w->width[j])
				w->width[j] = w->tc[k].width;
	for (r = 0, k = 0; r < w->nrows; r++) {
		size_t n = w->rcells[r], row0 = w->out.len;

		for (j = 0; j < n; j++, k++) {
			const struct tcell *c = &w->tc[k];

			if ((j && out_add(&w->out, "  ", 2) < 0) ||
			    out_add(&w->out, w->cells.ptr + c->off, c->len) < 0)
				return -1;
			if (j + 1 < n &&
			    out_pad(&w->out, w->width[j] - c->width) < 0)
				return -1;
		}
		if (table_end_line(&w->out, row0) < 0)
			return -1;
	}
	cn_buf_free(&w->cells);
	free(w->tc);
	free(w->rcells);
	w->tc = NULL;
	w->rcells = NULL;
	w->ntc = w->tccap = w->nrows = w->rcap = 0;
	w->streaming = 1;
	return 0;
}

/* Writes one table row with the fixed widths (streaming mode). */
static int
table_put_row(struct cn_writer *w, const struct cn_record *r)
{
	size_t row0 = w->out.len;

	for (size_t j = 0; j < r->nfields; j++) {
		const struct cn_field *f = &r->fields[j];
		long wd;

		if (j && out_add(&w->out, "  ", 2) < 0)
			return -1;
		wd = table_text(&w->out, f->value ? f->value : "", f->len);
		if (wd < 0)
			return -1;
		if (j + 1 < r->nfields && j < w->nwidth &&
		    (size_t)wd < w->width[j] &&
		    out_pad(&w->out, w->width[j] - (size_t)wd) < 0)
			return -1;
	}
	return table_end_line(&w->out, row0);
}

/* The names of r's fields, for a header taken from the first record.
 * Returns a malloc'ed array (caller frees), or NULL out of memory. */
static const char **
record_names(const struct cn_record *r)
{
	const char **v = calloc(r->nfields ? r->nfields : 1, sizeof(*v));

	if (v)
		for (size_t i = 0; i < r->nfields; i++)
			v[i] = r->fields[i].name ? r->fields[i].name : "";
	return v;
}

/* Writes (CSV) or buffers (TABLE) the header: the columns, else the
 * names of r's fields (r may be NULL when closing). */
static int
writer_header(struct cn_writer *w, const struct cn_record *r)
{
	const char *const *names = w->cols;
	const char **own = NULL;
	size_t n = w->ncols;
	int rc;

	w->started = 1;
	if (!names) {
		if (!r)
			return 0;
		own = record_names(r);
		if (!own)
			return -1;
		names = own;
		n = r->nfields;
	}
	if (w->fmt == CN_FMT_CSV) {
		w->nhead = n;
		rc = csv_put_row(w, NULL, names, n);
	} else {
		rc = table_buffer_row(w, NULL, names, n);
	}
	free(own);
	return rc;
}

struct cn_writer *
cn_writer_open(FILE *fp, enum cn_format fmt, const char *const *columns,
	       size_t ncolumns, const struct cn_csv_opts *opts,
	       struct cn_err *err)
{
	struct cn_writer *w;
	char delim = opts && opts->delimiter ? opts->delimiter : ',';
	char quote = opts && opts->quote ? opts->quote : '"';

	if (fmt == CN_FMT_AUTO)
		fmt = CN_FMT_CSV;
	if (fmt < CN_FMT_CSV || fmt > CN_FMT_TABLE) {
		cn_err_set(err, CN_EUSAGE, "unknown output format");
		return NULL;
	}
	if (delim == quote || delim == '\r' || delim == '\n' ||
	    quote == '\r' || quote == '\n') {
		cn_err_set(err, CN_EUSAGE, "invalid CSV delimiter or quote");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	w->fp = fp;
	w->fmt = fmt;
	w->delim = delim;
	w->quote = quote;
	w->safe = opts && opts->safe;
	w->cols = columns;
	w->ncols = columns ? ncolumns : 0;
	w->special[(unsigned char)delim] = 1;
	w->special[(unsigned char)quote] = 1;
	w->special['\r'] = w->special['\n'] = 1;
	cn_buf_init(&w->out, 0);
	cn_buf_init(&w->cells, 0);
	return w;
}

int
cn_writer_put(struct cn_writer *w, const struct cn_record *r,
	      struct cn_err *err)
{
	int rc = 0;

	if (w->failed)
		return writer_dead(w, err);
	switch (w->fmt) {
	case CN_FMT_CSV:
		if (!w->started)
			rc = writer_header(w, r);
		if (rc == 0)
			rc = csv_put_row(w, r->fields, NULL, r->nfields);
		break;
	case CN_FMT_JSON:
		if (out_add(&w->out, w->nrec ? ",\n" : "[\n", 2) < 0)
			rc = -1;
		else
			rc = json_put_object(w, r);
		break;
	case CN_FMT_NDJSON:
		rc = json_put_object(w, r);
		if (rc == 0)
			rc = out_addc(&w->out, '\n');
		break;
	default:
		if (!w->started)
			rc = writer_header(w, r);
		if (rc < 0)
			break;
		if (w->streaming)
			rc = table_put_row(w, r);
		else if ((rc = table_buffer_row(w, r->fields, NULL,
						r->nfields)) == 0 &&
			 w->nrows > TABLE_ROWS)
			rc = table_flush(w);
		break;
	}
	if (rc < 0)
		return writer_oom(w, err);
	w->nrec++;
	if (w->out.len >= FLUSH_AT)
		return writer_flush(w, err);
	return 0;
}

int
cn_writer_close(struct cn_writer *w, struct cn_err *err)
{
	char msg[256];
	int rc = 0;

	if (!w)
		return 0;
	if (w->failed) {
		rc = writer_dead(w, err);
		goto out;
	}
	switch (w->fmt) {
	case CN_FMT_JSON:
		rc = out_add(&w->out, w->nrec ? "\n]\n" : "[]\n", 3);
		break;
	case CN_FMT_CSV:
	case CN_FMT_TABLE:
		if (!w->started)
			rc = writer_header(w, NULL);
		if (rc == 0 && w->fmt == CN_FMT_TABLE && !w->streaming)
			rc = table_flush(w);
		break;
	default:
		break;
	}
	if (rc < 0) {
		rc = writer_oom(w, err);
		goto out;
	}
	rc = writer_flush(w, err);
	if (rc == 0) {
		errno = 0;
		if (fflush(w->fp) != 0 || ferror(w->fp)) {
			snprintf(msg, sizeof(msg), "write error: %s",
				 strerror(errno ? errno : EIO));
			rc = writer_fail(w, err, CN_ECANTCREAT, msg);
		}
	}
out:
	cn_buf_free(&w->out);
	cn_buf_free(&w->cells);
	free(w->tc);
	free(w->rcells);
	free(w->width);
	free(w);
	return rc;
}
