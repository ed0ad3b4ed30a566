/*
 * t-stream.c - unit tests of records, readers and writers (lib/stream.c).
 */
#include <csv.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carnet.h"
#include "tap.h"

/* An input stream holding s[0, n) (NUL bytes allowed). */
static FILE *
input(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	if (!fp)
		return NULL;
	if (n)
		fwrite(s, 1, n, fp);
	rewind(fp);
	return fp;
}

struct rd {
	FILE *fp;
	struct cn_reader *rd;
	struct cn_err err;
};

static int
rd_open(struct rd *t, const char *name, const char *s, size_t n,
	enum cn_format fmt, char delim)
{
	struct cn_csv_opts o = {.delimiter = delim};

	cn_err_clear(&t->err);
	t->fp = input(s, n);
	t->rd = cn_reader_open(t->fp, name, fmt, &o, &t->err);
	return t->rd != NULL;
}

#define RD_OPEN(t, name, lit, fmt, delim) \
	rd_open(t, name, lit, sizeof(lit) - 1, fmt, delim)

static void
rd_close(struct rd *t)
{
	cn_reader_close(t->rd);
	if (t->fp)
		fclose(t->fp);
}

/* The value of field name in rec, or "(none)". */
static const char *
val(const struct cn_record *rec, const char *name)
{
	const struct cn_field *f = rec ? cn_record_get(rec, name) : NULL;

	if (!f)
		return "(none)";
	return f->value ? f->value : "(null)";
}

static int
vtype(const struct cn_record *rec, const char *name)
{
	const struct cn_field *f = rec ? cn_record_get(rec, name) : NULL;

	return f ? (int)f->type : -1;
}

/* A writer on a memory stream; out() closes it and returns the text. */
struct wr {
	char *buf;
	size_t len;
	FILE *fp;
	struct cn_writer *w;
	struct cn_err err;
};

static void
wr_open(struct wr *t, enum cn_format fmt, const char *const *cols, size_t n)
{
	t->buf = NULL;
	t->len = 0;
	t->fp = open_memstream(&t->buf, &t->len);
	cn_err_clear(&t->err);
	t->w = cn_writer_open(t->fp, fmt, cols, n, NULL, &t->err);
}

static const char *
wr_close(struct wr *t, int *rc)
{
	int r = cn_writer_close(t->w, &t->err);

	if (rc)
		*rc = r;
	fclose(t->fp);
	return t->buf;
}

static struct cn_record *
mkrec(struct cn_record *r, const char *const *kv, const enum cn_vtype *ty,
      size_t n)
{
	cn_record_reset(r);
	for (size_t i = 0; i < n; i++)
		cn_record_add(r, kv[2 * i], kv[2 * i + 1],
			      kv[2 * i + 1] ? strlen(kv[2 * i + 1]) : 0,
			      ty ? ty[i] : CN_V_STR);
	return r;
}

/* ---------------------------------------------------------- records */

static void
test_record(void)
{
	struct cn_record r;
	const struct cn_field *f;
	char name[64][16];
	int ok_all = 1;

	cn_record_init(&r);
	ok(cn_record_get(&r, "x") == NULL, "record: get on an empty record");
	for (int i = 0; i < 64; i++) {
		char v[300];

		snprintf(name[i], sizeof(name[i]), "f%d", i);
		memset(v, 'a' + i % 26, sizeof(v));
		cn_record_add(&r, name[i], v, (size_t)(i * 4), CN_V_STR);
	}
	for (int i = 0; i < 64; i++) {
		f = cn_record_get(&r, name[i]);
		if (!f || f->len != (size_t)(i * 4) || f->value[f->len] ||
		    (f->len && f->value[0] != 'a' + i % 26) ||
		    (f->len && f->value[f->len - 1] != 'a' + i % 26))
			ok_all = 0;
	}
	ok(r.nfields == 64 && ok_all,
	   "record: 64 fields survive the arena growing");
	cn_record_add(&r, "null", NULL, 0, CN_V_STR);
	f = cn_record_get(&r, "null");
	ok(f && f->value == NULL && f->type == CN_V_NULL,
	   "record: a NULL value is CN_V_NULL");
	/* a value taken from the record itself */
	f = cn_record_get(&r, "f63");
	for (int i = 0; i < 20; i++)
		cn_record_add(&r, "self", f->value, f->len, CN_V_STR);
	f = cn_record_get(&r, "self");
	ok(f && f->len == 252 && f->value[251] == 'a' + 63 % 26,
	   "record: adding a value of the record itself");
	cn_record_add(&r, "nul", "a\0b", 3, CN_V_STR);
	f = cn_record_get(&r, "nul");
	ok(f && f->len == 3 && f->value[2] == 'b', "record: NUL inside value");
	cn_record_reset(&r);
	ok(r.nfields == 0 && r.alloc >= 64 && !cn_record_get(&r, "f1"),
	   "record: reset keeps the memory, drops the fields");
	cn_record_add(&r, "k", "v", 1, CN_V_STR);
	is_str(val(&r, "k"), "v", "record: reused after reset");
	cn_record_free(&r);
	ok(r.fields == NULL && r.alloc == 0, "record: free");
}

/* -------------------------------------------------------- CSV reader */

static void
test_csv_header_bom(void)
{
	struct rd t;
	struct cn_record *rec;
	const char *const *h;
	size_t n = 0;

	ok(RD_OPEN(&t, "c.csv", "\xef\xbb\xbf name , \"e mail\" ,x\n"
		   "Ann,a@x.org,1\n", CN_FMT_AUTO, 0), "csv: open with BOM");
	h = cn_reader_header(t.rd, &n);
	ok(n == 3 && h && strcmp(h[0], "name") == 0 &&
	   strcmp(h[1], "e mail") == 0 && strcmp(h[2], "x") == 0,
	   "csv: BOM skipped, header names trimmed");
	is_int(cn_reader_format(t.rd), CN_FMT_CSV, "csv: sniffed as CSV");
	is_int(cn_reader_delimiter(t.rd), ',', "csv: default delimiter");
	is_int(cn_reader_next(t.rd, &rec, &t.err), 1, "csv: one record");
	ok(rec && rec->nfields == 3 && rec->line == 2 &&
	   strcmp(val(rec, "e mail"), "a@x.org") == 0 &&
	   vtype(rec, "name") == CN_V_STR, "csv: fields named by the header");
	is_int(cn_reader_next(t.rd, &rec, &t.err), 0, "csv: end of input");
	ok(rec == NULL, "csv: no record at the end");
	is_int(cn_reader_offset(t.rd), 37, "csv: offset is the input size");
	rd_close(&t);
}

static void
test_csv_crlf_and_lines(void)
{
	struct rd t;
	struct cn_record *rec;
	const char *raw;
	size_t rawlen;
	int r1, r2, r3;
	long l1, l2, l3;

	RD_OPEN(&t, "c.csv", "a,b\r\n1,2\r\n\r\n3,4\r\n", CN_FMT_CSV, 0);
	r1 = cn_reader_next(t.rd, &rec, &t.err);
	ok(r1 == 1 && strcmp(val(rec, "b"), "2") == 0 && rec->line == 2,
	   "crlf: CR not in the last field, line 2");
	raw = cn_reader_raw(t.rd, &rawlen);
	ok(raw && rawlen == 3 && memcmp(raw, "1,2", 3) == 0,
	   "crlf: raw text without terminator");
	r2 = cn_reader_next(t.rd, &rec, &t.err);
	ok(r2 == 1 && rec->line == 4 && strcmp(val(rec, "a"), "3") == 0,
	   "crlf: blank line skipped but counted");
	rd_close(&t);

	/* quoted newlines (LF and CRLF) push the following lines down */
	RD_OPEN(&t, "c.csv", "a,b\n\"x\ny\",1\n\n\"p\r\nq\r\nr\",\"he said "
		"\"\"hi\"\", ok\"\n5,6", CN_FMT_CSV, 0);
	r1 = cn_reader_next(t.rd, &rec, &t.err);
	l1 = rec ? rec->line : 0;
	ok(r1 == 1 && strcmp(val(rec, "a"), "x\ny") == 0,
	   "quoted: newline inside a field");
	r2 = cn_reader_next(t.rd, &rec, &t.err);
	l2 = rec ? rec->line : 0;
	ok(r2 == 1 && strcmp(val(rec, "a"), "p\r\nq\r\nr") == 0 &&
	   strcmp(val(rec, "b"), "he said \"hi\", ok") == 0,
	   "quoted: CRLF, doubled quotes and delimiter inside fields");
	r3 = cn_reader_next(t.rd, &rec, &t.err);
	l3 = rec ? rec->line : 0;
	ok(r3 == 1 && strcmp(val(rec, "b"), "6") == 0,
	   "quoted: last row without a newline");
	ok(l1 == 2 && l2 == 5 && l3 == 8,
	   "quoted: lines 2, 5, 8 (got %ld %ld %ld)", l1, l2, l3);
	rd_close(&t);

	/* old Mac line ends */
	RD_OPEN(&t, "c.csv", "a,b\r1,2\r3,4", CN_FMT_CSV, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r1 = cn_reader_next(t.rd, &rec, &t.err);
	ok(r1 == 1 && rec->line == 3 && strcmp(val(rec, "b"), "4") == 0,
	   "cr: lone CR ends rows");
	rd_close(&t);
}

static void
test_csv_delimiters(void)
{
	struct rd t;
	struct cn_record *rec;

	RD_OPEN(&t, "c.csv", "name;email;phone\nAnn;a@x;06\n", CN_FMT_AUTO,
		0);
	is_int(cn_reader_delimiter(t.rd), ';', "sniff: ';'");
	cn_reader_next(t.rd, &rec, &t.err);
	is_str(val(rec, "phone"), "06", "sniff: ';' fields");
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "name\temail\nAnn\ta@x\n", CN_FMT_AUTO, 0);
	is_int(cn_reader_delimiter(t.rd), '\t', "sniff: tab");
	cn_reader_next(t.rd, &rec, &t.err);
	is_str(val(rec, "email"), "a@x", "sniff: tab fields");
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "\"a;b;c\",d\n1,2\n", CN_FMT_AUTO, 0);
	is_int(cn_reader_delimiter(t.rd), ',',
	       "sniff: delimiters inside quotes do not count");
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "a|b,c\n1|2,3\n", CN_FMT_CSV, '|');
	is_int(cn_reader_delimiter(t.rd), '|', "explicit delimiter");
	cn_reader_next(t.rd, &rec, &t.err);
	is_str(val(rec, "b,c"), "2,3", "explicit delimiter: ',' is data");
	rd_close(&t);

	/* tab delimiter: empty fields are not swallowed as blanks */
	RD_OPEN(&t, "c.csv", "a\tb\tc\n\t\tz\n", CN_FMT_CSV, '\t');
	cn_reader_next(t.rd, &rec, &t.err);
	ok(rec && strcmp(val(rec, "a"), "") == 0 &&
	   strcmp(val(rec, "c"), "z") == 0, "tab: empty fields kept");
	rd_close(&t);
}

static void
test_csv_errors(void)
{
	struct rd t;
	struct cn_record *rec;
	const char *raw;
	size_t rawlen;
	int r;

	RD_OPEN(&t, "c.csv", "a,b\n1,2\n3,\"abc\ndef\n", CN_FMT_CSV, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	is_int(r, -1, "unterminated: -1");
	is_str(t.err.msg, "c.csv:3: unterminated quoted field",
	       "unterminated: message names the line of the quote");
	is_int(t.err.code, CN_EDATA, "unterminated: CN_EDATA");
	cn_err_clear(&t.err);
	ok(cn_reader_next(t.rd, &rec, &t.err) == -1 &&
	   strstr(t.err.msg, "unterminated"), "unterminated: reader stays dead");
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "a,b\n1,2\n\"x\"y,2\n", CN_FMT_CSV, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -1 && strcmp(t.err.msg, "c.csv:3: malformed quoted field") == 0,
	   "malformed: libcsv's strict error (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "a,b\n\"multi\nline\",ok\"x\n", CN_FMT_CSV, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -1 && strcmp(t.err.msg, "c.csv:3: malformed quoted field") == 0,
	   "malformed: line of the bad quote (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "c.csv", "a,b\n1,2,3\n4,5\n6\n", CN_FMT_CSV, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	is_int(r, -2, "too many fields: -2");
	is_str(t.err.msg, "c.csv:2: 3 fields, header has 2",
	       "too many fields: message");
	raw = cn_reader_raw(t.rd, &rawlen);
	ok(rec && rec->line == 2 && rec->nfields == 2 && raw &&
	   rawlen == 5 && memcmp(raw, "1,2,3", 5) == 0,
	   "too many fields: record and raw text for the reject report");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && strcmp(val(rec, "a"), "4") == 0 && rec->line == 3,
	   "too many fields: the next row is read");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->nfields == 2 && strcmp(val(rec, "a"), "6") == 0 &&
	   strcmp(val(rec, "b"), "") == 0 && vtype(rec, "b") == CN_V_STR,
	   "fewer fields: padded with empty strings");
	rd_close(&t);

	ok(!RD_OPEN(&t, "c.csv", "", CN_FMT_AUTO, 0) &&
	   t.err.code == CN_ENOINPUT &&
	   strcmp(t.err.msg, "c.csv: empty input") == 0,
	   "empty input: CN_ENOINPUT (%s)", t.err.msg);
	rd_close(&t);
	ok(!RD_OPEN(&t, "c.csv", "\xef\xbb\xbf \r\n\n\t", CN_FMT_CSV, 0) &&
	   t.err.code == CN_ENOINPUT, "empty input: BOM and blanks only");
	rd_close(&t);
	ok(!RD_OPEN(&t, "c.json", "  \n", CN_FMT_JSON, 0) &&
	   t.err.code == CN_ENOINPUT, "empty input: JSON");
	rd_close(&t);

	ok(!RD_OPEN(&t, "c.csv", "\nname,email, name\n1,2,3\n", CN_FMT_CSV, 0) &&
	   t.err.code == CN_EDATA &&
	   strcmp(t.err.msg, "c.csv:2: duplicate column 'name'") == 0,
	   "duplicate column (%s)", t.err.msg);
	rd_close(&t);
	ok(!RD_OPEN(&t, "c.csv", "a,,b\n", CN_FMT_CSV, 0) &&
	   strcmp(t.err.msg, "c.csv:1: empty name for column 2") == 0,
	   "empty column name (%s)", t.err.msg);
	rd_close(&t);
}

static void
test_csv_big_and_nul(void)
{
	struct rd t;
	struct cn_record *rec;
	const struct cn_field *f;
	size_t n = 300000, len = 0;
	char *s = malloc(n + 64);
	int r, good = 1;

	/* a 300 kB quoted field with newlines, across several reads */
	len += (size_t)snprintf(s, 64, "a,b\n\"");
	for (size_t i = 0; i < n; i++)
		s[len++] = i % 1000 == 999 ? '\n' : 'x';
	memcpy(s + len, "\",1\n2,3\n", 8);
	len += 8;
	rd_open(&t, "big.csv", s, len, CN_FMT_CSV, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	f = rec ? cn_record_get(rec, "a") : NULL;
	for (size_t i = 0; f && i < n; i++)
		if (f->value[i] != (i % 1000 == 999 ? '\n' : 'x'))
			good = 0;
	ok(r == 1 && f && f->len == n && good, "big field read whole");
	r = cn_reader_next(t.rd, &rec, &t.err);
	/* the field starts on line 2 and holds 300 newlines */
	ok(r == 1 && rec->line == 2 + 300 + 1 &&
	   strcmp(val(rec, "a"), "2") == 0,
	   "big field: next line number %ld", rec ? rec->line : 0);
	rd_close(&t);
	free(s);

	RD_OPEN(&t, "n.csv", "a,b\nx\0y,2\n", CN_FMT_CSV, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	f = rec ? cn_record_get(rec, "a") : NULL;
	ok(r == 1 && f && f->len == 3 && f->value[1] == '\0' &&
	   f->value[2] == 'y', "NUL byte kept, length right");
	rd_close(&t);
}

/*
 * The reference: rows as libcsv itself makes them of the whole input,
 * with the reader's flags; empty rows (blank lines) are dropped.
 */
struct ref {
	char val[64][128];
	size_t len[64];
	size_t nf;		/* fields of the row being built */
	size_t rows[64];	/* fields per completed row */
	char rowval[64][8][128];
	size_t rowlen[64][8];
	size_t nrows;
};

static void
ref_field(void *s, size_t len, void *data)
{
	struct ref *r = data;

	if (r->nf < 8 && r->nrows < 64) {
		memcpy(r->rowval[r->nrows][r->nf], s, len < 128 ? len : 127);
		r->rowlen[r->nrows][r->nf] = len;
	}
	r->nf++;
}

static void
ref_row(int c, void *data)
{
	struct ref *r = data;

	if (r->nf && r->nrows < 64)
		r->rows[r->nrows++] = r->nf;
	r->nf = 0;
}

/* Returns the number of rows before a parse error, or -1 if none. */
static long
ref_parse(struct ref *r, const char *s, size_t n, char delim)
{
	struct csv_parser p;
	long bad = -1;

	memset(r, 0, sizeof(*r));
	csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL |
		 CSV_APPEND_NULL);
	csv_set_delim(&p, (unsigned char)delim);
	if (csv_parse(&p, s, n, ref_field, ref_row, r) != n ||
	    csv_fini(&p, ref_field, ref_row, r) != 0)
		bad = (long)r->nrows;
	csv_free(&p);
	return bad;
}

/* Checks the reader against libcsv on random input: same rows, same
 * fields, an error on the same row. */
static void
test_csv_vs_libcsv(char delim)
{
	static const char alpha[] = "aab  \t\t,,;;\"\"\n\r\0x";
	unsigned long seed = 12345 + (unsigned char)delim;
	char in[128];
	struct ref ref;
	int bad_cases = 0;
	char first[160] = "";

	for (int t = 0; t < 3000; t++) {
		size_t n = 0, body;
		long bad;
		struct rd rt;
		struct cn_record *rec;
		int ok1 = 1;

		n = (size_t)snprintf(in, sizeof(in), "a%cb%cc\n", delim, delim);
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		body = (seed >> 33) % 60;
		for (size_t i = 0; i < body; i++) {
			seed = seed * 6364136223846793005ul +
			       1442695040888963407ul;
			in[n++] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
		}
		bad = ref_parse(&ref, in, n, delim);
		rd_open(&rt, "r.csv", in, n, CN_FMT_CSV, delim);
		if (!rt.rd) {
			ok1 = 0;
		} else {
			for (size_t row = 1;; row++) {
				int r = cn_reader_next(rt.rd, &rec, &rt.err);

				if (bad >= 0 && row == (size_t)bad) {
					ok1 &= r == -1;
					break;
				}
				if (row >= ref.nrows) {
					ok1 &= r == 0;
					break;
				}
				if (ref.rows[row] > 3) {
					ok1 &= r == -2;
					continue;
				}
				if (r != 1 || rec->nfields != 3) {
					ok1 = 0;
					break;
				}
				for (size_t j = 0; j < 3; j++) {
					size_t l = j < ref.rows[row]
						? ref.rowlen[row][j] : 0;

					if (rec->fields[j].len != l ||
					    memcmp(rec->fields[j].value,
						   ref.rowval[row][j], l))
						ok1 = 0;
				}
			}
		}
		rd_close(&rt);
		if (!ok1 && bad_cases++ == 0)
			for (size_t i = 0, k = 0; i < n && k + 5 < sizeof(first);
			     i++)
				k += (size_t)snprintf(first + k,
					sizeof(first) - k, in[i] >= 32 &&
					in[i] < 127 ? "%c" : "\\%o",
					(unsigned char)in[i]);
	}
	ok(bad_cases == 0, "same as libcsv on 3000 random inputs, "
	   "delimiter 0x%02x (%d differ; first: %s)", delim, bad_cases, first);
}

/* ------------------------------------------------------- JSON reader */

static void
test_json(void)
{
	struct rd t;
	struct cn_record *rec;
	const char *raw;
	size_t rawlen, n = 9;
	int r, r2;

	RD_OPEN(&t, "j.json", "\xef\xbb\xbf[\n  {\"a\": 1, \"b\": \"x\"},\n"
		"  {\"a\": 2}\n]\n", CN_FMT_AUTO, 0);
	is_int(cn_reader_format(t.rd), CN_FMT_JSON, "json: sniffed");
	ok(cn_reader_header(t.rd, &n) == NULL && n == 0, "json: no header");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->line == 2 && rec->nfields == 2 &&
	   strcmp(val(rec, "b"), "x") == 0, "json array: first object, line 2");
	raw = cn_reader_raw(t.rd, &rawlen);
	ok(raw && rawlen == 18 && memcmp(raw, "{\"a\": 1, \"b\": \"x\"}", 18) == 0,
	   "json: raw text of the object");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->line == 3 && strcmp(val(rec, "a"), "2") == 0,
	   "json array: second object, line 3");
	is_int(cn_reader_next(t.rd, &rec, &t.err), 0, "json array: end");
	rd_close(&t);

	RD_OPEN(&t, "j.ndjson", "{\"a\":\"x\"}\n{\"a\":\"y\"}\n\n{\"a\":\n\"z\"}",
		CN_FMT_AUTO, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->line == 2 && strcmp(val(rec, "a"), "y") == 0,
	   "ndjson: line 2");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->line == 4 && strcmp(val(rec, "a"), "z") == 0,
	   "ndjson: line 4 after a blank line");
	is_int(cn_reader_next(t.rd, &rec, &t.err), 0, "ndjson: end");
	rd_close(&t);

	RD_OPEN(&t, "j.json", "{\"s\":\"\\u00e9\\n\\\"}\", \"n\": 1.50, "
		"\"big\": 12345678901234567890, \"e\": -2E+3, \"t\": true, "
		"\"f\": false, \"z\": null, \"o\": {\"k\": [1, 2.0, \"a b\"]},"
		" \"arr\": [ ]}", CN_FMT_JSON, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && rec->nfields == 9, "json types: nine fields");
	ok(strcmp(val(rec, "s"), "\xc3\xa9\n\"}") == 0 &&
	   vtype(rec, "s") == CN_V_STR, "json types: decoded string");
	ok(strcmp(val(rec, "n"), "1.50") == 0 && vtype(rec, "n") == CN_V_NUM &&
	   strcmp(val(rec, "big"), "12345678901234567890") == 0 &&
	   strcmp(val(rec, "e"), "-2E+3") == 0,
	   "json types: numbers keep their text");
	ok(strcmp(val(rec, "t"), "true") == 0 && vtype(rec, "t") == CN_V_BOOL &&
	   strcmp(val(rec, "f"), "false") == 0, "json types: booleans");
	ok(strcmp(val(rec, "z"), "(null)") == 0 && vtype(rec, "z") == CN_V_NULL,
	   "json types: null");
	ok(strcmp(val(rec, "o"), "{\"k\":[1,2.0,\"a b\"]}") == 0 &&
	   vtype(rec, "o") == CN_V_RAW && strcmp(val(rec, "arr"), "[]") == 0,
	   "json types: nested values as compact raw JSON (%s)",
	   val(rec, "o"));
	rd_close(&t);

	RD_OPEN(&t, "j.json", "[{\"a\":1},\n 2]", CN_FMT_AUTO, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -1 && strcmp(t.err.msg, "j.json:2: expected an object") == 0,
	   "json: non-object element (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "j.json", "{\"a\":1}\n{\"a\":\n\n  tru}\n", CN_FMT_AUTO, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	r2 = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && r2 == -1 && t.err.code == CN_EDATA &&
	   strcmp(t.err.msg, "j.json:4: invalid JSON") == 0,
	   "json: syntax error at its line (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "j.json", "[{\"a\":1}{\"a\":2}]", CN_FMT_AUTO, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -1 && strcmp(t.err.msg, "j.json:1: invalid JSON") == 0,
	   "json: missing ',' in the array");
	rd_close(&t);

	RD_OPEN(&t, "j.json", "[{\"a\":1},\n{\"a\":\"}", CN_FMT_AUTO, 0);
	cn_reader_next(t.rd, &rec, &t.err);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -1 && strcmp(t.err.msg, "j.json:2: invalid JSON (unexpected "
			     "end of input)") == 0,
	   "json: truncated object (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "j.json", "{\"a\":1, \"b\":2, \"a\":3}\n{\"b\":4}",
		CN_FMT_AUTO, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -2 && strcmp(t.err.msg, "j.json:1: duplicate key 'a'") == 0 &&
	   rec && rec->nfields == 2 && strcmp(val(rec, "a"), "1") == 0,
	   "json: duplicate key is a record error, first kept");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && strcmp(val(rec, "b"), "4") == 0 && rec->line == 2,
	   "json: reading goes on after a duplicate key");
	rd_close(&t);
}

/* Inputs that take the less common paths: many names (hashed duplicate
 * detection), braces and escapes inside strings, an object over several
 * reads. */
static void
test_json_more(void)
{
	struct rd t;
	struct cn_record *rec;
	char buf[2048];
	size_t n = 0;
	int r;

	/* 40 columns, the last one repeats the 7th */
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%scol%d",
				      i ? "," : "", i == 39 ? 6 : i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	ok(!rd_open(&t, "h.csv", buf, n, CN_FMT_CSV, 0) &&
	   strcmp(t.err.msg, "h.csv:1: duplicate column 'col6'") == 0,
	   "many columns: duplicate found (%s)", t.err.msg);
	rd_close(&t);

	n = (size_t)snprintf(buf, sizeof(buf), "{");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%d\":%d",
				      i ? "," : "", i == 39 ? 3 : i, i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}");
	rd_open(&t, "k.json", buf, n, CN_FMT_AUTO, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == -2 && rec->nfields == 39 && strcmp(val(rec, "k3"), "3") == 0 &&
	   strcmp(t.err.msg, "k.json:1: duplicate key 'k3'") == 0,
	   "many keys: duplicate found, first kept (%s)", t.err.msg);
	rd_close(&t);

	RD_OPEN(&t, "s.json", "[{\"a\":\"}{[\\\"\",\"b\\\"c\":{\"d\":\"]\"}},"
		"\n{\"x\":\"\\\\\"}]", CN_FMT_AUTO, 0);
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && strcmp(val(rec, "a"), "}{[\"") == 0 &&
	   strcmp(val(rec, "b\"c"), "{\"d\":\"]\"}") == 0,
	   "json: braces, quotes and escapes inside strings");
	r = cn_reader_next(t.rd, &rec, &t.err);
	ok(r == 1 && strcmp(val(rec, "x"), "\\") == 0 && rec->line == 2 &&
	   cn_reader_next(t.rd, &rec, &t.err) == 0,
	   "json: an escaped backslash ends the string");
	rd_close(&t);

	{
		size_t big = 400000, len = 0;
		char *s = malloc(big + 64);
		const struct cn_field *f;

		len = (size_t)snprintf(s, 64, "{\"id\": 1,\n \"v\": \"");
		for (size_t i = 0; i < big; i++)
			s[len++] = "ab{}[]"[i % 6];
		len += (size_t)snprintf(s + len, 64, "\"}\n{\"id\": 2}\n");
		rd_open(&t, "b.ndjson", s, len, CN_FMT_NDJSON, 0);
		r = cn_reader_next(t.rd, &rec, &t.err);
		f = rec ? cn_record_get(rec, "v") : NULL;
		ok(r == 1 && f && f->len == big && f->value[big - 1] == "ab{}[]"
		   [(big - 1) % 6], "json: a 400 kB object over several reads");
		r = cn_reader_next(t.rd, &rec, &t.err);
		ok(r == 1 && rec->line == 3 && strcmp(val(rec, "id"), "2") == 0,
		   "json: next object after the big one, line 3");
		rd_close(&t);
		free(s);
	}
}

/* ------------------------------------------------------------ writer */

static void
test_csv_writer(void)
{
	static const char *const kv[] = {
		"plain", "x", "comma", "a,b", "quote", "say \"hi\"",
		"nl", "l1\nl2", "crlf", "c\r\nd", "lead", " sp",
		"trail", "tab\t", "empty", "", "utf8", "\xc3\xa9t\xc3\xa9",
		"null", NULL,
	};
	struct cn_record r;
	struct cn_record *back;
	struct wr t;
	struct rd in;
	const char *out;
	int rc, same = 1;

	cn_record_init(&r);
	wr_open(&t, CN_FMT_CSV, NULL, 0);
	mkrec(&r, kv, NULL, 10);
	cn_writer_put(t.w, &r, &t.err);
	cn_writer_put(t.w, &r, &t.err);
	out = wr_close(&t, &rc);
#define ROW "x,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\"c\r\nd\",\" sp\"," \
	    "\"tab\t\",,\xc3\xa9t\xc3\xa9,\n"
	ok(rc == 0, "csv writer: close");
	is_str(out, "plain,comma,quote,nl,crlf,lead,trail,empty,utf8,null\n"
	       ROW ROW, "csv writer: header from names, quoting when needed");
#undef ROW

	rd_open(&in, "w.csv", out, strlen(out), CN_FMT_CSV, 0);
	for (int k = 0; k < 2; k++) {
		rc = cn_reader_next(in.rd, &back, &in.err);
		for (size_t i = 0; rc == 1 && i < 10; i++)
			if (strcmp(back->fields[i].name, kv[2 * i]) ||
			    strcmp(back->fields[i].value,
				   kv[2 * i + 1] ? kv[2 * i + 1] : ""))
				same = 0;
		if (rc != 1)
			same = 0;
	}
	ok(same && cn_reader_next(in.rd, &back, &in.err) == 0,
	   "csv writer: round trip through the reader");
	rd_close(&in);
	free(t.buf);

	{
		static const char *const cols[] = {"id", "name"};
		static const char *const one[] = {"only", ""};
		struct cn_csv_opts o = {.delimiter = ';'};

		wr_open(&t, CN_FMT_CSV, cols, 2);
		out = wr_close(&t, &rc);
		is_str(out, "id,name\n", "csv writer: header alone");
		free(t.buf);

		wr_open(&t, CN_FMT_CSV, NULL, 0);
		cn_writer_put(t.w, mkrec(&r, one, NULL, 1), &t.err);
		out = wr_close(&t, &rc);
		is_str(out, "only\n\"\"\n",
		       "csv writer: a lone empty field is quoted");
		free(t.buf);

		t.fp = open_memstream(&t.buf, &t.len);
		t.w = cn_writer_open(t.fp, CN_FMT_CSV, cols, 2, &o, &t.err);
		cn_writer_put(t.w, mkrec(&r, kv, NULL, 2), &t.err);
		out = wr_close(&t, &rc);
		is_str(out, "id;name\nx;a,b\n", "csv writer: ';' delimiter");
		free(t.buf);
	}
	cn_record_free(&r);
}

static void
test_json_writer(void)
{
	static const char *const kv[] = {
		"name", "A\"b\\c\x01\n\t\xc3\xa9", "n", "1.5", "t", "true",
		"z", NULL, "r", "[1,{\"x\":2}]",
	};
	static const enum cn_vtype ty[] = {CN_V_STR, CN_V_NUM, CN_V_BOOL,
					   CN_V_NULL, CN_V_RAW};
	static const char *const kv2[] = {"k", "v"};
	struct cn_record r;
	struct wr t;
	const char *out;
	int rc;

	cn_record_init(&r);
	wr_open(&t, CN_FMT_JSON, NULL, 0);
	cn_writer_put(t.w, mkrec(&r, kv, ty, 5), &t.err);
	cn_writer_put(t.w, mkrec(&r, kv2, NULL, 1), &t.err);
	out = wr_close(&t, &rc);
	is_str(out, "[\n{\"name\":\"A\\\"b\\\\c\\u0001\\n\\t\xc3\xa9\",\"n\":1.5,"
	       "\"t\":true,\"z\":null,\"r\":[1,{\"x\":2}]},\n{\"k\":\"v\"}\n]\n",
	       "json writer: exact output");
	free(t.buf);

	wr_open(&t, CN_FMT_JSON, NULL, 0);
	out = wr_close(&t, &rc);
	is_str(out, "[]\n", "json writer: empty stream");
	free(t.buf);

	wr_open(&t, CN_FMT_NDJSON, NULL, 0);
	cn_writer_put(t.w, mkrec(&r, kv, ty, 5), &t.err);
	cn_writer_put(t.w, mkrec(&r, kv2, NULL, 1), &t.err);
	out = wr_close(&t, &rc);
	is_str(out, "{\"name\":\"A\\\"b\\\\c\\u0001\\n\\t\xc3\xa9\",\"n\":1.5,"
	       "\"t\":true,\"z\":null,\"r\":[1,{\"x\":2}]}\n{\"k\":\"v\"}\n",
	       "ndjson writer: exact output");
	free(t.buf);

	/* JSON written, then read back */
	{
		struct rd in;
		struct cn_record *back;

		wr_open(&t, CN_FMT_JSON, NULL, 0);
		cn_writer_put(t.w, mkrec(&r, kv, ty, 5), &t.err);
		out = wr_close(&t, &rc);
		rd_open(&in, "w.json", out, strlen(out), CN_FMT_AUTO, 0);
		rc = cn_reader_next(in.rd, &back, &in.err);
		ok(rc == 1 && strcmp(val(back, "name"), kv[1]) == 0 &&
		   vtype(back, "n") == CN_V_NUM && vtype(back, "z") == CN_V_NULL &&
		   strcmp(val(back, "r"), kv[9]) == 0,
		   "json writer: round trip through the reader");
		rd_close(&in);
		free(t.buf);
	}
	cn_record_free(&r);
}

static void
test_table_writer(void)
{
	static const char *const cols[] = {"name", "city", "n"};
	static const char *const r1[] = {"name", "Zo\xc3\xa9", "city",
					 "Besan\xc3\xa7on", "n", "1"};
	static const char *const r2[] = {"name", "Al", "city", "Nice", "n",
					 NULL};
	static const char *const r3[] = {"name", "L\xc3\xa9on\tX", "city",
					 "\xc3\x89vry", "n", "33"};
	struct cn_record r;
	struct wr t;
	const char *out;
	int rc;

	cn_record_init(&r);
	wr_open(&t, CN_FMT_TABLE, cols, 3);
	cn_writer_put(t.w, mkrec(&r, r1, NULL, 3), &t.err);
	cn_writer_put(t.w, mkrec(&r, r2, NULL, 3), &t.err);
	cn_writer_put(t.w, mkrec(&r, r3, NULL, 3), &t.err);
	out = wr_close(&t, &rc);
	is_str(out, "name    city      n\n"
	       "Zo\xc3\xa9     Besan\xc3\xa7on  1\n"
	       "Al      Nice\n"
	       "L\xc3\xa9on X  \xc3\x89vry      33\n",
	       "table: columns padded by code points, not bytes");
	free(t.buf);

	/* after 1000 rows the widths are fixed */
	wr_open(&t, CN_FMT_TABLE, NULL, 0);
	for (int i = 0; i < 1001; i++) {
		const char *kv[] = {"k", i == 1000 ? "longer-than-before" : "ab",
				    "v", "x"};

		cn_writer_put(t.w, mkrec(&r, kv, NULL, 2), &t.err);
	}
	out = wr_close(&t, &rc);
	ok(rc == 0 && strncmp(out, "k   v\nab  x\n", 12) == 0 &&
	   strcmp(out + strlen(out) - 22, "longer-than-before  x\n") == 0 &&
	   strlen(out) == 6 + 1000 * 6 + 22,
	   "table: header from names, widths kept after 1000 rows");
	free(t.buf);

	wr_open(&t, CN_FMT_TABLE, NULL, 0);
	out = wr_close(&t, &rc);
	ok(rc == 0 && out && *out == '\0', "table: empty stream, no output");
	free(t.buf);
	cn_record_free(&r);
}

static void
test_write_errors(void)
{
	static const char *const kv[] = {"a", "1", "b", "2"};
	struct cn_record r;
	struct cn_writer *w;
	struct cn_err err;
	FILE *fp = fopen("/dev/full", "w");
	int rc, put_failed = 0;
	char big[4096];

	if (!fp) {
		ok(1, "# SKIP no /dev/full");
		ok(1, "# SKIP no /dev/full");
		ok(1, "# SKIP no /dev/full");
		return;
	}
	cn_record_init(&r);
	w = cn_writer_open(fp, CN_FMT_CSV, NULL, 0, NULL, &err);
	cn_writer_put(w, mkrec(&r, kv, NULL, 2), &err);
	cn_err_clear(&err);
	rc = cn_writer_close(w, &err);
	ok(rc == -1 && err.code == CN_ECANTCREAT &&
	   strncmp(err.msg, "write error: ", 13) == 0,
	   "/dev/full: close fails with CN_ECANTCREAT (%s)", err.msg);
	clearerr(fp);

	/* a large output fails in put() already, and stays failed */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	w = cn_writer_open(fp, CN_FMT_NDJSON, NULL, 0, NULL, &err);
	for (int i = 0; i < 200 && !put_failed; i++) {
		cn_record_reset(&r);
		cn_record_add(&r, "x", big, sizeof(big) - 1, CN_V_STR);
		if (cn_writer_put(w, &r, &err) < 0)
			put_failed = 1;
	}
	ok(put_failed && err.code == CN_ECANTCREAT,
	   "/dev/full: put fails once the buffer is written");
	cn_err_clear(&err);
	ok(cn_writer_close(w, &err) == -1 && err.code == CN_ECANTCREAT,
	   "/dev/full: close repeats the error");
	fclose(fp);
	cn_record_free(&r);
}

/* --------------------------------------------------- bounded memory */

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/*
 * Reads ROWS generated rows (CSV, or NDJSON when json) from a pipe fed by
 * a child process, sampling the heap in use, and checks that memory stays
 * flat: the reader holds one record and one read chunk, not the input.
 */
/* Max RSS means nothing under valgrind (shadow memory) or AddressSanitizer
 * (freed blocks held in quarantine). */
static int
rss_meaningful(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 0;
#else
	const char *p = getenv("LD_PRELOAD");

	return !(p && strstr(p, "vgpreload"));
#endif
}

static void
test_memory_flat(int json)
{
	enum { ROWS = 200000 };
	int fd[2];
	pid_t pid;
	FILE *fp;
	struct cn_reader *rd;
	struct cn_record *rec;
	struct cn_err err;
	size_t base, peak = 0;
	long rss0, rows = 0, lastline = 0;
	uint64_t bytes = 0;
	int r, st;

	if (pipe(fd) < 0) {
		ok(0, "pipe");
		return;
	}
	fflush(stdout);		/* the child must not repeat our output */
	pid = fork();
	if (pid == 0) {
		FILE *out = fdopen(fd[1], "w");

		close(fd[0]);
		if (!json)
			fputs("id,email,first_name,last_name,city,notes\n",
			      out);
		for (long i = 0; i < ROWS; i++)
			fprintf(out, json ? "{\"id\":%ld,\"email\":\"user%ld"
				"@example.org\",\"first_name\":\"Jean\",\"tags\":"
				"[\"a\",{\"b\":1}],\"city\":\"Saint-\\u00c9tienne\"}"
				"\n" : "%ld,user%ld@example.org,Jean,Dupont,"
				"\"Saint-\xc3\x89tienne, FR\",\"a note "
				"\"\"quoted\"\" here\"\n", i, i);
		fclose(out);
		_exit(0);
	}
	close(fd[1]);
	fp = fdopen(fd[0], "r");
	rss0 = maxrss_kb();
	base = mallinfo2().uordblks;
	rd = cn_reader_open(fp, "<pipe>", CN_FMT_AUTO, NULL, &err);
	while (rd && (r = cn_reader_next(rd, &rec, &err)) == 1) {
		rows++;
		lastline = rec->line;
		if (rows % 1000 == 0) {
			size_t now = mallinfo2().uordblks;

			if (now > base && now - base > peak)
				peak = now - base;
		}
	}
	if (rd)
		bytes = cn_reader_offset(rd);
	cn_reader_close(rd);
	fclose(fp);
	waitpid(pid, &st, 0);
	is_int(rows, ROWS, "memory %s: every row of a 200000-row pipe read",
	       json ? "ndjson" : "csv");
	ok(lastline == ROWS + !json && bytes > 15000000,
	   "memory: last line %ld, %llu bytes", lastline,
	   (unsigned long long)bytes);
	ok(peak < 1024 * 1024, "memory: heap in use stays under 1 MiB "
	   "(peak %zu bytes)", peak);
	if (rss_meaningful())
		ok(maxrss_kb() - rss0 < 20 * 1024,
		   "memory: max RSS grew by %ld kB", maxrss_kb() - rss0);
	else
		ok(1, "# SKIP max RSS under valgrind or ASan");
}

/* --safe-csv: which cells a spreadsheet would run, and how they are written */
static void
test_csv_formulas(void)
{
	static const struct {
		const char *s;
		int want;
	} cells[] = {
		{"=1+1", 1}, {"+cmd", 1}, {"-2+3", 1}, {"@SUM(A1)", 1},
		{"\tx", 1}, {"\rx", 1}, {"-", 1}, {"+", 1},
		{"+33 6 12", 1}, {"+0612345678", 1}, {"+336123456", 0},
		{"+33612345678", 0}, {"+123456789012345", 0},
		{"+1234567890123456", 1}, {"+123456", 1}, {"+1234567", 0},
		{"abc", 0}, {"a=b", 0}, {"", 0}, {"0612345678", 0},
	};
	struct cn_csv_opts o = {.delimiter = ',', .safe = 1};
	struct cn_record r;
	struct cn_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct cn_writer *w;

	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		is_int(cn_csv_formula_cell(cells[i].s, strlen(cells[i].s)),
		       cells[i].want, "formula cell '%s'",
		       cells[i].s[0] == '\t' ? "TAB x" :
		       cells[i].s[0] == '\r' ? "CR x" : cells[i].s);
	is_int(cn_csv_formula_cell("\0=x", 3), 0, "a NUL first is not a formula");
	fp = open_memstream(&buf, &len);
	w = cn_writer_open(fp, CN_FMT_CSV, NULL, 0, &o, &err);
	cn_record_init(&r);
	cn_record_add(&r, "=h", "=1+\"2\"", 6, CN_V_STR);
	cn_record_add(&r, "p", "+33612345678", 12, CN_V_STR);
	cn_record_add(&r, "t", "\tx", 2, CN_V_STR);
	ok(w && cn_writer_put(w, &r, &err) == 0 && cn_writer_close(w, &err) == 0,
	   "safe CSV written");
	fclose(fp);
	is_str(buf, "\"'=h\",p,t\n\"'=1+\"\"2\"\"\",+33612345678,\"'\tx\"\n",
	       "formulas quoted after a ', the phone number as it is");
	cn_record_free(&r);
	free(buf);
}
/* Inputs the fuzz targets found (tests/fuzz/corpus/{csv,json}/regress-*). */
static void
test_fuzz_finds(void)
{
	struct rd t;
	struct wr w;
	struct cn_record r, *rec;
	static const char *const kv[] = {"\xef\xbb\xbf" "a", "1"};
	const char *out;
	int rc;

	/* cJSON takes any control byte for white space; the reader took the
	 * value's text one byte off: "{\x01\"a\":0}" gave a = ':0' */
	RD_OPEN(&t, "c.json", "{\x01\"a\":0}\n", CN_FMT_NDJSON, 0);
	rc = cn_reader_next(t.rd, &rec, &t.err);
	ok(rc == -1 && strcmp(t.err.msg, "c.json:1: invalid JSON") == 0,
	   "json: a control byte between tokens is invalid (%s)", t.err.msg);
	rd_close(&t);
	RD_OPEN(&t, "f.json", "{\"a\":\f12,\"b\":[1,\v2]}", CN_FMT_NDJSON, 0);
	rc = cn_reader_next(t.rd, &rec, &t.err);
	ok(rc == -1, "json: form feed, vertical tab too (%s)", t.err.msg);
	rd_close(&t);
	RD_OPEN(&t, "s.json", "{\"a\":\"\\u0001 \\\"\x01\"}", CN_FMT_NDJSON, 0);
	rc = cn_reader_next(t.rd, &rec, &t.err);
	ok(rc == 1 && strcmp(val(rec, "a"), "\x01 \"\x01") == 0,
	   "json: control bytes inside strings stay as they were");
	rd_close(&t);

	/* a first column named "\ufeffa" lost its U+FEFF when read back:
	 * the writer quotes it */
	cn_record_init(&r);
	wr_open(&w, CN_FMT_CSV, NULL, 0);
	cn_writer_put(w.w, mkrec(&r, kv, NULL, 1), &w.err);
	out = wr_close(&w, &rc);
	is_str(out, "\"\xef\xbb\xbf" "a\"\n1\n", "csv: a leading U+FEFF is quoted");
	rd_open(&t, "bom.csv", out, strlen(out), CN_FMT_CSV, ',');
	rc = cn_reader_next(t.rd, &rec, &t.err);
	ok(rc == 1 && rec->nfields == 1 &&
	   strcmp(rec->fields[0].name, "\xef\xbb\xbf" "a") == 0,
	   "csv: and reads back as written");
	rd_close(&t);
	free(w.buf);
	cn_record_free(&r);
}

int
main(void)
{
	test_memory_flat(0);	/* first, so that max RSS starts low */
	test_record();
	test_csv_header_bom();
	test_csv_crlf_and_lines();
	test_csv_delimiters();
	test_csv_errors();
	test_csv_big_and_nul();
	test_csv_vs_libcsv(',');
	test_csv_vs_libcsv('\t');
	test_csv_vs_libcsv(';');
	test_json();
	test_json_more();
	test_csv_writer();
	test_csv_formulas();
	test_json_writer();
	test_table_writer();
	test_write_errors();
	test_fuzz_finds();
	test_memory_flat(1);
	return done_testing();
}
